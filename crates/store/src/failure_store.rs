//! Data stream failure stores, as Elasticsearch 8.19 keeps them: a document that a pipeline
//! or the mapping rejects is written, with its error, to a secondary set of partitions of its
//! data stream, instead of being lost.
//!
//! Here a failure store is a target of its own, named `<stream>::failures` (the selector
//! searches use), whose partitions are named `.fs-<stream>-<date>-<generation>`. Wildcards
//! and `_all` never reach it; only the selector does.

use serde_json::json;

use crate::error::StoreResult;
use crate::expression::wildcard_match;
use crate::mapping::{DynamicStyle, Mapping};

/// The selector that names a data stream's failure store: `logs-api-default::failures`.
pub const FAILURES_SELECTOR: &str = "::failures";

/// The selector that names a data stream's own documents (the default).
pub const DATA_SELECTOR: &str = "::data";

/// The failure store target of `stream`.
pub fn failure_store_name(stream: &str) -> String {
    format!("{stream}{FAILURES_SELECTOR}")
}

/// The data stream whose failure store `name` is, if it is one.
pub fn failure_store_parent(name: &str) -> Option<&str> {
    name.strip_suffix(FAILURES_SELECTOR)
}

/// Whether `name` carries a selector (`::failures`, `::data`): such names are never matched
/// by wildcards, and never created by writes other than the failure store's.
pub fn has_selector(name: &str) -> bool {
    name.contains("::")
}

/// The prefix of a target's partitions: `.fs-<stream>` for a failure store, `.ds-<stream>`
/// for a data stream.
pub(crate) fn partition_prefix(target: &str) -> String {
    match failure_store_parent(target) {
        Some(stream) => format!(".fs-{stream}"),
        None => format!(".ds-{target}"),
    }
}

/// Whether the failure store is on for a data stream: its template's
/// `data_stream_options.failure_store.enabled` decides when it says, else the configured
/// patterns (Elasticsearch's `data_streams.failure_store.enabled` cluster setting).
pub(crate) fn enabled_for(stream: &str, template_says: Option<bool>, patterns: &[String]) -> bool {
    template_says.unwrap_or_else(|| {
        patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, stream))
    })
}

/// The mapping of failure store documents, Elasticsearch's: the original document is kept
/// whole in `document.source` but not indexed (its fields failed once; they must not fail the
/// failure store too), the error is searchable.
pub(crate) fn mapping() -> StoreResult<Mapping> {
    let mut mapping = Mapping::new(DynamicStyle::DataStream);
    mapping.merge_explicit(&json!({
        "dynamic": false,
        "properties": {
            "@timestamp": {"type": "date", "ignore_malformed": false},
            "document": {
                "properties": {
                    "id": {"type": "keyword"},
                    "routing": {"type": "keyword"},
                    "index": {"type": "keyword"},
                    "source": {"type": "object", "enabled": false}
                }
            },
            "error": {
                "properties": {
                    "message": {"type": "match_only_text"},
                    "stack_trace": {"type": "text"},
                    "type": {"type": "keyword"},
                    "pipeline": {"type": "keyword"},
                    "pipeline_trace": {"type": "keyword"},
                    "processor_tag": {"type": "keyword"},
                    "processor_type": {"type": "keyword"}
                }
            }
        }
    }))?;
    Ok(mapping)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes() {
        assert_eq!(failure_store_name("logs-a-b"), "logs-a-b::failures");
        assert_eq!(failure_store_parent("logs-a-b::failures"), Some("logs-a-b"));
        assert_eq!(failure_store_parent("logs-a-b"), None);
        assert_eq!(partition_prefix("logs-a-b::failures"), ".fs-logs-a-b");
        assert_eq!(partition_prefix("logs-a-b"), ".ds-logs-a-b");
        assert!(has_selector("logs-a-b::data"));
        assert!(!has_selector("logs-a-b"));
    }

    #[test]
    fn a_template_overrides_the_patterns() {
        let patterns = vec!["logs-*".to_owned()];
        assert!(enabled_for("logs-a-b", None, &patterns));
        assert!(!enabled_for("metrics-a-b", None, &patterns));
        assert!(!enabled_for("logs-a-b", Some(false), &patterns));
        assert!(enabled_for("metrics-a-b", Some(true), &patterns));
    }

    #[test]
    fn the_mapping_parses_and_leaves_the_source_unindexed() {
        let mapping = mapping().unwrap();
        assert!(mapping.resolve("error.type").is_some());
        assert!(mapping.resolve("document.source").is_some());
        assert!(mapping.resolve("document.source.anything").is_none());
    }
}
