//! `kgdb-local`: the whole kgdb API on localhost, on embedded defaults and the bundled real data.
//!
//! Commands: `up` (default: database, migrations, ingest, refresh, serve), `setup` (all but
//! serving), `migrate`, `ingest`, `refresh`, `serve`, `routes`.

use std::path::PathBuf;
use std::sync::Arc;

use kgdb_local::database::{connect, ensure_database};
use kgdb_local::gateway::{Gateway, serve};
use kgdb_local::ingest::ingest_snapshot;
use kgdb_local::template;
use kgdb_store::config::Config;

const USAGE: &str = "usage: kgdb-local [up|setup|migrate|ingest|refresh|serve|routes] [--host H] [--port N] [--template PATH] [--snapshots DIR]

Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kgdb), KGDB_PORT (3000),
KGDB_DB_POOL_SIZE (8 when serving), RUST_LOG (info).";

struct Options {
    command: String,
    host: String,
    port: u16,
    template: PathBuf,
    snapshots: PathBuf,
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        command: "up".into(),
        host: "127.0.0.1".into(),
        port: std::env::var("KGDB_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(3000),
        template: template::repo_template_path(),
        snapshots: kgdb_sources::files::SnapshotDir::in_repo().root,
    };
    let mut command_seen = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => options.host = value("--host")?,
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port must be a number")?
            }
            "--template" => options.template = value("--template")?.into(),
            "--snapshots" => options.snapshots = value("--snapshots")?.into(),
            "-h" | "--help" => return Err(String::new()),
            cmd if !command_seen && !cmd.starts_with('-') => {
                options.command = cmd.to_string();
                command_seen = true;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    kgdb_web::telemetry::init_local();
    let options = match parse_args() {
        Ok(o) => o,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(options).await {
        eprintln!("kgdb-local: {e}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<(), AnyError> {
    let mut config = Config::from_env();
    if std::env::var("KGDB_DB_POOL_SIZE").is_err() {
        config = config.with_pool_size(8);
    }
    let url = config.database_url.clone();
    match options.command.as_str() {
        "up" => {
            setup(&url, &options).await?;
            serve_api(config, &options).await
        }
        "setup" => setup(&url, &options).await,
        "migrate" => migrate(&url).await,
        "ingest" => ingest_snapshots(&url, &options).await,
        "refresh" => {
            let mut client = connect(&url).await?;
            let report = kgdb_store::refresh::refresh_all(&mut client).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        "serve" => serve_api(config, &options).await,
        "routes" => {
            for r in template::routes(&template::load(&options.template)?)? {
                println!("{:6} {:45} -> {}", r.method, r.path, r.function);
            }
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}").into()),
    }
}

async fn setup(url: &str, options: &Options) -> Result<(), AnyError> {
    if ensure_database(url).await? {
        eprintln!(
            "==> created database ({})",
            kgdb_store::config::redact_url(url)
        );
    }
    migrate(url).await?;
    ingest_snapshots(url, options).await
}

async fn migrate(url: &str) -> Result<(), AnyError> {
    let mut client = connect(url).await?;
    let applied = kgdb_store::migrate::run(&mut client).await?;
    if applied.is_empty() {
        eprintln!("==> schema is up to date");
    } else {
        eprintln!("==> applied migrations: {}", applied.join(", "));
    }
    Ok(())
}

async fn ingest_snapshots(url: &str, options: &Options) -> Result<(), AnyError> {
    eprintln!(
        "==> ingesting the bundled real data from {}",
        options.snapshots.display()
    );
    let report = ingest_snapshot(url, &options.snapshots).await?;
    for outcome in &report.sources {
        match (&outcome.report, &outcome.error) {
            (Some(s), _) => eprintln!(
                "    {:17} {:5} genes from {} chunk{} (+{} new, {} updated, {} unchanged, {} removed)",
                outcome.source,
                s.records,
                s.chunks,
                if s.chunks == 1 { "" } else { "s" },
                s.evidence_inserted,
                s.evidence_updated,
                s.evidence_unchanged,
                s.evidence_removed
            ),
            (None, Some(e)) => eprintln!("    {:17} FAILED: {e}", outcome.source),
            _ => {}
        }
    }
    let annotations = &report.annotations;
    eprintln!("==> annotations in {} ms", annotations.millis);
    if let Some(ids) = &annotations.identifiers {
        eprintln!(
            "    identifiers       {:5} genes, {} identifiers (+{} new, {} removed)",
            ids.genes, ids.identifiers, ids.inserted, ids.removed
        );
    }
    for outcome in &annotations.sources {
        match (&outcome.written, &outcome.error) {
            (Some(w), _) => eprintln!(
                "    {:17} {:5} genes (+{} new, {} updated, {} unchanged; {} without a value, {} failed)",
                outcome.source,
                w.records - w.unknown_genes,
                w.inserted,
                w.updated,
                w.unchanged,
                outcome.without_value,
                outcome.failed_genes
            ),
            (None, Some(e)) => eprintln!("    {:17} FAILED: {e}", outcome.source),
            _ => {}
        }
    }
    eprintln!(
        "==> views refreshed in {} ms; data version {}",
        report.refresh.total_millis, report.refresh.data_version
    );
    let failed: Vec<&str> = report
        .failed()
        .map(|o| o.source.as_str())
        .chain(annotations.failed().map(|o| o.source))
        .collect();
    if !failed.is_empty() {
        return Err(format!("sources failed: {}", failed.join(", ")).into());
    }
    Ok(())
}

async fn serve_api(config: Config, options: &Options) -> Result<(), AnyError> {
    let routes = template::routes(&template::load(&options.template)?)?;
    let addr = format!("{}:{}", options.host, options.port);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let state = kgdb_web::AppState::new(config)?;
    ensure_cache_table(&state).await?;
    let state = start_annotation_pipeline(state).await?;
    let gateway = Arc::new(Gateway::new(routes, state, local.to_string())?);
    let base = format!("http://{local}");
    eprintln!(
        "==> kgdb API on {base}  ({} routes from {})",
        gateway.routes().count(),
        options.template.display()
    );
    eprintln!("    try:");
    for example in [
        "/health",
        "/api/genes/?filter[hide_zero_scores]=false&page[size]=1",
        "/api/genes/?filter[tier]=comprehensive_support&sort=-evidence_score&page[size]=5",
        "/api/genes/PKD1",
        "/api/genes/PKD1/evidence",
        "/api/genes/resolve?query=HGNC:9008",
        "/api/genes/resolve?query=ENSG00000008710",
        "/api/annotations/genes/PKD1/annotations",
        "/api/annotations/genes/PKD1/annotations/summary",
        "/api/annotations/statistics",
        "/api/statistics/summary",
        "/api/datasources/",
    ] {
        eprintln!("      curl -s '{base}{example}'");
    }
    eprintln!("    Ctrl-C stops it.");
    serve(listener, gateway, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The annotation worker on the local queue (in-process, or SQS with
/// `KGDB_ANNOTATION_QUEUE_URL`); the admin route sends runs to it.
async fn start_annotation_pipeline(
    state: kgdb_web::AppState,
) -> Result<kgdb_web::AppState, AnyError> {
    use kgdb_fn_annotation_pipeline::{Fetchers, Worker};
    let fetchers = Fetchers::from_env()?;
    let runs = kgdb_pipeline::RunStore::new(state.pool.clone());
    let pipeline = kgdb_fn_annotation_pipeline::local::start(
        kgdb_pipeline::queue::QueueSettings::default(),
        |sender| Worker::new(runs, fetchers, sender, 3),
    )
    .await;
    eprintln!(
        "==> annotation pipeline: {} queue; start a run with POST /api/annotations/pipeline/update (admin token)",
        pipeline.sender.kind()
    );
    Ok(state.with_jobs(pipeline.sender))
}

/// With an emulator endpoint (moto), creates the L2 table if it does not exist yet; against real
/// AWS the table belongs to the stack and is never created here.
async fn ensure_cache_table(state: &kgdb_web::AppState) -> Result<(), AnyError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let config = state.cache.config();
    let (Some(table), Some(endpoint)) = (&config.l2_table, &config.l2_endpoint) else {
        eprintln!(
            "==> cache: L1 in process{}",
            if config.enabled { "" } else { " (disabled)" }
        );
        return Ok(());
    };
    let Some(l2) = state.cache.l2().await else {
        return Ok(());
    };
    let created = l2
        .client()
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await;
    match created {
        Ok(_) => eprintln!("==> cache: L1 + L2 table {table} created at {endpoint}"),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            eprintln!("==> cache: L1 + L2 table {table} at {endpoint}")
        }
        Err(e) => {
            // The cache is an accelerator: warn and serve without it rather than refuse to start.
            eprintln!(
                "==> cache: L2 unavailable at {endpoint}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            );
        }
    }
    Ok(())
}
