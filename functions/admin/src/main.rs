//! Lambda entry point: state is built once per cold start and lent to every invocation. With
//! `KGDB_ANNOTATION_QUEUE_URL` set (the template sets it), annotation runs are sent to SQS.

use std::sync::Arc;

use kgdb_pipeline::queue::SqsSender;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kgdb_web::telemetry::init_lambda();
    let mut state = kgdb_web::AppState::from_env()?;
    if let Ok(url) = std::env::var("KGDB_ANNOTATION_QUEUE_URL") {
        state = state.with_jobs(Arc::new(SqsSender::connect(url, None).await));
    }
    lambda_http::run(lambda_http::service_fn(|req: lambda_http::Request| {
        let state = &state;
        async move { Ok::<_, lambda_http::Error>(kgdb_fn_admin::handle(state, req).await) }
    }))
    .await
}
