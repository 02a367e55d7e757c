//! The built-in routing of `logs` and `logs-*` writes to the data stream of their category,
//! like Elasticsearch's `reroute` processor with `dataset: "{{log_category}}"`, but also for
//! the bare name `logs` and without adding `data_stream.*` fields to the event. The
//! `reroute` processor pipelines use is `processors/reroute.rs`.

use std::borrow::Cow;

use logfleet_model::fields;
use logfleet_model::json::JsonValue;

use crate::{Flow, IngestDocument, PipelineError, Processor, Run};

/// Elasticsearch truncates dataset and namespace values to this many bytes.
const MAX_SEGMENT_BYTES: usize = 100;

/// Settings of [`Reroute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerouteConfig {
    /// The field whose value becomes the dataset.
    pub dataset_field: String,
    /// The dataset when neither the field nor the target name gives one.
    pub default_dataset: String,
    /// The namespace when the target name gives none.
    pub default_namespace: String,
}

impl Default for RerouteConfig {
    fn default() -> Self {
        RerouteConfig {
            dataset_field: fields::LOG_CATEGORY.to_owned(),
            default_dataset: "generic".to_owned(),
            default_namespace: "default".to_owned(),
        }
    }
}

impl RerouteConfig {
    /// The runtime processor.
    pub fn build(self) -> Reroute {
        Reroute { config: self }
    }
}

/// Rewrites a `logs` or `logs-*` target to `logs-<dataset>-<namespace>`.
#[derive(Debug, Clone)]
pub struct Reroute {
    config: RerouteConfig,
}

/// Whether a write to `name` is a write to a `logs` data stream (and so is routed).
pub fn is_data_stream_write_target(name: &str) -> bool {
    name == "logs" || name.starts_with("logs-")
}

/// Splits `logs-<dataset>-<namespace>` into its dataset and namespace, when it has that shape.
///
/// The namespace is the last `-` segment, as neither may contain `-`; `logs-foo` has a dataset
/// and no namespace.
pub fn data_stream_parts(name: &str) -> (Option<&str>, Option<&str>) {
    let Some(rest) = name.strip_prefix("logs-") else {
        return (None, None);
    };
    match rest.rsplit_once('-') {
        Some((dataset, namespace)) if !dataset.is_empty() && !namespace.is_empty() => {
            (Some(dataset), Some(namespace))
        }
        _ if !rest.is_empty() => (Some(rest), None),
        _ => (None, None),
    }
}

impl Processor for Reroute {
    fn kind(&self) -> &'static str {
        "category_routing"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        if !is_data_stream_write_target(&document.target) {
            return Ok(Flow::Continue);
        }
        let (name_dataset, name_namespace) = data_stream_parts(&document.target);
        let dataset = match document.source.get(&self.config.dataset_field) {
            Some(JsonValue::String(category)) if !category.is_empty() => sanitize(category),
            Some(JsonValue::String(_)) | None | Some(JsonValue::Null) => name_dataset
                .map(sanitize)
                .unwrap_or(Cow::Borrowed(&self.config.default_dataset)),
            Some(other) => {
                return Err(PipelineError::illegal_argument(format!(
                    "field [{}] must be a string to route the event, found [{other}]",
                    self.config.dataset_field
                )));
            }
        };
        let namespace = name_namespace
            .map(sanitize)
            .unwrap_or(Cow::Borrowed(&self.config.default_namespace));
        document.target = format!("logs-{dataset}-{namespace}");
        Ok(Flow::Continue)
    }
}

