//! `join`: a list joined into one string.

use logfleet_model::json::JsonValue;

use super::{field_options, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::template::display;

/// Joins a list.
#[derive(Debug)]
pub struct Join {
    field: String,
    target_field: String,
    separator: String,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Join, ConfigError> {
    let (field, target_field, _) = field_options(&mut config)?;
    let separator = config.string("separator")?;
    config.finish()?;
    Ok(Join {
        field,
        target_field,
        separator,
    })
}

impl Processor for Join {
    fn kind(&self) -> &'static str {
        "join"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, false, "join")? else {
            return Ok(Flow::Continue);
        };
        let JsonValue::Array(items) = value.as_ref() else {
            return Err(PipelineError::illegal_argument(format!(
                "field [{}] of type [{}] cannot be cast to [java.util.List]",
                self.field,
                crate::document::java_type(&value)
            )));
        };
        let joined = items
            .iter()
            .map(display)
            .collect::<Vec<_>>()
            .join(&self.separator);
        document.set(&self.target_field, JsonValue::from(joined))?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn joins() {
        let out = run(
            json!({"join": {"field": "a", "separator": "-", "target_field": "b"}}),
            json!({"a": ["x", 1, true]}),
        );
        assert_eq!(out["b"], "x-1-true");
        assert!(
            run_error(
                json!({"join": {"field": "a", "separator": "-"}}),
                json!({"a": "x"})
            )
            .contains("java.util.List")
        );
    }
}
