//! Job queues. Deployed: SQS (the worker function's event source, with a dead-letter queue
//! after `maxReceiveCount` deliveries). Local stack: an in-process queue with the same
//! delivery semantics (redelivery after a failure, dead letters after the last delivery), so
//! the same worker code runs either way.

mod in_process;
mod sqs;

pub use in_process::{Delivery, InProcessQueue, Processor, QueueSettings};
pub use sqs::SqsSender;
