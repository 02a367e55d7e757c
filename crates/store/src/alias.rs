//! Index aliases: other names for indexes and data streams.
//!
//! An alias names one or more targets of one kind: plain indexes, or data streams. Searching
//! it searches them all, each through the alias's `filter` if it has one. Writing to it
//! writes to its *write index*, which is the member marked `is_write_index`, or the only
//! member unless that one is marked `false`. The whole table is one file, `aliases.json`,
//! replaced atomically, so a `POST /_aliases` request with many actions takes effect all at
//! once or not at all, as in Elasticsearch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{StoreError, StoreResult};
use crate::target::TargetKind;

/// Where the alias table is kept, in the data directory.
pub(crate) const ALIASES_FILE: &str = "aliases.json";

/// What one alias says about one of its members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasProperties {
    /// A query every search through the alias is limited by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// Routing of writes through the alias (kept and shown; one shard has nothing to route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_routing: Option<String>,
    /// Routing of searches through the alias (kept and shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_routing: Option<String>,
    /// Whether this member takes the alias's writes; unset means "if it is the only one".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_write_index: Option<bool>,
    /// Hidden aliases are not matched by wildcards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_hidden: Option<bool>,
}

impl AliasProperties {
    /// Parses an alias definition as `PUT /{index}` and templates give it under `aliases`:
    /// `{"filter": {…}, "routing": "1", "is_write_index": true}`.
    pub fn parse(alias: &str, body: &Value) -> StoreResult<AliasProperties> {
        let mut properties = AliasProperties::default();
        match body {
            Value::Object(object) => {
                for (key, value) in object {
                    if !properties.set(key, value)? {
                        return Err(StoreError::IllegalArgument(format!(
                            "Unknown field [{key}] in alias [{alias}]"
                        )));
                    }
                }
            }
            Value::Null => {}
            _ => {
                return Err(StoreError::IllegalArgument(format!(
                    "alias [{alias}] must be an object"
                )));
            }
        }
        Ok(properties)
    }

    /// Sets one property from its JSON key; `Ok(false)` if the key is not an alias property.
    pub fn set(&mut self, key: &str, value: &Value) -> StoreResult<bool> {
        match key {
            "filter" => match value {
                Value::Object(object) if object.is_empty() => self.filter = None,
                Value::Object(_) => self.filter = Some(value.clone()),
                Value::Null => self.filter = None,
                _ => {
                    return Err(StoreError::IllegalArgument(
                        "[filter] must be an object".into(),
                    ));
                }
            },
            "routing" => {
                let routing = routing_value(key, value)?;
                self.index_routing = routing.clone();
                self.search_routing = routing;
            }
            "index_routing" | "indexRouting" => self.index_routing = routing_value(key, value)?,
            "search_routing" | "searchRouting" => {
                self.search_routing = routing_value(key, value)?;
            }
            "is_write_index" => self.is_write_index = flag_value(key, value)?,
            "is_hidden" => self.is_hidden = flag_value(key, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The definition as `GET /_alias` shows it: only what was set.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(filter) = &self.filter {
            object.insert("filter".into(), filter.clone());
        }
        if let Some(routing) = &self.index_routing {
            object.insert("index_routing".into(), Value::String(routing.clone()));
        }
        if let Some(routing) = &self.search_routing {
            object.insert("search_routing".into(), Value::String(routing.clone()));
        }
        if let Some(write) = self.is_write_index {
            object.insert("is_write_index".into(), Value::Bool(write));
        }
        if let Some(hidden) = self.is_hidden {
            object.insert("is_hidden".into(), Value::Bool(hidden));
        }
        Value::Object(object)
    }

    fn has_routing(&self) -> bool {
        self.index_routing.is_some() || self.search_routing.is_some()
    }
}

fn routing_value(key: &str, value: &Value) -> StoreResult<Option<String>> {
    match value {
        Value::String(text) if text.contains(',') && key != "search_routing" => {
            Err(StoreError::IllegalArgument(format!(
                "alias has several index routing values associated with it [{text}]"
            )))
        }
        Value::String(text) => Ok(Some(text.clone())),
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::Null => Ok(None),
        _ => Err(StoreError::IllegalArgument(format!(
            "[{key}] must be a string or a number"
        ))),
    }
}

fn flag_value(key: &str, value: &Value) -> StoreResult<Option<bool>> {
    match value {
        Value::Bool(flag) => Ok(Some(*flag)),
        Value::String(text) if text == "true" => Ok(Some(true)),
        Value::String(text) if text == "false" => Ok(Some(false)),
        Value::Null => Ok(None),
        _ => Err(StoreError::IllegalArgument(format!(
            "[{key}] must be a boolean"
        ))),
    }
}

/// One action of `POST /_aliases`, with its index and alias expressions as given.
#[derive(Debug, Clone, PartialEq)]
pub enum AliasAction {
    /// Point `aliases` at `indices` (replacing their earlier definition there).
    Add {
        /// Index or data stream names and wildcard patterns.
        indices: Vec<String>,
        /// Alias names.
        aliases: Vec<String>,
        /// The definition.
        properties: AliasProperties,
    },
    /// Remove `aliases` (names or patterns) from `indices`.
    Remove {
        /// Index or data stream names and wildcard patterns.
        indices: Vec<String>,
        /// Alias names and patterns.
        aliases: Vec<String>,
        /// `true`: fail when an alias is missing; unset: fail only if the action removes
        /// nothing; `false`: never fail for a missing alias.
        must_exist: Option<bool>,
    },
    /// Delete the indexes.
    RemoveIndex {
        /// Index names and wildcard patterns.
        indices: Vec<String>,
    },
}

impl AliasAction {
    /// `add`, `remove` or `remove_index`.
    pub fn kind(&self) -> &'static str {
        match self {
            AliasAction::Add { .. } => "add",
            AliasAction::Remove { .. } => "remove",
            AliasAction::RemoveIndex { .. } => "remove_index",
        }
    }

    /// The index expressions.
    pub fn indices(&self) -> &[String] {
        match self {
            AliasAction::Add { indices, .. }
            | AliasAction::Remove { indices, .. }
            | AliasAction::RemoveIndex { indices } => indices,
        }
    }

    /// The alias expressions (none for `remove_index`).
    pub fn aliases(&self) -> &[String] {
        match self {
            AliasAction::Add { aliases, .. } | AliasAction::Remove { aliases, .. } => aliases,
            AliasAction::RemoveIndex { .. } => &[],
        }
    }
}

/// Every alias, by name, with its members and what it says about each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AliasTable(BTreeMap<String, BTreeMap<String, AliasProperties>>);

impl AliasTable {
    /// The members of an alias, if it exists.
    pub fn members(&self, alias: &str) -> Option<&BTreeMap<String, AliasProperties>> {
        self.0.get(alias)
    }

