//! The Ensembl client against the mock server: the MANE summary and the GTF streamed, the
//! canonical transcript by its tag, minus-strand genes, and what each failure ends in.

mod common;

use std::time::Duration;

use common::*;
use kgdb_fetch::FetchError;
use kgdb_fetch::annotation::{AnnotationFetcher, Chunking, GeneKey, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::sources::ensembl::{EnsemblFetcher, GTF_URL, MANE_URL};
use serde_json::json;

fn gtf() -> String {
    fixture("ensembl/Homo_sapiens.GRCh38.115.chr.gtf")
}

fn mane() -> String {
    fixture("ensembl/MANE.GRCh38.v1.5.summary.txt")
}

fn serve(server: &MockServer, gtf: &str, mane: &str) {
    server.script("GET", GTF_URL, vec![MockResponse::ok(gzip(gtf))]);
    server.script("GET", MANE_URL, vec![MockResponse::ok(gzip(mane))]);
}

/// UMOD as a gene whose Ensembl id the hgnc source has not stored: found by its symbol.
fn umod_by_symbol() -> GeneKey {
    GeneKey {
        hgnc_id: "HGNC:12559".into(),
        symbol: "UMOD".into(),
        ensembl_gene_id: None,
        ncbi_gene_id: Some("7369".into()),
        percentage_score: None,
    }
}

#[tokio::test]
async fn gene_structure_with_the_canonical_transcript() {
    let (server, client) = setup().await;
    serve(&server, &gtf(), &mane());
    let fetcher = EnsemblFetcher::new(client);
    let empty = fetcher.fetch(&[]).await.unwrap();
    assert!(empty.records.is_empty() && empty.misses.is_empty());
    assert!(server.requests().is_empty(), "an empty chunk reads no file");
    assert_eq!(fetcher.source(), "ensembl");
    assert_eq!(fetcher.ttl_days(), 30);
    assert_eq!(fetcher.chunking(), Chunking::Bulk);
    assert_eq!(fetcher.version(), "115");

    let genes = [pkd1(), pkd2(), nphs1(), umod_by_symbol()];
    let outcome = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(outcome.records.len(), 3, "{:?}", outcome.misses);

    let a = annotations(&outcome, "HGNC:9008");
    assert_keys(
        a,
        &[
            ("gene_id", "string"),
            ("gene_symbol", "string"),
            ("biotype", "string"),
            ("chromosome", "string"),
            ("start", "int"),
            ("end", "int"),
            ("strand", "string"),
            ("gene_length", "int"),
            ("coding_length", "int"),
            ("assembly", "string"),
            ("canonical_transcript", "object"),
            ("transcript_count", "int"),
            ("exon_count", "int"),
        ],
    );
    assert_eq!(a["gene_id"], "ENSG00000008710");
    assert_eq!(a["gene_symbol"], "PKD1");
    assert_eq!(a["biotype"], "protein_coding");
    assert_eq!(a["chromosome"], "16");
    assert_eq!((&a["start"], &a["end"]), (&json!(2088708), &json!(2135898)));
    assert_eq!(a["strand"], "-");
    assert_eq!(a["gene_length"], 47191);
    assert_eq!(a["assembly"], "GRCh38");
    assert_eq!(a["transcript_count"], 3);
    assert_eq!(a["exon_count"], 3);
    assert_eq!(a["coding_length"], 76 + 501 + 98 + 3, "CDS plus stop codon");

    let t = &a["canonical_transcript"];
    assert_keys(
        t,
        &[
            ("transcript_id", "string"),
            ("display_name", "string"),
            ("biotype", "string"),
            ("is_canonical", "bool"),
            ("start", "int"),
            ("end", "int"),
            ("exon_count", "int"),
            ("exons", "array"),
            ("refseq_transcript_id", "string"),
        ],
    );
    assert_eq!(t["transcript_id"], "ENST00000262304");
    assert_eq!(t["display_name"], "PKD1-201");
    assert_eq!(t["is_canonical"], true);
    assert_eq!(
        t["refseq_transcript_id"], "NM_001009944.3",
        "MANE by the unversioned ENST"
    );
    // Minus strand: Ensembl's exon 1 is the 5' exon, at the highest coordinates.
    let exons = t["exons"].as_array().unwrap();
    assert_keys(
        &exons[0],
        &[
            ("exon_id", "string"),
            ("exon_number", "int"),
            ("start", "int"),
            ("end", "int"),
            ("length", "int"),
        ],
    );
    assert_eq!(
        exons[0],
        json!({"exon_id": "ENSE00001183000", "exon_number": 1, "start": 2135680,
               "end": 2135898, "length": 219})
    );
    let numbers: Vec<_> = exons.iter().map(|e| e["exon_number"].clone()).collect();
    assert_eq!(numbers, [json!(1), json!(2), json!(3)]);
    assert!(exons[0]["start"].as_i64() > exons[2]["start"].as_i64());

    let b = annotations(&outcome, "HGNC:9009");
    assert_eq!(b["strand"], "+");
    assert_eq!(b["chromosome"], "4");
    assert_eq!(
        b["canonical_transcript"]["transcript_id"],
        "ENST00000237596"
    );
    assert_eq!(
        b["canonical_transcript"]["refseq_transcript_id"],
        "NM_000297.4"
    );
    assert_eq!(b["coding_length"], 501 + 401 + 3);
    assert_eq!(b["canonical_transcript"]["exons"][0]["start"], 88007635);

    let c = annotations(&outcome, "HGNC:12559");
    assert_eq!(c["gene_id"], "ENSG00000169344", "found by gene_name");

    let (kind, reason) = miss(&outcome, "HGNC:7908");
    assert_eq!(kind, MissKind::NotFound);
    assert!(reason.contains("ENSG00000161270"), "{reason}");

    let record = outcome
        .records
        .iter()
        .find(|r| r.hgnc_id == "HGNC:9008")
        .unwrap();
    assert_eq!(record.source, "ensembl");
    assert_eq!(record.version, "115");
    assert_eq!(
        record.metadata,
        json!({"origin": GTF_URL, "files": [GTF_URL, MANE_URL], "batch_fetch": true,
               "retrieved_at": null})
    );
    let again = fetcher.fetch(&genes).await.unwrap();
    assert_eq!(again.records, outcome.records);
}

#[tokio::test]
async fn the_ensembl_canonical_tag_picks_the_transcript() {
    let (server, client) = setup().await;
    // Move the tags from PKD1-201 to the shorter PKD1-202 (whose line carries other tags too).
    let moved = gtf()
        .replace(
            r#"transcript_biotype "protein_coding"; tag "basic"; tag "Ensembl_canonical"; tag "MANE_Select";"#,
            r#"transcript_biotype "protein_coding"; tag "basic";"#,
        )
        .replacen(
            r#"transcript_name "PKD1-202"; transcript_source "havana"; transcript_biotype "protein_coding"; tag "basic";"#,
            r#"transcript_name "PKD1-202"; transcript_source "havana"; transcript_biotype "protein_coding"; tag "basic"; tag "Ensembl_canonical";"#,
            1,
        );
    assert_ne!(moved, gtf());
    serve(&server, &moved, &mane());
    let outcome = EnsemblFetcher::new(client).fetch(&[pkd1()]).await.unwrap();
    let t = &annotations(&outcome, "HGNC:9008")["canonical_transcript"];
    assert_eq!(t["transcript_id"], "ENST00000423118");
    assert_eq!(t["is_canonical"], true);
    assert_eq!(t["exon_count"], 2);
    assert_eq!(
        t["refseq_transcript_id"],
        serde_json::Value::Null,
        "not a MANE transcript"
    );

    // Without any tag: the longest protein-coding transcript, not called canonical.
    let untagged = moved.replace(r#" tag "Ensembl_canonical";"#, "");
    serve(&server, &untagged, &mane());
    let outcome = EnsemblFetcher::new(client_for(&server))
        .fetch(&[pkd1()])
        .await
        .unwrap();
    let t = &annotations(&outcome, "HGNC:9008")["canonical_transcript"];
    assert_eq!(t["transcript_id"], "ENST00000262304");
    assert_eq!(t["is_canonical"], false);
}

#[tokio::test]
async fn malformed_lines_fail_only_their_gene() {
    let (server, client) = setup().await;
    let gtf = gtf().replace("\tgene\t88007635\t", "\tgene\t88OO7635\t");
    let mane = mane().replace("ENST00000302509.9", "XM_0000001.1");
    serve(&server, &gtf, &mane);
    let outcome = EnsemblFetcher::new(client)
        .fetch(&[pkd1(), pkd2(), umod_by_symbol()])
        .await
        .unwrap();
    let (kind, reason) = miss(&outcome, "HGNC:9009");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        reason.contains("GTF line") && reason.contains("88OO7635"),
        "{reason}"
    );
    let (kind, reason) = miss(&outcome, "HGNC:12559");
    assert_eq!(kind, MissKind::Failed);
    assert!(
        reason.contains("MANE line 4") && reason.contains("Ensembl_nuc"),
        "{reason}"
    );
    assert_eq!(annotations(&outcome, "HGNC:9008")["exon_count"], 3);
    assert_eq!(outcome.records.len(), 1);
}

#[tokio::test]
async fn a_broken_gtf_line_fails_the_chunk() {
    let (server, client) = setup().await;
    let gtf = gtf().replacen("\t.\t-\t.\tgene_id", "\t.\t-gene_id", 1);
    serve(&server, &gtf, &mane());
    let err = EnsemblFetcher::new(client)
        .fetch(&[pkd1()])
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("a GTF line has 9"), "{err}");
}

