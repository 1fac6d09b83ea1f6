//! A Lambda Runtime API emulator: runs a function binary as a separate process and invokes it
//! the way Lambda does, over the HTTP protocol `lambda_runtime` speaks.
//!
//! * `server`: the Runtime API of one environment (`/invocation/next`, `/response`, `/error`,
//!   `/init/error`) and its queue of events;
//! * `process`: one execution environment, i.e. the function process under supervision;
//! * `config`: how Lambda configures that environment ([`FunctionConfig`]);
//! * `invocation`: what an invocation yields; `output`: the function's log tail; `ids`:
//!   request ids and trace headers.

use std::sync::{Mutex, MutexGuard};

mod config;
mod ids;
mod invocation;
mod output;
mod process;
mod server;

pub use config::{ACCOUNT_ID, DEFAULT_INIT_TIMEOUT, FunctionConfig};
pub use invocation::{ErrorReport, Invocation, Outcome};
pub use process::{LambdaProcess, RuntimeError, proc_status_kib};
pub use server::{API_PREFIX, MAX_RESPONSE_BYTES, Pending, RuntimeApi};

/// A poisoned lock only means another thread panicked mid-update of a plain map; keep going.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
