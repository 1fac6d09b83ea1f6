//! The one list of evidence sources. Adding a source adds one line to [`snapshot_runs`] (and,
//! with its live fetcher, one to the live list).

use futures::future::BoxFuture;
use kgdb_core::SourceName;
use kgdb_core::pipeline::{Fetcher, RunMode, RunReport, Sink, Source};

use crate::clingen::{ClinGen, snapshot::ClinGenSnapshot};
use crate::diagnostic_panels::{DiagnosticPanels, snapshot::DiagnosticPanelsSnapshot};
use crate::files::SnapshotDir;
use crate::gencc::{Gencc, snapshot::GenccSnapshot};
use crate::hpo::{Hpo, snapshot::HpoSnapshot};
use crate::literature::{Literature, snapshot::LiteratureSnapshot};
use crate::panelapp::{PanelApp, snapshot::PanelAppSnapshot};
use crate::pubtator::{PubTator, snapshot::PubTatorSnapshot};
use crate::run::{RunError, SourceOutcome, run_source};

/// A source paired with a fetcher, with the types erased so different sources share one list.
pub trait SourceRun: Send + Sync {
    fn name(&self) -> SourceName;
    fn run<'a>(
        &'a self,
        sink: &'a dyn Sink,
        mode: RunMode,
        trigger: &'a str,
    ) -> BoxFuture<'a, Result<RunReport, RunError>>;
}

struct Paired<S, F> {
    source: S,
    fetcher: F,
}

impl<S: Source, F: Fetcher<S>> SourceRun for Paired<S, F> {
    fn name(&self) -> SourceName {
        self.source.name()
    }

    fn run<'a>(
        &'a self,
        sink: &'a dyn Sink,
        mode: RunMode,
        trigger: &'a str,
    ) -> BoxFuture<'a, Result<RunReport, RunError>> {
        Box::pin(run_source(&self.source, &self.fetcher, sink, mode, trigger))
    }
}

fn paired<S: Source + 'static, F: Fetcher<S> + 'static>(
    source: S,
    fetcher: F,
) -> Box<dyn SourceRun> {
    Box::new(Paired { source, fetcher })
}

/// Every evidence source read from the bundled snapshot, in ingest order.
pub fn snapshot_runs(dir: &SnapshotDir) -> Vec<Box<dyn SourceRun>> {
    let d = || dir.clone();
    vec![
        paired(PanelApp, PanelAppSnapshot::new(d())),
        paired(ClinGen, ClinGenSnapshot::new(d())),
        paired(Gencc, GenccSnapshot::new(d())),
        paired(Hpo, HpoSnapshot::new(d())),
        paired(PubTator, PubTatorSnapshot::new(d())),
        paired(DiagnosticPanels, DiagnosticPanelsSnapshot::new(d())),
        paired(Literature, LiteratureSnapshot::new(d())),
    ]
}

/// Runs each source in turn. A failing source is reported and keeps its stored evidence; the
/// others still land. The caller refreshes the read models once afterwards.
pub async fn run_all(
    runs: &[Box<dyn SourceRun>],
    sink: &dyn Sink,
    mode: RunMode,
    trigger: &str,
) -> Vec<SourceOutcome> {
    let mut outcomes = Vec::with_capacity(runs.len());
    for run in runs {
        let name = run.name();
        let outcome = match run.run(sink, mode, trigger).await {
            Ok(report) => SourceOutcome {
                source: name.to_string(),
                report: Some(report),
                error: None,
            },
            Err(e) => {
                tracing::error!(source = %name, error = %e, "source failed; its stored evidence stays");
                SourceOutcome {
                    source: name.to_string(),
                    report: None,
                    error: Some(e.to_string()),
                }
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scored_source_is_registered_once() {
        let runs = snapshot_runs(&SnapshotDir::in_repo());
        let mut names: Vec<SourceName> = runs.iter().map(|r| r.name()).collect();
        names.sort();
        let mut all = SourceName::ALL.to_vec();
        all.sort();
        assert_eq!(names, all);
    }
}
