//! Integration tests against a real Postgres: one fresh database per run (plus fresh ones for
//! tests that write), loaded through the real migrations and ingest.

mod bad_input;
mod events;
mod gateway_http;
mod genes_list;
mod gene_detail;
mod scoring;
mod writer;
