//! Index settings kept as given: those with a meaning elsewhere in Elasticsearch (a codec, a
//! result window, replicas) that Logfleet records so that `GET /{index}/_settings` shows what
//! was set, and tools that copy an index (elasticdump) copy them too. Settings with an effect
//! here (pipelines, lifecycle, the field limit) and an index's identity (uuid, creation date)
//! are kept elsewhere and never recorded.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{StoreError, StoreResult};
use crate::template::flatten_settings;

/// Settings with their own home, or that describe an index rather than configure it.
const NOT_RECORDED: &[&str] = &[
    "number_of_shards",
    "uuid",
    "creation_date",
    "provided_name",
    "hidden",
    "default_pipeline",
    "final_pipeline",
    "lifecycle.name",
    "lifecycle.rollover_alias",
    "mapping.total_fields.limit",
];
const NOT_RECORDED_PREFIXES: &[&str] = &["version.", "resize.", "history."];

/// Settings an open index may change (`PUT /{index}/_settings`), as Elasticsearch's dynamic
/// index settings; a name ending in `.` stands for every setting below it.
const DYNAMIC: &[&str] = &[
    "refresh_interval",
    "number_of_replicas",
    "auto_expand_replicas",
    "max_result_window",
    "max_inner_result_window",
    "max_rescore_window",
    "max_docvalue_fields_search",
    "max_script_fields",
    "max_ngram_diff",
    "max_shingle_diff",
    "max_terms_count",
    "max_regex_length",
    "max_refresh_listeners",
    "max_slices_per_scroll",
    "highlight.max_analyzed_offset",
    "query.default_field",
    "priority",
    "gc_deletes",
    "default_allocation_tier",
    "translog.",
    "routing.",
    "unassigned.",
    "search.",
    "indexing.",
    "merge.",
    "blocks.",
    "mapping.",
];

/// Settings fixed when an index is created.
const STATIC: &[&str] = &[
    "number_of_shards",
    "number_of_routing_shards",
    "codec",
    "routing_partition_size",
    "soft_deletes.",
    "load_fixed_bitset_filters_eagerly",
    "shard.",
    "sort.",
    "analysis.",
    "similarity.",
    "store.",
    "mode",
];

fn listed(list: &[&str], key: &str) -> bool {
    list.iter().any(|entry| match entry.strip_suffix('.') {
        Some(prefix) => key.starts_with(entry) || key == prefix,
        None => key == *entry,
    })
}

/// `settings` (an index body's `settings`, nested or flat) as recorded names without the
/// `index.` prefix, the values Elasticsearch shows: strings, or arrays of strings.
fn flattened(settings: &Value) -> Vec<(String, Value)> {
    flatten_settings(settings)
        .into_iter()
        .map(|(key, value)| {
            let key = key.strip_prefix("index.").unwrap_or(&key).to_owned();
            (key, shown(value))
        })
        .collect()
}

fn shown(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(shown).collect()),
        Value::String(_) | Value::Null => value,
        other => Value::String(other.to_string()),
    }
}

/// What of a creation's `settings` is recorded.
pub fn recorded_at_creation(settings: &Value) -> BTreeMap<String, Value> {
    flattened(settings)
        .into_iter()
        .filter(|(key, value)| {
            !value.is_null()
                && !NOT_RECORDED.contains(&key.as_str())
                && !NOT_RECORDED_PREFIXES
                    .iter()
                    .any(|prefix| key.starts_with(prefix))
        })
        .collect()
}

/// The recorded settings after `PUT /{index}/_settings` with `update` (a `null` removes one),
/// for the index `index`; fails, changing nothing, on a setting an open index cannot change.
/// Settings handled elsewhere (pipelines, lifecycle) are skipped here.
pub fn updated(
    index: &str,
    recorded: &BTreeMap<String, Value>,
    update: &Value,
) -> StoreResult<BTreeMap<String, Value>> {
    let mut next = recorded.clone();
    for (key, value) in flattened(update) {
        if NOT_RECORDED.contains(&key.as_str()) && key != "number_of_shards" {
            continue;
        }
        if listed(STATIC, &key) {
            return Err(StoreError::IllegalArgument(format!(
                "Can't update non dynamic settings [[index.{key}]] for open indices [[{index}]]"
            )));
        }
        if !listed(DYNAMIC, &key) {
            return Err(StoreError::IllegalArgument(format!(
                "unknown setting [index.{key}] please check that any required plugins are \
                 installed, or check the breaking changes documentation for removed settings"
            )));
        }
        if value.is_null() {
            next.remove(&key);
        } else {
            next.insert(key, value);
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn creation_records_what_has_no_other_home_as_strings() {
        let recorded = recorded_at_creation(&json!({
            "index": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "5s",
                      "codec": "best_compression", "default_pipeline": "p", "uuid": "x",
                      "query": {"default_field": ["message", "user"]}},
            "index.max_result_window": 50000,
        }));
        assert_eq!(
            recorded,
            BTreeMap::from([
                ("codec".to_owned(), json!("best_compression")),
                ("max_result_window".to_owned(), json!("50000")),
                ("number_of_replicas".to_owned(), json!("0")),
                ("query.default_field".to_owned(), json!(["message", "user"])),
                ("refresh_interval".to_owned(), json!("5s")),
            ])
        );
    }

    #[test]
    fn updates_change_dynamic_settings_and_refuse_static_and_unknown_ones() {
        let recorded = BTreeMap::from([("refresh_interval".to_owned(), json!("5s"))]);
        let next = updated(
            "i",
            &recorded,
            &json!({"index": {"refresh_interval": null, "number_of_replicas": 2, "default_pipeline": "p"}}),
        )
        .unwrap();
        assert_eq!(
            next,
            BTreeMap::from([("number_of_replicas".to_owned(), json!("2"))])
        );
        let error = updated("i", &recorded, &json!({"index.codec": "default"})).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("Can't update non dynamic settings [[index.codec]]")
        );
        let error =
            updated("i", &recorded, &json!({"index": {"number_of_shards": 2}})).unwrap_err();
        assert!(error.to_string().contains("[[index.number_of_shards]]"));
        let error = updated("i", &recorded, &json!({"index.bogus": "x"})).unwrap_err();
        assert!(error.to_string().contains("unknown setting [index.bogus]"));
    }
}
