//! Every sample event in `events/api/` runs through the real handler of the function the
//! template routes it to, parsed by lambda_http's own event parser.

use std::collections::BTreeSet;

use kgdb_local::functions::handler_for;
use kgdb_local::template;
use kgdb_tests::{body_json, loaded_state};
use serde_json::Value;

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/api")
}

#[tokio::test]
async fn every_api_event_gets_its_expected_response() {
    let state = loaded_state().await;
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(events_dir().join("expected.json")).unwrap())
            .unwrap();
    let expected = expected.as_object().unwrap();
    let files: BTreeSet<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .collect();
    assert_eq!(
        files,
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "expected.json covers exactly the event files"
    );
    let routes =
        template::routes(&template::load(&template::repo_template_path()).unwrap()).unwrap();
    for file in &files {
        let text = std::fs::read_to_string(events_dir().join(file)).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap();
        let resource = raw["resource"].as_str().unwrap();
        let method = raw["httpMethod"].as_str().unwrap();
        let route = routes
            .iter()
            .find(|r| r.path == resource && r.method == method)
            .unwrap_or_else(|| panic!("{file}: no template route {method} {resource}"));
        let request =
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let handler = handler_for(&route.function).unwrap();
        let response = handler(&state, request).await;
        let want = &expected[file];
        let body = body_json(&response);
        assert_eq!(
            response.status().as_u16() as u64,
            want["status"].as_u64().unwrap(),
            "{file}: {body}"
        );
        for (pointer, value) in want["checks"].as_object().unwrap() {
            assert_eq!(
                body.pointer(pointer),
                Some(value),
                "{file}: {pointer} in {body}"
            );
        }
        if response.status().is_client_error() {
            assert!(body["error"]["error_id"].is_string(), "{file}: error body");
        }
        assert_eq!(
            response.headers()["x-request-id"],
            "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "{file}"
        );
    }
}

#[tokio::test]
async fn links_of_a_staged_api_include_the_stage() {
    let state = loaded_state().await;
    let text = std::fs::read_to_string(events_dir().join("genes-list-default.json")).unwrap();
    let request = lambda_http::request::from_str(&text).unwrap();
    let response = handler_for("GenesFunction").unwrap()(&state, request).await;
    let body = body_json(&response);
    assert_eq!(
        body["links"]["first"],
        "https://abc123.execute-api.eu-central-1.amazonaws.com/prod/api/genes/?page[number]=1&page[size]=20"
    );
}
