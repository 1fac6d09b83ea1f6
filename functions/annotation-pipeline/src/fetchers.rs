use std::collections::BTreeMap;
use std::sync::Arc;

use kgdb_fetch::annotation::AnnotationFetcher;

/// The fetcher of each source the worker can run.
#[derive(Clone, Default)]
pub struct Fetchers {
    by_source: BTreeMap<&'static str, Arc<dyn AnnotationFetcher>>,
}

impl Fetchers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, fetcher: impl AnnotationFetcher + 'static) -> Self {
        self.by_source.insert(fetcher.source(), Arc::new(fetcher));
        self
    }

    pub fn get(&self, source: &str) -> Option<&Arc<dyn AnnotationFetcher>> {
        self.by_source.get(source)
    }

    pub fn sources(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_source.keys().copied()
    }
}
