//! Component templates (`PUT /_component_template/{name}`): reusable building blocks of
//! mappings, settings, aliases and lifecycle that index templates list in `composed_of`.
//! Elastic Agent's integrations and most hand-written setups are built from them. A new
//! target's template is composed when the target is created: the components in order, then
//! the index template's own `template` on top, so later ones win.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{StoreError, StoreResult};
use crate::mapping::{DynamicStyle, Mapping};
use crate::template::{IndexTemplate, merge_template_section, parse_aliases};

/// Where component templates are kept, in the data directory.
pub(crate) const COMPONENT_TEMPLATES_FILE: &str = "component_templates.json";

/// A component template as stored and as `GET /_component_template` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentTemplate {
    /// The template's name.
    pub name: String,
    /// The body as given.
    pub body: Value,
}

impl ComponentTemplate {
    /// Parses a `PUT /_component_template/{name}` body, validating what it would apply.
    pub fn parse(name: &str, body: &Value) -> StoreResult<ComponentTemplate> {
        let Value::Object(object) = body else {
            return Err(StoreError::IllegalArgument(
                "component template body must be an object".into(),
            ));
        };
        if let Some(key) = object.keys().find(|key| {
            !matches!(
                key.as_str(),
                "template" | "version" | "_meta" | "deprecated"
            )
        }) {
            return Err(StoreError::IllegalArgument(format!(
                "[component_template] unknown field [{key}]"
            )));
        }
        let Some(Value::Object(section)) = object.get("template") else {
            return Err(StoreError::IllegalArgument(
                "[component_template] Required [template]".into(),
            ));
        };
        if let Some(key) = section.keys().find(|key| {
            !matches!(
                key.as_str(),
                "settings" | "mappings" | "aliases" | "lifecycle" | "data_stream_options"
            )
        }) {
            return Err(StoreError::IllegalArgument(format!(
                "[template] unknown field [{key}]"
            )));
        }
        if let Some(mappings) = section.get("mappings") {
            Mapping::new(DynamicStyle::Index).merge_explicit(mappings)?;
        }
        if let Some(aliases) = section.get("aliases") {
            parse_aliases(aliases, "index")?;
        }
        Ok(ComponentTemplate {
            name: name.to_owned(),
            body: body.clone(),
        })
    }

    fn section(&self) -> &Value {
        &self.body["template"]
    }
}

/// `template` with its components composed in: the result's `template` section is what a
/// new target gets. Components that do not exist (allowed only when the template lists
/// them in `ignore_missing_component_templates`) contribute nothing.
pub fn compose(
    template: &IndexTemplate,
    components: &BTreeMap<String, ComponentTemplate>,
) -> IndexTemplate {
    let names = template.composed_of();
    if names.is_empty() {
        return template.clone();
    }
    let mut section = json!({});
    for name in &names {
        if let Some(component) = components.get(name) {
            merge_template_section(&mut section, component.section());
        }
    }
    if let Some(own) = template.body.get("template") {
        merge_template_section(&mut section, own);
    }
    let mut composed = template.clone();
    composed.body["template"] = section;
    composed
}

/// Checks that every component a template names exists, unless the template allows it to
/// be missing.
pub fn check_components(
    template: &IndexTemplate,
    components: &BTreeMap<String, ComponentTemplate>,
) -> StoreResult<()> {
    let allowed = template.ignore_missing_component_templates();
    let missing: Vec<String> = template
        .composed_of()
        .into_iter()
        .filter(|name| !components.contains_key(name) && !allowed.contains(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(StoreError::InvalidIndexTemplate {
        name: template.name.clone(),
        cause: format!(
            "index template [{}] specifies component templates {missing:?} that do not exist",
            template.name
        )
        .replace('"', ""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::FieldType;

    fn component(name: &str, body: Value) -> (String, ComponentTemplate) {
        (
            name.to_owned(),
            ComponentTemplate::parse(name, &body).unwrap(),
        )
    }

    #[test]
    fn components_compose_in_order_under_the_templates_own() {
        let components: BTreeMap<String, ComponentTemplate> = [
            component(
                "base",
                json!({"template": {
                    "settings": {"index": {"lifecycle": {"name": "keep"}}},
                    "mappings": {"properties": {"a": {"type": "keyword"}, "b": {"type": "keyword"}}},
                    "aliases": {"everything": {}}}}),
            ),
            component(
                "numbers",
                json!({"template": {"mappings": {"properties": {"b": {"type": "long"}}},
                                    "settings": {"index.lifecycle.name": "longer"}}}),
            ),
        ]
        .into_iter()
        .collect();
        let template = IndexTemplate::parse(
            "app",
            &json!({"index_patterns": ["app-*"], "composed_of": ["base", "numbers"],
                    "template": {"mappings": {"properties": {"c": {"type": "ip"}}}}}),
        )
        .unwrap();
        check_components(&template, &components).unwrap();
        let composed = compose(&template, &components);
        let mapping = composed.mapping(DynamicStyle::Index).unwrap();
        assert_eq!(mapping.resolve("a").unwrap().field_type, FieldType::Keyword);
        assert_eq!(mapping.resolve("b").unwrap().field_type, FieldType::Long);
        assert_eq!(mapping.resolve("c").unwrap().field_type, FieldType::Ip);
        assert_eq!(composed.lifecycle_name().as_deref(), Some("longer"));
        assert_eq!(composed.aliases("app-1").unwrap().len(), 1);
    }

    #[test]
    fn missing_components_are_refused_unless_allowed() {
        let components = BTreeMap::new();
        let strict = IndexTemplate::parse(
            "t",
            &json!({"index_patterns": ["t-*"], "composed_of": ["gone"]}),
        )
        .unwrap();
        let error = check_components(&strict, &components).unwrap_err();
        assert_eq!(
            error.to_string(),
            "index_template [t] invalid, cause [index template [t] specifies component templates [gone] that do not exist]"
        );
        let lenient = IndexTemplate::parse(
            "t",
            &json!({"index_patterns": ["t-*"], "composed_of": ["gone"],
                    "ignore_missing_component_templates": ["gone"]}),
        )
        .unwrap();
        check_components(&lenient, &components).unwrap();
        assert!(ComponentTemplate::parse("c", &json!({"template": {"mapping": {}}})).is_err());
        assert!(ComponentTemplate::parse("c", &json!({"settings": {}})).is_err());
        assert!(
            ComponentTemplate::parse(
                "c",
                &json!({"template": {"mappings": {"properties": {"x": {"type": "nope"}}}}})
            )
            .is_err()
        );
    }
}
