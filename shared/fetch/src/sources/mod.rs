//! The ten annotation sources' live clients, one module each (real endpoints and bulk files of
//! original-system §4; formats in docs/annotation-sources.md).

pub mod clinvar;
mod common;
pub mod ensembl;
pub mod hpo;
pub mod string_ppi;
