//! One execution environment under supervision: the function binary spawned with Lambda's
//! environment against its own Runtime API, invoked one event at a time, watched for exit and
//! timeout, measured (RSS via `/proc`) and killed.
//!
//! The Lambda behaviour tests rely on: one invocation at a time per environment, an init
//! budget for the first poll (10 s), a timeout per invocation after which the environment is
//! killed, and a crash (process exit) reported as such instead of a hang. The child is killed
//! when its [`LambdaProcess`] is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::config::FunctionConfig;
use super::ids::random_u64;
use super::invocation::{ErrorReport, Invocation};
use super::lock;
use super::output::{LogTail, drain_output};
use super::server::{Pending, RuntimeApi};

/// How often a waiting invoke checks whether the child has exited.
const EXIT_POLL: Duration = Duration::from_millis(5);
/// Lines of output an error report carries.
const REPORTED_OUTPUT_LINES: usize = 50;

/// Why an environment gave no answer: it could not start, exited, timed out or broke protocol.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot start the Runtime API server: {0}")]
    Server(std::io::Error),
    #[error("cannot spawn {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("the runtime exited ({status}){}; last output:\n{logs}", init_note(.init_error))]
    Exited {
        status: String,
        init_error: Option<ErrorReport>,
        logs: String,
    },
    #[error(
        "no answer within {after:?} ({phase}); the environment was killed; last output:\n{logs}"
    )]
    Timeout {
        after: Duration,
        phase: &'static str,
        logs: String,
    },
    #[error("Runtime API protocol violation: {0}")]
    Protocol(String),
}

fn init_note(init_error: &Option<ErrorReport>) -> String {
    match init_error {
        Some(e) => format!(
            " after reporting an init error {}: {}",
            e.error_type, e.error_message
        ),
        None => String::new(),
    }
}

