//! Dynamic templates: the `dynamic_templates` of a mapping, which choose the mapping of a new
//! field by its detected JSON type, its name and its path before the default dynamic rules
//! apply. Templates are tried in order; the first that matches wins.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::MappingError;
use crate::expression::wildcard_match;

/// The JSON types `match_mapping_type` can name.
const DETECTED_TYPES: &[&str] = &[
    "object", "string", "long", "double", "boolean", "date", "binary",
];

/// One entry of `dynamic_templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicTemplate {
    /// The template's name.
    pub name: String,
    /// The entry as given, echoed back by `GET /_mapping`.
    pub definition: Value,
}

/// What a template gives a new field.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateMapping {
    /// This mapping (placeholders substituted).
    Mapping(Map<String, Value>),
    /// A `runtime` template: the value stays in `_source`, unindexed.
    Runtime,
}

impl DynamicTemplate {
    /// Parses one `{"name": {…}}` entry, checking its patterns and its mapping.
    pub fn parse(
        entry: &Value,
        check_mapping: impl Fn(&str, &Map<String, Value>) -> Result<(), MappingError>,
    ) -> Result<DynamicTemplate, MappingError> {
        let Some((name, body)) = entry
            .as_object()
            .filter(|object| object.len() == 1)
            .and_then(|object| object.iter().next())
        else {
            return Err(MappingError::parse(
                "A dynamic template must be defined with a name",
            ));
        };
        let Value::Object(body) = body else {
            return Err(MappingError::parse(format!(
                "dynamic template [{name}] must be an object"
            )));
        };
        let template = DynamicTemplate {
            name: name.clone(),
            definition: entry.clone(),
        };
        let mut has_mapping = false;
        for (key, value) in body {
            match key.as_str() {
                "match_mapping_type" | "unmatch_mapping_type" => {
                    for detected in strings(name, key, value)? {
                        if detected != "*" && !DETECTED_TYPES.contains(&detected) {
                            return Err(MappingError::parse(format!(
                                "No field type matched on [{detected}], possible values are [{}]",
                                DETECTED_TYPES.join(", ")
                            )));
                        }
                    }
                }
                "match" | "unmatch" | "path_match" | "path_unmatch" => {
                    strings(name, key, value)?;
                }
                "match_pattern" => match value.as_str() {
                    Some("simple" | "regex") => {}
                    _ => {
                        return Err(MappingError::parse(format!(
                            "Illegal match_pattern [{value}] in dynamic template [{name}]: \
                             expected [simple] or [regex]"
                        )));
                    }
                },
                "mapping" | "runtime" => {
                    let Value::Object(mapping) = value else {
                        return Err(MappingError::parse(format!(
                            "[{key}] of dynamic template [{name}] must be an object"
                        )));
                    };
                    if key == "mapping" {
                        let example = substitute(mapping, "field", "keyword");
                        check_mapping(&format!("dynamic template [{name}]"), &example)?;
                    }
                    has_mapping = true;
                }
                other => {
                    return Err(MappingError::parse(format!(
                        "Illegal dynamic template parameter: [{other}]"
                    )));
                }
            }
        }
        if !has_mapping {
            return Err(MappingError::parse(format!(
                "template [{name}] must have either mapping or runtime set"
            )));
        }
        if template.is_regex() {
            for key in ["match", "unmatch", "path_match", "path_unmatch"] {
                for pattern in template.patterns(key) {
                    anchored(pattern).map_err(|error| {
                        MappingError::parse(format!(
                            "Invalid regex [{pattern}] in dynamic template [{name}]: {error}"
                        ))
                    })?;
                }
            }
        }
        Ok(template)
    }

    fn body(&self) -> Option<&Map<String, Value>> {
        self.definition.get(&self.name)?.as_object()
    }

    fn patterns(&self, key: &str) -> Vec<&str> {
        match self.body().and_then(|body| body.get(key)) {
            Some(Value::String(pattern)) => vec![pattern.as_str()],
            Some(Value::Array(patterns)) => patterns.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    fn is_regex(&self) -> bool {
        self.body()
            .and_then(|body| body.get("match_pattern"))
            .and_then(Value::as_str)
            == Some("regex")
    }

    fn any_matches(&self, key: &str, text: &str) -> bool {
        let regex = self.is_regex();
        self.patterns(key).into_iter().any(|pattern| {
            if regex {
                anchored(pattern).is_ok_and(|compiled| compiled.is_match(text))
            } else {
                wildcard_match(pattern, text)
            }
        })
    }

    /// Whether this template applies to a new field at `path` whose value has the JSON type
    /// `detected` (`string`, `long`, `double`, `boolean`, `date` or `object`).
    pub fn matches(&self, path: &str, detected: &str) -> bool {
        let leaf = path.rsplit('.').next().unwrap_or(path);
        let types = self.patterns("match_mapping_type");
        if !types.is_empty() && !types.iter().any(|t| *t == "*" || *t == detected) {
            return false;
        }
        if self
            .patterns("unmatch_mapping_type")
            .iter()
            .any(|t| *t == "*" || *t == detected)
        {
            return false;
        }
        for (key, text, wanted) in [
            ("match", leaf, true),
            ("unmatch", leaf, false),
            ("path_match", path, true),
            ("path_unmatch", path, false),
        ] {
            if self.patterns(key).is_empty() {
                continue;
            }
            if self.any_matches(key, text) != wanted {
                return false;
            }
        }
        true
    }

    /// The mapping this template gives a field at `path` of JSON type `detected`.
    pub fn mapping_for(&self, path: &str, detected: &str) -> Option<TemplateMapping> {
        let body = self.body()?;
        if body.contains_key("runtime") && !body.contains_key("mapping") {
            return Some(TemplateMapping::Runtime);
        }
        let mapping = body.get("mapping")?.as_object()?;
        let leaf = path.rsplit('.').next().unwrap_or(path);
        let mut substituted = substitute(mapping, leaf, default_type(detected));
        substituted
            .entry("type")
            .or_insert_with(|| Value::String(default_type(detected).to_owned()));
        Some(TemplateMapping::Mapping(substituted))
    }
}

/// The mapping type Elasticsearch gives a detected JSON type, which `{dynamic_type}` stands for.
fn default_type(detected: &str) -> &'static str {
    match detected {
        "string" => "text",
        "long" => "long",
        "double" => "float",
        "boolean" => "boolean",
        "date" => "date",
        "binary" => "binary",
        _ => "object",
    }
}

fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

fn strings<'v>(name: &str, key: &str, value: &'v Value) -> Result<Vec<&'v str>, MappingError> {
    let invalid = || {
        MappingError::parse(format!(
            "[{key}] of dynamic template [{name}] must be a string or an array of strings"
        ))
    };
    match value {
        Value::String(text) => Ok(vec![text.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().ok_or_else(invalid))
            .collect(),
        _ => Err(invalid()),
    }
}

