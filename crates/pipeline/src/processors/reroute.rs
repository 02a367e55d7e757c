//! `reroute`: the document sent to another data stream — a `destination`, or the
//! `logs-<dataset>-<namespace>` made of field values (`{{service.name}}`) with fallbacks — and
//! the rest of the current pipeline skipped, as Elasticsearch's processor does. The
//! `data_stream.*` fields of the document follow the new name.

use logfleet_model::json::JsonValue;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::reroute::sanitize;

/// Sends the document to another data stream.
#[derive(Debug)]
pub struct RerouteProcessor {
    destination: Option<String>,
    dataset: Vec<Source>,
    namespace: Vec<Source>,
}

/// Where a dataset or namespace comes from: a field (`{{field}}`) or a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Field(String),
    Literal(String),
}

fn sources(
    config: &mut ProcessorConfig,
    name: &str,
    default_field: &str,
) -> Result<Vec<Source>, ConfigError> {
    let values = config
        .optional_strings(name, true)?
        .unwrap_or_else(|| vec![format!("{{{{{default_field}}}}}")]);
    values
        .into_iter()
        .map(|value| {
            match value
                .strip_prefix("{{")
                .and_then(|rest| rest.strip_suffix("}}"))
            {
                Some(field) if !field.contains("{{") => Ok(Source::Field(field.trim().to_owned())),
                _ if value.contains("{{") => Err(config.error(
                    name,
                    format!("'{value}' is not a valid field reference: use {{{{field}}}} alone"),
                )),
                _ if value.contains('-') => {
                    Err(config.error(name, format!("'{value}' contains disallowed characters")))
                }
                _ => Ok(Source::Literal(value)),
            }
        })
        .collect()
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<RerouteProcessor, ConfigError> {
    let destination = config.optional_string("destination")?;
    let has_parts = config.has("dataset") || config.has("namespace");
    if destination.is_some() && has_parts {
        return Err(config.error(
            "destination",
            "can only be set if dataset and namespace are not set",
        ));
    }
    let dataset = sources(&mut config, "dataset", "data_stream.dataset")?;
    let namespace = sources(&mut config, "namespace", "data_stream.namespace")?;
    config.finish()?;
    Ok(RerouteProcessor {
        destination,
        dataset,
        namespace,
    })
}

impl RerouteProcessor {
    fn resolve(
        &self,
        document: &IngestDocument<'_>,
        sources: &[Source],
        fallback: Option<&str>,
        default: &str,
    ) -> String {
        for source in sources {
            match source {
                Source::Field(field) => {
                    if let Ok(Some(value)) = document.get(field)
                        && let JsonValue::String(text) = value.as_ref()
                        && !text.is_empty()
                    {
                        return sanitize(text).into_owned();
                    }
                }
                Source::Literal(literal) => return sanitize(literal).into_owned(),
            }
        }
        fallback.map_or_else(|| default.to_owned(), |value| sanitize(value).into_owned())
    }
}

impl Processor for RerouteProcessor {
    fn kind(&self) -> &'static str {
        "reroute"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        if let Some(destination) = &self.destination {
            document.target = destination.clone();
            return Ok(Flow::Stop);
        }
        let current = document.target.clone();
        let mut parts = current.splitn(3, '-');
        let (Some(kind), Some(dataset), Some(namespace)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(PipelineError::illegal_argument(format!(
                "invalid data stream name: [{current}]; must follow naming scheme <type>-<dataset>-<namespace>"
            )));
        };
        // The namespace is the last segment: a dataset may hold `-` only in the name itself.
        let (dataset, namespace) = match current[kind.len() + 1..].rsplit_once('-') {
            Some((dataset, namespace)) => (dataset.to_owned(), namespace.to_owned()),
            None => (dataset.to_owned(), namespace.to_owned()),
        };
        let dataset = self.resolve(document, &self.dataset, Some(&dataset), "generic");
        let namespace = self.resolve(document, &self.namespace, Some(&namespace), "default");
        document.target = format!("{kind}-{dataset}-{namespace}");
        document.set("data_stream.type", JsonValue::from(kind))?;
        document.set("data_stream.dataset", JsonValue::from(dataset.as_str()))?;
        document.set("data_stream.namespace", JsonValue::from(namespace))?;
        if document.has("event.dataset") || document.has("event") {
            document.set("event.dataset", JsonValue::from(dataset))?;
        }
        Ok(Flow::Stop)
    }
}

#[cfg(test)]
mod tests {
    use crate::Flow;
    use crate::processors::testing::{build_error, try_run};
    use serde_json::json;

    fn reroute(
        options: serde_json::Value,
        index: &str,
        source: serde_json::Value,
    ) -> (Flow, String, serde_json::Value) {
        let (flow, mut document) =
            try_run(json!({"set": {"field": "_index", "value": index}}), source).unwrap();
        assert_eq!(flow, Flow::Continue);
        let step = crate::Step::build("reroute", options, &crate::Resources::default()).unwrap();
        let flow = step
            .run(
                &mut document,
                &mut crate::Run::new(&crate::NoPipelines),
                "p",
            )
            .unwrap();
        (
            flow,
            document.target.clone(),
            serde_json::Value::Object(document.source.to_map()),
        )
    }

    #[test]
    fn routes_by_fields_with_fallbacks() {
        let (flow, target, source) = reroute(
            json!({"dataset": ["{{service.name}}", "fallback"]}),
            "logs-app-prod",
            json!({"service": {"name": "Web/API"}}),
        );
        assert_eq!(flow, Flow::Stop, "the rest of the pipeline is skipped");
        assert_eq!(target, "logs-web_api-prod");
        assert_eq!(
            source["data_stream"],
            json!({"type": "logs", "dataset": "web_api", "namespace": "prod"})
        );
        let (_, target, _) = reroute(
            json!({"dataset": ["{{missing}}", "fallback"], "namespace": "{{env}}"}),
            "logs-app-prod",
            json!({"env": "qa"}),
        );
        assert_eq!(target, "logs-fallback-qa");
        let (_, target, _) = reroute(
            json!({}),
            "logs-app-prod",
            json!({"data_stream": {"dataset": "nginx"}}),
        );
        assert_eq!(target, "logs-nginx-prod");
        let (_, target, _) = reroute(
            json!({"destination": "archive"}),
            "logs-app-prod",
            json!({}),
        );
        assert_eq!(target, "archive");
    }

    #[test]
    fn refuses_what_elasticsearch_refuses() {
        assert!(
            build_error(json!({"reroute": {"destination": "x", "dataset": "y"}}))
                .contains("can only be set")
        );
        assert!(build_error(json!({"reroute": {"dataset": "a-b"}})).contains("disallowed"));
    }
}
