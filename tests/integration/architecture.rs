//! The layout holds what docs/architecture.md promises:
//! - API functions link no source fetcher, parser or HTTP client (core + store + web, and the
//!   admin function kgdb-pipeline to start annotation runs);
//! - the modules of the sources crate import each other without cycles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates only the pipeline may link (live fetchers, file parsers, retries).
const PIPELINE_ONLY: &[&str] = &[
    "kgdb-sources",
    "kgdb-fetch",
    "csv",
    "calamine",
    "reqwest",
    "backon",
    "quick-xml",
];

const API_FUNCTIONS: &[&str] = &[
    "kgdb-fn-genes",
    "kgdb-fn-gene-detail",
    "kgdb-fn-statistics",
    "kgdb-fn-datasources",
    "kgdb-fn-annotations",
    "kgdb-fn-system",
    "kgdb-fn-admin",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Names of the packages a package links in a normal (non-dev, non-build) build.
fn linked_packages(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace())
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn api_functions_link_no_pipeline_dependency() {
    for function in API_FUNCTIONS {
        let linked = linked_packages(function);
        assert!(
            linked.contains("kgdb-web"),
            "{function} is an HTTP function"
        );
        let leaked: Vec<&&str> = PIPELINE_ONLY
            .iter()
            .filter(|p| linked.contains(**p))
            .collect();
        assert!(
            leaked.is_empty(),
            "{function} links pipeline crates {leaked:?}"
        );
    }
    // The check can fail: the local stack does link the sources.
    assert!(linked_packages("kgdb-local").contains("kgdb-sources"));
}

/// `a/b.rs` and `a/b/mod.rs` -> `a::b`; `lib.rs` -> `crate`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("inside src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    if parts.is_empty() {
        "crate".into()
    } else {
        parts.join("::")
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules a file's `use` lines reach (`crate::x::y` -> the longest known module prefix;
/// `super::` -> the parent module; `child::x` -> the child). Test modules are left out: they may use anything.
fn imports(module: &str, text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let parent = module
        .rsplit_once("::")
        .map_or("crate", |(p, _)| p)
        .to_string();
    let mut out = BTreeSet::new();
    for line in code
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("use ") || l.starts_with("pub use "))
    {
        let path = line.trim_start_matches("pub ").trim_start_matches("use ");
        let segments: Vec<&str> = path
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|s| !s.is_empty())
            .collect();
        let resolved: Vec<String> = match segments.first() {
            Some(&"crate") => segments[1..].iter().map(|s| s.to_string()).collect(),
            Some(&"super") => parent
                .split("::")
                .filter(|s| *s != "crate")
                .map(str::to_string)
                .chain(segments[1..].iter().map(|s| s.to_string()))
                .collect(),
            // A path relative to this module: `use model::X` in `panelapp/mod.rs`.
            Some(first) => {
                let child = if module == "crate" {
                    first.to_string()
                } else {
                    format!("{module}::{first}")
                };
                if !known.contains(&child) {
                    continue;
                }
                child
                    .split("::")
                    .map(str::to_string)
                    .chain(segments[1..].iter().map(|s| s.to_string()))
                    .collect()
            }
            None => continue,
        };
        let target = (1..=resolved.len())
            .rev()
            .map(|n| resolved[..n].join("::"))
            .find(|m| known.contains(m))
            .unwrap_or_else(|| {
                if segments[0] == "super" {
                    parent.clone()
                } else {
                    "crate".into()
                }
            });
        if target != module {
            out.insert(target);
        }
    }
    out
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|n| n == node) {
            return Some(stack[pos..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn source_modules_import_each_other_without_cycles() {
    let src = workspace().join("shared/sources/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let known: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    assert!(known.contains("panelapp::snapshot"), "{known:?}");
    let graph: BTreeMap<String, BTreeSet<String>> = files
        .iter()
        .map(|f| {
            let module = module_of(&src, f);
            let text = std::fs::read_to_string(f).expect("read source");
            let deps = imports(&module, &text, &known);
            (module, deps)
        })
        .collect();
    assert_eq!(
        find_cycle(&graph),
        None,
        "import cycle among the sources' modules"
    );
    // The check can fail: a made-up back edge is a cycle.
    let mut with_cycle = graph.clone();
    with_cycle
        .entry("files".into())
        .or_default()
        .insert("panelapp::snapshot".into());
    with_cycle
        .entry("panelapp::snapshot".into())
        .or_default()
        .insert("files".into());
    assert!(find_cycle(&with_cycle).is_some());
}
