//! `foreach`: one processor run on each element of a list (or each value of an object), the
//! element being `_ingest._value`.

use logfleet_model::json::JsonValue;
use serde_json::Value;

use super::read_field;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run, Step};
use crate::resources::Resources;

/// Runs a processor on each element.
#[derive(Debug)]
pub struct Foreach {
    field: String,
    ignore_missing: bool,
    step: Box<Step>,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig, resources: &Resources) -> Result<Foreach, ConfigError> {
    let field = config.string("field")?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    let step = match config.take("processor") {
        Some(Value::Object(entry)) if entry.len() == 1 => {
            let (kind, options) = entry.into_iter().next().expect("one member");
            Step::build(&kind, options, resources)?
        }
        Some(_) => return Err(config.error("processor", "Must specify exactly one processor type")),
        None => return Err(config.error("processor", "required property is missing")),
    };
    config.finish()?;
    Ok(Foreach {
        field,
        ignore_missing,
        step: Box::new(step),
    })
}

impl Processor for Foreach {
    fn kind(&self) -> &'static str {
        "foreach"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "foreach")? else {
            return Ok(Flow::Continue);
        };
        let value = value.into_owned();
        let previous = document.ingest.remove("_value");
        let outcome = self.each(document, run, value);
        document.ingest.remove("_value");
        if let Some(previous) = previous {
            document.ingest.insert("_value", previous);
        }
        let (flow, value) = outcome?;
        if flow != Flow::Drop {
            document.set(&self.field, value)?;
        }
        Ok(flow)
    }
}

impl Foreach {
    fn each<'a>(
        &self,
        document: &mut IngestDocument<'a>,
        run: &mut Run<'_>,
        value: JsonValue<'a>,
    ) -> Result<(Flow, JsonValue<'a>), PipelineError> {
        let pipeline = run.stack.last().cloned().unwrap_or_default();
        match value {
            JsonValue::Array(items) => {
                let mut changed = Vec::with_capacity(items.len());
                for item in items {
                    document.ingest.insert("_value", item);
                    if self.step.run(document, run, &pipeline)? == Flow::Drop {
                        return Ok((Flow::Drop, JsonValue::Null));
                    }
                    changed.push(document.ingest.remove("_value").unwrap_or(JsonValue::Null));
                }
                Ok((Flow::Continue, JsonValue::Array(changed)))
            }
            JsonValue::Object(mut object) => {
                let keys: Vec<String> = object.keys().map(str::to_owned).collect();
                for key in keys {
                    let item = object.remove(&key).unwrap_or(JsonValue::Null);
                    document
                        .ingest
                        .insert("_key", JsonValue::from(key.as_str()));
                    document.ingest.insert("_value", item);
                    if self.step.run(document, run, &pipeline)? == Flow::Drop {
                        return Ok((Flow::Drop, JsonValue::Null));
                    }
                    let key = match document.ingest.remove("_key") {
                        Some(JsonValue::String(key)) => key.into_owned(),
                        _ => key,
                    };
                    object.insert(
                        key,
                        document.ingest.remove("_value").unwrap_or(JsonValue::Null),
                    );
                }
                Ok((Flow::Continue, JsonValue::Object(object)))
            }
            other => Err(PipelineError::illegal_argument(format!(
                "field [{}] of type [{}] cannot be cast to a list or map",
                self.field,
                crate::document::java_type(&other)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn runs_on_each_element() {
        let out = run(
            json!({"foreach": {"field": "tags", "processor": {"uppercase": {"field": "_ingest._value"}}}}),
            json!({"tags": ["a", "b"]}),
        );
        assert_eq!(out["tags"], json!(["A", "B"]));
        let out = run(
            json!({"foreach": {"field": "users", "processor": {"set": {"field": "_ingest._value.seen", "value": true}}}}),
            json!({"users": [{"n": 1}, {"n": 2}]}),
        );
        assert_eq!(
            out["users"],
            json!([{"n": 1, "seen": true}, {"n": 2, "seen": true}])
        );
        let out = run(
            json!({"foreach": {"field": "m", "processor": {"lowercase": {"field": "_ingest._value"}}}}),
            json!({"m": {"a": "X"}}),
        );
        assert_eq!(out["m"], json!({"a": "x"}));
        assert!(run_error(json!({"foreach": {"field": "s", "processor": {"trim": {"field": "_ingest._value"}}}}), json!({"s": "x"})).contains("list or map"));
    }
}
