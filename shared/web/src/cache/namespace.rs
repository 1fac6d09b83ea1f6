//! What is cached, and each namespace's policy.
//!
//! One line of the `namespaces!` table below declares a namespace: its variant, its name (in
//! keys, stats and the `KGDB_CACHE_TTL_<NAME>` override), its default TTL in the caches and
//! its HTTP `max-age`. `max-age` is short because a browser cannot see the data version: only
//! the server side learns of a bump.

use std::time::Duration;

/// A namespace's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub name: &'static str,
    /// Lifetime in L1 and L2 unless `KGDB_CACHE_TTL_<NAME>` overrides it.
    pub default_ttl: Duration,
    /// `Cache-Control: public, max-age=<this>` for HTTP clients.
    pub max_age: u64,
}

/// Generates the `Namespace` enum, `Namespace::ALL` and `Namespace::policy` from one table,
/// so a namespace cannot be declared without its policy or left out of `ALL`.
macro_rules! namespaces {
    ($($variant:ident => $name:literal, ttl: $ttl:literal, max_age: $max_age:literal;)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Namespace {
            $($variant,)+
        }

        impl Namespace {
            /// Every namespace, in declaration order.
            pub const ALL: &'static [Namespace] = &[$(Namespace::$variant,)+];

            /// Position in `ALL` (declaration order), for per-namespace tables.
            pub const fn index(self) -> usize {
                self as usize
            }

            pub const fn policy(self) -> Policy {
                match self {
                    $(Namespace::$variant => Policy {
                        name: $name,
                        default_ttl: Duration::from_secs($ttl),
                        max_age: $max_age,
                    },)+
                }
            }
        }
    };
}

namespaces! {
    GeneList     => "gene_list",     ttl: 300,  max_age: 60;
    GeneResolve  => "gene_resolve",  ttl: 3600, max_age: 300;
    GeneDetail   => "gene_detail",   ttl: 3600, max_age: 300;
    GeneEvidence => "gene_evidence", ttl: 3600, max_age: 300;
    Statistics   => "statistics",    ttl: 3600, max_age: 300;
    Datasources  => "datasources",   ttl: 600,  max_age: 300;
    Annotations  => "annotations",   ttl: 3600, max_age: 300;
}

impl Namespace {
    pub const fn name(self) -> &'static str {
        self.policy().name
    }

    pub const fn default_ttl(self) -> Duration {
        self.policy().default_ttl
    }

    pub const fn max_age(self) -> u64 {
        self.policy().max_age
    }

    /// The namespace of a name, as written in keys and stats.
    pub fn from_name(name: &str) -> Option<Namespace> {
        Self::ALL.iter().copied().find(|ns| ns.name() == name)
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_of_the_namespaces() {
        let gene_list = Namespace::GeneList.policy();
        assert_eq!(
            (gene_list.name, gene_list.default_ttl, gene_list.max_age),
            ("gene_list", Duration::from_secs(300), 60)
        );
        assert_eq!(
            Namespace::Datasources.default_ttl(),
            Duration::from_secs(600)
        );
        assert_eq!(Namespace::Datasources.max_age(), 300);
        assert_eq!(
            Namespace::GeneDetail.default_ttl(),
            Duration::from_secs(3600)
        );
        assert_eq!(Namespace::Annotations.name(), "annotations");
    }

    #[test]
    fn all_lists_every_namespace_once_under_a_unique_name() {
        let names: Vec<&str> = Namespace::ALL.iter().map(|ns| ns.name()).collect();
        assert_eq!(
            names,
            [
                "gene_list",
                "gene_resolve",
                "gene_detail",
                "gene_evidence",
                "statistics",
                "datasources",
                "annotations"
            ]
        );
        for (i, ns) in Namespace::ALL.iter().enumerate() {
            assert_eq!(Namespace::from_name(ns.name()), Some(*ns));
            assert_eq!(ns.index(), i);
        }
        assert_eq!(Namespace::from_name("nope"), None);
    }
}
