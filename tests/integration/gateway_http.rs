//! The local gateway over real HTTP: routing from the template, API Gateway-style conversion,
//! JSON errors for anything a client can send.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use kgdb_local::gateway::{Gateway, serve};
use kgdb_local::template;
use kgdb_tests::loaded_state;
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
    let state = loaded_state().await;
    let routes =
        template::routes(&template::load(&template::repo_template_path()).unwrap()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gateway = Arc::new(Gateway::new(routes, state, addr.to_string()).unwrap());
    tokio::spawn(serve(listener, gateway, std::future::pending()));
    addr
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
            format!("/api/genes/?filter%5Bsearch%5D={}", "x".repeat(10 * 1024)),
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
                    .contains("\r\nallow: get, head\r\n"),
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
