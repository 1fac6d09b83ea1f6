//! Tracing setup shared by every binary.

/// Lambda binaries: the runtime's subscriber honours `AWS_LAMBDA_LOG_LEVEL`/`RUST_LOG` and
/// `AWS_LAMBDA_LOG_FORMAT=JSON`.
pub fn init_lambda() {
    lambda_http::tracing::init_default_subscriber();
}

/// Local tools: human-readable logs on stderr, `RUST_LOG` or `info`.
pub fn init_local() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
