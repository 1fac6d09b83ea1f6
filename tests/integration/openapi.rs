//! The OpenAPI document (`functions/system/openapi.json`) against the code: every template route
//! is documented and every documented operation is a route, and real answers of every route —
//! successes and errors — validate against the schema the document gives for their status.

use std::collections::BTreeSet;

use kgdb_local::functions::handler_for;
use kgdb_local::template;
use kgdb_tests::{apigw_request_with_body, body_json, loaded_state};
use kgdb_web::AppState;
use lambda_http::Request;
use lambda_http::http::{Method, header};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(kgdb_fn_system::OPENAPI_JSON).unwrap()
}

fn template_routes() -> Vec<template::RouteSpec> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap())
        .expect("template.yaml parses");
    template::routes(&yaml).unwrap()
}

#[test]
fn the_document_and_the_template_have_the_same_routes() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                // HEAD is GET without a body on every public route; the document says so once.
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = template_routes()
        .into_iter()
        .map(|r| (r.method.to_uppercase(), r.path))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes of template.yaml missing from openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "operations of openapi.json that template.yaml does not route: {unrouted:?}"
    );
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
    assert_eq!(doc["info"]["version"], kgdb_web::VERSION);
}

/// One request per case: routes with their parameters, and the errors a client meets.
const CASES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/api/openapi.json"),
    ("GET", "/openapi.json"),
    ("GET", "/health"),
    ("GET", "/version"),
    ("GET", "/api/genes/"),
    (
        "GET",
        "/api/genes?page[size]=3&sort=-evidence_score&filter[tier]=comprehensive_support",
    ),
    (
        "GET",
        "/api/genes?filter[search]=pkd&filter[source]=PanelApp&sort=approved_symbol",
    ),
    ("GET", "/api/genes?page[size]=101"),
    ("GET", "/api/genes?filter[tier]=bogus"),
    ("GET", "/api/genes?sort=nonsense"),
    ("GET", "/api/genes?filter[search]=%00"),
    ("GET", "/api/genes/resolve?query=PKD1"),
    ("GET", "/api/genes/resolve?query=HGNC:9008"),
    ("GET", "/api/genes/resolve"),
    ("GET", "/api/genes/PKD1"),
    ("GET", "/api/genes/NOSUCHGENE"),
    ("GET", "/api/genes/PKD1/evidence"),
    (
        "GET",
        "/api/genes/PKD1/evidence?sources=PanelApp&sources=HPO",
    ),
    ("GET", "/api/genes/NOSUCHGENE/evidence"),
    ("GET", "/api/statistics/source-overlaps"),
    (
        "GET",
        "/api/statistics/source-overlaps?sources=PanelApp&sources=HPO&min_tier=established_support",
    ),
    ("GET", "/api/statistics/source-distributions"),
    ("GET", "/api/statistics/evidence-composition"),
    ("GET", "/api/statistics/summary"),
    ("GET", "/api/statistics/summary?min_tier=nope"),
    ("GET", "/api/datasources"),
    ("GET", "/api/datasources/PanelApp"),
    ("GET", "/api/datasources/Nope"),
    ("GET", "/api/annotations/genes/PKD1/annotations"),
    (
        "GET",
        "/api/annotations/genes/HGNC:9008/annotations?source=gnomad",
    ),
    (
        "GET",
        "/api/annotations/genes/PKD1/annotations?source=bogus",
    ),
    ("GET", "/api/annotations/genes/NOSUCHGENE/annotations"),
    ("GET", "/api/annotations/genes/a%20b/annotations"),
    ("GET", "/api/annotations/genes/PKD1/annotations/summary"),
    (
        "GET",
        "/api/annotations/genes/999999999/annotations/summary",
    ),
    ("GET", "/api/annotations/sources"),
    ("GET", "/api/annotations/sources?active_only=false"),
    ("GET", "/api/annotations/sources?active_only=maybe"),
    ("GET", "/api/annotations/statistics"),
    ("GET", "/api/annotations/pipeline/status"),
    ("POST", "/api/annotations/pipeline/update"),
    ("POST", "/api/annotations/batch"),
    ("POST", "/api/annotations/batch?sources=nope"),
    ("GET", "/api/admin/cache/stats"),
    ("POST", "/api/admin/cache/flush"),
];

/// Requests with a body: `(method, path, JSON body)`.
const BODY_CASES: &[(&str, &str, &str)] = &[
    ("POST", "/api/annotations/batch", "[1, 2, 3]"),
    (
        "POST",
        "/api/annotations/batch?sources=hgnc&sources=gnomad",
        "[1, 2, 999999]",
    ),
    ("POST", "/api/annotations/batch", "[]"),
    ("POST", "/api/annotations/batch", "{\"gene_ids\": [1]}"),
    ("POST", "/api/annotations/batch", "[\"PKD1\"]"),
    ("POST", "/api/annotations/batch", "[1,"),
];

/// Admin requests carry an IAM caller, as API Gateway adds after SigV4 verification.
fn as_iam_caller(mut req: Request) -> Request {
    if let Some(RequestContext::ApiGatewayV1(ctx)) =
        req.extensions_mut().get_mut::<RequestContext>()
    {
        ctx.identity.user_arn = Some("arn:aws:iam::123456789012:user/openapi-test".into());
    }
    req
}

