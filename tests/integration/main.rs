//! Integration tests against a real Postgres: one fresh database per run (plus fresh ones for
//! tests that write), loaded through the real migrations and ingest.

mod bad_input;
mod cache;
mod datasources;
mod events;
mod gateway_http;
mod gene_detail;
mod genes_list;
mod lambda_runtime;
mod scoring;
mod statistics;
mod template;
mod writer;