    /// Whether an alias of this name exists.
    pub fn contains(&self, alias: &str) -> bool {
        self.0.contains_key(alias)
    }

    /// Every alias with its members, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &BTreeMap<String, AliasProperties>)> {
        self.0.iter()
    }

    /// The aliases that name `target`, by alias name.
    pub fn of_target(&self, target: &str) -> BTreeMap<String, AliasProperties> {
        self.0
            .iter()
            .filter_map(|(alias, members)| {
                members
                    .get(target)
                    .map(|properties| (alias.clone(), properties.clone()))
            })
            .collect()
    }

    /// Points `alias` at `target`, replacing what it said about it before.
    pub fn add(&mut self, alias: &str, target: &str, properties: AliasProperties) {
        self.0
            .entry(alias.to_owned())
            .or_default()
            .insert(target.to_owned(), properties);
    }

    /// Removes `target` from `alias`; whether it was there.
    pub fn remove(&mut self, alias: &str, target: &str) -> bool {
        let Some(members) = self.0.get_mut(alias) else {
            return false;
        };
        let removed = members.remove(target).is_some();
        if members.is_empty() {
            self.0.remove(alias);
        }
        removed
    }

    /// Removes `target` from every alias; whether any named it.
    pub fn remove_target(&mut self, target: &str) -> bool {
        let mut removed = false;
        self.0.retain(|_, members| {
            removed |= members.remove(target).is_some();
            !members.is_empty()
        });
        removed
    }

    /// The member writes through `alias` go to: `Ok(None)` if there is no such alias.
    pub fn write_member(&self, alias: &str) -> StoreResult<Option<&str>> {
        let Some(members) = self.0.get(alias) else {
            return Ok(None);
        };
        if let Some((name, _)) = members
            .iter()
            .find(|(_, properties)| properties.is_write_index == Some(true))
        {
            return Ok(Some(name));
        }
        match members.iter().next() {
            Some((name, properties))
                if members.len() == 1 && properties.is_write_index != Some(false) =>
            {
                Ok(Some(name))
            }
            _ => Err(StoreError::IllegalArgument(format!(
                "no write index is defined for alias [{alias}]. The write index may be explicitly \
                 disabled using is_write_index=false or the alias points to multiple indices \
                 without one being designated as a write index"
            ))),
        }
    }

