//! Integration tests against a real Postgres: one fresh database per run (plus fresh ones for
//! tests that write), loaded through the real migrations and ingest.

// Integration tests: helpers outside #[test] fns may unwrap too.
#![allow(clippy::unwrap_used)]

mod annotation_events;
mod annotation_full_run;
mod annotation_pipeline;
mod annotations;
mod architecture;
mod bad_input;
mod cache;
mod datasources;
mod events;
mod faults;
mod gateway_http;
mod gene_detail;
mod gene_normalization;
mod genes_list;
mod lambda_runtime;
mod openapi;
mod scoring;
mod security;
mod sink;
mod source_contract;
mod statistics;
mod template;
