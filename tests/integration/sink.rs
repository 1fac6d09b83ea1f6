//! The evidence sink: runs staged by chunk and swapped in atomically, idempotent redelivery,
//! nothing lost on failure, replace and merge modes, aliases.

use futures::future::BoxFuture;
use kgdb_core::EvidenceRecord;
use kgdb_core::pipeline::{Fetcher, RunMode, RunSpec, Sink, SinkError, SourceError, TypedMerge};
use kgdb_core::vocab::SourceName;
use kgdb_local::ingest::ingest_snapshot;
use kgdb_sources::diagnostic_panels::DiagnosticPanelsEvidence;
use kgdb_sources::files::SnapshotDir;
use kgdb_sources::panelapp::{PanelApp, PanelGene, Region};
use kgdb_sources::run::run_source;
use kgdb_tests::TestDb;
use serde_json::json;

/// A PanelApp fetcher whose network is down.
struct Unreachable;

impl Fetcher<PanelApp> for Unreachable {
    fn plan(&self) -> BoxFuture<'_, Result<Vec<Region>, SourceError>> {
        Box::pin(async { Ok(Region::ALL.to_vec()) })
    }
    fn fetch<'a>(&'a self, _: &'a Region) -> BoxFuture<'a, Result<Vec<PanelGene>, SourceError>> {
        Box::pin(async {
            Err(SourceError::Fetch {
                source_name: Some(SourceName::PanelApp),
                message: "connection reset".into(),
            })
        })
    }
}

async fn scalar(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_typed_one(sql, &[]).await.unwrap().get(0)
}

fn record(hgnc: &str, symbol: &str, reported: &[&str], panels: usize) -> EvidenceRecord {
    EvidenceRecord {
        hgnc_id: hgnc.into(),
        approved_symbol: symbol.into(),
        reported_symbols: reported.iter().map(|s| s.to_string()).collect(),
        source_detail: format!("test: {panels} panels"),
        evidence_data: json!({"panels": (0..panels).map(|i| json!({"id": i})).collect::<Vec<_>>()}),
        evidence_date: None,
    }
}

fn lab(hgnc: &str, provider: &str, panels: &[&str]) -> EvidenceRecord {
    let panels: Vec<String> = panels.iter().map(|p| p.to_string()).collect();
    kgdb_core::pipeline::GeneEvidence {
        gene: kgdb_core::pipeline::GeneRef {
            hgnc_id: hgnc.into(),
            approved_symbol: format!("G{}", &hgnc[5..]),
            reported_symbols: vec![],
        },
        evidence: DiagnosticPanelsEvidence::new(hgnc.into(), provider.into(), &panels),
        evidence_date: None,
    }
    .into_record()
    .unwrap()
}

const STAMP: &str =
    "SELECT extract(epoch FROM max(updated_at))::bigint * 1000000 + count(*) FROM gene_evidence";

#[tokio::test]
async fn reingest_is_a_no_op_and_failures_keep_the_last_good_data() {
    let db = TestDb::fresh_loaded("sink").await;
    let client = db.client().await;
    let sink = db.sink();
    let genes = scalar(&client, "SELECT count(*) FROM genes").await;
    let evidence = scalar(&client, "SELECT count(*) FROM gene_evidence").await;
    let stamp = scalar(&client, STAMP).await;
    let version = kgdb_store::refresh::current_data_version(&client)
        .await
        .unwrap();

    // Same data again: nothing inserted, updated or removed; the data version still moves on.
    let report = ingest_snapshot(&db.url, &SnapshotDir::in_repo().root)
        .await
        .unwrap();
    for outcome in &report.sources {
        let s = outcome.report.as_ref().unwrap();
        assert_eq!(
            (s.evidence_inserted, s.evidence_updated, s.evidence_removed),
            (0, 0, 0),
            "{}",
            outcome.source
        );
        assert_eq!(s.evidence_unchanged as usize, s.records);
    }
    assert_eq!(scalar(&client, "SELECT count(*) FROM genes").await, genes);
    assert_eq!(scalar(&client, STAMP).await, stamp);
    assert!(report.refresh.data_version > version);
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM evidence_staging").await,
        0
    );

    // An empty run is refused and the source's rows stay.
    let panelapp = "SELECT count(*) FROM gene_evidence WHERE source_name = 'PanelApp'";
    let before = scalar(&client, panelapp).await;
    let err = sink
        .write_records(SourceName::PanelApp, &[], RunMode::Replace, "test")
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::EmptyRun(_)), "{err}");
    assert_eq!(scalar(&client, panelapp).await, before);

    // A failing fetch marks the run and the source failed and changes no evidence.
    let err = run_source(&PanelApp, &Unreachable, &sink, RunMode::Replace, "test")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("connection reset"));
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM gene_evidence").await,
        evidence
    );
    let status: String = client
        .query_typed_one(
            "SELECT status FROM data_source_progress WHERE source_name = 'PanelApp'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "failed");
    assert_eq!(
        scalar(
            &client,
            "SELECT count(*) FROM evidence_runs WHERE status = 'failed'"
        )
        .await,
        2
    );

    // Invalid records write nothing at all (validated before staging).
    let twice = vec![
        record("HGNC:9008", "PKD1", &[], 1),
        record("HGNC:9008", "PKD1", &[], 2),
    ];
    let bad_id = vec![record("9008", "PKD1", &[], 1)];
    for bad in [twice, bad_id] {
        let err = sink
            .write_records(SourceName::PanelApp, &bad, RunMode::Merge, "test")
            .await
            .unwrap_err();
        assert!(matches!(err, SinkError::Invalid { .. }), "{err}");
    }
    assert_eq!(scalar(&client, STAMP).await, stamp);
}

