//! The ten annotation sources' live clients, one module each (real endpoints and bulk files of
//! docs/provider-formats.md; what each stores and how it fails: docs/annotation-pipeline.md).

pub mod clinvar;
mod common;
pub mod descartes;
pub mod ensembl;
pub mod gnomad;
pub mod gtex;
pub mod hgnc;
pub mod hpo;
pub mod mpo_mgi;
pub mod string_ppi;
pub mod uniprot;
