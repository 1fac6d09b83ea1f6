//! The annotation pipeline's bookkeeping (docs/annotation-pipeline.md).
//!
//! - [`plan`]: what a run covers (strategy, sources, genes) and how each source is cut into
//!   chunks.
//! - [`runs`]: the run and its chunks in Postgres: start (plan + send), the worker's per-chunk
//!   bookkeeping, the phase switch after hgnc, completion exactly once (refresh + one data
//!   version bump), and the sweep that re-sends and closes what a crash left open.
//! - [`queue`]: the job queues: SQS (deployed, or an emulator) and in-process (local stack).
//!
//! The fetching itself (kgdb-fetch) and the worker live in `functions/annotation-pipeline`; this
//! crate has no outbound HTTP, so the admin function can start runs without it.

pub mod plan;
pub mod queue;
pub mod runs;

pub use plan::{ChunkSize, RunRequest, Strategy};
pub use runs::{RunError, RunStore, StartedRun};
