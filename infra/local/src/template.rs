//! Reads the SAM template: the API routes (the single source of routing truth) and each
//! function's Lambda settings, with the intrinsics that have a local value resolved.

use std::path::Path;
use std::time::Duration;

use serde_yaml::Value;

/// One `Type: Api` event of a function in `template.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Logical id of the `AWS::Serverless::Function`, e.g. `GenesFunction`.
    pub function: String,
    /// Name of the event, e.g. `ListGenes`.
    pub event: String,
    /// Resource path as API Gateway knows it, e.g. `/api/genes/{gene_symbol}`.
    pub path: String,
    /// Upper-case HTTP method (`GET`) or `ANY`.
    pub method: String,
    /// Query parameters declared in `RequestParameters` with `Caching: true`.
    pub cached_query_params: Vec<String>,
    /// Path parameters declared in `RequestParameters` with `Caching: true`.
    pub cached_path_params: Vec<String>,
    /// `Auth.Authorizer` of the event (`AWS_IAM` for admin routes), `None` when public.
    pub authorizer: Option<String>,
}

/// One function's Lambda settings as the template declares them: `Globals.Function`,
/// overridden by the function's own `Properties`. `None` where neither says anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionSettings {
    /// `MemorySize`, in MB.
    pub memory_mb: Option<u32>,
    /// `Timeout`.
    pub timeout: Option<Duration>,
    /// `Environment.Variables` that have a local value, globals first; a
    /// function's own value replaces the global one and moves to the end.
    pub env: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("template is not valid YAML: {0}")]
    Yaml(String),
    #[error("template has no Resources")]
    NoResources,
}

const SERVERLESS_FUNCTION: &str = "AWS::Serverless::Function";

/// Functions of the template with their build binary (`Metadata.BuildProperties.Binary`).
pub fn functions(template: &Value) -> Vec<(String, Option<String>)> {
    serverless_functions(template)
        .map(|(id, r)| {
            let binary = r
                .get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|b| b.get("Binary"))
                .and_then(Value::as_str)
                .map(str::to_string);
            (id, binary)
        })
        .collect()
}

fn resources(template: &Value) -> impl Iterator<Item = (String, &Value)> {
    template
        .get("Resources")
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
}

fn serverless_functions(template: &Value) -> impl Iterator<Item = (String, &Value)> {
    resources(template)
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(SERVERLESS_FUNCTION))
}

/// Memory, timeout and environment variables of `logical_id`. Values naming deployed
/// resources (`!Sub` of the proxy endpoint, `!Ref` of a table) have no local value and are
/// left out, so a global value they would override stays.
pub fn function_settings(template: &Value, logical_id: &str) -> FunctionSettings {
    let globals = template.get("Globals").and_then(|g| g.get("Function"));
    let own = template
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .and_then(|r| r.get("Properties"));
    let number = |layer: &Value, key: &str| {
        layer
            .get(key)
            .and_then(|v| resolve(template, v))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let mut settings = FunctionSettings::default();
    for layer in [globals, own].into_iter().flatten() {
        if let Some(mb) = number(layer, "MemorySize") {
            settings.memory_mb = Some(u32::try_from(mb).unwrap_or(u32::MAX));
        }
        if let Some(secs) = number(layer, "Timeout") {
            settings.timeout = Some(Duration::from_secs(secs));
        }
        let vars = layer
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping);
        for (key, value) in vars.into_iter().flatten() {
            let (Some(key), Some(value)) = (key.as_str(), resolve(template, value)) else {
                continue;
            };
            settings.env.retain(|(k, _)| k != key);
            settings.env.push((key.to_string(), value));
        }
    }
    settings
}

/// The local value of a template value: a literal, or `!Ref` of a template parameter (its
/// `Default`). Other intrinsics (`!Sub`, `!GetAtt`, `!Ref` of a resource) name deployed
/// resources and have none.
fn resolve(template: &Value, value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str()?;
            let default = template.get("Parameters")?.get(name)?.get("Default")?;
            scalar(default)
        }
        other => scalar(other),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn load(path: &Path) -> Result<Value, TemplateError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TemplateError::Read(path.display().to_string(), e.to_string()))?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Value, TemplateError> {
    // CloudFormation tags (!Ref, !Sub, ...) parse as tagged values; only `resolve` looks at them.
    serde_yaml::from_str(text).map_err(|e| TemplateError::Yaml(e.to_string()))
}

