//! `split`: a string split by a regular expression into a list.

use logfleet_model::json::JsonValue;
use regex::Regex;

use super::{expect_string, field_options, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Splits a field.
#[derive(Debug)]
pub struct Split {
    field: String,
    target_field: String,
    ignore_missing: bool,
    separator: Regex,
    preserve_trailing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Split, ConfigError> {
    let (field, target_field, ignore_missing) = field_options(&mut config)?;
    let separator = config.string("separator")?;
    let separator = Regex::new(&separator)
        .map_err(|error| config.error("separator", format!("Invalid regex pattern. {error}")))?;
    let preserve_trailing = config.boolean("preserve_trailing", false)?;
    config.finish()?;
    Ok(Split {
        field,
        target_field,
        ignore_missing,
        separator,
        preserve_trailing,
    })
}

impl Processor for Split {
    fn kind(&self) -> &'static str {
        "split"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "split")? else {
            return Ok(Flow::Continue);
        };
        let text = expect_string(&value, &self.field)?;
        let mut parts: Vec<&str> = self.separator.split(text).collect();
        if !self.preserve_trailing {
            // Java's String.split drops trailing empty strings.
            while parts.len() > 1 && parts.last().is_some_and(|part| part.is_empty()) {
                parts.pop();
            }
        }
        let list = JsonValue::Array(parts.into_iter().map(JsonValue::from).collect());
        document.set(&self.target_field, list)?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn splits() {
        let out = run(
            json!({"split": {"field": "a", "separator": "\\s*,\\s*"}}),
            json!({"a": "x, y,z,,"}),
        );
        assert_eq!(out["a"], json!(["x", "y", "z"]));
        let out = run(
            json!({"split": {"field": "a", "separator": ",", "preserve_trailing": true}}),
            json!({"a": "x,"}),
        );
        assert_eq!(out["a"], json!(["x", ""]));
        assert!(
            run_error(
                json!({"split": {"field": "a", "separator": ","}}),
                json!({"a": 1})
            )
            .contains("cannot be cast")
        );
    }
}
