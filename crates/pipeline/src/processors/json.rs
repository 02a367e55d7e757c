//! `json`: a string of JSON parsed into a value, at a target field or into the document's
//! root.

use logfleet_model::json::JsonValue;

use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Parses JSON.
#[derive(Debug)]
pub struct Json {
    field: String,
    target_field: String,
    add_to_root: bool,
    merge: bool,
    allow_duplicate_keys: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Json, ConfigError> {
    let field = config.string("field")?;
    let target = config.optional_string("target_field")?;
    let add_to_root = config.boolean("add_to_root", false)?;
    let strategy =
        config.optional_choice("add_to_root_conflict_strategy", &["replace", "merge"])?;
    let allow_duplicate_keys = config.boolean("allow_duplicate_keys", false)?;
    config.boolean("strict_json_parsing", true)?;
    if add_to_root && target.is_some() {
        return Err(config.error(
            "target_field",
            "Cannot set a target field while also setting `add_to_root` to true",
        ));
    }
    if strategy.is_some() && !add_to_root {
        return Err(config.error(
            "add_to_root_conflict_strategy",
            "Cannot set `add_to_root_conflict_strategy` if `add_to_root` is false",
        ));
    }
    config.finish()?;
    Ok(Json {
        target_field: target.unwrap_or_else(|| field.clone()),
        field,
        add_to_root,
        merge: strategy.as_deref() == Some("merge"),
        allow_duplicate_keys,
    })
}

impl Processor for Json {
    fn kind(&self) -> &'static str {
        "json"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, false, "json")? else {
            return Ok(Flow::Continue);
        };
        let text = expect_string(&value, &self.field)?;
        let parsed = if self.allow_duplicate_keys {
            // serde_json keeps the last of duplicate keys, as Jackson does when allowed.
            serde_json::from_str::<serde_json::Value>(text).map(JsonValue::from_value)
        } else {
            JsonValue::from_slice(text.as_bytes()).map(JsonValue::into_owned)
        }
        .map_err(|error| {
            PipelineError::new(
                "x_content_parse_exception",
                format!("cannot parse the JSON in field [{}]: {error}", self.field),
            )
        })?;
        if !self.add_to_root {
            document.set(&self.target_field, parsed)?;
            return Ok(Flow::Continue);
        }
        let JsonValue::Object(object) = parsed else {
            return Err(PipelineError::illegal_argument(
                "cannot add non-map fields to root of document",
            ));
        };
        for (key, value) in object.iter() {
            let value = value.clone();
            match (self.merge, document.source.get_mut(key)) {
                (true, Some(JsonValue::Object(existing))) => {
                    if let JsonValue::Object(incoming) = value {
                        merge(existing, incoming);
                        continue;
                    }
                    document.source.insert(key.to_string(), value);
                }
                _ => document.source.insert(key.to_string(), value),
            }
        }
        document.source_modified = true;
        Ok(Flow::Continue)
    }
}

fn merge<'a>(
    into: &mut logfleet_model::json::JsonObject<'a>,
    from: logfleet_model::json::JsonObject<'a>,
) {
    for (key, value) in from.iter() {
        match (into.get_mut(key), value) {
            (Some(JsonValue::Object(existing)), JsonValue::Object(incoming)) => {
                merge(existing, incoming.clone())
            }
            _ => into.insert(key.to_string(), value.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::json;

    #[test]
    fn parses_into_a_field_or_the_root() {
        let out = run(
            json!({"json": {"field": "m", "target_field": "p"}}),
            json!({"m": "{\"a\":[1,{\"b\":null}]}"}),
        );
        assert_eq!(out["p"], json!({"a": [1, {"b": null}]}));
        let out = run(
            json!({"json": {"field": "m", "add_to_root": true}}),
            json!({"m": "{\"a\":1}", "a": 0}),
        );
        assert_eq!(out["a"], 1);
        let out = run(
            json!({"json": {"field": "m", "add_to_root": true, "add_to_root_conflict_strategy": "merge"}}),
            json!({"m": "{\"o\":{\"y\":2}}", "o": {"x": 1}}),
        );
        assert_eq!(out["o"], json!({"x": 1, "y": 2}));
        let out = run(json!({"json": {"field": "m"}}), json!({"m": "42"}));
        assert_eq!(out["m"], 42);
    }

    #[test]
    fn failures() {
        assert!(
            run_error(json!({"json": {"field": "m"}}), json!({"m": "{oops"}))
                .contains("cannot parse the JSON")
        );
        assert!(
            run_error(
                json!({"json": {"field": "m"}}),
                json!({"m": "{\"a\":1,\"a\":2}"})
            )
            .contains("cannot parse")
        );
        let out = run(
            json!({"json": {"field": "m", "allow_duplicate_keys": true}}),
            json!({"m": "{\"a\":1,\"a\":2}"}),
        );
        assert_eq!(out["m"], json!({"a": 2}));
        assert!(
            build_error(json!({"json": {"field": "m", "add_to_root": true, "target_field": "x"}}))
                .contains("add_to_root")
        );
    }
}
