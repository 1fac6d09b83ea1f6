//! Lambda entry point: state is built once per cold start and lent to every invocation.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    kgdb::telemetry::init_lambda();
    let state = kgdb::AppState::from_env()?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let state = &state;
        async move { kgdb_fn_migrate::handle(state, event).await }
    }))
    .await
}
