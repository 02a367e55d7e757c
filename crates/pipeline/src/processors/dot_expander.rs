//! `dot_expander`: a field with dots in its name (`"a.b": 1`) expanded into objects
//! (`"a": {"b": 1}`), so that other processors can reach it by path.

use logfleet_model::json::{JsonObject, JsonValue};

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Expands dotted field names.
#[derive(Debug)]
pub struct DotExpander {
    field: String,
    path: Option<String>,
    override_existing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<DotExpander, ConfigError> {
    let field = config.string("field")?;
    if field != "*"
        && (!field.contains('.')
            || field.starts_with('.')
            || field.ends_with('.')
            || field.contains(".."))
    {
        return Err(config.error(
            "field",
            "field does not contain a dot and is not a wildcard",
        ));
    }
    let path = config.optional_string("path")?;
    let override_existing = config.boolean("override", false)?;
    config.finish()?;
    Ok(DotExpander {
        field,
        path,
        override_existing,
    })
}

impl Processor for DotExpander {
    fn kind(&self) -> &'static str {
        "dot_expander"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let parent: &mut JsonObject<'_> = match &self.path {
            None => &mut document.source,
            Some(path) => match document.get_mut(path)? {
                Some(JsonValue::Object(object)) => object,
                _ => return Ok(Flow::Continue),
            },
        };
        let keys: Vec<String> = if self.field == "*" {
            parent
                .keys()
                .filter(|key| key.contains('.'))
                .map(str::to_owned)
                .collect()
        } else if parent.contains_key(&self.field) {
            vec![self.field.clone()]
        } else {
            Vec::new()
        };
        for key in keys {
            let value = parent.remove(&key).unwrap_or(JsonValue::Null);
            expand(parent, &key, value, self.override_existing)?;
        }
        document.source_modified = true;
        Ok(Flow::Continue)
    }
}

fn expand<'a>(
    object: &mut JsonObject<'a>,
    key: &str,
    value: JsonValue<'a>,
    override_existing: bool,
) -> Result<(), PipelineError> {
    match key.split_once('.') {
        None => {
            match object.get_mut(key) {
                Some(existing) if !override_existing => {
                    if !matches!(existing, JsonValue::Array(_)) {
                        let single = std::mem::replace(existing, JsonValue::Null);
                        *existing = JsonValue::Array(vec![single]);
                    }
                    if let JsonValue::Array(items) = existing {
                        items.push(value);
                    }
                }
                _ => object.insert(key.to_owned(), value),
            }
            Ok(())
        }
        Some((head, rest)) => {
            if !matches!(object.get(head), Some(JsonValue::Object(_))) {
                if let Some(existing) = object.get(head)
                    && *existing != JsonValue::Null
                {
                    return Err(PipelineError::illegal_argument(format!(
                        "cannot expand [{key}], because [{head}] is not an object"
                    )));
                }
                object.insert(head.to_owned(), JsonValue::Object(JsonObject::default()));
            }
            let Some(JsonValue::Object(child)) = object.get_mut(head) else {
                unreachable!("an object was put there")
            };
            expand(child, rest, value, override_existing)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run};
    use serde_json::json;

    #[test]
    fn expands() {
        let out = run(
            json!({"dot_expander": {"field": "a.b.c"}}),
            json!({"a.b.c": 1, "x": 2}),
        );
        assert_eq!(out, json!({"x": 2, "a": {"b": {"c": 1}}}));
        let out = run(
            json!({"dot_expander": {"field": "*"}}),
            json!({"a.b": 1, "a.c": 2}),
        );
        assert_eq!(out, json!({"a": {"b": 1, "c": 2}}));
        let out = run(
            json!({"dot_expander": {"field": "a.b"}}),
            json!({"a.b": 2, "a": {"b": 1}}),
        );
        assert_eq!(out, json!({"a": {"b": [1, 2]}}));
        let out = run(
            json!({"dot_expander": {"field": "a.b", "override": true}}),
            json!({"a.b": 2, "a": {"b": 1}}),
        );
        assert_eq!(out, json!({"a": {"b": 2}}));
        let out = run(
            json!({"dot_expander": {"field": "x.y", "path": "o"}}),
            json!({"o": {"x.y": 1}}),
        );
        assert_eq!(out, json!({"o": {"x": {"y": 1}}}));
        assert!(
            build_error(json!({"dot_expander": {"field": "plain"}}))
                .contains("does not contain a dot")
        );
    }
}
