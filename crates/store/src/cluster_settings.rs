//! Cluster settings (`PUT /_cluster/settings`) that shippers set: `action.auto_create_index`
//! decides which missing indexes a write may create; the other known settings are kept and
//! shown with the effect they can have on one node (none). Persistent settings survive a
//! restart; transient ones last until it. Unknown settings are refused, as Elasticsearch
//! refuses them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{StoreError, StoreResult};
use crate::expression::wildcard_match;
use crate::template::flatten_settings;

/// Settings that may be set; a name ending in `.` stands for every setting below it.
const KNOWN: &[&str] = &[
    "action.auto_create_index",
    "action.destructive_requires_name",
    "cluster.routing.",
    "cluster.max_shards_per_node",
    "cluster.info.update.interval",
    "cluster.indices.close.enable",
    "cluster.blocks.",
    "indices.recovery.",
    "indices.breaker.",
    "indices.lifecycle.poll_interval",
    "indices.id_field_data.enabled",
    "ingest.geoip.downloader.enabled",
    "logger.",
    "search.max_buckets",
    "search.default_search_timeout",
    "search.allow_expensive_queries",
    "script.max_compilations_rate",
    "xpack.monitoring.collection.enabled",
    "xpack.monitoring.",
    "http.max_content_length",
    "persistent_tasks.allocation.enable",
];

fn known(key: &str) -> bool {
    KNOWN.iter().any(|entry| match entry.strip_suffix('.') {
        Some(_) => key.starts_with(entry),
        None => key == *entry,
    })
}

/// The persistent and transient settings, flat (`action.auto_create_index`), values as
/// Elasticsearch shows them: strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSettings {
    /// Kept across restarts.
    #[serde(default)]
    pub persistent: Map<String, Value>,
    /// Kept until the next restart (never written to disk).
    #[serde(default, skip)]
    pub transient: Map<String, Value>,
}

