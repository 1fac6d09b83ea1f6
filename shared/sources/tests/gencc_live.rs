//! The live GenCC fetcher against the mock server: the XLSX export (written here from the TSV
//! fixtures in both column layouts) through `Source::normalize`, and what each failure ends in.

#[path = "live_common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use kgdb_core::pipeline::{Fetcher, GeneEvidence, Source, SourceError};
use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_sources::gencc::live::{GenccLive, SUBMISSIONS_XLSX_URL};
use kgdb_sources::gencc::{Gencc, GenccChunk, GenccEvidence, SubmissionRow};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet, XlsxError};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An XLSX workbook of a TSV export: one sheet "Submissions", row 1 the header, every value a
/// string but `submitted_as_date`, an Excel date-time (as GenCC's workbook has it). `note_first`
/// puts a sheet of prose before it; `edit` changes the data sheet after it is written.
fn workbook(tsv: &str, note_first: bool, edit: impl FnOnce(&mut Worksheet, &[&str])) -> Vec<u8> {
    write_workbook(tsv, note_first, edit).expect("an XLSX workbook")
}

fn write_workbook(
    tsv: &str,
    note_first: bool,
    edit: impl FnOnce(&mut Worksheet, &[&str]),
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    if note_first {
        let note = book.add_worksheet();
        note.set_name("Read me")?;
        note.write_string(0, 0, "GenCC submissions export")?;
        note.write_string(1, 0, "The data are on the next sheet.")?;
    }
    let sheet = book.add_worksheet();
    sheet.set_name("Submissions")?;
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    for (c, name) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *name)?;
    }
    for (r, line) in lines.enumerate() {
        let row = r as u32 + 1;
        for (c, value) in line.split('\t').enumerate() {
            if value.is_empty() {
                continue;
            }
            if header[c] == "submitted_as_date" {
                let when = ExcelDateTime::parse_from_str(value)?;
                sheet.write_datetime_with_format(row, c as u16, &when, &date)?;
            } else {
                sheet.write_string(row, c as u16, value)?;
            }
        }
    }
    edit(sheet, &header);
    book.save_to_buffer()
}

fn legacy() -> Vec<u8> {
    workbook(
        &fixture("gencc/submissions-export-legacy.tsv"),
        false,
        |_, _| {},
    )
}

fn serve(server: &MockServer, answers: Vec<MockResponse>) {
    server.script("GET", SUBMISSIONS_XLSX_URL, answers);
}

fn xlsx(bytes: Vec<u8>) -> MockResponse {
    MockResponse::ok(bytes).header("content-type", XLSX)
}

async fn fetch(fetcher: &GenccLive) -> Result<Vec<SubmissionRow>, SourceError> {
    let chunks = fetcher.plan().await?;
    assert_eq!(chunks, vec![GenccChunk::All]);
    fetcher.fetch(&chunks[0]).await
}

fn gene<'a>(
    genes: &'a [GeneEvidence<GenccEvidence>],
    symbol: &str,
) -> &'a GeneEvidence<GenccEvidence> {
    genes
        .iter()
        .find(|g| g.gene.approved_symbol == symbol)
        .unwrap_or_else(|| panic!("no {symbol} in {:?}", symbols(genes)))
}

fn symbols(genes: &[GeneEvidence<GenccEvidence>]) -> Vec<&str> {
    genes
        .iter()
        .map(|g| g.gene.approved_symbol.as_str())
        .collect()
}