#[tokio::test]
async fn a_release_bump_404_is_a_clear_error() {
    let (server, client) = setup().await;
    server.script("GET", MANE_URL, vec![MockResponse::ok(gzip(&mane()))]);
    server.script("GET", GTF_URL, vec![MockResponse::new(404, "Not Found")]);
    let err = EnsemblFetcher::new(client)
        .fetch(&[pkd1()])
        .await
        .unwrap_err();
    assert_status(&err, 404);
    let message = err.to_string();
    assert!(
        message.contains("current_gtf") && message.contains("gtf_url"),
        "{message}"
    );
    assert_eq!(server.requests_to(GTF_URL).len(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let (server, client) = setup().await;
    serve(&server, &gtf(), &mane());
    server.script(
        "GET",
        GTF_URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::ok(gzip(&gtf())),
        ],
    );
    let outcome = EnsemblFetcher::new(client).fetch(&[pkd1()]).await.unwrap();
    assert_eq!(annotations(&outcome, "HGNC:9008")["exon_count"], 3);
    let log = server.requests_to(GTF_URL);
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_503_is_retried() {
    let (server, client) = setup().await;
    serve(&server, &gtf(), &mane());
    server.script(
        "GET",
        MANE_URL,
        vec![
            MockResponse::new(503, "busy"),
            MockResponse::ok(gzip(&mane())),
        ],
    );
    let outcome = EnsemblFetcher::new(client).fetch(&[pkd1()]).await.unwrap();
    assert_eq!(
        annotations(&outcome, "HGNC:9008")["canonical_transcript"]["refseq_transcript_id"],
        "NM_001009944.3"
    );
    assert_eq!(server.requests_to(MANE_URL).len(), 2);
}

#[tokio::test]
async fn a_persistent_500_fails_the_chunk() {
    let (server, client) = setup().await;
    serve(&server, &gtf(), &mane());
    server.script("GET", GTF_URL, vec![MockResponse::new(500, "boom")]);
    let err = EnsemblFetcher::new(client)
        .fetch(&[pkd1()])
        .await
        .unwrap_err();
    assert_status(&err, 500);
    assert_eq!(server.requests_to(GTF_URL).len(), 4);
}

#[tokio::test]
async fn a_timeout_fails_the_chunk() {
    let (server, client) = setup().await;
    serve(&server, &gtf(), &mane());
    server.script(
        "GET",
        GTF_URL,
        vec![MockResponse::ok(gzip(&gtf())).delayed(Duration::from_secs(2))],
    );
    let err = EnsemblFetcher::new(client)
        .fetch(&[pkd1()])
        .await
        .unwrap_err();
    assert_timeout(&err);
}

#[tokio::test]
async fn a_truncated_gzip_fails_the_chunk() {
    let (server, client) = setup().await;
    let mut text = gtf();
    let body: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    for _ in 0..300 {
        for line in &body {
            text.push_str(line);
            text.push('\n');
        }
    }
    serve(&server, &text, &mane());
    server.script(
        "GET",
        GTF_URL,
        vec![MockResponse::ok(truncated(&gzip(&text)))],
    );
    let err = EnsemblFetcher::new(client)
        .fetch(&[pkd1()])
        .await
        .unwrap_err();
    assert_stream_broken(&err);
}
