//! Index templates (`PUT /_index_template/{name}`): the mappings, settings and kind (index or
//! data stream) a new target gets when its name matches a pattern.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::alias::AliasProperties;
use crate::error::{StoreError, StoreResult};
use crate::expression::wildcard_match;
use crate::mapping::{DynamicStyle, Mapping};

/// A composable index template, as stored and as shown by `GET /_index_template`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexTemplate {
    /// The template's name.
    pub name: String,
    /// Name patterns with `*` wildcards.
    pub index_patterns: Vec<String>,
    /// Higher wins when several templates match.
    pub priority: i64,
    /// Whether matching names become data streams.
    pub data_stream: bool,
    /// The body as given, echoed back by `GET`.
    pub body: Value,
}

impl IndexTemplate {
    /// Parses a `PUT /_index_template/{name}` body.
    pub fn parse(name: &str, body: &Value) -> StoreResult<IndexTemplate> {
        let Value::Object(object) = body else {
            return Err(StoreError::IllegalArgument(
                "index template body must be an object".into(),
            ));
        };
        let mut index_patterns = Vec::new();
        let mut priority = 0;
        let mut data_stream = false;
        for (key, value) in object {
            match key.as_str() {
                "index_patterns" => {
                    index_patterns = parse_index_patterns(value)?;
                }
                "priority" => {
                    priority = value.as_i64().ok_or_else(|| {
                        StoreError::IllegalArgument("[priority] must be an integer".into())
                    })?;
                }
                "data_stream" => data_stream = value.is_object(),
                "composed_of" | "ignore_missing_component_templates"
                    if !value
                        .as_array()
                        .is_some_and(|names| names.iter().all(Value::is_string)) =>
                {
                    return Err(StoreError::IllegalArgument(format!(
                        "[{key}] must be an array of strings"
                    )));
                }
                "template"
                | "composed_of"
                | "ignore_missing_component_templates"
                | "version"
                | "_meta"
                | "allow_auto_create"
                | "deprecated" => {}
                other => {
                    return Err(StoreError::IllegalArgument(format!(
                        "[index_template] unknown field [{other}]"
                    )));
                }
            }
        }
        if index_patterns.is_empty() {
            return Err(StoreError::IllegalArgument(
                "Validation Failed: 1: index patterns are missing;".into(),
            ));
        }
        let template = IndexTemplate {
            name: name.to_owned(),
            index_patterns,
            priority,
            data_stream,
            body: body.clone(),
        };
        // Validate the mapping now, so a broken template is refused rather than breaking
        // every later write that matches it.
        template.mapping(DynamicStyle::Index)?;
        template.total_fields_limit()?;
        template.aliases("index")?;
        Ok(template)
    }

    /// The component templates it is composed of, in order.
    pub fn composed_of(&self) -> Vec<String> {
        string_array(self.body.get("composed_of"))
    }

    /// Components that may be missing (`ignore_missing_component_templates`).
    pub fn ignore_missing_component_templates(&self) -> Vec<String> {
        string_array(self.body.get("ignore_missing_component_templates"))
    }