/// The schema the document gives for `status` of the operation, made self-contained (its
/// `#/components/...` references resolve inside it).
fn response_schema(doc: &Value, method: &str, route: &str, status: u16) -> Option<Value> {
    let responses = &doc["paths"][route][method.to_lowercase()]["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))?;
    let response = resolve(doc, response);
    let mut schema = response["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return Some(Value::Null);
    }
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("components".into(), doc["components"].clone());
    }
    Some(schema)
}

/// Follows a `$ref` to `#/components/responses/...` (responses may be shared).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

async fn call(
    state: &AppState,
    method: &str,
    path: &str,
) -> (String, lambda_http::Response<lambda_http::Body>) {
    call_with_body(state, method, path, "").await
}

async fn call_with_body(
    state: &AppState,
    method: &str,
    path: &str,
    body: &str,
) -> (String, lambda_http::Response<lambda_http::Body>) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let (function, req) = apigw_request_with_body(method, path, body.as_bytes())
        .unwrap_or_else(|| panic!("no route for {path}"));
    let route = kgdb_web::http::route_of(&req);
    let req = if function == "AdminFunction" {
        as_iam_caller(req)
    } else {
        req
    };
    let handler = handler_for(&function).unwrap();
    (route, handler(state, req).await)
}

#[tokio::test]
async fn every_answer_validates_against_its_documented_schema() {
    let doc = document();
    let state = loaded_state().await;
    let mut failures = Vec::new();
    let cases = CASES
        .iter()
        .map(|&(method, path)| (method, path, ""))
        .chain(BODY_CASES.iter().copied());
    for (method, path, body) in cases {
        let (route, response) = call_with_body(&state, method, path, body).await;
        let status = response.status().as_u16();
        let Some(schema) = response_schema(&doc, method, &route, status) else {
            failures.push(format!(
                "{method} {path}: status {status} is not documented"
            ));
            continue;
        };
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: content type {content_type:?}"
        );
        if schema.is_null() {
            failures.push(format!("{method} {path}: {status} has no JSON schema"));
            continue;
        }
        let body = body_json(&response);
        let validator = match jsonschema::draft202012::new(&schema) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!(
                    "{method} {route} {status}: schema does not compile: {e}"
                ));
                continue;
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(3)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{method} {path} -> {status}: {errors:?}"));
        }
        // A schema that accepts anything would make this test pass without checking.
        if validator.is_valid(&json!({})) {
            failures.push(format!("{method} {route} {status}: schema accepts {{}}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_docs_page_and_the_root_are_served() {
    let state = loaded_state().await;
    let (_, docs) = call(&state, "GET", "/docs").await;
    assert_eq!(docs.status(), 200);
    assert_eq!(
        docs.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let csp = docs.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    let html = match docs.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("docs body {other:?}"),
    };
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("api/openapi.json"));

    let (_, served) = call(&state, "GET", "/api/openapi.json").await;
    assert_eq!(body_json(&served), document());
    let (_, original_path) = call(&state, "GET", "/openapi.json").await;
    assert_eq!(body_json(&original_path), document());

    let (_, root) = call(&state, "GET", "/").await;
    assert_eq!(
        body_json(&root),
        json!({
            "service": "Kidney Genetics Database API",
            "version": kgdb_web::VERSION,
            "documentation": "/docs",
        })
    );
}

/// The browser check of `/docs`: headless Chromium loads the page from the gateway, runs its
/// script under the page's CSP, and the rendered DOM lists every operation of the document.
/// Skipped (with a notice) on a machine without Chromium; `infra/test.sh` installs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_renders_every_operation_in_a_browser() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        eprintln!("SKIPPED: no chromium on this machine; the /docs browser check did not run");
        return;
    };
    let addr = kgdb_tests::serve_gateway(loaded_state().await).await;
    let url = format!("http://{addr}/docs");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .args(["90", browser])
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--virtual-time-budget=10000",
                "--dump-dom",
                &url,
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let operations: usize = document()["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        dom.matches("class=\"op\"").count(),
        operations,
        "rendered operations; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        dom.contains(&format!("Version {}", kgdb_web::VERSION)),
        "the page read the document"
    );
    assert!(dom.contains("/api/genes/{gene_symbol}/evidence"));
}

/// The document's vocabularies are the code's: the annotation source enums list exactly the
/// catalog (plus the empty "no filter").
#[test]
fn documented_annotation_sources_are_the_catalog() {
    let doc = document();
    let mut expected: Vec<&str> = kgdb_core::annotation::ANNOTATION_SOURCES.to_vec();
    expected.push("");
    for (path, method, name) in [
        (
            "/api/annotations/genes/{gene_id}/annotations",
            "get",
            "source",
        ),
        ("/api/annotations/batch", "post", "sources"),
    ] {
        let parameters = doc["paths"][path][method]["parameters"].as_array().unwrap();
        let parameter = parameters
            .iter()
            .map(|p| match p["$ref"].as_str() {
                Some(r) => doc.pointer(&r[1..]).unwrap(),
                None => p,
            })
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path}: no parameter {name}"));
        let documented: Vec<&str> = parameter["schema"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(documented, expected, "{path} {name}");
    }
}
