//! Lambda entry point: state is built once per cold start and lent to every invocation.

use kgdb_fn_refresh::ScheduledEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let pool = kgdb_store::db::build_pool(&kgdb_store::Config::from_env())?;
    run(service_fn(|event: LambdaEvent<ScheduledEvent>| {
        let pool = &pool;
        async move { kgdb_fn_refresh::handle(pool, event).await }
    }))
    .await
}