#[tokio::test]
async fn the_legacy_export_normalizes_to_the_original_keys_and_values() {
    let (server, client) = setup().await;
    serve(&server, vec![xlsx(legacy())]);
    let resolver = TestResolver::new();
    let raw = fetch(&GenccLive::new(client, resolver.clone()))
        .await
        .unwrap();
    let genes = Gencc.normalize(raw).unwrap();
    // PKD1 (two submitters), NPHS1, CEP290; BRCA1 is not kidney, COL4A5 is unresolved, the
    // row without a gene is dropped.
    assert_eq!(symbols(&genes), vec!["CEP290", "NPHS1", "PKD1"]);

    let pkd1 = gene(&genes, "PKD1");
    assert_eq!(pkd1.gene.hgnc_id, "HGNC:9008");
    assert_eq!(pkd1.gene.reported_symbols, vec!["PKD1"]);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(pkd1.evidence_date, Some(today));
    let record = pkd1.clone().into_record().unwrap();
    let data = &record.evidence_data;
    let keys: BTreeSet<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "hgnc_id",
            "submissions",
            "classifications",
            "diseases",
            "submitters",
            "modes_of_inheritance",
            "submission_count",
            "evidence_score",
            "max_classification_weight",
            "last_updated",
        ])
    );
    assert_eq!(data["hgnc_id"], "HGNC:9008");
    assert_eq!(data["submission_count"], 2);
    assert_eq!(data["classifications"], serde_json::json!(["Definitive"]));
    assert_eq!(
        data["diseases"],
        serde_json::json!(["autosomal dominant polycystic kidney disease"])
    );
    assert_eq!(
        data["submitters"],
        serde_json::json!(["ClinGen", "Genomics England PanelApp"])
    );
    assert_eq!(
        data["modes_of_inheritance"],
        serde_json::json!(["Autosomal dominant"])
    );
    assert_eq!(data["evidence_score"], 1.0);
    assert_eq!(data["last_updated"], today.to_string());
    assert_eq!(record.source_detail, "GenCC: 2 submissions (Definitive)");

    // The document's example row, as the original stores a submission.
    let clingen = data["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["submitter"] == "ClinGen")
        .expect("the ClinGen submission");
    assert_eq!(
        clingen,
        &serde_json::json!({
            "symbol": "PKD1",
            "hgnc_id": "HGNC:9008",
            "disease_name": "autosomal dominant polycystic kidney disease",
            "mondo_id": "MONDO:0008263",
            "classification": "Definitive",
            "submitter": "ClinGen",
            "mode_of_inheritance": "Autosomal dominant",
            "submission_date": "2023-01-15 16:00:00",
            "raw_data": {
                "gene_curie": "HGNC:9008",
                "gene_symbol": "PKD1",
                "disease_curie": "MONDO:0008263",
                "disease_title": "autosomal dominant polycystic kidney disease",
                "classification_title": "Definitive",
                "moi_title": "Autosomal dominant",
                "submitter_title": "ClinGen",
                "submitted_as_hgnc_id": "HGNC:9008",
                "submitted_as_hgnc_symbol": "PKD1",
            }
        })
    );

    let nphs1 = gene(&genes, "NPHS1");
    assert_eq!(nphs1.gene.hgnc_id, "HGNC:7908");
    assert_eq!(
        nphs1.evidence.modes_of_inheritance,
        vec!["Autosomal recessive"]
    );
    assert_eq!(
        nphs1.evidence.diseases,
        vec!["congenital nephrotic syndrome, Finnish type"]
    );
    assert_eq!(nphs1.evidence.submitters, vec!["Orphanet"]);
    assert_eq!(
        nphs1.evidence.submissions[0].submission_date,
        "2021-11-10 00:00:00"
    );
}

#[tokio::test]
async fn keywords_select_kidney_rows_on_any_disease_column() {
    let (server, client) = setup().await;
    serve(&server, vec![xlsx(legacy())]);
    let resolver = TestResolver::new();
    let raw = fetch(&GenccLive::new(client, resolver.clone()))
        .await
        .unwrap();
    let hgnc: BTreeSet<&str> = raw.iter().map(|r| r.submission.hgnc_id.as_str()).collect();
    // BRCA1 resolves (the resolver knows it) but its diseases are not kidney diseases.
    assert!(!hgnc.contains("HGNC:1100"), "{hgnc:?}");
    assert!(
        !resolver.unresolved().contains(&"BRCA1".to_string()),
        "a non-kidney row is not even resolved"
    );
    // CEP290's disease_title ("Joubert syndrome 5") has no keyword; its submitted disease name
    // ("... with renal defect") has.
    let cep290 = raw
        .iter()
        .find(|r| r.submission.hgnc_id == "HGNC:29021")
        .expect("CEP290 kept by submitted_as_disease_name");
    assert_eq!(cep290.submission.disease_name, "Joubert syndrome 5");
    assert_eq!(cep290.submission.classification, "Strong");
    // Every kept row has a keyword in one of its disease names.
    assert_eq!(raw.len(), 4);
}

#[tokio::test]
async fn the_new_column_layout_gives_the_same_submissions_as_the_legacy_one() {
    let (server, client) = setup().await;
    serve(&server, vec![xlsx(legacy())]);
    let resolver = TestResolver::new();
    let from_legacy = fetch(&GenccLive::new(client.clone(), resolver.clone()))
        .await
        .unwrap();

    let new = workbook(
        &fixture("gencc/submissions-export-new.tsv"),
        false,
        |_, header| {
            assert_eq!(header[..2], ["sgc_id", "version_number"]);
            assert!(!header.contains(&"uuid"));
        },
    );
    serve(&server, vec![xlsx(new)]);
    let from_new = fetch(&GenccLive::new(client, resolver)).await.unwrap();
    let submissions = |raw: &[SubmissionRow], hgnc: &str| -> Vec<_> {
        raw.iter()
            .filter(|r| r.submission.hgnc_id == hgnc)
            .map(|r| r.submission.clone())
            .collect()
    };
    for hgnc in ["HGNC:9008", "HGNC:7908"] {
        let new = submissions(&from_new, hgnc);
        assert!(!new.is_empty(), "{hgnc} read from the new layout");
        assert_eq!(new, submissions(&from_legacy, hgnc), "{hgnc}");
    }
    // The new fixture holds the first four rows: BRCA1 is excluded there too.
    assert_eq!(from_new.len(), 3);
}

