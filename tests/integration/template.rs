//! `template.yaml` against the code: every function has its crate and binary, every route has
//! a handler, the local gateway serves exactly the template's routes, and every parameter a
//! handler reads is a cache key of its route (else API Gateway would serve one cached answer
//! for two different requests).

use std::collections::BTreeSet;

use kgdb_local::functions::{FUNCTIONS, handler_for};
use kgdb_local::template;
use kgdb_tests::{apigw_request, loaded_state};
use lambda_http::http::Method;

/// Public POST routes that write nothing (checked by their handler tests).
const READ_ONLY_POSTS: &[&str] = &["/api/annotations/batch"];

fn load() -> serde_yaml::Value {
    template::load(&template::repo_template_path()).expect("template.yaml")
}

/// Binary targets of every workspace package (name -> source file), from `cargo metadata`.
fn workspace_binaries() -> std::collections::BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["src_path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_function_has_its_crate_and_binary() {
    let binaries = workspace_binaries();
    let functions = template::functions(&load());
    assert!(functions.len() >= 5);
    for (id, binary) in functions {
        let binary =
            binary.unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary is missing"));
        let source = binaries
            .get(&binary)
            .unwrap_or_else(|| panic!("{id}: no workspace binary {binary}"));
        // A function's binary lives in its crate under functions/ (src/main.rs, or
        // src/bin/<name>.rs when one crate builds two functions, as the annotation pipeline).
        let functions_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../functions")
            .canonicalize()
            .unwrap();
        let source = std::path::Path::new(source).canonicalize().unwrap();
        assert!(
            source.starts_with(&functions_dir),
            "{id}: {binary} is built from {}, outside functions/",
            source.display()
        );
    }
}

#[test]
fn every_route_has_a_handler_and_every_handler_a_route() {
    let routes = template::routes(&load()).unwrap();
    let mut routed: BTreeSet<&str> = BTreeSet::new();
    for r in &routes {
        assert!(
            handler_for(&r.function).is_some(),
            "{} {} -> {} has no handler",
            r.method,
            r.path,
            r.function
        );
        if r.authorizer.is_none() {
            // Public routes are read-only: GETs, and POSTs that only read (a body of ids).
            let read_only_post = r.method == "POST" && READ_ONLY_POSTS.contains(&r.path.as_str());
            assert!(
                r.method == "GET" || read_only_post,
                "public routes are read-only: {} {}",
                r.method,
                r.path
            );
            assert!(
                !r.path.starts_with("/api/admin"),
                "admin route {} must have AWS_IAM auth",
                r.path
            );
        } else {
            assert_eq!(r.authorizer.as_deref(), Some("AWS_IAM"), "{}", r.path);
        }
        routed.insert(&r.function);
    }
    let registered: BTreeSet<&str> = FUNCTIONS.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        routed, registered,
        "the gateway registry and the template's API functions differ"
    );
}

#[tokio::test]
async fn the_gateway_serves_exactly_the_template_routes() {
    let routes = template::routes(&load()).unwrap();
    let gateway =
        kgdb_local::gateway::Gateway::new(routes.clone(), loaded_state().await, "x:1".into())
            .unwrap();
    let served: BTreeSet<(String, String)> = gateway
        .routes()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let declared: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(served, declared);
}

/// A request to each route with every parameter the API knows set, so no handler skips a read.
fn sample_path(path: &str) -> String {
    let path = path
        .replace("{gene_symbol}", "PKD1")
        .replace("{source_name}", "PanelApp")
        .replace("{gene_id}", "PKD1");
    let query = [
        "page[number]=1",
        "page[size]=5",
        "filter[search]=pkd",
        "filter[min_score]=1",
        "filter[max_score]=99",
        "filter[min_count]=1",
        "filter[max_count]=7",
        "filter[source]=PanelApp",
        "filter[hide_zero_scores]=true",
        "filter[tier]=comprehensive_support",
        "filter[group]=well_supported",
        "filter[ids]=1,2",
        "sort=symbol",
        "query=PKD1",
        "sources=PanelApp",
        "sources=HPO",
        "detail=true",
        "source=hgnc",
        "active_only=false",
    ];
    format!("{path}?{}", query.join("&"))
}

#[tokio::test]
async fn every_parameter_a_handler_reads_is_a_cache_key_of_its_route() {
    let state = loaded_state().await;
    let routes = template::routes(&load()).unwrap();
    let cached: BTreeSet<String> = {
        let t = load();
        // A renamed API resource or a moved MethodSettings must fail here, not silently
        // turn the check below into one that checks nothing.
        let settings = t["Resources"]["KgdbApi"]["Properties"]["MethodSettings"]
            .as_sequence()
            .cloned()
            .expect("template.yaml: Resources.KgdbApi.Properties.MethodSettings is missing");
        let cached: BTreeSet<String> = settings
            .iter()
            .filter(|m| m["CachingEnabled"].as_bool() == Some(true))
            // `/~1api~1genes` is the resource `/api/genes` (JSON-pointer escaping after the
            // leading slash).
            .filter_map(|m| m["ResourcePath"].as_str())
            .filter_map(|p| p.strip_prefix('/').map(|p| p.replace("~1", "/")))
            .collect();
        assert!(
            !cached.is_empty(),
            "no route of KgdbApi has caching enabled"
        );
        for path in &cached {
            assert!(
                routes.iter().any(|r| &r.path == path),
                "MethodSettings caches {path}, which is not a route"
            );
        }
        cached
    };
    for route in routes.iter().filter(|r| r.method == "GET") {
        let (function, request) = apigw_request(Method::GET, &sample_path(&route.path)).unwrap();
        assert_eq!(function, route.function);
        let handler = handler_for(&function).unwrap();
        let (response, read) =
            kgdb_web::http::record_parameter_reads(handler(&state, request)).await;
        assert!(
            response.status().as_u16() < 500,
            "{}: {}",
            route.path,
            response.status()
        );
        let declared: BTreeSet<String> = route
            .cached_query_params
            .iter()
            .map(|q| format!("querystring.{q}"))
            .chain(route.cached_path_params.iter().map(|p| format!("path.{p}")))
            .collect();
        let missing: Vec<&String> = read.difference(&declared).collect();
        if cached.contains(&route.path) {
            assert!(
                missing.is_empty(),
                "{}: reads {missing:?} which are not cache keys",
                route.path
            );
        }
        // Path parameters are part of the resource, so they are always declared.
        for p in route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        {
            assert!(
                route.cached_path_params.iter().any(|d| d == p),
                "{}: path parameter {p} is not a cache key",
                route.path
            );
        }
    }
}
