//! Per-domain request spacing: each request to a host takes the next free slot, slots
//! `1/rate` apart, so a burst of concurrent tasks is spread out instead of all sleeping the
//! same amount. The state is per process (one Lambda container); across containers the
//! worker's reserved concurrency bounds the total (docs/annotation-pipeline.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct DomainLimits {
    per_second: HashMap<String, f64>,
    next_slot: Mutex<HashMap<String, Instant>>,
}

impl DomainLimits {
    /// `(host, requests per second)`; hosts not listed are not limited.
    pub fn new<'a>(limits: impl IntoIterator<Item = (&'a str, f64)>) -> Self {
        Self {
            per_second: limits
                .into_iter()
                .filter(|(_, rate)| rate.is_finite() && *rate > 0.0)
                .map(|(host, rate)| (host.to_ascii_lowercase(), rate))
                .collect(),
            next_slot: Mutex::new(HashMap::new()),
        }
    }

    /// The original's per-domain limits (docs/provider-formats.md), with gnomAD at the server's own
    /// 30 per minute and NCBI at 3/s without an API key.
    pub fn original() -> Self {
        Self::new([
            ("rest.genenames.org", 5.0),
            ("storage.googleapis.com", 5.0),
            ("gnomad.broadinstitute.org", 0.5),
            ("eutils.ncbi.nlm.nih.gov", 3.0),
            ("ftp.ncbi.nlm.nih.gov", 3.0),
            ("ontology.jax.org", 2.0),
            ("purl.obolibrary.org", 2.0),
            ("www.mousemine.org", 2.0),
            ("atlas.fredhutch.org", 2.0),
            ("stringdb-downloads.org", 2.0),
            ("ftp.ensembl.org", 5.0),
            ("rest.uniprot.org", 5.0),
            ("panelapp.genomicsengland.co.uk", 5.0),
            ("panelapp-aus.org", 5.0),
            ("search.clinicalgenome.org", 5.0),
            ("search.thegencc.org", 10.0),
            ("www.ncbi.nlm.nih.gov", 3.0),
        ])
    }

    /// Every limit divided by `workers`: each of that many concurrent containers takes its
    /// share, so together they stay within the provider's limit.
    pub fn shared_by(self, workers: u32) -> Self {
        let workers = f64::from(workers.max(1));
        Self {
            per_second: self
                .per_second
                .into_iter()
                .map(|(host, rate)| (host, rate / workers))
                .collect(),
            next_slot: Mutex::new(HashMap::new()),
        }
    }

    pub fn rate(&self, host: &str) -> Option<f64> {
        self.per_second.get(&host.to_ascii_lowercase()).copied()
    }

    /// Waits for this host's next slot.
    pub async fn acquire(&self, host: &str) {
        let Some(rate) = self.rate(host) else {
            return;
        };
        let interval = Duration::from_secs_f64(1.0 / rate);
        let slot = {
            let mut next = self
                .next_slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let entry = next.entry(host.to_ascii_lowercase()).or_insert(now);
            let slot = (*entry).max(now);
            *entry = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_are_spaced_by_the_rate() {
        let limits = std::sync::Arc::new(DomainLimits::new([("api.example", 4.0)]));
        let start = Instant::now();
        let tasks: Vec<_> = (0..9)
            .map(|_| {
                let limits = limits.clone();
                tokio::spawn(async move {
                    limits.acquire("API.example").await;
                    Instant::now()
                })
            })
            .collect();
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap() - start);
        }
        times.sort();
        // 9 requests at 4/s: the first at once, the last two seconds later.
        assert_eq!(times[0], Duration::ZERO);
        assert_eq!(times[8], Duration::from_secs(2));
        limits.acquire("unlimited.example").await;
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }

    #[test]
    fn two_workers_each_take_half_of_a_limit() {
        let limits = DomainLimits::original().shared_by(2);
        assert_eq!(limits.rate("rest.uniprot.org"), Some(2.5));
        assert_eq!(limits.rate("www.mousemine.org"), Some(1.0));
    }
}
