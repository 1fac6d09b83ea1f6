//! Lambda entry point: state is built once per cold start and lent to every invocation.

use kgdb_fn_refresh::ScheduledEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    kgdb::telemetry::init_lambda();
    let state = kgdb::AppState::from_env()?;
    run(service_fn(|event: LambdaEvent<ScheduledEvent>| {
        let state = &state;
        async move { kgdb_fn_refresh::handle(state, event).await }
    }))
    .await
}
