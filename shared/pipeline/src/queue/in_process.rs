use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use kgdb_core::jobs::{AnnotationJob, JobSender};
use tokio::sync::{Notify, Semaphore, mpsc};

/// What the processor says about one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Handled (done, already done, or failed for good and recorded).
    Ack,
    /// Deliver again later; after the last delivery the message is a dead letter.
    Retry(String),
}

/// The worker, as the queue calls it: (message body, delivery count from 1).
pub type Processor = Arc<dyn Fn(String, u32) -> BoxFuture<'static, Delivery> + Send + Sync>;

#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Messages processed at once (the deployed worker's reserved concurrency).
    pub concurrency: usize,
    /// Deliveries before a message is a dead letter (the SQS `maxReceiveCount`).
    pub max_receives: u32,
    /// Wait before a failed message is delivered again (the visibility timeout).
    pub redelivery_delay: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            concurrency: 2,
            max_receives: 3,
            redelivery_delay: Duration::from_secs(5),
        }
    }
}

struct Message {
    body: String,
    receive_count: u32,
}

#[derive(Default)]
struct Shared {
    /// Sent and neither acknowledged nor dead-lettered.
    outstanding: AtomicUsize,
    dead_letters: Mutex<Vec<(String, String)>>,
    idle: Notify,
}

/// The local stack's queue: SQS's delivery semantics in the process.
pub struct InProcessQueue {
    tx: mpsc::UnboundedSender<Message>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Message>>>,
    shared: Arc<Shared>,
    settings: QueueSettings,
}

impl InProcessQueue {
    pub fn new(settings: QueueSettings) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            tx,
            rx: Mutex::new(Some(rx)),
            shared: Arc::new(Shared::default()),
            settings,
        })
    }

    /// Starts consuming with `processor` (once; later calls do nothing). Separate from `new`
    /// because the worker sends through this queue too (phase 2, after hgnc).
    pub fn start(self: &Arc<Self>, processor: Processor) {
        let Some(mut rx) = self
            .rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        else {
            return;
        };
        let queue = self.clone();
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(queue.settings.concurrency.max(1)));
            while let Some(message) = rx.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let queue = queue.clone();
                let processor = processor.clone();
                tokio::spawn(async move {
                    let delivery = processor(message.body.clone(), message.receive_count).await;
                    drop(permit);
                    queue.settle(message, delivery);
                });
            }
        });
    }

    fn settle(self: &Arc<Self>, message: Message, delivery: Delivery) {
        match delivery {
            Delivery::Ack => self.finish_one(),
            Delivery::Retry(why) if message.receive_count >= self.settings.max_receives => {
                tracing::warn!(body = %message.body, %why, "dead letter after the last delivery");
                self.shared
                    .dead_letters
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((message.body, why));
                self.finish_one();
            }
            Delivery::Retry(_) => {
                let tx = self.tx.clone();
                let delay = self.settings.redelivery_delay;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Message {
                        body: message.body,
                        receive_count: message.receive_count + 1,
                    });
                });
            }
        }
    }

    fn finish_one(&self) {
        if self.shared.outstanding.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.idle.notify_waiters();
        }
    }

    /// Sends a raw body (tests: a poison message).
    pub fn send_raw(&self, body: String) {
        self.shared.outstanding.fetch_add(1, Ordering::SeqCst);
        if self
            .tx
            .send(Message {
                body,
                receive_count: 1,
            })
            .is_err()
        {
            self.finish_one();
        }
    }

    pub fn outstanding(&self) -> usize {
        self.shared.outstanding.load(Ordering::SeqCst)
    }

    /// (body, last error) of every message that ran out of deliveries.
    pub fn dead_letters(&self) -> Vec<(String, String)> {
        self.shared
            .dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until every sent message is settled; false on timeout.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.shared.idle.notified();
                if self.outstanding() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

impl JobSender for InProcessQueue {
    fn send<'a>(&'a self, jobs: &'a [AnnotationJob]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            for job in jobs {
                self.send_raw(job.body());
            }
            Ok(())
        })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_are_redelivered_then_dead_lettered() {
        let queue = InProcessQueue::new(QueueSettings {
            concurrency: 2,
            max_receives: 3,
            redelivery_delay: Duration::from_millis(5),
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        queue.start(Arc::new(move |body: String, count: u32| {
            log.lock().unwrap().push((body.clone(), count));
            Box::pin(async move {
                if body.contains("\"chunk_no\":1") && count < 2 {
                    Delivery::Retry("flaky".into())
                } else if body == "poison" {
                    Delivery::Retry("not a job".into())
                } else {
                    Delivery::Ack
                }
            })
        }));
        let jobs = [
            AnnotationJob {
                run_id: 1,
                chunk_no: 0,
            },
            AnnotationJob {
                run_id: 1,
                chunk_no: 1,
            },
        ];
        queue.send(&jobs).await.unwrap();
        queue.send_raw("poison".into());
        assert!(queue.wait_idle(Duration::from_secs(5)).await);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.iter().filter(|(b, _)| b == "poison").count(), 3);
        assert!(seen.contains(&(jobs[1].body(), 2)));
        assert_eq!(
            queue.dead_letters(),
            [("poison".to_string(), "not a job".to_string())]
        );
    }
}
