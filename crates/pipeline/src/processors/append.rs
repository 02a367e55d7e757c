//! `append`: values added to a field, which becomes a list.

use logfleet_model::json::JsonValue;
use serde_json::Value;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Appends to a field.
#[derive(Debug)]
pub struct Append {
    field: Template,
    values: Vec<Item>,
    allow_duplicates: bool,
}

#[derive(Debug)]
enum Item {
    Constant(JsonValue<'static>),
    Template(Template),
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Append, ConfigError> {
    let field = config.string("field")?;
    let field = Template::compile(&field).map_err(|reason| config.error("field", reason))?;
    let values = match config.take("value") {
        None | Some(Value::Null) => {
            return Err(config.error("value", "required property is missing"));
        }
        Some(Value::Array(items)) => items,
        Some(single) => vec![single],
    };
    let mut items = Vec::with_capacity(values.len());
    for value in values {
        items.push(match value {
            Value::String(text) => {
                let template =
                    Template::compile(&text).map_err(|reason| config.error("value", reason))?;
                if template.is_constant() {
                    Item::Constant(JsonValue::from(text))
                } else {
                    Item::Template(template)
                }
            }
            other => Item::Constant(JsonValue::from_value(other)),
        });
    }
    let allow_duplicates = config.boolean("allow_duplicates", true)?;
    config.finish()?;
    Ok(Append {
        field,
        values: items,
        allow_duplicates,
    })
}

impl Processor for Append {
    fn kind(&self) -> &'static str {
        "append"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let field = self.field.render(document).into_owned();
        let values: Vec<JsonValue<'static>> = self
            .values
            .iter()
            .map(|item| match item {
                Item::Constant(value) => value.clone(),
                Item::Template(template) => JsonValue::from(template.render(document).into_owned()),
            })
            .collect();
        document.append(&field, JsonValue::Array(values), self.allow_duplicates)?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::run;
    use serde_json::json;

    #[test]
    fn appends_and_skips_duplicates_when_asked() {
        let out = run(
            json!({"append": {"field": "tags", "value": ["b", "{{x}}"]}}),
            json!({"tags": "a", "x": "c"}),
        );
        assert_eq!(out["tags"], json!(["a", "b", "c"]));
        let out = run(
            json!({"append": {"field": "tags", "value": "a", "allow_duplicates": false}}),
            json!({"tags": ["a"]}),
        );
        assert_eq!(out["tags"], json!(["a"]));
        let out = run(json!({"append": {"field": "new", "value": 1}}), json!({}));
        assert_eq!(out["new"], json!([1]));
    }
}
