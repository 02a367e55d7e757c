//! Stamps events that arrive without `@timestamp` with the time they were ingested, as
//! Logstash does: a data stream needs a time to choose a partition and Elasticsearch would
//! otherwise reject the event.

use logfleet_model::fields;
use logfleet_model::json::JsonValue;
use time::OffsetDateTime;

use crate::{Flow, IngestDocument, PipelineError, Processor, Run, is_data_stream_write_target};

/// Settings of [`DefaultTimestamp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultTimestampConfig {
    /// The field to fill in.
    pub field: String,
}

impl Default for DefaultTimestampConfig {
    fn default() -> Self {
        DefaultTimestampConfig {
            field: fields::TIMESTAMP.to_owned(),
        }
    }
}

impl DefaultTimestampConfig {
    /// The runtime processor.
    pub fn build(self) -> DefaultTimestamp {
        DefaultTimestamp { config: self }
    }
}

/// Sets the timestamp field of data stream events that lack one.
#[derive(Debug, Clone)]
pub struct DefaultTimestamp {
    config: DefaultTimestampConfig,
}

impl Processor for DefaultTimestamp {
    fn kind(&self) -> &'static str {
        "default_timestamp"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        if !is_data_stream_write_target(&document.target) {
            return Ok(Flow::Continue);
        }
        let missing = matches!(
            document.source.get(&self.config.field),
            None | Some(JsonValue::Null)
        );
        if missing {
            let now = logfleet_model::format_timestamp(OffsetDateTime::now_utc());
            document
                .source
                .insert(self.config.field.clone(), JsonValue::from(now));
            document.source_modified = true;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfleet_model::json::JsonObject;

    fn stamp(target: &str, source: &'static str) -> IngestDocument<'static> {
        let source = JsonObject::from_slice(source.as_bytes()).unwrap();
        let mut document = IngestDocument::new(target, source);
        DefaultTimestampConfig::default()
            .build()
            .process(&mut document, &mut Run::new(&crate::NoPipelines))
            .unwrap();
        document
    }

    #[test]
    fn fills_a_missing_timestamp() {
        let document = stamp("logs-a-b", r#"{"message": "x"}"#);
        let Some(JsonValue::String(stamped)) = document.source.get("@timestamp") else {
            panic!("no timestamp")
        };
        assert!(
            logfleet_model::parse_timestamp(stamped).is_some(),
            "{stamped}"
        );
        assert!(document.source_modified);
    }

    #[test]
    fn keeps_an_existing_timestamp() {
        let document = stamp("logs-a-b", r#"{"@timestamp": "2026-01-01T00:00:00Z"}"#);
        assert_eq!(
            document
                .source
                .get("@timestamp")
                .and_then(JsonValue::as_str),
            Some("2026-01-01T00:00:00Z")
        );
        assert!(!document.source_modified);
    }

    #[test]
    fn leaves_plain_indexes_alone() {
        let document = stamp("orders", "{}");
        assert!(!document.source.contains_key("@timestamp"));
    }
}