    /// Whether `name` matches one of the patterns.
    pub fn matches(&self, name: &str) -> bool {
        self.index_patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, name))
    }

    fn template_section(&self) -> Option<&Map<String, Value>> {
        self.body.get("template").and_then(Value::as_object)
    }

    /// The index settings a new target gets from this template.
    pub fn settings(&self) -> Option<&Value> {
        self.template_section()?.get("settings")
    }

    /// The mapping a new target gets from this template.
    pub fn mapping(&self, style: DynamicStyle) -> StoreResult<Mapping> {
        let mut mapping = Mapping::new(style);
        if let Some(limit) = self.total_fields_limit()? {
            mapping.total_fields_limit = limit;
        }
        if let Some(mappings) = self
            .template_section()
            .and_then(|section| section.get("mappings"))
        {
            mapping.merge_explicit(mappings)?;
        }
        Ok(mapping)
    }

    /// `template.aliases` for a new target named `target`: alias names with their
    /// definitions, `{index}` in a name standing for the target's name.
    pub fn aliases(&self, target: &str) -> StoreResult<Vec<(String, AliasProperties)>> {
        match self
            .template_section()
            .and_then(|section| section.get("aliases"))
        {
            Some(aliases) => parse_aliases(aliases, target),
            None => Ok(Vec::new()),
        }
    }

    /// `template.lifecycle.data_retention`.
    pub fn retention(&self) -> Option<String> {
        self.template_section()?
            .get("lifecycle")?
            .get("data_retention")?
            .as_str()
            .map(str::to_owned)
    }

    /// `template.data_stream_options.failure_store.enabled`, when the template says.
    pub fn failure_store(&self) -> Option<bool> {
        self.template_section()?
            .get("data_stream_options")?
            .get("failure_store")?
            .get("enabled")?
            .as_bool()
    }

    /// The lifecycle policy named by `index.lifecycle.name` in the template's settings.
    pub fn lifecycle_name(&self) -> Option<String> {
        self.string_setting("lifecycle.name")
    }

    /// `index.default_pipeline` and `index.final_pipeline` in the template's settings.
    pub fn ingest_pipelines(&self) -> crate::target::IngestPipelineSettings {
        self.template_section()
            .and_then(|section| section.get("settings"))
            .map(crate::target::IngestPipelineSettings::from_settings)
            .unwrap_or_default()
    }

    /// A string index setting of the template (`lifecycle.rollover_alias`), written with or
    /// without the `index.` prefix, flat or nested.
    pub fn string_setting(&self, key: &str) -> Option<String> {
        string_setting(self.template_section()?.get("settings")?, key)
    }

    fn total_fields_limit(&self) -> StoreResult<Option<usize>> {
        match self
            .template_section()
            .and_then(|section| section.get("settings"))
        {
            Some(settings) => total_fields_limit_setting(settings),
            None => Ok(None),
        }
    }
}

/// Reads `index.mapping.total_fields.limit` from index settings, in any of the shapes
/// Elasticsearch accepts (flat dotted keys, nested objects, with or without `index.`).
pub fn total_fields_limit_setting(settings: &Value) -> StoreResult<Option<usize>> {
    let flattened = flatten_settings(settings);
    let value = flattened
        .iter()
        .find(|(key, _)| {
            key == "index.mapping.total_fields.limit" || key == "mapping.total_fields.limit"
        })
        .map(|(_, value)| value.clone());
    match value {
        None => Ok(None),
        Some(Value::Number(number)) if number.as_u64().is_some() => {
            Ok(number.as_u64().map(|limit| limit as usize))
        }
        Some(Value::String(text)) => text.parse().map(Some).map_err(|_| {
            StoreError::IllegalArgument(format!(
                "Failed to parse value [{text}] for setting [index.mapping.total_fields.limit]"
            ))
        }),
        Some(other) => Err(StoreError::IllegalArgument(format!(
            "Failed to parse value [{other}] for setting [index.mapping.total_fields.limit]"
        ))),
    }
}

/// Parses `index_patterns`: one pattern or an array of them.
pub(crate) fn parse_index_patterns(value: &Value) -> StoreResult<Vec<String>> {
    match value {
        Value::String(pattern) => Ok(vec![pattern.clone()]),
        Value::Array(patterns) => patterns
            .iter()
            .map(|pattern| {
                pattern.as_str().map(str::to_owned).ok_or_else(|| {
                    StoreError::IllegalArgument("[index_patterns] must contain strings".into())
                })
            })
            .collect(),
        _ => Err(StoreError::IllegalArgument(
            "[index_patterns] must be a string or an array of strings".into(),
        )),
    }
}

fn string_array(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// Merges one template section (`{"settings", "mappings", "aliases", "lifecycle"}`) over
/// another, as Elasticsearch composes component templates and merges legacy ones: mappings,
/// aliases and lifecycle key by key, recursively; settings by their flattened name, so that
/// `{"index": {"a": 1}}` and `{"index.a": 2}` are the same setting.
pub fn merge_template_section(base: &mut Value, overlay: &Value) {
    let Value::Object(overlay) = overlay else {
        return;
    };
    if !base.is_object() {
        *base = Value::Object(Map::new());
    }
    for (key, value) in overlay {
        if key == "settings" {
            let mut flat = Map::new();
            for (name, setting) in flatten_settings(value) {
                let name = name.strip_prefix("index.").unwrap_or(&name).to_owned();
                flat.insert(name, setting);
            }
            let slot = &mut base["settings"];
            let mut merged = match slot.take() {
                Value::Object(existing) => existing,
                _ => Map::new(),
            };
            merged.extend(flat);
            *slot = Value::Object(merged);
        } else {
            deep_merge(&mut base[key.as_str()], value);
        }
    }
}

/// Merges `overlay` into `base`: objects key by key, anything else replaced.
fn deep_merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, overlay) => *base = overlay.clone(),
    }
}

