//! `rename`: a field moved to a new name.

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Renames a field.
#[derive(Debug)]
pub struct Rename {
    field: Template,
    target_field: Template,
    ignore_missing: bool,
    override_existing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Rename, ConfigError> {
    let field = config.string("field")?;
    let field = Template::compile(&field).map_err(|reason| config.error("field", reason))?;
    let target = config.string("target_field")?;
    let target_field =
        Template::compile(&target).map_err(|reason| config.error("target_field", reason))?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    let override_existing = config.boolean("override", false)?;
    config.finish()?;
    Ok(Rename {
        field,
        target_field,
        ignore_missing,
        override_existing,
    })
}

impl Processor for Rename {
    fn kind(&self) -> &'static str {
        "rename"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let field = self.field.render(document).into_owned();
        let target = self.target_field.render(document).into_owned();
        if !document.has(&field) {
            if self.ignore_missing {
                return Ok(Flow::Continue);
            }
            return Err(PipelineError::illegal_argument(format!(
                "field [{field}] doesn't exist"
            )));
        }
        if document.has(&target) && !self.override_existing {
            return Err(PipelineError::illegal_argument(format!(
                "field [{target}] already exists"
            )));
        }
        let value = document
            .remove(&field)?
            .ok_or_else(|| not_present(&field))?;
        if let Err(error) = document.set(&target, value.clone()) {
            // Put it back, so that a failed rename changes nothing.
            document.set(&field, value)?;
            return Err(error);
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn renames() {
        let out = run(
            json!({"rename": {"field": "a", "target_field": "b.c"}}),
            json!({"a": 1}),
        );
        assert_eq!(out, json!({"b": {"c": 1}}));
        assert_eq!(
            run_error(
                json!({"rename": {"field": "a", "target_field": "b"}}),
                json!({})
            ),
            "field [a] doesn't exist"
        );
        assert_eq!(
            run_error(
                json!({"rename": {"field": "a", "target_field": "b"}}),
                json!({"a": 1, "b": 2})
            ),
            "field [b] already exists"
        );
        let out = run(
            json!({"rename": {"field": "a", "target_field": "b", "override": true}}),
            json!({"a": 1, "b": 2}),
        );
        assert_eq!(out, json!({"b": 1}));
    }
}
