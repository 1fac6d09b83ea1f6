//! Lambda entry point: state is built once per cold start and lent to every invocation.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    kgdb::telemetry::init_lambda();
    let state = kgdb::AppState::from_env()?;
    run(service_fn(|req: Request| {
        let state = &state;
        async move { Ok::<_, Error>(kgdb_fn_admin::handle(state, req).await) }
    }))
    .await
}
