//! The evidence writer: idempotent retries, nothing lost on failure, aliases, data version.

use futures::future::BoxFuture;
use kgdb::evidence::snapshot::SnapshotDir;
use kgdb::evidence::writer::{WriteError, WriteMode, ingest, write_source};
use kgdb::evidence::{EvidenceRecord, EvidenceSource, SourceError};
use kgdb::vocab::SourceName;
use kgdb_tests::TestDb;
use serde_json::json;

struct FailingSource;

impl EvidenceSource for FailingSource {
    fn name(&self) -> SourceName {
        SourceName::PanelApp
    }
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<EvidenceRecord>, SourceError>> {
        Box::pin(async {
            Err(SourceError::Fetch {
                source_name: SourceName::PanelApp,
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

#[tokio::test]
async fn reingest_is_a_no_op_and_failures_keep_the_last_good_data() {
    let db = TestDb::fresh_loaded("writer").await;
    let mut client = db.client().await;
    let genes = scalar(&client, "SELECT count(*) FROM genes").await;
    let evidence = scalar(&client, "SELECT count(*) FROM gene_evidence").await;
    let stamp = scalar(&client, "SELECT extract(epoch FROM max(updated_at))::bigint * 1000000 + count(*) FROM gene_evidence").await;
    let version = kgdb::refresh::current_data_version(&client).await.unwrap();

    // Same data again: nothing inserted, updated or removed; the data version still moves on.
    let report = ingest(
        &mut client,
        &SnapshotDir::in_repo().sources(),
        WriteMode::Replace,
    )
    .await
    .unwrap();
    for outcome in &report.sources {
        let s = outcome.stats.as_ref().unwrap();
        assert_eq!(
            (s.evidence_inserted, s.evidence_updated, s.evidence_removed),
            (0, 0, 0),
            "{}",
            outcome.source
        );
        assert_eq!(s.evidence_unchanged as usize, s.records);
    }
    assert_eq!(scalar(&client, "SELECT count(*) FROM genes").await, genes);
    assert_eq!(
        scalar(&client, "SELECT extract(epoch FROM max(updated_at))::bigint * 1000000 + count(*) FROM gene_evidence").await,
        stamp
    );
    assert!(report.refresh.as_ref().unwrap().data_version > version);

    // An empty batch is refused and the source's rows stay.
    let panelapp = scalar(
        &client,
        "SELECT count(*) FROM gene_evidence WHERE source_name = 'PanelApp'",
    )
    .await;
    let err = write_source(&mut client, SourceName::PanelApp, &[], WriteMode::Replace)
        .await
        .unwrap_err();
    assert!(matches!(err, WriteError::Empty(SourceName::PanelApp)));
    assert_eq!(
        scalar(
            &client,
            "SELECT count(*) FROM gene_evidence WHERE source_name = 'PanelApp'"
        )
        .await,
        panelapp
    );

    // A failing fetch is recorded and changes no evidence.
    let failing: Vec<Box<dyn EvidenceSource>> = vec![Box::new(FailingSource)];
    let report = ingest(&mut client, &failing, WriteMode::Replace)
        .await
        .unwrap();
    assert_eq!(report.failed().count(), 1);
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

    // An invalid batch writes nothing at all (validation happens before the transaction).
    let bad = vec![
        record("HGNC:9008", "PKD1", &[], 1),
        record("HGNC:9008", "PKD1", &[], 2),
    ];
    assert!(
        write_source(&mut client, SourceName::PanelApp, &bad, WriteMode::Upsert)
            .await
            .is_err()
    );
    let bad_id = vec![record("9008", "PKD1", &[], 1)];
    assert!(
        write_source(
            &mut client,
            SourceName::PanelApp,
            &bad_id,
            WriteMode::Upsert
        )
        .await
        .is_err()
    );
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM gene_evidence").await,
        evidence
    );
}

#[tokio::test]
async fn replace_removes_dropped_genes_upsert_does_not_and_aliases_accumulate() {
    let db = TestDb::fresh("writer_modes").await;
    let mut client = db.client().await;
    let first = vec![
        record("HGNC:1", "AAA1", &["OLD1"], 2),
        record("HGNC:2", "BBB2", &[], 1),
    ];
    let stats = write_source(
        &mut client,
        SourceName::PanelApp,
        &first,
        WriteMode::Replace,
    )
    .await
    .unwrap();
    assert_eq!((stats.genes_created, stats.evidence_inserted), (2, 2));

    // Retrying the same batch is a no-op.
    let again = write_source(
        &mut client,
        SourceName::PanelApp,
        &first,
        WriteMode::Replace,
    )
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

    // Upsert touches only its genes.
    write_source(
        &mut client,
        SourceName::PanelApp,
        &[record("HGNC:3", "CCC3", &[], 1)],
        WriteMode::Upsert,
    )
    .await
    .unwrap();
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM gene_evidence").await,
        3
    );

    // Replace drops the source's rows for genes not in the batch; a rename keeps the old symbol as an alias.
    let renamed = vec![record("HGNC:1", "AAA1NEW", &["ALT1"], 3)];
    let stats = write_source(
        &mut client,
        SourceName::PanelApp,
        &renamed,
        WriteMode::Replace,
    )
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
    let report = kgdb::refresh::refresh_all(&mut client).await.unwrap();
    assert_eq!(report.views.len(), kgdb::refresh::MATERIALIZED_VIEWS.len());
    assert_eq!(scalar(&client, "SELECT count(*) FROM gene_scores").await, 1);
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
    let mut listed: Vec<String> = kgdb::refresh::MATERIALIZED_VIEWS
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
