//! Reads the API routes out of the SAM template (the single source of routing truth).

use std::path::Path;

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

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("template is not valid YAML: {0}")]
    Yaml(String),
    #[error("template has no Resources")]
    NoResources,
}

/// Functions of the template with their build binary (`Metadata.BuildProperties.Binary`).
pub fn functions(template: &Value) -> Vec<(String, Option<String>)> {
    resources(template)
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function"))
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

pub fn load(path: &Path) -> Result<Value, TemplateError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TemplateError::Read(path.display().to_string(), e.to_string()))?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Value, TemplateError> {
    // CloudFormation tags (!Ref, !Sub, ...) parse as tagged values and are simply not looked at.
    serde_yaml::from_str(text).map_err(|e| TemplateError::Yaml(e.to_string()))
}

/// Every API route of every function.
pub fn routes(template: &Value) -> Result<Vec<RouteSpec>, TemplateError> {
    if template.get("Resources").is_none() {
        return Err(TemplateError::NoResources);
    }
    let mut out = Vec::new();
    for (function, resource) in resources(template) {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
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
