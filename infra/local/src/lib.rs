//! The local stack: kgdb's Lambda functions served on localhost exactly as API Gateway's REST
//! proxy would invoke them, with the route table read from `template.yaml`.

pub mod apigw;
pub mod database;
pub mod functions;
pub mod gateway;
pub mod ingest;
pub mod router;
pub mod runtime_api;
pub mod template;
