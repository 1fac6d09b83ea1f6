//! Lambda entry point: state is built once per cold start and lent to every invocation.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let pool = kgdb_store::db::build_pool(&kgdb_store::Config::from_env())?;
    run(service_fn(|event: LambdaEvent<Value>| {
        let pool = &pool;
        async move { kgdb_fn_migrate::handle(pool, event).await }
    }))
    .await
}
