//! `set`: a field gets a value (templated), or the value of another field (`copy_from`).

use logfleet_model::json::JsonValue;
use serde_json::Value;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Sets a field.
#[derive(Debug)]
pub struct Set {
    field: Template,
    value: Source,
    override_existing: bool,
    ignore_empty_value: bool,
}

#[derive(Debug)]
enum Source {
    /// A constant that is not a string (numbers, lists, objects), or a constant string.
    Constant(JsonValue<'static>),
    /// A string with `{{…}}` in it.
    Template(Template),
    /// `copy_from`.
    Field(String),
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Set, ConfigError> {
    let field = config.string("field")?;
    let field = Template::compile(&field).map_err(|reason| config.error("field", reason))?;
    let value = config.take("value");
    let copy_from = config.optional_string("copy_from")?;
    let value = match (value, copy_from) {
        (Some(_), Some(_)) => {
            return Err(config.error(
                "copy_from",
                "cannot set both `copy_from` and `value` in the same processor",
            ));
        }
        (None, None) => return Err(config.error("value", "required property is missing")),
        (None, Some(from)) => Source::Field(from),
        (Some(Value::String(text)), None) => {
            let template =
                Template::compile(&text).map_err(|reason| config.error("value", reason))?;
            if template.is_constant() {
                Source::Constant(JsonValue::from(text))
            } else {
                Source::Template(template)
            }
        }
        (Some(value), None) => Source::Constant(JsonValue::from_value(value)),
    };
    let override_existing = config.boolean("override", true)?;
    let ignore_empty_value = config.boolean("ignore_empty_value", false)?;
    config.finish()?;
    Ok(Set {
        field,
        value,
        override_existing,
        ignore_empty_value,
    })
}

impl Processor for Set {
    fn kind(&self) -> &'static str {
        "set"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let field = self.field.render(document).into_owned();
        if !self.override_existing
            && matches!(document.get(&field)?, Some(value) if *value != JsonValue::Null)
        {
            return Ok(Flow::Continue);
        }
        let value = match &self.value {
            Source::Constant(value) => value.clone(),
            Source::Template(template) => JsonValue::from(template.render(document).into_owned()),
            Source::Field(from) => match document.get(from)? {
                Some(value) => value.into_owned().into_owned(),
                None if self.ignore_empty_value => return Ok(Flow::Continue),
                None => return Err(not_present(from)),
            },
        };
        if self.ignore_empty_value && is_empty(&value) {
            return Ok(Flow::Continue);
        }
        document.set(&field, value)?;
        Ok(Flow::Continue)
    }
}

fn is_empty(value: &JsonValue<'_>) -> bool {
    match value {
        JsonValue::Null => true,
        JsonValue::String(text) => text.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run};
    use serde_json::json;

    #[test]
    fn sets_values_templates_and_copies() {
        let out = run(json!({"set": {"field": "a.b", "value": 3}}), json!({}));
        assert_eq!(out, json!({"a": {"b": 3}}));
        let out = run(
            json!({"set": {"field": "greeting", "value": "hi {{name}}"}}),
            json!({"name": "Ann"}),
        );
        assert_eq!(out["greeting"], "hi Ann");
        let out = run(
            json!({"set": {"field": "{{target}}", "value": [1, 2]}}),
            json!({"target": "t"}),
        );
        assert_eq!(out["t"], json!([1, 2]));
        let out = run(
            json!({"set": {"field": "copy", "copy_from": "orig"}}),
            json!({"orig": {"x": 1}}),
        );
        assert_eq!(out["copy"], json!({"x": 1}));
    }

    #[test]
    fn override_and_empty_values() {
        let out = run(
            json!({"set": {"field": "a", "value": "new", "override": false}}),
            json!({"a": "old"}),
        );
        assert_eq!(out["a"], "old");
        let out = run(
            json!({"set": {"field": "a", "value": "new", "override": false}}),
            json!({"a": null}),
        );
        assert_eq!(out["a"], "new");
        let out = run(
            json!({"set": {"field": "a", "value": "{{missing}}", "ignore_empty_value": true}}),
            json!({}),
        );
        assert_eq!(out, json!({}));
    }

    #[test]
    fn refuses_bad_options() {
        assert_eq!(
            build_error(json!({"set": {"field": "a"}})),
            "[value] required property is missing"
        );
        assert_eq!(
            build_error(json!({"set": {"field": "a", "value": 1, "copy_from": "b"}})),
            "[copy_from] cannot set both `copy_from` and `value` in the same processor"
        );
    }
}