#[tokio::test]
async fn replace_removes_dropped_genes_merge_does_not_and_aliases_accumulate() {
    let db = TestDb::fresh("sink_modes").await;
    let mut client = db.client().await;
    let sink = db.sink();
    let source = SourceName::PanelApp;
    let first = vec![
        record("HGNC:1", "AAA1", &["OLD1"], 2),
        record("HGNC:2", "BBB2", &[], 1),
    ];
    let stats = sink
        .write_records(source, &first, RunMode::Replace, "t")
        .await
        .unwrap();
    assert_eq!((stats.genes_created, stats.evidence_inserted), (2, 2));

    // Retrying the same records is a no-op.
    let again = sink
        .write_records(source, &first, RunMode::Replace, "t")
        .await
        .unwrap();
    assert_eq!(
        (
            again.genes_created,
            again.evidence_inserted,
            again.evidence_updated,
            again.evidence_unchanged
        ),
        (0, 0, 0, 2)
    );

    // Merge touches only its genes.
    sink.write_records(
        source,
        &[record("HGNC:3", "CCC3", &[], 1)],
        RunMode::Merge,
        "t",
    )
    .await
    .unwrap();
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM gene_evidence").await,
        3
    );

    // Replace drops the source's rows for genes not in the run; a rename keeps the old symbol as an alias.
    let renamed = vec![record("HGNC:1", "AAA1NEW", &["ALT1"], 3)];
    let stats = sink
        .write_records(source, &renamed, RunMode::Replace, "t")
        .await
        .unwrap();
    assert_eq!((stats.evidence_updated, stats.evidence_removed), (1, 2));
    let aliases: Vec<String> = client
        .query_typed_one("SELECT aliases FROM genes WHERE hgnc_id = 'HGNC:1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(aliases, vec!["AAA1", "ALT1", "OLD1"]);

    // Views refresh from this state and the refreshed score reflects it.
    let report = kgdb_store::refresh::refresh_all(&mut client).await.unwrap();
    assert_eq!(
        report.views.len(),
        kgdb_store::refresh::MATERIALIZED_VIEWS.len()
    );
    assert_eq!(scalar(&client, "SELECT count(*) FROM gene_scores").await, 1);
}

