//! kgdb's evidence sources, one folder each: the typed `evidence_data` model (`model.rs`), the
//! pure normalizer (`mod.rs`, implementing [`kgdb_core::pipeline::Source`]) and the fetchers
//! (`snapshot.rs` reads the bundled real data; `live.rs` the providers' APIs, through
//! `kgdb-fetch`, where there is one).
//!
//! [`registry`] is the one list of sources; [`run`] drives one source through a fetcher into a
//! sink. Nothing here touches Postgres: the sink is a trait the store implements.

pub mod annotations;
pub mod classification;
pub mod clingen;
pub mod diagnostic_panels;
pub mod files;
pub mod gencc;
pub mod hpo;
pub mod keywords;
pub mod literature;
pub mod live;
mod live_support;
pub mod panelapp;
pub mod pubtator;
pub mod registry;
pub mod run;
