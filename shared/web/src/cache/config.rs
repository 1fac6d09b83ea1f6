//! The cache's configuration, read from the environment once per cold start.

use std::collections::HashMap;
use std::time::Duration;

use super::namespace::Namespace;

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub enabled: bool,
    pub l1_max_bytes: u64,
    /// DynamoDB table of the L2; `None` disables L2.
    pub l2_table: Option<String>,
    /// Endpoint override (moto locally); `None` is real AWS.
    pub l2_endpoint: Option<String>,
    pub l2_timeout: Duration,
    pub version_check_interval: Duration,
    /// TTL per namespace in L1 and L2; a namespace missing here uses its default.
    pub ttls: HashMap<Namespace, Duration>,
}

impl CacheConfig {
    /// `KGDB_CACHE=off` disables caching. L2 needs `KGDB_CACHE_TABLE` and an AWS to talk to:
    /// real AWS (inside Lambda) or an emulator (`AWS_ENDPOINT_URL`); locally it is off by default.
    pub fn from_env() -> Self {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// As `from_env`, over any source of variables (tests cannot set the environment safely).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let num = |k: &str, d: u64| var(k).and_then(|v| v.trim().parse().ok()).unwrap_or(d);
        let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL"));
        let in_aws = var("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let ttls = Namespace::ALL
            .iter()
            .map(|&ns| {
                let secs = var(&ttl_variable(ns)).and_then(|v| v.parse().ok());
                (ns, secs.map_or(ns.default_ttl(), Duration::from_secs))
            })
            .collect();
        Self {
            enabled: !matches!(var("KGDB_CACHE").as_deref(), Some("off" | "false" | "0")),
            l1_max_bytes: num("KGDB_CACHE_L1_MB", 32) * 1024 * 1024,
            l2_table: var("KGDB_CACHE_TABLE").filter(|_| in_aws || endpoint.is_some()),
            l2_endpoint: endpoint,
            l2_timeout: Duration::from_millis(num("KGDB_CACHE_L2_TIMEOUT_MS", 50)),
            version_check_interval: Duration::from_millis(num("KGDB_DATA_VERSION_CHECK_MS", 2000)),
            ttls,
        }
    }

    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::from_env()
        }
    }

    pub fn ttl(&self, ns: Namespace) -> Duration {
        self.ttls.get(&ns).copied().unwrap_or(ns.default_ttl())
    }
}

/// `KGDB_CACHE_TTL_GENE_LIST` for `gene_list`: the TTL override in seconds.
pub fn ttl_variable(ns: Namespace) -> String {
    format!("KGDB_CACHE_TTL_{}", ns.name().to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> CacheConfig {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CacheConfig::from_vars(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_without_variables() {
        let c = config(&[]);
        assert!(c.enabled);
        assert_eq!(c.l1_max_bytes, 32 * 1024 * 1024);
        assert_eq!((&c.l2_table, &c.l2_endpoint), (&None, &None));
        assert_eq!(c.l2_timeout, Duration::from_millis(50));
        assert_eq!(c.version_check_interval, Duration::from_millis(2000));
        for &ns in Namespace::ALL {
            assert_eq!(c.ttl(ns), ns.default_ttl(), "{ns}");
        }
    }

    #[test]
    fn a_ttl_variable_overrides_its_namespace_only() {
        assert_eq!(
            ttl_variable(Namespace::GeneList),
            "KGDB_CACHE_TTL_GENE_LIST"
        );
        let c = config(&[
            ("KGDB_CACHE_TTL_GENE_LIST", "42"),
            ("KGDB_CACHE_TTL_STATISTICS", "not a number"),
        ]);
        assert_eq!(c.ttl(Namespace::GeneList), Duration::from_secs(42));
        assert_eq!(
            c.ttl(Namespace::Statistics),
            Namespace::Statistics.default_ttl()
        );
        assert_eq!(c.ttl(Namespace::GeneDetail), Duration::from_secs(3600));
    }

    #[test]
    fn switches_and_l2() {
        for off in ["off", "false", "0"] {
            assert!(!config(&[("KGDB_CACHE", off)]).enabled);
        }
        // A table without AWS or an emulator to reach is no L2.
        assert_eq!(config(&[("KGDB_CACHE_TABLE", "t")]).l2_table, None);
        let local = config(&[
            ("KGDB_CACHE_TABLE", "t"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("KGDB_CACHE_L1_MB", " 0 "),
        ]);
        assert_eq!(local.l2_table.as_deref(), Some("t"));
        assert_eq!(local.l2_endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(local.l1_max_bytes, 0);
        let lambda = config(&[("KGDB_CACHE_TABLE", "t"), ("AWS_LAMBDA_FUNCTION_NAME", "f")]);
        assert_eq!(lambda.l2_table.as_deref(), Some("t"));
    }
}
