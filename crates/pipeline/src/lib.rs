//! The ingest pipeline: what happens to an event between decoding and the write-ahead log.
//!
//! Like Logstash's filters or Elasticsearch's ingest processors, a pipeline is an ordered list of
//! processors, each built from a small config struct (`ProcessorConfig::build`) and each living
//! in one file with its tests. Processors see an [`IngestDocument`] — the target name and the
//! parsed source — and may change either; the store never sees an event that skipped the
//! pipeline, and the pipeline knows nothing of HTTP or storage.
//!
//! The default pipeline for `logs` and `logs-*` targets is [`Pipeline::data_stream_default`]:
//! route by `log_category` to `logs-<category>-<namespace>`, then stamp events that arrive
//! without `@timestamp` with the time of ingest.

mod condition;
pub mod config;
pub mod document;
mod pipeline;
mod processor;
pub mod processors;
mod recent;
mod registry;
mod reroute;
mod resources;
pub mod script;
pub mod template;
mod timestamp;

use thiserror::Error;

pub use config::{ConfigError, ProcessorConfig};
pub use document::IngestDocument;
pub use pipeline::Pipeline;
pub use processor::{Flow, NoPipelines, PipelineSource, Processor, Run, Step};
pub use processors::geoip::databases::{GeoIpDatabases, GeoIpError};
pub use registry::Pipelines;
pub use reroute::{Reroute, RerouteConfig, data_stream_parts, is_data_stream_write_target};
pub use resources::Resources;
pub use timestamp::{DefaultTimestamp, DefaultTimestampConfig};

/// A processor failed on one document; the document is rejected with this reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct PipelineError {
    /// Elasticsearch's error `type` for the failure.
    pub kind: &'static str,
    /// A message naming the problem.
    pub reason: String,
    /// The type of the processor that failed.
    pub processor_type: Option<&'static str>,
    /// Its `tag`.
    pub processor_tag: Option<String>,
    /// The pipeline it belongs to.
    pub pipeline: Option<String>,
    /// The pipelines that were running when it failed, outermost first (a `pipeline`
    /// processor's callee after its caller).
    pub pipeline_trace: Box<[String]>,
}

impl PipelineError {
    /// An error of type `kind`.
    pub fn new(kind: &'static str, reason: impl Into<String>) -> PipelineError {
        PipelineError {
            kind,
            reason: reason.into(),
            processor_type: None,
            processor_tag: None,
            pipeline: None,
            pipeline_trace: Box::default(),
        }
    }

    /// An `illegal_argument_exception`, the type of most processor failures.
    pub fn illegal_argument(reason: impl Into<String>) -> PipelineError {
        PipelineError::new("illegal_argument_exception", reason)
    }

    /// A `graph_structure_exception`: pipelines that call each other in a cycle.
    pub fn graph_structure(reason: impl Into<String>) -> PipelineError {
        PipelineError::new("graph_structure_exception", reason)
    }

    /// The error as Elasticsearch renders it in `_simulate`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut cause = serde_json::Map::new();
        cause.insert("type".to_owned(), self.kind.into());
        cause.insert("reason".to_owned(), self.reason.clone().into());
        if let Some(processor_type) = self.processor_type {
            cause.insert("processor_type".to_owned(), processor_type.into());
        }
        if let Some(tag) = &self.processor_tag {
            cause.insert("processor_tag".to_owned(), tag.clone().into());
        }
        let mut error = cause.clone();
        error.insert(
            "root_cause".to_owned(),
            serde_json::Value::Array(vec![serde_json::Value::Object(cause)]),
        );
        serde_json::Value::Object(error)
    }
}

/// The id of the built-in pipeline for the microservices schema, the default pipeline of
/// `logs-*` data streams that no template of the user's matches.
pub const MICROSERVICES_PIPELINE: &str = "logs@microservices";

/// The definition of [`MICROSERVICES_PIPELINE`], as `GET /_ingest/pipeline` shows it.
pub const MICROSERVICES_PIPELINE_DEFINITION: &str = include_str!("builtin/logs-microservices.json");

