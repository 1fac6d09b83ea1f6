//! The local gateway over real HTTP: routing from the template, API Gateway-style conversion,
//! JSON errors for anything a client can send.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use kgdb_local::gateway::guard::Limits;
use kgdb_tests::{loaded_state, serve_gateway, serve_gateway_with};
use serde_json::Value;

struct HttpReply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// One raw HTTP/1.1 exchange (so tests can send bytes a normal client would refuse to).
fn exchange(addr: SocketAddr, request: &[u8]) -> HttpReply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    HttpReply {
        status,
        head,
        body: raw[split..].to_vec(),
    }
}

fn request(method: &str, target: &str) -> Vec<u8> {
    format!("{method} {target} HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

async fn start() -> SocketAddr {
    serve_gateway(loaded_state().await).await
}

async fn start_with(limits: Limits) -> SocketAddr {
    serve_gateway_with(loaded_state().await, limits).await
}

fn json(reply: &HttpReply) -> Value {
    serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_serves_the_template_routes_over_http() {
    let addr = start().await;
    let run = move |m: &'static str, t: String| {
        tokio::task::spawn_blocking(move || exchange(addr, &request(m, &t)))
    };

    let with_slash = run("GET", "/api/genes/?page%5Bsize%5D=2".into())
        .await
        .unwrap();
    let without = run("GET", "/api/genes?page[size]=2".into()).await.unwrap();
    assert_eq!(with_slash.status, 200);
    assert_eq!(json(&with_slash)["data"], json(&without)["data"]);
    assert_eq!(json(&with_slash)["data"].as_array().unwrap().len(), 2);
    // Links point at the gateway itself, never at a client-supplied Host.
    let first = json(&with_slash)["links"]["first"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first.starts_with(&format!("http://{addr}/api/genes/")),
        "{first}"
    );
    assert!(
        with_slash
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/json")
    );

    let detail = run("GET", "/api/genes/PKD1".into()).await.unwrap();
    assert_eq!(
        json(&detail)["data"]["attributes"]["approved_symbol"],
        "PKD1"
    );

    for (method, target, status) in [
        ("GET", "/api/genes/%FF%FE".to_string(), 400),
        ("GET", "/api/genes/%C3%28/evidence".to_string(), 400),
        ("GET", "/no/such/route".to_string(), 404),
        ("POST", "/api/genes".to_string(), 405),
        ("DELETE", "/api/genes/PKD1".to_string(), 405),
        (
            "GET",
            format!("/api/genes/?filter%5Bsearch%5D={}", "x".repeat(2 * 1024)),
            400,
        ),
        (
            "GET",
            "/api/genes/?sort=%3Bdrop%20table%20genes".to_string(),
            400,
        ),
    ] {
        let reply = run(method, target.clone()).await.unwrap();
        assert_eq!(
            reply.status,
            status,
            "{method} {}",
            &target[..target.len().min(60)]
        );
        assert!(
            json(&reply)["error"]["error_id"].is_string(),
            "{method} {target:.60}: JSON error body"
        );
        // RFC 9110: a 405 names the methods the route has (found by schemathesis).
        if status == 405 {
            assert!(
                reply
                    .head
                    .to_ascii_lowercase()
                    .contains("\r\nallow: get, head, options\r\n"),
                "{method} {target}: {}",
                reply.head
            );
        }
    }

    let head = run("HEAD", "/health".into()).await.unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    // Raw non-UTF-8 bytes in the request line: refused with a 4xx, and the gateway keeps serving.
    let raw = tokio::task::spawn_blocking(move || {
        exchange(
            addr,
            b"GET /api/genes/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert!(
        (400..500).contains(&raw.status),
        "raw bytes: {}",
        raw.status
    );
    assert_eq!(run("GET", "/health".into()).await.unwrap().status, 200);
}

/// Requests that used to get an empty answer, a dropped connection or a panic (issue 11): each
/// now gets a 4xx JSON error, and the gateway keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_before_a_handler_is_a_json_4xx() {
    let addr = start().await;
    let query_of = |pairs: &str, n: usize| vec![pairs; n].join("&");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "URI of 65,500 bytes",
            request("GET", &format!("/api/genes?q={}", "a".repeat(65_500))),
            414,
        ),
        (
            "21,800 raw [ (re-encoded 3x by the event conversion)",
            request("GET", &format!("/api/genes?{}", "[".repeat(21_800))),
            414,
        ),
        (
            "4,000 x page[size]=1",
            request("GET", &format!("/api/genes?{}", query_of("page[size]=1", 4000))),
            414,
        ),
        (
            "300 query parameters",
            request("GET", &format!("/api/genes?{}", query_of("a=1", 300))),
            400,
        ),
        (
            "101 headers",
            format!(
                "GET /health HTTP/1.1\r\n{}\r\n",
                (0..101).map(|i| format!("x-h{i}: v\r\n")).collect::<String>()
            )
            .into_bytes(),
            431,
        ),
        (
            "20 KiB of headers",
            format!("GET /health HTTP/1.1\r\nx-big: {}\r\n\r\n", "v".repeat(20_000)).into_bytes(),
            431,
        ),
        ("bad request line", b"GET\r\n\r\n".to_vec(), 400),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), 400),
        (
            "control byte in the path",
            b"GET /api/genes/\x01 HTTP/1.1\r\n\r\n".to_vec(),
            400,
        ),
        (
            "space in a header name",
            b"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n".to_vec(),
            400,
        ),
        (
            "Content-Length not a number",
            b"POST /api/admin/cache/flush HTTP/1.1\r\nContent-Length: abc\r\n\r\n".to_vec(),
            400,
        ),
        (
            "two Content-Lengths",
            b"POST /api/admin/cache/flush HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
                .to_vec(),
            400,
        ),
        (
            "Content-Length of 60 MB",
            b"POST /api/admin/cache/flush HTTP/1.1\r\nContent-Length: 60000000\r\n\r\n".to_vec(),
            413,
        ),
        (
            "chunked body",
            b"POST /api/admin/cache/flush HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            411,
        ),
    ];
    for (name, raw, status) in cases {
        let reply = tokio::task::spawn_blocking(move || exchange(addr, &raw))
            .await
            .unwrap();
        assert_eq!(reply.status, status, "{name}: {}", reply.head);
        assert!(
            reply
                .head
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{name}: {}",
            reply.head
        );
        let body = json(&reply);
        assert_eq!(
            body["error"]["status"],
            status.to_string(),
            "{name}: {body}"
        );
        assert!(body["error"]["error_id"].is_string(), "{name}: {body}");
    }

    // A good request pipelined before a bad one is answered first, then the rejection.
    let pipelined = tokio::task::spawn_blocking(move || {
        exchange(
            addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /x\x01 HTTP/1.1\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert_eq!(pipelined.status, 200);
    let rest = String::from_utf8_lossy(&pipelined.body).into_owned();
    assert!(rest.contains("HTTP/1.1 400 Bad Request"), "{rest}");

    // 405 lists what the route answers; OPTIONS is a CORS preflight; HEAD has the GET's length.
    let run = move |m: &'static str, t: &'static str| {
        tokio::task::spawn_blocking(move || exchange(addr, &request(m, t)))
    };
    let not_allowed = run("POST", "/api/genes").await.unwrap();
    assert_eq!(not_allowed.status, 405);
    assert!(
        not_allowed
            .head
            .to_ascii_lowercase()
            .contains("allow: get, head, options")
    );
    let preflight = run("OPTIONS", "/api/genes/PKD1").await.unwrap();
    assert_eq!(preflight.status, 204);
    let head = preflight.head.to_ascii_lowercase();
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(
        head.contains("access-control-allow-headers: if-none-match"),
        "{head}"
    );
    let admin_preflight = run("OPTIONS", "/api/admin/cache/stats").await.unwrap();
    assert_eq!(admin_preflight.status, 204);
    assert!(
        !admin_preflight
            .head
            .to_ascii_lowercase()
            .contains("access-control-allow-origin")
    );
    let get = run("GET", "/api/genes/PKD1").await.unwrap();
    let head = run("HEAD", "/api/genes/PKD1").await.unwrap();
    assert!(head.body.is_empty());
    assert!(
        head.head
            .to_ascii_lowercase()
            .contains(&format!("content-length: {}", get.body.len())),
        "{}",
        head.head
    );
    assert_eq!(run("GET", "/health").await.unwrap().status, 200);
}

/// A client that sends half a head is answered 408 JSON once the head timeout passes, and one
/// whose body never arrives is answered 408 once the body timeout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_get_a_408() {
    let addr = start_with(Limits {
        head_timeout: std::time::Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let started = std::time::Instant::now();
    let reply = tokio::task::spawn_blocking(move || {
        exchange(addr, b"GET /api/genes HTTP/1.1\r\nHost: x\r\nX-Half")
    })
    .await
    .unwrap();
    assert_eq!(reply.status, 408, "{}", reply.head);
    assert_eq!(json(&reply)["error"]["type"], "request_timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

fn get_with(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> HttpReply {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    exchange(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").as_bytes(),
    )
}

fn header_of<'a>(reply: &'a HttpReply, name: &str) -> Option<&'a str> {
    reply.head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Clients that accept gzip get it (above 1 KiB), with their own strong ETag; revalidation
/// works for both representations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read as _;
    let addr = start().await;
    let target = "/api/genes/?page%5Bsize%5D=100";
    let (plain, gz) = tokio::task::spawn_blocking(move || {
        (
            get_with(addr, target, &[]),
            get_with(addr, target, &[("Accept-Encoding", "br, gzip")]),
        )
    })
    .await
    .unwrap();
    assert_eq!(plain.status, 200);
    assert_eq!(gz.status, 200);
    assert_eq!(header_of(&plain, "content-encoding"), None);
    assert_eq!(header_of(&gz, "content-encoding"), Some("gzip"));
    assert_eq!(header_of(&gz, "vary"), Some("Accept-Encoding"));
    assert_eq!(header_of(&plain, "vary"), Some("Accept-Encoding"));
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated, plain.body);
    assert!(
        gz.body.len() * 4 < plain.body.len(),
        "{} vs {}",
        gz.body.len(),
        plain.body.len()
    );
    let plain_tag = header_of(&plain, "etag").unwrap().to_string();
    let gz_tag = header_of(&gz, "etag").unwrap().to_string();
    assert_eq!(
        gz_tag,
        format!("{}-gzip\"", plain_tag.trim_end_matches('"'))
    );

    let (gz_again, plain_again) = tokio::task::spawn_blocking(move || {
        (
            get_with(
                addr,
                target,
                &[("Accept-Encoding", "gzip"), ("If-None-Match", &gz_tag)],
            ),
            get_with(addr, target, &[("If-None-Match", &plain_tag)]),
        )
    })
    .await
    .unwrap();
    assert_eq!(gz_again.status, 304);
    assert!(header_of(&gz_again, "etag").unwrap().ends_with("-gzip\""));
    assert_eq!(plain_again.status, 304);
    assert!(!header_of(&plain_again, "etag").unwrap().contains("gzip"));
}
