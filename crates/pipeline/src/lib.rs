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

pub mod document;
mod reroute;
pub mod script;
mod timestamp;

use std::fmt;

use thiserror::Error;

pub use document::IngestDocument;
pub use reroute::{Reroute, RerouteConfig, data_stream_parts, is_data_stream_write_target};
pub use timestamp::{DefaultTimestamp, DefaultTimestampConfig};

/// A processor failed on one document; the document is rejected with this reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct PipelineError {
    /// Elasticsearch's error `type` for the failure.
    pub kind: &'static str,
    /// A message naming the problem.
    pub reason: String,
}

impl PipelineError {
    /// An `illegal_argument_exception`, the type of most processor failures.
    pub fn illegal_argument(reason: String) -> PipelineError {
        PipelineError {
            kind: "illegal_argument_exception",
            reason,
        }
    }
}

/// One step of a pipeline.
pub trait Processor: Send + Sync + fmt::Debug {
    /// A short name for messages, e.g. `reroute`.
    fn name(&self) -> &'static str;
    /// Transforms the document in place.
    fn process(&self, document: &mut IngestDocument<'_>) -> Result<(), PipelineError>;
}

/// An ordered list of processors.
#[derive(Debug, Default)]
pub struct Pipeline {
    processors: Vec<Box<dyn Processor>>,
}

impl Pipeline {
    /// A pipeline that runs `processors` in order.
    pub fn new(processors: Vec<Box<dyn Processor>>) -> Pipeline {
        Pipeline { processors }
    }

    /// Routing by `log_category`, then a default `@timestamp`.
    pub fn data_stream_default() -> Pipeline {
        Pipeline::new(vec![
            Box::new(RerouteConfig::default().build()),
            Box::new(DefaultTimestampConfig::default().build()),
        ])
    }

    /// Runs every processor; the first failure stops the document.
    pub fn run(&self, document: &mut IngestDocument<'_>) -> Result<(), PipelineError> {
        for processor in &self.processors {
            processor.process(document)?;
        }
        Ok(())
    }

    /// The names of the processors, in order.
    pub fn processor_names(&self) -> Vec<&'static str> {
        self.processors
            .iter()
            .map(|processor| processor.name())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfleet_model::json::JsonObject;

    #[test]
    fn default_pipeline_routes_and_stamps() {
        let pipeline = Pipeline::data_stream_default();
        assert_eq!(pipeline.processor_names(), ["reroute", "default_timestamp"]);
        let source =
            JsonObject::from_slice(br#"{"log_category": "audit", "message": "hi"}"#).unwrap();
        let mut document = IngestDocument::new("logs", source);
        pipeline.run(&mut document).unwrap();
        assert_eq!(document.target, "logs-audit-default");
        assert!(document.source.contains_key("@timestamp"));
        assert!(document.source_modified);
    }
}
