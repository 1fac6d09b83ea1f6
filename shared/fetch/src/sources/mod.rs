//! The ten annotation sources' live clients, one module each (real endpoints and bulk files of
//! original-system §4; formats in docs/annotation-sources.md).

mod common;
pub mod descartes;
pub mod gnomad;
pub mod gtex;
pub mod hgnc;
