//! The function registry: template logical id -> the Rust handler that function runs.

use std::future::Future;
use std::pin::Pin;

use kgdb_web::AppState;
use lambda_http::{Body, Request, Response};

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;
pub type Handler = for<'a> fn(&'a AppState, Request) -> HandlerFuture<'a>;

/// Every function kgdb deploys, by its logical id in `template.yaml`.
pub const FUNCTIONS: &[(&str, Handler)] = &[
    ("GenesFunction", |s, r| {
        Box::pin(kgdb_fn_genes::handle(s, r))
    }),
    ("GeneDetailFunction", |s, r| {
        Box::pin(kgdb_fn_gene_detail::handle(s, r))
    }),
    ("StatisticsFunction", |s, r| {
        Box::pin(kgdb_fn_statistics::handle(s, r))
    }),
    ("DatasourcesFunction", |s, r| {
        Box::pin(kgdb_fn_datasources::handle(s, r))
    }),
    ("AnnotationsFunction", |s, r| {
        Box::pin(kgdb_fn_annotations::handle(s, r))
    }),
    ("SystemFunction", |s, r| {
        Box::pin(kgdb_fn_system::handle(s, r))
    }),
    ("AdminFunction", |s, r| {
        Box::pin(kgdb_fn_admin::handle(s, r))
    }),
];

pub fn handler_for(logical_id: &str) -> Option<Handler> {
    FUNCTIONS
        .iter()
        .find(|(id, _)| *id == logical_id)
        .map(|(_, h)| *h)
}