/// Index settings as Elasticsearch renders them: nested under `index`, with string values.
pub fn render_settings(settings: &Value) -> Value {
    let mut rendered = Map::new();
    for (key, value) in flatten_settings(settings) {
        let key = if key.starts_with("index.") {
            key
        } else {
            format!("index.{key}")
        };
        let text = match value {
            Value::String(text) => text,
            other => other.to_string(),
        };
        insert_dotted(&mut rendered, &key, Value::String(text));
    }
    Value::Object(rendered)
}

fn insert_dotted(object: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        Some((head, rest)) => {
            let child = object
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(child) = child {
                insert_dotted(child, rest, value);
            }
        }
        None => {
            object.insert(key.to_owned(), value);
        }
    }
}

/// A string index setting (`lifecycle.name`), written with or without the `index.` prefix,
/// flat or nested.
pub fn string_setting(settings: &Value, key: &str) -> Option<String> {
    flatten_settings(settings)
        .into_iter()
        .find(|(name, _)| name.strip_prefix("index.").unwrap_or(name) == key)
        .and_then(|(_, value)| value.as_str().map(str::to_owned))
}

/// Flattens nested settings objects to dotted keys.
pub fn flatten_settings(settings: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, child, out);
                }
            }
            leaf => out.push((prefix.to_owned(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", settings, &mut out);
    out
}

/// Parses an `aliases` object (of `PUT /{index}` or a template) for a target named `target`.
pub fn parse_aliases(aliases: &Value, target: &str) -> StoreResult<Vec<(String, AliasProperties)>> {
    let Value::Object(aliases) = aliases else {
        return Err(StoreError::IllegalArgument(
            "[aliases] must be an object".into(),
        ));
    };
    aliases
        .iter()
        .map(|(name, body)| {
            let name = name.replace("{index}", target);
            let properties = AliasProperties::parse(&name, body)?;
            Ok((name, properties))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_data_stream_template() {
        let body = json!({
            "index_patterns": ["app-*"],
            "data_stream": {},
            "priority": 200,
            "template": {
                "settings": {"index": {"mapping": {"total_fields": {"limit": "50"}}}},
                "mappings": {"properties": {"latency": {"type": "double"}}},
                "lifecycle": {"data_retention": "7d"}
            }
        });
        let template = IndexTemplate::parse("app", &body).unwrap();
        assert!(template.data_stream);
        assert!(template.matches("app-x"));
        let mapping = template.mapping(DynamicStyle::DataStream).unwrap();
        assert_eq!(mapping.total_fields_limit, 50);
        assert!(mapping.resolve("latency").is_some());
        assert_eq!(template.retention().as_deref(), Some("7d"));
        assert_eq!(template.lifecycle_name(), None);
        let with_policy = json!({
            "index_patterns": ["filebeat-8.17.0"],
            "data_stream": {},
            "template": {"settings": {"index": {"lifecycle": {"name": "filebeat"}}}}
        });
        let template = IndexTemplate::parse("filebeat-8.17.0", &with_policy).unwrap();
        assert_eq!(template.lifecycle_name().as_deref(), Some("filebeat"));
    }

    #[test]
    fn rejects_broken_templates() {
        assert!(IndexTemplate::parse("t", &json!({"template": {}})).is_err());
        let bad_mapping = json!({"index_patterns": "x*", "template": {"mappings": {"properties": {"a": {"type": "nope"}}}}});
        assert!(IndexTemplate::parse("t", &bad_mapping).is_err());
        assert!(IndexTemplate::parse("t", &json!({"index_patterns": "x*", "bogus": 1})).is_err());
    }
}
