//! Gene normalization against the loaded database: reported symbols resolve through HGNC ids,
//! approved, previous and alias symbols and NCBI ids (the bundled HGNC/Ensembl data), an
//! approved curator mapping, then the online lookup; the rest lands in staging, counted.

use std::sync::Arc;

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::genes::{GeneResolver, ReportedGene, Resolution, ResolvedGene};
use kgdb_store::genes::{HgncLookup, PgGeneResolver};
use kgdb_tests::TestDb;

fn reported(symbol: &str) -> ReportedGene<'_> {
    ReportedGene {
        source: SourceName::PubTator,
        symbol,
        ncbi_gene_id: None,
        hgnc_id: None,
    }
}

fn resolved(r: &Resolution) -> Option<&str> {
    match r {
        Resolution::Resolved(g) => Some(g.approved_symbol.as_str()),
        Resolution::Unresolved { .. } => None,
    }
}

/// HGNC's REST answer for one symbol, as the online lookup would give it.
struct OneOnlineGene;

impl HgncLookup for OneOnlineGene {
    fn lookup<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, Option<ResolvedGene>> {
        Box::pin(async move {
            (symbol == "NEWGENE1").then(|| ResolvedGene {
                hgnc_id: "HGNC:99999".into(),
                approved_symbol: "NEWGENE1".into(),
            })
        })
    }
}

#[tokio::test]
async fn symbols_resolve_in_order_and_the_rest_is_staged_once_per_text() {
    let db = TestDb::fresh_loaded("normalize").await;
    let pool = db.state().pool.clone();
    let resolver =
        PgGeneResolver::new(pool.clone(), "test-run-1").with_online(Arc::new(OneOnlineGene));

    // Approved symbol, with the original's cleaning.
    for raw in ["PKD1", " pkd1 ", "GENE:PKD1", "PKD1 (polycystin 1)"] {
        assert_eq!(
            resolved(&resolver.resolve(reported(raw)).await),
            Some("PKD1"),
            "{raw}"
        );
    }
    // HGNC id wins over a wrong symbol; an NCBI id finds the gene.
    let by_id = ReportedGene {
        hgnc_id: Some("HGNC:9008"),
        ..reported("NOT-A-GENE-X")
    };
    assert_eq!(resolved(&resolver.resolve(by_id).await), Some("PKD1"));
    let by_ncbi = ReportedGene {
        ncbi_gene_id: Some("5310"),
        ..reported("PKD-ONE")
    };
    assert_eq!(resolved(&resolver.resolve(by_ncbi).await), Some("PKD1"));
    // A previous symbol (HNF1B was TCF2).
    assert_eq!(
        resolved(&resolver.resolve(reported("TCF2")).await),
        Some("HNF1B")
    );
    // Online, as a last resort.
    assert_eq!(
        resolved(&resolver.resolve(reported("newgene1")).await),
        Some("NEWGENE1")
    );

    // Unresolvable: staged with source, text, reason and run; seen twice, one row.
    for _ in 0..2 {
        let r = resolver.resolve(reported("XYZZY42")).await;
        assert!(matches!(r, Resolution::Unresolved { .. }), "{r:?}");
    }
    let other = PgGeneResolver::new(pool.clone(), "test-run-2");
    other.resolve(reported("XYZZY42")).await;
    other
        .resolve(reported("not a gene at all, a sentence"))
        .await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT source, raw_symbol, symbol, occurrences, last_run, status, reason
               FROM gene_normalization_staging ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "one pending row per source and text");
    assert_eq!(rows[0].get::<_, String>(1), "XYZZY42");
    assert_eq!(
        rows[0].get::<_, Option<String>>(2).as_deref(),
        Some("XYZZY42")
    );
    // The memo of one resolver answers its repeats; a second run's resolver counts again.
    assert_eq!(rows[0].get::<_, i32>(3), 2);
    assert_eq!(rows[0].get::<_, String>(4), "test-run-2");
    assert_eq!(rows[0].get::<_, String>(5), "pending");
    assert_eq!(
        rows[1].get::<_, Option<String>>(2),
        None,
        "cleaning refused it"
    );
    assert!(
        rows[1].get::<_, String>(6).contains("longer than 20"),
        "{}",
        rows[1].get::<_, String>(6)
    );

    // A curator maps the text to a gene: the next run resolves it.
    client
        .execute(
            "UPDATE gene_normalization_staging SET status = 'approved',
                    gene_id = (SELECT id FROM genes WHERE approved_symbol = 'PKD2')
              WHERE raw_symbol = 'XYZZY42'",
            &[],
        )
        .await
        .unwrap();
    let next_run = PgGeneResolver::new(pool, "test-run-3");
    assert_eq!(
        resolved(&next_run.resolve(reported("xyzzy42")).await),
        Some("PKD2")
    );
}