/// Elasticsearch's reroute sanitisation: lowercase, and the characters that are not allowed in
/// index names (and `-`, the separator) replaced by `_`. A value that is already clean (as
/// the canonical categories are) is borrowed.
pub(crate) fn sanitize(value: &str) -> Cow<'_, str> {
    let clean = value.len() <= MAX_SEGMENT_BYTES
        && value.bytes().all(|byte| {
            byte.is_ascii_graphic() && !byte.is_ascii_uppercase() && !is_replaced(byte)
        });
    if clean {
        return Cow::Borrowed(value);
    }
    let mut sanitized: String = value
        .chars()
        .flat_map(char::to_lowercase)
        .map(|character| match character {
            character if character.is_ascii() && is_replaced(character as u8) => '_',
            other => other,
        })
        .collect();
    if sanitized.len() > MAX_SEGMENT_BYTES {
        let mut cut = MAX_SEGMENT_BYTES;
        while !sanitized.is_char_boundary(cut) {
            cut -= 1;
        }
        sanitized.truncate(cut);
    }
    Cow::Owned(sanitized)
}

/// The ASCII characters [`sanitize`] replaces.
fn is_replaced(byte: u8) -> bool {
    matches!(
        byte,
        b'\\' | b'/' | b'*' | b'?' | b'"' | b'<' | b'>' | b'|' | b' ' | b',' | b'#' | b':' | b'-'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfleet_model::json::JsonObject;
    use serde_json::{Value, json};

    fn route(target: &str, source: Value) -> Result<String, PipelineError> {
        let text = source.to_string();
        let source = JsonObject::from_slice(text.as_bytes()).unwrap();
        let mut document = IngestDocument::new(target, source);
        RerouteConfig::default()
            .build()
            .process(&mut document, &mut Run::new(&crate::NoPipelines))?;
        Ok(document.target)
    }

    #[test]
    fn routes_by_category() {
        let event = json!({"log_category": "api_request"});
        assert_eq!(
            route("logs", event.clone()).unwrap(),
            "logs-api_request-default"
        );
        assert_eq!(
            route("logs-app-prod", event.clone()).unwrap(),
            "logs-api_request-prod"
        );
        assert_eq!(
            route("logs-app", event).unwrap(),
            "logs-api_request-default"
        );
    }

    #[test]
    fn without_category_the_name_decides() {
        assert_eq!(route("logs", json!({})).unwrap(), "logs-generic-default");
        assert_eq!(
            route("logs-nginx-prod", json!({})).unwrap(),
            "logs-nginx-prod"
        );
        assert_eq!(
            route("logs-nginx", json!({"log_category": null})).unwrap(),
            "logs-nginx-default"
        );
    }

    #[test]
    fn other_targets_are_untouched() {
        assert_eq!(
            route("metrics", json!({"log_category": "audit"})).unwrap(),
            "metrics"
        );
        assert_eq!(
            route("logsx", json!({"log_category": "audit"})).unwrap(),
            "logsx"
        );
    }

    #[test]
    fn hostile_categories_are_sanitised() {
        let target = route("logs", json!({"log_category": "Api/Request-X:*"})).unwrap();
        assert_eq!(target, "logs-api_request_x__-default");
        let target = route("logs", json!({"log_category": "é".repeat(80)})).unwrap();
        assert!(target.len() <= "logs--default".len() + MAX_SEGMENT_BYTES);
    }

    #[test]
    fn clean_values_are_borrowed() {
        assert!(matches!(
            sanitize("api_request"),
            Cow::Borrowed("api_request")
        ));
        assert!(matches!(sanitize("v1.2"), Cow::Borrowed("v1.2")));
        for (value, expected) in [
            ("Api", "api"),
            ("a-b", "a_b"),
            ("a b", "a_b"),
            ("tab\there", "tab\there"),
            ("ÉCOLE", "école"),
        ] {
            let sanitized = sanitize(value);
            assert!(matches!(sanitized, Cow::Owned(_)), "{value}");
            assert_eq!(sanitized, expected);
        }
    }

    #[test]
    fn non_string_category_is_rejected() {
        let error = route("logs", json!({"log_category": 7})).unwrap_err();
        assert!(error.reason.contains("must be a string"));
    }

    #[test]
    fn splits_names() {
        assert_eq!(data_stream_parts("logs-a-b"), (Some("a"), Some("b")));
        assert_eq!(data_stream_parts("logs-a"), (Some("a"), None));
        assert_eq!(data_stream_parts("logs-"), (None, None));
        assert_eq!(data_stream_parts("other"), (None, None));
    }
}
