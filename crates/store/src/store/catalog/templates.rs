//! Index templates (composable and legacy) and component templates, and which one a new
//! target is created from.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::component_template::{ComponentTemplate, check_components, compose};
use crate::error::{StoreError, StoreResult};
use crate::expression::Expression;
use crate::legacy_template::{LegacyTemplate, merge_matching};
use crate::mapping::DynamicStyle;
use crate::persist::Persisted;
use crate::store::catalog::targets::is_builtin_data_stream;
use crate::store::{Inner, Store};
use crate::template::IndexTemplate;

/// Where index templates are kept, in the data directory.
pub(in crate::store) const TEMPLATES_FILE: &str = "templates.json";

impl Store {
    /// Stores an index template, checking that its components exist and that it composes
    /// with them into something usable.
    pub fn put_template(&self, name: &str, body: &Value) -> StoreResult<()> {
        let template = IndexTemplate::parse(name, body)?;
        {
            let components = self.inner.read_components();
            check_components(&template, &components)?;
            let composed = compose(&template, &components);
            composed.mapping(DynamicStyle::Index)?;
            composed.aliases("index")?;
        }
        self.inner.templates.update(|templates| {
            templates.insert(name.to_owned(), template);
            Ok(true)
        })?;
        Ok(())
    }

    /// Templates whose names `names` selects (a comma list with wildcards; `*` for all).
    pub fn templates(&self, names: &str) -> Vec<IndexTemplate> {
        Expression::parse(names).select(&self.inner.templates.read())
    }

    /// Deletes an index template.
    pub fn delete_template(&self, name: &str) -> StoreResult<bool> {
        self.inner
            .templates
            .update(|templates| Ok(templates.remove(name).is_some()))
    }

    /// Stores a component template (`PUT /_component_template/{name}`); with `create`, fails
    /// if one of that name exists.
    pub fn put_component_template(
        &self,
        name: &str,
        body: &Value,
        create: bool,
    ) -> StoreResult<()> {
        let component = ComponentTemplate::parse(name, body)?;
        put_named(
            &self.inner.component_templates,
            name,
            component,
            create,
            "component template",
        )
    }

    /// What a new target named `name` would be created from
    /// (`POST /_index_template/_simulate_index/{name}`): the template, composed with its
    /// components or merged from legacy ones, and the other composable templates that match
    /// with a lower priority.
    pub fn simulate_template(&self, name: &str) -> (Option<IndexTemplate>, Vec<IndexTemplate>) {
        let chosen = self.inner.template_for(name);
        let overlapping = self
            .inner
            .templates
            .read()
            .values()
            .filter(|template| template.matches(name))
            .filter(|template| {
                chosen
                    .as_ref()
                    .is_none_or(|chosen| chosen.name != template.name)
            })
            .cloned()
            .collect();
        (chosen, overlapping)
    }

    /// Component templates whose names `names` selects (a comma list with wildcards).
    pub fn component_templates(&self, names: &str) -> Vec<ComponentTemplate> {
        Expression::parse(names).select(&self.inner.read_components())
    }

    /// Deletes a component template; whether there was one. One that index templates are
    /// composed of cannot be deleted, as in Elasticsearch.
    pub fn delete_component_template(&self, name: &str) -> StoreResult<bool> {
        let users: Vec<String> = self
            .inner
            .templates
            .read()
            .values()
            .filter(|template| template.composed_of().iter().any(|used| used == name))
            .map(|template| template.name.clone())
            .collect();
        if !users.is_empty() {
            return Err(StoreError::IllegalArgument(format!(
                "component templates [{name}] cannot be removed as they are still in use by index templates [{}]",
                users.join(", ")
            )));
        }
        self.inner
            .component_templates
            .update(|components| Ok(components.remove(name).is_some()))
    }

    /// Stores a legacy template (`PUT /_template/{name}`); with `create`, fails if one of
    /// that name exists.
    pub fn put_legacy_template(&self, name: &str, body: &Value, create: bool) -> StoreResult<()> {
        let template = LegacyTemplate::parse(name, body)?;
        put_named(
            &self.inner.legacy_templates,
            name,
            template,
            create,
            "index_template",
        )
    }

    /// Legacy templates whose names `names` selects (a comma list with wildcards).
    pub fn legacy_templates(&self, names: &str) -> Vec<LegacyTemplate> {
        Expression::parse(names).select(&self.inner.legacy_templates.read())
    }

    /// Deletes a legacy template; whether there was one.
    pub fn delete_legacy_template(&self, name: &str) -> StoreResult<bool> {
        self.inner
            .legacy_templates
            .update(|templates| Ok(templates.remove(name).is_some()))
    }
}

impl Inner {
    /// The template a new target named `name` is created from: the composable template of
    /// highest priority, else the legacy templates that match, merged. Names that become
    /// built-in data streams never take legacy templates, as Elasticsearch's built-in `logs`
    /// template outranks them.
    pub(in crate::store) fn template_for(&self, name: &str) -> Option<IndexTemplate> {
        let templates = self.templates.read();
        let composable = templates
            .values()
            .filter(|template| template.matches(name))
            .max_by_key(|template| template.priority)
            .map(|template| compose(template, &self.read_components()));
        if composable.is_some() || is_builtin_data_stream(name) {
            return composable;
        }
        drop(templates);
        let legacy = self.legacy_templates.read();
        merge_matching(legacy.values(), name)
    }
}

/// Stores `value` as `name` in `map`; with `create`, refuses a name that is taken, calling
/// what is stored there `what`.
fn put_named<T: Serialize + DeserializeOwned + Clone>(
    map: &Persisted<BTreeMap<String, T>>,
    name: &str,
    value: T,
    create: bool,
    what: &str,
) -> StoreResult<()> {
    map.update(|values| {
        if create && values.contains_key(name) {
            return Err(StoreError::IllegalArgument(format!(
                "{what} [{name}] already exists"
            )));
        }
        values.insert(name.to_owned(), value);
        Ok(true)
    })?;
    Ok(())
}