impl ClusterSettings {
    /// A setting's value: transient first, then persistent, as Elasticsearch resolves them.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.transient.get(key).or_else(|| self.persistent.get(key))
    }

    /// Applies one scope (`persistent` or `transient`) of a `PUT /_cluster/settings` body to
    /// `settings`: `null` resets a setting. Fails, changing nothing, on an unknown setting or
    /// an invalid value. Returns what the scope set, flat, for the response.
    pub fn apply(
        scope: &str,
        settings: &mut Map<String, Value>,
        update: &Value,
    ) -> StoreResult<Map<String, Value>> {
        let mut next = settings.clone();
        let mut applied = Map::new();
        for (key, value) in flatten_settings(update) {
            if !known(&key) {
                return Err(StoreError::IllegalArgument(format!(
                    "{scope} setting [{key}], not recognized"
                )));
            }
            let value = match value {
                Value::Null => {
                    next.remove(&key);
                    continue;
                }
                Value::String(_) => value,
                Value::Array(items) => Value::String(
                    items
                        .iter()
                        .map(|item| {
                            item.as_str()
                                .map_or_else(|| item.to_string(), str::to_owned)
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                other => Value::String(other.to_string()),
            };
            if key == "action.auto_create_index" {
                AutoCreate::parse(value.as_str().unwrap_or_default())?;
            }
            next.insert(key.clone(), value.clone());
            applied.insert(key, value);
        }
        *settings = next;
        Ok(applied)
    }

    /// What `action.auto_create_index` allows.
    pub fn auto_create(&self) -> AutoCreate {
        self.get("action.auto_create_index")
            .and_then(Value::as_str)
            .and_then(|value| AutoCreate::parse(value).ok())
            .unwrap_or(AutoCreate::All)
    }
}

/// `action.auto_create_index`: `true`, `false`, or a comma list of patterns, each allowing
/// (`+`, or no sign) or forbidding (`-`) the names it matches; the first that matches
/// decides, and a name none matches may not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoCreate {
    /// Any index.
    All,
    /// None.
    Nothing,
    /// As the patterns say; the setting's value is kept for error messages.
    Patterns {
        /// The setting as given.
        value: String,
        /// Each pattern and whether it allows.
        patterns: Vec<(String, bool)>,
    },
}

impl AutoCreate {
    /// Parses the setting's value.
    pub fn parse(value: &str) -> StoreResult<AutoCreate> {
        match value.trim() {
            "true" => return Ok(AutoCreate::All),
            "false" => return Ok(AutoCreate::Nothing),
            _ => {}
        }
        let mut patterns = Vec::new();
        for pattern in value.split(',').map(str::trim) {
            let (allow, name) = match pattern.as_bytes().first() {
                Some(b'+') => (true, &pattern[1..]),
                Some(b'-') => (false, &pattern[1..]),
                _ => (true, pattern),
            };
            if name.is_empty() {
                return Err(StoreError::IllegalArgument(format!(
                    "Can't parse [{value}] for setting [action.auto_create_index] must be either [true, false, or a comma separated list of index patterns]"
                )));
            }
            patterns.push((name.to_owned(), allow));
        }
        Ok(AutoCreate::Patterns {
            value: value.to_owned(),
            patterns,
        })
    }

    /// Whether a write may create the missing index `name`; if not, why not (the
    /// `index_not_found_exception` reason Elasticsearch gives).
    pub fn check(&self, name: &str) -> Result<(), String> {
        match self {
            AutoCreate::All => Ok(()),
            AutoCreate::Nothing => Err(format!(
                "no such index [{name}] and [action.auto_create_index] is [false]"
            )),
            AutoCreate::Patterns { value, patterns } => {
                match patterns
                    .iter()
                    .find(|(pattern, _)| wildcard_match(pattern, name))
                {
                    Some((_, true)) => Ok(()),
                    Some((pattern, false)) => Err(format!(
                        "no such index [{name}] and [action.auto_create_index] contains [-{pattern}] which forbids automatic creation of the index"
                    )),
                    None => Err(format!(
                        "no such index [{name}] and [action.auto_create_index] ([{value}]) doesn't match"
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patterns_decide_in_order_and_names_none_match_are_refused() {
        let rule = AutoCreate::parse("+logs-*,-logs-secret*,other").unwrap();
        assert_eq!(rule.check("logs-app"), Ok(()));
        assert_eq!(rule.check("other"), Ok(()));
        // The first pattern that matches decides.
        assert_eq!(rule.check("logs-secret-1"), Ok(()));
        let rule = AutoCreate::parse("-logs-secret*,+logs-*").unwrap();
        assert!(
            rule.check("logs-secret-1")
                .unwrap_err()
                .contains("contains [-logs-secret*]")
        );
        assert!(
            rule.check("metrics")
                .unwrap_err()
                .contains("([-logs-secret*,+logs-*]) doesn't match")
        );
        assert!(
            AutoCreate::parse("false")
                .unwrap()
                .check("x")
                .unwrap_err()
                .contains("is [false]")
        );
        assert_eq!(AutoCreate::parse("true").unwrap().check("x"), Ok(()));
        assert!(AutoCreate::parse("+,logs").is_err());
    }

    #[test]
    fn updates_keep_known_settings_as_strings_and_refuse_unknown_ones() {
        let mut settings = Map::new();
        let applied = ClusterSettings::apply(
            "persistent",
            &mut settings,
            &json!({"action": {"auto_create_index": "+keep-*,-*"}, "cluster.routing.allocation.enable": "all", "search.max_buckets": 20000}),
        )
        .unwrap();
        assert_eq!(applied["search.max_buckets"], "20000");
        assert_eq!(settings["action.auto_create_index"], "+keep-*,-*");
        let refused = ClusterSettings::apply(
            "persistent",
            &mut settings,
            &json!({"search.max_buckets": null, "bogus.setting": 1}),
        );
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("persistent setting [bogus.setting], not recognized")
        );
        assert_eq!(
            settings["search.max_buckets"], "20000",
            "a refused update changes nothing"
        );
        ClusterSettings::apply(
            "persistent",
            &mut settings,
            &json!({"search.max_buckets": null}),
        )
        .unwrap();
        assert!(!settings.contains_key("search.max_buckets"));
        assert!(
            ClusterSettings::apply(
                "transient",
                &mut settings,
                &json!({"action.auto_create_index": "+"})
            )
            .is_err()
        );
    }
}