/// The built-in routing for `logs` and `logs-*` targets: route by `log_category` to
/// `logs-<category>-<namespace>`, then stamp events that arrive without `@timestamp` with the
/// time of ingest.
pub fn data_stream_routing() -> Pipeline {
    Pipeline::built_in(
        "logs-routing",
        "Routes logs by log_category and stamps events without @timestamp",
        vec![
            Step::plain(Box::new(RerouteConfig::default().build())),
            Step::plain(Box::new(DefaultTimestampConfig::default().build())),
        ],
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_microservices_pipeline_completes_and_cleans_events() {
        let definition: serde_json::Value =
            serde_json::from_str(MICROSERVICES_PIPELINE_DEFINITION).unwrap();
        let pipeline =
            Pipeline::compile(MICROSERVICES_PIPELINE, &definition, &Resources::default()).unwrap();
        let run = |source: serde_json::Value| {
            let text = source.to_string();
            let source = JsonObject::from_slice(text.as_bytes())
                .unwrap()
                .into_owned();
            let mut document = IngestDocument::new("logs-api_request-default", source);
            pipeline
                .execute(&mut document, &mut Run::new(&NoPipelines))
                .unwrap();
            (
                serde_json::Value::Object(document.source.to_map()),
                document.source_modified,
            )
        };
        let (out, _) = run(serde_json::json!({
            "@timestamp": 1_733_580_000_123_i64,
            "level": "WARN",
            "http_method": "get",
            "path": "/api/users/42/orders/9f8e7d6c-aaaa-bbbb-cccc-111122223333/?page=2",
            "status_code": 503,
            "headers": {"Authorization": "Bearer abc"},
            "client_ip": "81.2.69.142",
            "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
        }));
        assert_eq!(out["@timestamp"], "2024-12-07T14:00:00.123Z");
        assert_eq!(out["level"], "warning");
        assert_eq!(out["response_category"], "server_error");
        assert_eq!(
            out["endpoint_signature"],
            "GET /api/users/{id}/orders/{id}/"
        );
        assert_eq!(out["headers"]["Authorization"], "[REDACTED]");
        assert_eq!(out["ua"]["name"], "Mobile Safari");
        assert_eq!(out["ua"]["os"], "iOS 17.1");
        assert_eq!(out["ua"]["device"], "iPhone");
        assert!(
            out.get("geo").is_none(),
            "no GeoIP database here: nothing added"
        );
        let (out, _) = run(
            serde_json::json!({"@timestamp": "2026-12-07 10:00:00,5", "level": "info", "status_code": 302, "http_method": "POST", "path": "/"}),
        );
        assert_eq!(out["@timestamp"], "2026-12-07T10:00:00.500Z");
        assert_eq!(out["response_category"], "redirect");
        assert_eq!(out["endpoint_signature"], "POST /");
        // What the SDKs send is complete already, and is stored byte for byte.
        let (_, modified) = run(serde_json::json!({
            "@timestamp": "2026-12-07T10:00:00.123456Z", "level": "info", "status_code": 200,
            "response_category": "success", "http_method": "GET", "path": "/api/users/",
            "endpoint_signature": "GET /api/users/", "message": "GET /api/users/ 200"
        }));
        assert!(!modified);
    }

    use super::*;
    use logfleet_model::json::JsonObject;

    #[test]
    fn default_pipeline_routes_and_stamps() {
        let pipeline = data_stream_routing();
        assert_eq!(
            pipeline.processor_kinds(),
            ["category_routing", "default_timestamp"]
        );
        let source =
            JsonObject::from_slice(br#"{"log_category": "audit", "message": "hi"}"#).unwrap();
        let mut document = IngestDocument::new("logs", source);
        pipeline
            .execute(&mut document, &mut Run::new(&NoPipelines))
            .unwrap();
        assert_eq!(document.target, "logs-audit-default");
        assert!(document.source.contains_key("@timestamp"));
        assert!(document.source_modified);
    }
}
