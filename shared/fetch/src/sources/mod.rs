//! The ten annotation sources' live clients, one module each (real endpoints and bulk files of
//! original-system §4; what each stores and how it fails: docs/annotation-pipeline.md).

mod common;
pub mod descartes;
pub mod gnomad;
pub mod gtex;
pub mod hgnc;
pub mod mpo_mgi;
pub mod uniprot;
