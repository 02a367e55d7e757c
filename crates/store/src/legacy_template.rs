//! Legacy index templates (`PUT /_template/{name}`), which older shippers still install:
//! patterns, an `order`, and the settings, mappings and aliases a new index gets. They apply
//! only where no composable template matches, as in Elasticsearch 8, and every matching one
//! applies, merged in ascending `order` so that the highest wins on conflicts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{StoreError, StoreResult};
use crate::expression::wildcard_match;
use crate::mapping::{DynamicStyle, Mapping};
use crate::template::{
    IndexTemplate, merge_template_section, parse_aliases, parse_index_patterns, render_settings,
};

/// Where legacy templates are kept, in the data directory.
pub(crate) const LEGACY_TEMPLATES_FILE: &str = "legacy_templates.json";

/// A legacy template as stored and as `GET /_template` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyTemplate {
    /// The template's name.
    pub name: String,
    /// Name patterns with `*` wildcards.
    pub index_patterns: Vec<String>,
    /// Lower orders apply first; higher ones override them.
    pub order: i64,
    /// The user's version number, if any.
    pub version: Option<i64>,
    /// Settings, as given.
    pub settings: Value,
    /// Mappings, as given.
    pub mappings: Value,
    /// Aliases, as given.
    pub aliases: Value,
}

impl LegacyTemplate {
    /// Parses a `PUT /_template/{name}` body, validating its mappings and aliases.
    pub fn parse(name: &str, body: &Value) -> StoreResult<LegacyTemplate> {
        let Value::Object(object) = body else {
            return Err(StoreError::IllegalArgument(
                "index template body must be an object".into(),
            ));
        };
        let mut template = LegacyTemplate {
            name: name.to_owned(),
            index_patterns: Vec::new(),
            order: 0,
            version: None,
            settings: json!({}),
            mappings: json!({}),
            aliases: json!({}),
        };
        for (key, value) in object {
            match key.as_str() {
                "index_patterns" | "template" => {
                    template.index_patterns = parse_index_patterns(value)?;
                }
                "order" => template.order = integer(key, value)?,
                "version" => template.version = Some(integer(key, value)?),
                "settings" | "mappings" | "aliases" if value.is_object() => {
                    let slot = match key.as_str() {
                        "settings" => &mut template.settings,
                        "mappings" => &mut template.mappings,
                        _ => &mut template.aliases,
                    };
                    *slot = value.clone();
                }
                "settings" | "mappings" | "aliases" => {
                    return Err(StoreError::IllegalArgument(format!(
                        "[{key}] must be an object"
                    )));
                }
                other => {
                    return Err(StoreError::IllegalArgument(format!(
                        "unknown key [{other}] in the template"
                    )));
                }
            }
        }
        if template.index_patterns.is_empty() {
            return Err(StoreError::IllegalArgument(
                "Validation Failed: 1: index patterns are missing;".into(),
            ));
        }
        Mapping::new(DynamicStyle::Index).merge_explicit(&template.mappings)?;
        parse_aliases(&template.aliases, "index")?;
        Ok(template)
    }

    /// Whether `name` matches one of the patterns.
    pub fn matches(&self, name: &str) -> bool {
        self.index_patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, name))
    }

    /// The template as `GET /_template` renders it (settings as [`render_settings`] gives
    /// them).
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("order".into(), json!(self.order));
        if let Some(version) = self.version {
            object.insert("version".into(), json!(version));
        }
        object.insert("index_patterns".into(), json!(self.index_patterns));
        object.insert("settings".into(), render_settings(&self.settings));
        object.insert("mappings".into(), self.mappings.clone());
        object.insert("aliases".into(), self.aliases.clone());
        Value::Object(object)
    }
}

fn integer(key: &str, value: &Value) -> StoreResult<i64> {
    value
        .as_i64()
        .ok_or_else(|| StoreError::IllegalArgument(format!("[{key}] must be an integer")))
}

/// The templates matching `name`, merged into one composable-shaped template (named after
/// the highest-order one); `None` if none matches.
pub fn merge_matching<'a>(
    templates: impl Iterator<Item = &'a LegacyTemplate>,
    name: &str,
) -> Option<IndexTemplate> {
    let mut matching: Vec<&LegacyTemplate> = templates
        .filter(|template| template.matches(name))
        .collect();
    matching.sort_by_key(|template| template.order);
    let last = matching.last()?;
    let mut section = json!({});
    for template in &matching {
        merge_template_section(
            &mut section,
            &json!({"settings": template.settings, "mappings": template.mappings,
                    "aliases": template.aliases}),
        );
    }
    let body = json!({"index_patterns": last.index_patterns, "template": section});
    Some(IndexTemplate {
        name: last.name.clone(),
        index_patterns: last.index_patterns.clone(),
        priority: last.order,
        data_stream: false,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::FieldType;

    fn template(name: &str, body: Value) -> LegacyTemplate {
        LegacyTemplate::parse(name, &body).unwrap()
    }

    #[test]
    fn parses_and_renders_like_elasticsearch() {
        let legacy = template(
            "fluentd",
            json!({"index_patterns": "fluentd-*", "order": 5, "version": 2,
                   "settings": {"number_of_shards": 1, "index.refresh_interval": "5s"},
                   "mappings": {"properties": {"host": {"type": "keyword"}}}}),
        );
        assert_eq!(
            legacy.to_json(),
            json!({"order": 5, "version": 2, "index_patterns": ["fluentd-*"],
                   "settings": {"index": {"number_of_shards": "1", "refresh_interval": "5s"}},
                   "mappings": {"properties": {"host": {"type": "keyword"}}},
                   "aliases": {}})
        );
        for bad in [
            json!({"order": 1}),
            json!({"index_patterns": ["x"], "order": "first"}),
            json!({"index_patterns": ["x"], "mappings": {"properties": {"a": {"type": "nope"}}}}),
            json!({"index_patterns": ["x"], "colour": "blue"}),
        ] {
            assert!(LegacyTemplate::parse("bad", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_templates_merge_by_order() {
        let low = template(
            "low",
            json!({"index_patterns": ["app-*"], "order": 0,
                   "settings": {"index": {"mapping": {"total_fields": {"limit": 50}}}},
                   "mappings": {"properties": {"a": {"type": "keyword"}, "b": {"type": "keyword"}}}}),
        );
        let high = template(
            "high",
            json!({"index_patterns": ["app-web-*"], "order": 1,
                   "settings": {"index.mapping.total_fields.limit": 70},
                   "mappings": {"properties": {"b": {"type": "long"}}},
                   "aliases": {"web": {}}}),
        );
        let other = template("other", json!({"index_patterns": ["db-*"]}));
        let templates = [high.clone(), low.clone(), other];
        let merged = merge_matching(templates.iter(), "app-web-1").unwrap();
        assert_eq!(merged.name, "high");
        let mapping = merged.mapping(DynamicStyle::Index).unwrap();
        assert_eq!(mapping.total_fields_limit, 70);
        assert_eq!(mapping.resolve("a").unwrap().field_type, FieldType::Keyword);
        assert_eq!(mapping.resolve("b").unwrap().field_type, FieldType::Long);
        assert_eq!(merged.aliases("app-web-1").unwrap().len(), 1);
        let only_low = merge_matching(templates.iter(), "app-db").unwrap();
        assert_eq!(only_low.name, "low");
        assert!(merge_matching(templates.iter(), "nothing").is_none());
    }
}