/// Replaces `{name}` and `{dynamic_type}` in every string of the mapping.
fn substitute(mapping: &Map<String, Value>, name: &str, dynamic_type: &str) -> Map<String, Value> {
    fn walk(value: &Value, name: &str, dynamic_type: &str) -> Value {
        match value {
            Value::String(text) => Value::String(
                text.replace("{name}", name)
                    .replace("{dynamic_type}", dynamic_type),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| walk(item, name, dynamic_type))
                    .collect(),
            ),
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, child)| {
                        (
                            key.replace("{name}", name)
                                .replace("{dynamic_type}", dynamic_type),
                            walk(child, name, dynamic_type),
                        )
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    mapping
        .iter()
        .map(|(key, value)| (key.clone(), walk(value, name, dynamic_type)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(entry: Value) -> Result<DynamicTemplate, MappingError> {
        DynamicTemplate::parse(&entry, |_, _| Ok(()))
    }

    #[test]
    fn matching_by_type_name_and_path() {
        let strings = parse(json!({"strings": {
            "match_mapping_type": "string",
            "unmatch": "*_text",
            "mapping": {"type": "keyword", "ignore_above": 1024}
        }}))
        .unwrap();
        assert!(strings.matches("user.name", "string"));
        assert!(!strings.matches("user.name", "long"));
        assert!(!strings.matches("body_text", "string"));
        let labels = parse(json!({"labels": {
            "path_match": ["labels.*", "*.tags"],
            "path_unmatch": "labels.secret.*",
            "mapping": {"type": "keyword"}
        }}))
        .unwrap();
        assert!(labels.matches("labels.app", "long"));
        assert!(labels.matches("host.tags", "string"));
        assert!(!labels.matches("labels.secret.key", "string"));
        assert!(!labels.matches("app", "string"));
        let regex = parse(json!({"ids": {
            "match_pattern": "regex",
            "match": "^[a-z]+_id$",
            "mapping": {"type": "keyword"}
        }}))
        .unwrap();
        assert!(regex.matches("trace.span_id", "string"));
        assert!(!regex.matches("span_identifier", "string"));
    }

    #[test]
    fn placeholders_and_default_types() {
        let template = parse(json!({"all": {
            "match_mapping_type": "*",
            "mapping": {"type": "{dynamic_type}", "meta": {"from": "{name}"}}
        }}))
        .unwrap();
        let Some(TemplateMapping::Mapping(mapping)) = template.mapping_for("a.count", "double")
        else {
            panic!("a mapping");
        };
        assert_eq!(mapping["type"], "float");
        assert_eq!(mapping["meta"]["from"], "count");
        let untyped = parse(json!({"t": {"mapping": {"index": false}}})).unwrap();
        let Some(TemplateMapping::Mapping(mapping)) = untyped.mapping_for("x", "string") else {
            panic!("a mapping");
        };
        assert_eq!(mapping["type"], "text");
        let runtime = parse(json!({"r": {"runtime": {}}})).unwrap();
        assert_eq!(
            runtime.mapping_for("x", "long"),
            Some(TemplateMapping::Runtime)
        );
    }

    #[test]
    fn rejects_malformed_templates() {
        for entry in [
            json!({"a": {"mapping": {}}, "b": {"mapping": {}}}),
            json!({"a": {"match": "x"}}),
            json!({"a": {"match_mapping_type": "text", "mapping": {}}}),
            json!({"a": {"match": 3, "mapping": {}}}),
            json!({"a": {"matching": "x", "mapping": {}}}),
            json!({"a": {"match_pattern": "glob", "mapping": {}}}),
            json!({"a": {"match_pattern": "regex", "match": "(", "mapping": {}}}),
        ] {
            assert!(parse(entry.clone()).is_err(), "{entry}");
        }
    }
}
