//! The function's stdout and stderr: drained by a thread per stream into a bounded tail, kept
//! for error reports (and echoed to our stderr on request).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::lock;

/// Lines of function output kept for error reports.
const LOG_TAIL_LINES: usize = 200;
/// Longer lines are cut: one runaway line must not hold megabytes.
const LOG_LINE_MAX: usize = 4096;

/// The last lines the function wrote to stdout and stderr.
#[derive(Default)]
pub(super) struct LogTail {
    lines: VecDeque<String>,
}

impl LogTail {
    fn push(&mut self, mut line: String) {
        if line.len() > LOG_LINE_MAX {
            let mut end = LOG_LINE_MAX;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
        }
        if self.lines.len() == LOG_TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// The last `n` lines, one per line.
    pub(super) fn last(&self, n: usize) -> String {
        let skip = self.lines.len().saturating_sub(n);
        self.lines
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Reads `reader` line by line into `tail` until EOF (the process exited or closed it); with
/// a `prefix`, each line is also copied to our stderr.
pub(super) fn drain_output(
    reader: impl Read + Send + 'static,
    tail: Arc<Mutex<LogTail>>,
    prefix: Option<String>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(reader).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if let Some(prefix) = &prefix {
                eprintln!("{prefix} {line}");
            }
            lock(&tail).push(line);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_bounded_and_cuts_long_lines_on_a_char_boundary() {
        let mut tail = LogTail::default();
        for i in 0..LOG_TAIL_LINES + 5 {
            tail.push(format!("line {i}"));
        }
        assert_eq!(tail.lines.len(), LOG_TAIL_LINES);
        assert_eq!(
            tail.last(2),
            format!("line {}\nline {}", LOG_TAIL_LINES + 3, LOG_TAIL_LINES + 4)
        );

        // 'é' is two bytes: the cut at LOG_LINE_MAX falls inside one and must back off.
        tail.push(format!("x{}", "é".repeat(LOG_LINE_MAX)));
        let long = tail.last(1);
        assert_eq!(long.len(), LOG_LINE_MAX - 1);
        assert!(long.starts_with('x'));
    }

    #[test]
    fn drained_output_lands_in_the_tail() {
        let tail = Arc::new(Mutex::new(LogTail::default()));
        drain_output(&b"one\r\ntwo\nthree"[..], tail.clone(), None)
            .join()
            .unwrap();
        assert_eq!(lock(&tail).last(50), "one\ntwo\nthree");
    }
}