/// Every API route of every function.
pub fn routes(template: &Value) -> Result<Vec<RouteSpec>, TemplateError> {
    if template.get("Resources").is_none() {
        return Err(TemplateError::NoResources);
    }
    let mut out = Vec::new();
    for (function, resource) in serverless_functions(template) {
        let Some(events) = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("Api") {
                continue;
            }
            let props = event.get("Properties");
            let path = props.and_then(|p| p.get("Path")).and_then(Value::as_str);
            let method = props.and_then(|p| p.get("Method")).and_then(Value::as_str);
            let (Some(path), Some(method)) = (path, method) else {
                continue;
            };
            let mut query = Vec::new();
            let mut path_params = Vec::new();
            let params = props
                .and_then(|p| p.get("RequestParameters"))
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            for item in params {
                let Some(map) = item.as_mapping() else {
                    continue;
                };
                for (key, settings) in map {
                    let Some(key) = key.as_str() else { continue };
                    let caching = settings.get("Caching").and_then(Value::as_bool) == Some(true);
                    if !caching {
                        continue;
                    }
                    if let Some(q) = key.strip_prefix("method.request.querystring.") {
                        query.push(q.to_string());
                    } else if let Some(p) = key.strip_prefix("method.request.path.") {
                        path_params.push(p.to_string());
                    }
                }
            }
            let authorizer = props
                .and_then(|p| p.get("Auth"))
                .and_then(|a| a.get("Authorizer"))
                .and_then(Value::as_str)
                .filter(|a| *a != "NONE")
                .map(str::to_string);
            out.push(RouteSpec {
                authorizer,
                function: function.clone(),
                event: name.as_str().unwrap_or_default().to_string(),
                path: path.to_string(),
                method: method.to_ascii_uppercase(),
                cached_query_params: query,
                cached_path_params: path_params,
            });
        }
    }
    Ok(out)
}

/// `template.yaml` at the repository root (for tools run from a checkout).
pub fn repo_template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "\
Parameters:
  Mem:
    Type: Number
    Default: 256
Globals:
  Function:
    MemorySize: !Ref Mem
    Timeout: 10
    Environment:
      Variables:
        DATABASE_URL: !Sub \"postgres://${Proxy.Endpoint}/kgdb\"
        KGDB_ENV: !Ref Environment
        KGDB_DB_POOL_SIZE: \"1\"
        KGDB_LOG: info
        KGDB_CACHE: true
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  F:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: kgdb-fn-f
    Properties:
      Timeout: 60
      Environment:
        Variables:
          KGDB_DB_POOL_SIZE: 2
          KGDB_LOG: !Ref Table
  G:
    Type: AWS::Serverless::Function
";

    #[test]
    fn settings_layer_globals_under_the_function_with_local_values_only() {
        let template = parse(TEMPLATE).unwrap();
        assert_eq!(
            function_settings(&template, "F"),
            FunctionSettings {
                memory_mb: Some(256),
                timeout: Some(Duration::from_secs(60)),
                env: vec![
                    // `KGDB_LOG: !Ref Table` has no local value: the global one stays.
                    ("KGDB_LOG".into(), "info".into()),
                    ("KGDB_CACHE".into(), "true".into()),
                    ("KGDB_DB_POOL_SIZE".into(), "2".into()),
                ],
            }
        );
        let g = function_settings(&template, "G");
        assert_eq!(g.timeout, Some(Duration::from_secs(10)));
        assert_eq!(g.env.len(), 3);
    }

    #[test]
    fn settings_are_empty_without_globals_or_function() {
        let template = parse("Resources: {}\n").unwrap();
        assert_eq!(
            function_settings(&template, "Missing"),
            FunctionSettings::default()
        );
    }

    #[test]
    fn functions_are_the_serverless_functions_with_their_binaries() {
        let template = parse(TEMPLATE).unwrap();
        let mut found = functions(&template);
        found.sort();
        assert_eq!(
            found,
            vec![
                ("F".to_string(), Some("kgdb-fn-f".to_string())),
                ("G".to_string(), None),
            ]
        );
    }
}
