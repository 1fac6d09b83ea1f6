//! The HTTP client against the scripted local server: what each failure ends in.

use std::time::Duration;

use kgdb_fetch::mock::{MockResponse, MockServer};
use kgdb_fetch::{
    ClientConfig, Compression, DomainLimits, Endpoints, FetchError, HttpClient, RetryPolicy,
};

fn fast_retries() -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        ..ClientConfig::default()
    }
}

async fn setup(limits: DomainLimits) -> (MockServer, HttpClient) {
    let server = MockServer::start().await.expect("mock server");
    let client = HttpClient::new(
        fast_retries(),
        limits,
        Endpoints::local(&server.origin()).expect("origin"),
    )
    .expect("client");
    (server, client)
}

const URL: &str = "https://rest.example.org/fetch/symbol/PKD1";

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds() {
    let (server, client) = setup(DomainLimits::new([])).await;
    server.script(
        "GET",
        URL,
        vec![
            MockResponse::new(429, "slow down").header("Retry-After", "1"),
            MockResponse::json(&serde_json::json!({"ok": true})),
        ],
    );
    let v: serde_json::Value = client.get_json(URL).await.unwrap();
    assert_eq!(v["ok"], true);
    let log = server.requests_to(URL);
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn a_503_is_retried_and_a_500_that_persists_fails_after_the_retries() {
    let (server, client) = setup(DomainLimits::new([])).await;
    server.script(
        "GET",
        URL,
        vec![MockResponse::new(503, "busy"), MockResponse::ok("fine")],
    );
    assert_eq!(client.get_text(URL).await.unwrap(), "fine");
    let other = "https://rest.example.org/always/broken";
    server.script("GET", other, vec![MockResponse::new(500, "boom")]);
    let err = client.get_text(other).await.unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert_eq!(
        server.requests_to(other).len(),
        4,
        "one try and three retries"
    );
}

#[tokio::test]
async fn a_404_is_final_and_a_timeout_is_retried_then_reported() {
    let (server, client) = setup(DomainLimits::new([])).await;
    server.script("GET", URL, vec![MockResponse::new(404, "no such gene")]);
    let err = client.get_text(URL).await.unwrap_err();
    assert_eq!(err.status_code(), Some(404));
    assert!(!err.is_transient());
    assert_eq!(server.requests_to(URL).len(), 1);

    let slow = "https://rest.example.org/slow";
    server.script(
        "GET",
        slow,
        vec![MockResponse::ok("late").delayed(Duration::from_secs(2))],
    );
    let err = client.get_text(slow).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert_eq!(server.requests_to(slow).len(), 4);
}

#[tokio::test]
async fn malformed_json_is_a_clear_error_not_a_retry() {
    let (server, client) = setup(DomainLimits::new([])).await;
    server.script("GET", URL, vec![MockResponse::ok("{\"docs\": [")]);
    let err = client.get_json::<serde_json::Value>(URL).await.unwrap_err();
    assert!(matches!(err, FetchError::Malformed { .. }), "{err}");
    assert_eq!(server.requests_to(URL).len(), 1);
}

#[tokio::test]
async fn the_domain_limit_spaces_requests_to_one_host() {
    let (server, client) = setup(DomainLimits::new([("rest.example.org", 20.0)])).await;
    server.script("GET", URL, vec![MockResponse::ok("x")]);
    let calls: Vec<_> = (0..11).map(|_| client.get_text(URL)).collect();
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    let log = server.requests_to(URL);
    let span = log.last().unwrap().at - log[0].at;
    // 11 requests at 20/s: 10 gaps of 50 ms.
    assert!(span >= Duration::from_millis(480), "span {span:?}");
    assert!(span < Duration::from_millis(900), "span {span:?}");
}

#[tokio::test]
async fn streamed_gzip_lines_and_a_truncated_stream() {
    use std::io::Write;
    let (server, client) = setup(DomainLimits::new([])).await;
    let text: String = (0..50_000).map(|i| format!("row\t{i}\n")).collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let file = "https://ftp.example.org/pub/file.txt.gz";
    server.script("GET", file, vec![MockResponse::ok(gz.clone())]);
    let mut lines = client.lines(file, Compression::of(file)).await.unwrap();
    let mut n = 0;
    while let Some(line) = lines.next_line().await.unwrap() {
        assert!(line.starts_with("row\t"));
        n += 1;
    }
    assert_eq!(n, 50_000);

    let cut = "https://ftp.example.org/pub/cut.txt.gz";
    server.script(
        "GET",
        cut,
        vec![MockResponse::ok(gz[..gz.len() / 3].to_vec())],
    );
    let mut lines = client.lines(cut, Compression::Gzip).await.unwrap();
    let err = loop {
        match lines.next_line().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a truncated gzip file ended quietly"),
            Err(e) => break e,
        }
    };
    assert!(err.to_string().contains("stream broken"), "{err}");
}

#[tokio::test]
async fn a_303_is_followed_through_the_local_origin() {
    let (server, client) = setup(DomainLimits::new([])).await;
    let status = "https://rest.uniprot.org/idmapping/status/job1";
    let results = "https://rest.uniprot.org/idmapping/uniprotkb/results/job1";
    server.script(
        "GET",
        status,
        vec![MockResponse::new(303, "").header("Location", results)],
    );
    server.script(
        "GET",
        results,
        vec![MockResponse::json(&serde_json::json!({"results": []}))],
    );
    let v: serde_json::Value = client.get_json(status).await.unwrap();
    assert_eq!(v["results"], serde_json::json!([]));
    assert_eq!(server.requests_to(results).len(), 1);
}
