//! kgdb's core: the vocabulary of the score and the seam every data source plugs into.
//!
//! No I/O lives here: no database, no HTTP, no files. The API functions, the store, the web
//! helpers and the sources all depend on this crate; it depends on none of them.

pub mod annotation;
pub mod genes;
pub mod jobs;
pub mod pipeline;
pub mod record;
pub mod vocab;

pub use record::{EvidenceRecord, normalize_hgnc_id, sorted_unique};
pub use vocab::SourceName;