    /// Checks the rules Elasticsearch enforces on every alias after a change: one write
    /// index at most, members of one kind, and no routing on data stream aliases.
    /// `kind_of` tells what each member is.
    pub fn validate(&self, kind_of: impl Fn(&str) -> Option<TargetKind>) -> StoreResult<()> {
        for (alias, members) in &self.0 {
            let writers: Vec<&str> = members
                .iter()
                .filter(|(_, properties)| properties.is_write_index == Some(true))
                .map(|(name, _)| name.as_str())
                .collect();
            if writers.len() > 1 {
                return Err(StoreError::IllegalState(format!(
                    "alias [{alias}] has more than one write index [{}]",
                    writers.join(",")
                )));
            }
            let streams: Vec<&str> = members
                .keys()
                .filter(|name| kind_of(name) == Some(TargetKind::DataStream))
                .map(String::as_str)
                .collect();
            if streams.is_empty() {
                continue;
            }
            if let Some(index) = members
                .keys()
                .find(|name| kind_of(name) == Some(TargetKind::Index))
            {
                return Err(StoreError::IllegalArgument(format!(
                    "alias [{alias}] cannot point to both data streams [{}] and indices [{index}]",
                    streams.join(",")
                )));
            }
            if members.values().any(AliasProperties::has_routing) {
                return Err(StoreError::IllegalArgument(format!(
                    "aliases [{alias}] that point to data streams don't support routing"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(entries: &[(&str, &str, Value)]) -> AliasTable {
        let mut table = AliasTable::default();
        for (alias, target, body) in entries {
            table.add(alias, target, AliasProperties::parse(alias, body).unwrap());
        }
        table
    }

    #[test]
    fn definitions_parse_and_render_what_was_set() {
        let properties = AliasProperties::parse(
            "a",
            &json!({"filter": {"term": {"user": "kim"}}, "routing": 1, "is_write_index": true}),
        )
        .unwrap();
        assert_eq!(
            properties.to_json(),
            json!({"filter": {"term": {"user": "kim"}}, "index_routing": "1",
                   "search_routing": "1", "is_write_index": true})
        );
        assert_eq!(
            AliasProperties::parse("a", &json!({})).unwrap().to_json(),
            json!({})
        );
        let error = AliasProperties::parse("a", &json!({"fliter": {}})).unwrap_err();
        assert_eq!(error.to_string(), "Unknown field [fliter] in alias [a]");
        assert!(AliasProperties::parse("a", &json!({"is_write_index": 3})).is_err());
        assert!(AliasProperties::parse("a", &json!([1])).is_err());
    }

    #[test]
    fn the_write_member_is_the_marked_one_or_the_only_one() {
        let only = table(&[("logs", "logs-1", json!({}))]);
        assert_eq!(only.write_member("logs").unwrap(), Some("logs-1"));
        assert_eq!(only.write_member("other").unwrap(), None);

        let marked = table(&[
            ("logs", "logs-1", json!({"is_write_index": false})),
            ("logs", "logs-2", json!({"is_write_index": true})),
        ]);
        assert_eq!(marked.write_member("logs").unwrap(), Some("logs-2"));

        let unmarked = table(&[("logs", "logs-1", json!({})), ("logs", "logs-2", json!({}))]);
        let error = unmarked.write_member("logs").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("no write index is defined for alias [logs]")
        );
        let disabled = table(&[("logs", "logs-1", json!({"is_write_index": false}))]);
        assert!(disabled.write_member("logs").is_err());
    }

    #[test]
    fn removing_the_last_member_removes_the_alias() {
        let mut aliases = table(&[
            ("a", "x", json!({})),
            ("b", "x", json!({})),
            ("b", "y", json!({})),
        ]);
        assert!(aliases.remove("a", "x"));
        assert!(!aliases.contains("a"));
        assert!(!aliases.remove("a", "x"));
        assert!(aliases.remove_target("x"));
        assert_eq!(aliases.members("b").unwrap().len(), 1);
        assert!(!aliases.remove_target("x"));
        assert_eq!(aliases.of_target("y").len(), 1);
    }

    #[test]
    fn validation_refuses_two_writers_mixed_kinds_and_stream_routing() {
        let kind = |name: &str| {
            Some(if name.starts_with("logs-") {
                TargetKind::DataStream
            } else {
                TargetKind::Index
            })
        };
        let two_writers = table(&[
            ("a", "x", json!({"is_write_index": true})),
            ("a", "y", json!({"is_write_index": true})),
        ]);
        assert_eq!(
            two_writers.validate(kind).unwrap_err().to_string(),
            "alias [a] has more than one write index [x,y]"
        );
        let mixed = table(&[("a", "x", json!({})), ("a", "logs-app-default", json!({}))]);
        let error = mixed.validate(kind).unwrap_err().to_string();
        assert!(
            error.contains("cannot point to both data streams"),
            "{error}"
        );
        let routed = table(&[("a", "logs-app-default", json!({"routing": "1"}))]);
        assert!(routed.validate(kind).is_err());
        let fine = table(&[
            ("a", "logs-app-default", json!({"is_write_index": true})),
            (
                "a",
                "logs-web-default",
                json!({"filter": {"term": {"x": 1}}}),
            ),
        ]);
        fine.validate(kind).unwrap();
    }
}
