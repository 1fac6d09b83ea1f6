use url::Url;

/// Where requests for the real URLs go. Deployed: to the real hosts. In tests and benchmarks:
/// every host to one local origin, the host becoming the first path segment
/// (`https://rest.uniprot.org/idmapping/run` → `http://127.0.0.1:PORT/rest.uniprot.org/idmapping/run`).
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    origin_override: Option<Url>,
}

impl Endpoints {
    pub fn real() -> Self {
        Self::default()
    }

    /// Every request to `origin` (scheme://host:port, no path).
    pub fn local(origin: &str) -> Result<Self, crate::FetchError> {
        let url = Url::parse(origin)
            .map_err(|e| crate::FetchError::Config(format!("origin {origin}: {e}")))?;
        Ok(Self {
            origin_override: Some(url),
        })
    }

    /// `KGDB_FETCH_ORIGIN` when set (the local stack's mock sources), else the real hosts.
    pub fn from_env() -> Result<Self, crate::FetchError> {
        match std::env::var("KGDB_FETCH_ORIGIN") {
            Ok(origin) if !origin.trim().is_empty() => Self::local(origin.trim()),
            _ => Ok(Self::real()),
        }
    }

    pub fn is_local(&self) -> bool {
        self.origin_override.is_some()
    }

    /// The URL to request for `real`, and the real host (the rate limit's key).
    pub fn resolve(&self, real: &str) -> Result<(Url, String), crate::FetchError> {
        let parsed =
            Url::parse(real).map_err(|e| crate::FetchError::Config(format!("url {real}: {e}")))?;
        let host = parsed.host_str().unwrap_or_default().to_string();
        let Some(origin) = &self.origin_override else {
            return Ok((parsed, host));
        };
        let mut local = origin.clone();
        local.set_path(&format!("/{host}{}", parsed.path()));
        local.set_query(parsed.query());
        Ok((local, host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_origin_keeps_host_path_and_query() {
        let e = Endpoints::local("http://127.0.0.1:4000").unwrap();
        let (url, host) = e
            .resolve("https://rest.uniprot.org/idmapping/status/abc?format=json")
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:4000/rest.uniprot.org/idmapping/status/abc?format=json"
        );
        assert_eq!(host, "rest.uniprot.org");
        let (url, _) = Endpoints::real()
            .resolve("https://rest.uniprot.org/x")
            .unwrap();
        assert_eq!(url.as_str(), "https://rest.uniprot.org/x");
    }
}
