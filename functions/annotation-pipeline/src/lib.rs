//! The annotation pipeline's functions (docs/annotation-pipeline.md):
//!
//! - the **scheduler** (EventBridge, daily incremental and weekly full): sweeps what crashes
//!   left open, then starts a run (`kgdb_pipeline::RunStore::start`);
//! - the **worker** (SQS, `ReportBatchItemFailures`): per message one chunk, fetched by the
//!   source's live client, written by the annotation writer, its end recorded; the last chunk
//!   completes the run.

pub mod fetchers;
pub mod local;
pub mod scheduler;
pub mod worker;

pub use fetchers::Fetchers;
pub use worker::{JobOutcome, Worker};