#[tokio::test]
async fn an_unresolvable_gene_is_left_out_and_recorded_and_a_row_without_gene_dropped() {
    let (server, client) = setup().await;
    serve(&server, vec![xlsx(legacy())]);
    let resolver = TestResolver::new();
    let raw = fetch(&GenccLive::new(client, resolver.clone()))
        .await
        .unwrap();
    assert!(raw.iter().all(|r| r.submission.hgnc_id != "HGNC:2207"));
    assert_eq!(resolver.unresolved(), vec!["COL4A5"]);
    // PKD1 (two rows, one reported gene), NPHS1, CEP290, COL4A5: each asked once (the row
    // without a gene never reaches the resolver, nor does the non-kidney BRCA1).
    assert_eq!(resolver.calls(), 4);
    assert_eq!(raw.len(), 4);
}

#[tokio::test]
async fn a_429_is_waited_out_as_retry_after_says_then_the_export_is_read() {
    let (server, client) = setup().await;
    serve(
        &server,
        vec![
            MockResponse::new(429, "Too many downloads").header("Retry-After", "1"),
            xlsx(legacy()),
        ],
    );
    let raw = fetch(&GenccLive::new(client, TestResolver::new()))
        .await
        .unwrap();
    assert_eq!(raw.len(), 4);
    let log = server.requests_to(SUBMISSIONS_XLSX_URL);
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn a_503_is_retried_and_a_500_that_persists_is_a_fetch_error() {
    let (server, client) = setup().await;
    serve(
        &server,
        vec![MockResponse::new(503, "busy"), xlsx(legacy())],
    );
    let fetcher = GenccLive::new(client, TestResolver::new());
    assert_eq!(fetch(&fetcher).await.unwrap().len(), 4);
    assert_eq!(server.requests_to(SUBMISSIONS_XLSX_URL).len(), 2);

    server.clear_log();
    serve(&server, vec![MockResponse::new(500, "boom")]);
    let err = fetch(&fetcher).await.unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err}");
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_eq!(
        server.requests_to(SUBMISSIONS_XLSX_URL).len(),
        4,
        "one try and three retries"
    );
}

#[tokio::test]
async fn a_formula_error_cell_is_a_source_error() {
    let (server, client) = setup().await;
    // PKD1's ClinGen row (row 2) with an #N/A where its classification should be.
    let broken = workbook(
        &fixture("gencc/submissions-export-legacy.tsv"),
        false,
        |sheet, header| {
            let col = header
                .iter()
                .position(|h| *h == "classification_title")
                .unwrap();
            sheet
                .write_formula(1, col as u16, Formula::new("=NA()").set_result("#N/A"))
                .unwrap();
        },
    );
    serve(&server, vec![xlsx(broken)]);
    let err = fetch(&GenccLive::new(client, TestResolver::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Malformed { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("#N/A"), "{message}");
    assert!(
        message.contains("row 2 column classification_title"),
        "{message}"
    );
}

#[tokio::test]
async fn a_wrong_first_sheet_is_a_source_error() {
    let (server, client) = setup().await;
    let book = workbook(
        &fixture("gencc/submissions-export-legacy.tsv"),
        true,
        |_, _| {},
    );
    serve(&server, vec![xlsx(book)]);
    let err = fetch(&GenccLive::new(client, TestResolver::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("\"Read me\""), "{err}");
    assert!(
        err.to_string().contains("not the submissions export"),
        "{err}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_workbook_is_a_source_error() {
    let (server, client) = setup().await;
    let fetcher = GenccLive::new(client, TestResolver::new());
    // A quota page answered with 200.
    serve(
        &server,
        vec![
            MockResponse::ok("<html><body>Daily download limit reached</body></html>")
                .header("content-type", "text/html"),
        ],
    );
    let err = fetch(&fetcher).await.unwrap_err();
    assert!(err.to_string().contains("not an XLSX workbook"), "{err}");

    // A workbook cut in half (the zip's directory is at its end).
    let mut half = legacy();
    half.truncate(half.len() / 2);
    serve(&server, vec![xlsx(half)]);
    let err = fetch(&fetcher).await.unwrap_err();
    assert!(matches!(err, SourceError::Malformed { .. }), "{err}");
}

#[tokio::test]
async fn an_export_without_kidney_submissions_is_an_error() {
    let (server, client) = setup().await;
    let fetcher = GenccLive::new(client, TestResolver::new());
    let tsv = fixture("gencc/submissions-export-legacy.tsv");
    let header = tsv.lines().next().unwrap();
    let brca1 = tsv.lines().find(|l| l.contains("\tBRCA1\t")).unwrap();

    serve(
        &server,
        vec![xlsx(workbook(
            &format!("{header}\n{brca1}\n"),
            false,
            |_, _| {},
        ))],
    );
    let err = fetch(&fetcher).await.unwrap_err();
    assert!(err.to_string().contains("no kidney submission"), "{err}");

    serve(
        &server,
        vec![xlsx(workbook(&format!("{header}\n"), false, |_, _| {}))],
    );
    let err = fetch(&fetcher).await.unwrap_err();
    assert!(err.to_string().contains("no submissions"), "{err}");
}