/// One execution environment: a function process and its Runtime API.
pub struct LambdaProcess {
    api: RuntimeApi,
    config: FunctionConfig,
    child: Child,
    spawned_at: Instant,
    exit: Option<ExitStatus>,
    /// Set when the environment was killed (timeout) rather than exiting by itself.
    killed: Option<&'static str>,
    cold_start: Option<Duration>,
    tail: Arc<Mutex<LogTail>>,
    output_threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl LambdaProcess {
    /// Starts the Runtime API, then the function with Lambda's environment (and nothing of
    /// ours: the environment is cleared first, as a Lambda sandbox starts clean).
    pub async fn spawn(config: FunctionConfig) -> Result<LambdaProcess, RuntimeError> {
        let api = RuntimeApi::start(config.function_arn())
            .await
            .map_err(RuntimeError::Server)?;
        // Absolute, because the child starts in the binary's directory (as Lambda starts in
        // /var/task) and a relative path would then resolve against that.
        let binary = std::path::absolute(&config.binary).unwrap_or_else(|_| config.binary.clone());
        let task_root = binary
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let log_stream = format!("2026/11/21/[$LATEST]{:032x}", u128::from(random_u64()));
        let mut command = Command::new(&binary);
        command
            .args(&config.args)
            .env_clear()
            .current_dir(&task_root)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("LAMBDA_TASK_ROOT", &task_root)
            .env("_HANDLER", "bootstrap")
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &config.name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                config.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", config.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            // Lambda always hands the execution role's credentials to the function; these
            // are AWS's documented example keys (they sign, nothing accepts them).
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )
            .env("AWS_SESSION_TOKEN", "emulated-session-token")
            .env("AWS_REGION", &config.region)
            .env("AWS_DEFAULT_REGION", &config.region)
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawned_at = Instant::now();
        let mut child = command.spawn().map_err(|source| RuntimeError::Spawn {
            binary: config.binary.display().to_string(),
            source,
        })?;
        let tail = Arc::new(Mutex::new(LogTail::default()));
        let prefix = config.echo_output.then(|| format!("[{}]", config.name));
        let mut output_threads = Vec::new();
        if let Some(out) = child.stdout.take() {
            output_threads.push(drain_output(out, tail.clone(), prefix.clone()));
        }
        if let Some(err) = child.stderr.take() {
            output_threads.push(drain_output(err, tail.clone(), prefix));
        }
        Ok(LambdaProcess {
            api,
            config,
            child,
            spawned_at,
            exit: None,
            killed: None,
            cold_start: None,
            tail,
            output_threads,
        })
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Spawn to the first answer (init, first event, first database connection).
    pub fn cold_start(&self) -> Option<Duration> {
        self.cold_start
    }

    /// Spawn to the first `/next` poll: what Lambda reports as "Init Duration".
    pub fn init_duration(&self) -> Option<Duration> {
        self.api
            .first_poll()
            .map(|t| t.saturating_duration_since(self.spawned_at))
    }

    /// Whether the process is still running (it is reaped if not).
    pub fn is_running(&mut self) -> bool {
        self.check_exit().is_none()
    }

    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    /// The last lines of the function's output.
    pub fn output_tail(&self) -> String {
        lock(&self.tail).last(REPORTED_OUTPUT_LINES)
    }

    fn check_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit = Some(status);
        }
        self.exit
    }

    /// Waits (briefly) for the output threads, so a crash report includes the last words.
    fn flush_output(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline && self.output_threads.iter().any(|t| !t.is_finished()) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn exited_error(&mut self, status: ExitStatus) -> RuntimeError {
        self.flush_output();
        let status = match self.killed {
            Some(phase) => format!("killed after a timeout in {phase}"),
            None => status.to_string(),
        };
        RuntimeError::Exited {
            status,
            init_error: self.api.init_error(),
            logs: self.output_tail(),
        }
    }

    fn kill(&mut self, phase: &'static str) {
        let _ = self.child.kill();
        if let Ok(status) = self.child.wait() {
            self.exit = Some(status);
        }
        self.killed = Some(phase);
    }

    /// Invokes the function with a JSON event (synchronous invoke, `RequestResponse`).
    pub async fn invoke(&mut self, event: &Value) -> Result<Invocation, RuntimeError> {
        self.invoke_raw(Bytes::from(event.to_string())).await
    }

    /// Invokes the function with a raw payload.
    pub async fn invoke_raw(&mut self, event: Bytes) -> Result<Invocation, RuntimeError> {
        if let Some(status) = self.check_exit() {
            return Err(self.exited_error(status));
        }
        let initialized = self.api.first_poll().is_some();
        let started = Instant::now();
        let Pending {
            request_id,
            mut outcome,
        } = self.api.submit(event, self.config.timeout);
        // Lambda's invoke timeout starts after init; a cold environment gets the init budget
        // on top. A little slack covers the emulator's own scheduling.
        let budget = self.config.timeout
            + Duration::from_millis(250)
            + if initialized {
                Duration::ZERO
            } else {
                self.config.init_timeout
            };
        let deadline = tokio::time::Instant::now() + budget;
        let result = loop {
            tokio::select! {
                biased;
                answer = &mut outcome => break answer.map_err(|_| {
                    RuntimeError::Protocol("the Runtime API dropped the invocation".into())
                }),
                _ = tokio::time::sleep(EXIT_POLL) => {
                    if let Some(status) = self.check_exit() {
                        // The answer may have been posted just before the exit.
                        if let Ok(answer) = outcome.try_recv() {
                            break Ok(answer);
                        }
                        self.api.abandon(&request_id);
                        return Err(self.exited_error(status));
                    }
                    if tokio::time::Instant::now() >= deadline {
                        self.api.abandon(&request_id);
                        let phase = if self.api.first_poll().is_none() {
                            "init (the runtime never polled /next)"
                        } else {
                            "invoke"
                        };
                        self.kill(phase);
                        self.flush_output();
                        return Err(RuntimeError::Timeout {
                            after: budget,
                            phase,
                            logs: self.output_tail(),
                        });
                    }
                }
            }
        };
        let outcome = result?;
        let cold_start = if self.cold_start.is_none() {
            let cold = self.spawned_at.elapsed();
            self.cold_start = Some(cold);
            Some(cold)
        } else {
            None
        };
        Ok(Invocation {
            request_id,
            outcome,
            duration: started.elapsed(),
            cold_start,
        })
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM:`, `VmRSS:`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_that_exits_is_reported_not_awaited() {
        let mut config = FunctionConfig::new("crashy", "/bin/sh");
        config.args = vec!["-c".into(), "echo about to fail; exit 3".into()];
        let mut lambda = LambdaProcess::spawn(config).await.unwrap();
        let started = Instant::now();
        match lambda.invoke(&serde_json::json!({})).await {
            Err(RuntimeError::Exited { status, logs, .. }) => {
                assert!(status.contains('3'), "{status}");
                assert!(logs.contains("about to fail"), "{logs}");
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!lambda.is_running());
        // Later invokes fail the same way instead of waiting.
        assert!(matches!(
            lambda.invoke(&serde_json::json!({})).await,
            Err(RuntimeError::Exited { .. })
        ));
    }

    #[tokio::test]
    async fn a_runtime_that_never_polls_times_out_and_is_killed() {
        let mut config = FunctionConfig::new("stuck", "/bin/sleep");
        config.args = vec!["30".into()];
        config.timeout = Duration::from_millis(100);
        config.init_timeout = Duration::from_millis(200);
        let mut lambda = LambdaProcess::spawn(config).await.unwrap();
        let started = Instant::now();
        let result = lambda.invoke(&serde_json::json!({})).await;
        assert!(
            matches!(result, Err(RuntimeError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!lambda.is_running());
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_spawn_error() {
        let result = LambdaProcess::spawn(FunctionConfig::new("x", "/nonexistent/bootstrap")).await;
        assert!(matches!(result, Err(RuntimeError::Spawn { .. })));
    }

    #[test]
    fn proc_status_reads_kib_fields() {
        let rss = proc_status_kib(std::process::id(), "VmRSS:");
        assert!(rss.is_some_and(|kib| kib > 0), "{rss:?}");
        assert_eq!(proc_status_kib(std::process::id(), "NoSuchField:"), None);
    }
}
