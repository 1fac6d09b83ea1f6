//! How Lambda configures one function's environment: name, binary, memory, timeouts, region
//! and variables ([`FunctionConfig`]), from Lambda's defaults or a SAM template.

use std::path::PathBuf;
use std::time::Duration;

use crate::template;

/// Lambda's limit for the init phase of an on-demand environment.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The account id in the ARNs the emulator hands out (AWS's documentation account).
pub const ACCOUNT_ID: &str = "123456789012";

/// How to run one function, as Lambda would configure its environment.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub name: String,
    /// The executable (the `bootstrap` of a `provided.al2023` function).
    pub binary: PathBuf,
    /// Only for stand-in executables in tests; Lambda passes none.
    pub args: Vec<String>,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub init_timeout: Duration,
    pub region: String,
    /// Extra variables (the function's `Environment`), applied after Lambda's own.
    pub env: Vec<(String, String)>,
    /// Copy the function's output to our stderr as it arrives (it is always kept as a tail).
    pub echo_output: bool,
}

impl FunctionConfig {
    /// Lambda's defaults: 128 MB, 3 s.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> FunctionConfig {
        FunctionConfig {
            name: name.into(),
            binary: binary.into(),
            args: Vec::new(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            init_timeout: DEFAULT_INIT_TIMEOUT,
            region: "eu-central-1".into(),
            env: Vec::new(),
            echo_output: std::env::var_os("KGDB_LAMBDA_ECHO").is_some(),
        }
    }

    /// Lambda's defaults overridden by what the SAM template declares for `logical_id`
    /// (see [`template::function_settings`]). Variables naming deployed resources have no
    /// local value and are left for the caller ([`FunctionConfig::with_env`]).
    pub fn from_template(
        template: &serde_yaml::Value,
        logical_id: &str,
        binary: impl Into<PathBuf>,
    ) -> FunctionConfig {
        let settings = template::function_settings(template, logical_id);
        let mut config = FunctionConfig::new(logical_id, binary);
        if let Some(mb) = settings.memory_mb {
            config.memory_mb = mb;
        }
        if let Some(timeout) = settings.timeout {
            config.timeout = timeout;
        }
        config.env = settings.env;
        config
    }

    /// Sets a variable, replacing one of the same name.
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What `/next` reports as the invoked function.
    pub(super) fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}",
            self.region, self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_config_layers_globals_and_function_properties() {
        let template = crate::template::parse(
            "Parameters:\n  Mem:\n    Type: Number\n    Default: 256\nGlobals:\n  Function:\n    MemorySize: !Ref Mem\n    Timeout: 10\n    Environment:\n      Variables:\n        DATABASE_URL: !Ref Db\n        KGDB_DB_POOL_SIZE: \"1\"\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Timeout: 60\n      Environment:\n        Variables:\n          KGDB_DB_POOL_SIZE: 2\n",
        )
        .unwrap();
        let config = FunctionConfig::from_template(&template, "F", "/bin/true");
        assert_eq!(config.memory_mb, 256);
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(
            config.env,
            vec![("KGDB_DB_POOL_SIZE".to_string(), "2".to_string())]
        );
    }

    #[test]
    fn a_function_the_template_lacks_gets_lambdas_defaults() {
        let template = crate::template::parse("Resources: {}\n").unwrap();
        let config = FunctionConfig::from_template(&template, "Missing", "/bin/true")
            .with_env("A", "1")
            .with_env("A", "2");
        assert_eq!(config.memory_mb, 128);
        assert_eq!(config.timeout, Duration::from_secs(3));
        assert_eq!(config.env, vec![("A".to_string(), "2".to_string())]);
        assert_eq!(
            config.function_arn(),
            "arn:aws:lambda:eu-central-1:123456789012:function:Missing"
        );
    }
}
