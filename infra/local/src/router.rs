//! Matches a request path to a template route the way API Gateway REST does: literal segments
//! beat `{param}` segments, `{param+}` is greedy, and a trailing slash is ignored.

use std::collections::HashMap;

use crate::template::RouteSpec;

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct CompiledRoute {
    pub spec: RouteSpec,
    segments: Vec<Segment>,
}

pub enum Match<'a> {
    Found {
        route: &'a CompiledRoute,
        /// Raw (still percent-encoded) path parameter values.
        params: HashMap<String, String>,
    },
    /// The path exists but not for this method; `allow` lists the methods it has (`GET, HEAD`).
    MethodNotAllowed {
        allow: String,
    },
    NotFound,
}

#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<CompiledRoute>,
}

fn split(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

impl Router {
    pub fn new(specs: Vec<RouteSpec>) -> Self {
        let mut routes: Vec<CompiledRoute> = specs
            .into_iter()
            .map(|spec| {
                let segments = split(&spec.path)
                    .into_iter()
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => match name.strip_suffix('+') {
                                Some(greedy) => Segment::Greedy(greedy.to_string()),
                                None => Segment::Param(name.to_string()),
                            },
                            None => Segment::Literal(s.to_string()),
                        },
                    )
                    .collect();
                CompiledRoute { spec, segments }
            })
            .collect();
        // Most specific first: per position, a literal outranks a parameter outranks greedy.
        routes.sort_by_key(|r| {
            r.segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(_) => 0u8,
                    Segment::Param(_) => 1,
                    Segment::Greedy(_) => 2,
                })
                .collect::<Vec<_>>()
        });
        Self { routes }
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteSpec> {
        self.routes.iter().map(|r| &r.spec)
    }

    pub fn find(&self, method: &str, raw_path: &str) -> Match<'_> {
        let parts = split(raw_path);
        let mut allowed: Vec<&str> = Vec::new();
        for route in &self.routes {
            let Some(params) = match_segments(&route.segments, &parts) else {
                continue;
            };
            let m = route.spec.method.as_str();
            if m == "ANY" || m == method || (method == "HEAD" && m == "GET") {
                return Match::Found { route, params };
            }
            allowed.push(m);
            // HEAD reaches GET routes (above), so it is allowed wherever GET is.
            if m == "GET" {
                allowed.push("HEAD");
            }
        }
        if allowed.is_empty() {
            Match::NotFound
        } else {
            allowed.sort_unstable();
            allowed.dedup();
            Match::MethodNotAllowed {
                allow: allowed.join(", "),
            }
        }
    }
}

fn match_segments(segments: &[Segment], parts: &[&str]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                params.insert(name.clone(), parts[i..].join("/"));
                return Some(params);
            }
            Segment::Literal(lit) => {
                if parts.get(i) != Some(&lit.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert(name.clone(), (*parts.get(i)?).to_string());
            }
        }
    }
    (parts.len() == segments.len()).then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(function: &str, path: &str) -> RouteSpec {
        RouteSpec {
            function: function.into(),
            event: "E".into(),
            path: path.into(),
            method: "GET".into(),
            cached_query_params: vec![],
            cached_path_params: vec![],
            authorizer: None,
        }
    }

    #[test]
    fn literal_beats_param_and_trailing_slash_is_ignored() {
        let router = Router::new(vec![
            spec("Detail", "/api/genes/{gene_symbol}"),
            spec("Genes", "/api/genes/resolve"),
            spec("Genes", "/api/genes"),
            spec("Evidence", "/api/genes/{gene_symbol}/evidence"),
        ]);
        let f = |p: &str| match router.find("GET", p) {
            Match::Found { route, params } => Some((route.spec.function.clone(), params)),
            _ => None,
        };
        assert_eq!(f("/api/genes/resolve").unwrap().0, "Genes");
        assert_eq!(f("/api/genes/").unwrap().0, "Genes");
        assert_eq!(f("/api/genes").unwrap().0, "Genes");
        let (func, params) = f("/api/genes/PKD1").unwrap();
        assert_eq!(func, "Detail");
        assert_eq!(params["gene_symbol"], "PKD1");
        assert_eq!(f("/api/genes/PKD1/evidence").unwrap().0, "Evidence");
        assert!(f("/api/genes/PKD1/other").is_none());
        assert!(matches!(
            router.find("POST", "/api/genes"),
            Match::MethodNotAllowed { allow } if allow == "GET, HEAD"
        ));
        assert!(matches!(
            router.find("HEAD", "/api/genes"),
            Match::Found { .. }
        ));
    }
}