#[tokio::test]
async fn a_run_spans_chunks_survives_redelivery_and_a_crash_loses_nothing() {
    let db = TestDb::fresh("sink_runs").await;
    let client = db.client().await;
    let sink = db.sink();
    let merge = TypedMerge::<DiagnosticPanelsEvidence>::new();
    let spec = |chunks| RunSpec {
        source: SourceName::DiagnosticPanels,
        mode: RunMode::Replace,
        chunks_planned: chunks,
        trigger: "test".into(),
    };
    let panels_of = |hgnc: &'static str| {
        let client = &client;
        async move {
            client
                .query_typed_one(
                    "SELECT e.evidence_data FROM gene_evidence e JOIN genes g ON g.id = e.gene_id
                      WHERE g.hgnc_id = $1 AND e.source_name = 'DiagnosticPanels'",
                    &[(&hgnc, tokio_postgres::types::Type::TEXT)],
                )
                .await
                .unwrap()
                .get::<_, serde_json::Value>(0)
        }
    };

    // Two labs as two chunks; HGNC:1 is on both and is joined at completion.
    let run = sink.start_run(&spec(2)).await.unwrap();
    sink.write_chunk(
        run,
        "lab-a",
        &[
            lab("HGNC:1", "A", &["Kidney"]),
            lab("HGNC:2", "A", &["Kidney"]),
        ],
    )
    .await
    .unwrap();
    sink.write_chunk(run, "lab-b", &[lab("HGNC:1", "B", &["Stale"])])
        .await
        .unwrap();
    sink.complete(run, &merge).await.unwrap();
    let data = panels_of("HGNC:1").await;
    assert_eq!(data["providers"], json!(["A", "B"]));
    assert_eq!(data["panel_count"], 2);

    let run = sink.start_run(&spec(2)).await.unwrap();
    sink.write_chunk(run, "lab-a", &[lab("HGNC:1", "A", &["Kidney"])])
        .await
        .unwrap();
    // Not all chunks are in: completion is refused and nothing changes.
    let err = sink.complete(run, &merge).await.unwrap_err();
    assert!(
        matches!(
            err,
            SinkError::Incomplete {
                written: 1,
                planned: 2,
                ..
            }
        ),
        "{err}"
    );
    sink.write_chunk(run, "lab-b", &[lab("HGNC:1", "B", &["Stale"])])
        .await
        .unwrap();
    let report = sink
        .write_chunk(run, "lab-b", &[lab("HGNC:1", "B", &["Renal"])])
        .await
        .unwrap();
    assert_eq!((report.chunks_written, report.chunks_planned), (2, 2));
    assert!(report.run_is_complete());
    let first = sink.complete(run, &merge).await.unwrap();
    assert_eq!(
        (
            first.records,
            first.evidence_updated,
            first.evidence_removed
        ),
        (1, 1, 1)
    );
    let data = panels_of("HGNC:1").await;
    assert_eq!(data["panels"], json!(["A: Kidney", "B: Renal"]));
    // Completing again (a redelivered last message) returns the same report and changes nothing.
    let stamp = scalar(&client, STAMP).await;
    assert_eq!(sink.complete(run, &merge).await.unwrap(), first);
    assert_eq!(scalar(&client, STAMP).await, stamp);
    // A chunk arriving after completion is refused.
    let late = sink
        .write_chunk(run, "lab-c", &[lab("HGNC:9", "C", &["x"])])
        .await
        .unwrap_err();
    assert!(matches!(late, SinkError::Closed { .. }), "{late}");

    // A worker that crashed mid-run never completes it: the stored evidence is untouched.
    let crashed = sink.start_run(&spec(3)).await.unwrap();
    sink.write_chunk(crashed, "lab-a", &[lab("HGNC:7", "A", &["x"])])
        .await
        .unwrap();
    assert_eq!(scalar(&client, STAMP).await, stamp);
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM gene_evidence e JOIN genes g ON g.id = e.gene_id WHERE g.hgnc_id = 'HGNC:7'").await,
        0
    );

    // A merge run joins the stored row with the run's.
    let run = sink
        .start_run(&RunSpec {
            mode: RunMode::Merge,
            ..spec(1)
        })
        .await
        .unwrap();
    sink.write_chunk(run, "lab-c", &[lab("HGNC:1", "C", &["Nephro"])])
        .await
        .unwrap();
    sink.complete(run, &merge).await.unwrap();
    let data = panels_of("HGNC:1").await;
    assert_eq!(data["providers"], json!(["A", "B", "C"]));
    assert_eq!(
        scalar(
            &client,
            "SELECT count(*) FROM gene_evidence WHERE source_name = 'DiagnosticPanels'"
        )
        .await,
        1,
        "HGNC:2 was swept by the replace run before; the merge run removed nothing"
    );

    // Finished records (LatestWins) replace a stored row whole.
    sink.write_records(
        SourceName::DiagnosticPanels,
        &[lab("HGNC:1", "D", &["Only"])],
        RunMode::Merge,
        "t",
    )
    .await
    .unwrap();
    assert_eq!(panels_of("HGNC:1").await["providers"], json!(["D"]));
}

#[tokio::test]
async fn every_materialized_view_is_refreshed() {
    let db = TestDb::fresh("views").await;
    let client = db.client().await;
    let rows = client
        .query_typed(
            "SELECT matviewname::text FROM pg_matviews WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut in_db: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut listed: Vec<String> = kgdb_store::refresh::MATERIALIZED_VIEWS
        .iter()
        .map(|s| s.to_string())
        .collect();
    in_db.sort();
    listed.sort();
    assert_eq!(
        in_db, listed,
        "refresh.rs MATERIALIZED_VIEWS must list every matview"
    );
    // Each has the unique index REFRESH ... CONCURRENTLY needs.
    for view in &in_db {
        let unique = client
            .query_typed_one(
                "SELECT count(*) FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname
                   JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = $1 AND x.indisunique",
                &[(view, tokio_postgres::types::Type::TEXT)],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        assert!(unique >= 1, "{view} has no unique index");
    }
}
