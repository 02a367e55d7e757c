//! `_source` filtering: `false`, a pattern or list of patterns, or `{includes, excludes}`,
//! with `*` wildcards over dotted paths, applied to the stored JSON.

use logfleet_store::wildcard_match;
use serde_json::{Map, Value};

use crate::error::{QueryError, QueryResult};

/// Which parts of `_source` a hit returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceFilter {
    /// `_source: false`.
    pub disabled: bool,
    /// Patterns to keep (all when empty).
    pub includes: Vec<String>,
    /// Patterns to drop.
    pub excludes: Vec<String>,
}

impl SourceFilter {
    /// Parses the body's `_source` value.
    pub fn parse(value: &Value) -> QueryResult<SourceFilter> {
        match value {
            Value::Bool(enabled) => Ok(SourceFilter {
                disabled: !enabled,
                ..SourceFilter::default()
            }),
            Value::String(pattern) => Ok(SourceFilter {
                includes: vec![pattern.clone()],
                ..SourceFilter::default()
            }),
            Value::Array(patterns) => Ok(SourceFilter {
                includes: strings(patterns)?,
                ..SourceFilter::default()
            }),
            Value::Object(object) => {
                let mut filter = SourceFilter::default();
                for (key, value) in object {
                    if key == "exclude_vectors" {
                        // Elasticsearch 9's switch for leaving vector fields out of `_source`:
                        // Logfleet maps no vector field, so either way nothing changes.
                        if !value.is_boolean() {
                            return Err(QueryError::parsing(
                                "[_source] [exclude_vectors] must be a boolean",
                            ));
                        }
                        continue;
                    }
                    let patterns = match value {
                        Value::String(pattern) => vec![pattern.clone()],
                        Value::Array(patterns) => strings(patterns)?,
                        _ => {
                            return Err(QueryError::parsing(format!(
                                "[_source] [{key}] must be a string or an array"
                            )));
                        }
                    };
                    match key.as_str() {
                        "includes" | "include" => filter.includes = patterns,
                        "excludes" | "exclude" => filter.excludes = patterns,
                        other => {
                            return Err(QueryError::parsing(format!(
                                "Unknown key for a START_ARRAY in [{other}]."
                            )));
                        }
                    }
                }
                Ok(filter)
            }
            Value::Null | Value::Number(_) => Err(QueryError::parsing(
                "[_source] must be a boolean, string, array or object",
            )),
        }
    }

    /// Parses the `_source`, `_source_includes` and `_source_excludes` URL parameters.
    pub fn from_url(
        source: Option<&str>,
        includes: Option<&str>,
        excludes: Option<&str>,
    ) -> Option<SourceFilter> {
        if source.is_none() && includes.is_none() && excludes.is_none() {
            return None;
        }
        let split = |text: &str| {
            text.split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let mut filter = SourceFilter::default();
        match source {
            Some("false") => filter.disabled = true,
            Some("true") | None => {}
            Some(patterns) => filter.includes = split(patterns),
        }
        if let Some(includes) = includes {
            filter.includes = split(includes);
        }
        if let Some(excludes) = excludes {
            filter.excludes = split(excludes);
        }
        Some(filter)
    }

    /// Whether the source is returned unchanged.
    pub fn is_identity(&self) -> bool {
        !self.disabled && self.includes.is_empty() && self.excludes.is_empty()
    }

    /// Applies the filter; `None` when `_source` is not to be returned at all.
    pub fn apply(&self, source: Map<String, Value>) -> Option<Map<String, Value>> {
        if self.disabled {
            return None;
        }
        if self.is_identity() {
            return Some(source);
        }
        Some(self.filter_object("", source))
    }

    fn filter_object(&self, prefix: &str, object: Map<String, Value>) -> Map<String, Value> {
        let mut kept = Map::new();
        for (key, value) in object {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if self
                .excludes
                .iter()
                .any(|pattern| wildcard_match(pattern, &path))
            {
                continue;
            }
            let included = self.includes.is_empty()
                || self
                    .includes
                    .iter()
                    .any(|pattern| wildcard_match(pattern, &path));
            match value {
                Value::Object(child) if !included => {
                    // An include pattern may select something deeper inside this object.
                    let child = self.filter_object(&path, child);
                    if !child.is_empty() {
                        kept.insert(key, Value::Object(child));
                    }
                }
                Value::Object(child) => {
                    let child = self.filter_object_included(&path, child);
                    kept.insert(key, Value::Object(child));
                }
                other if included => {
                    kept.insert(key, other);
                }
                _ => {}
            }
        }
        kept
    }

    /// Inside an included object only excludes apply.
    fn filter_object_included(
        &self,
        prefix: &str,
        object: Map<String, Value>,
    ) -> Map<String, Value> {
        if self.excludes.is_empty() {
            return object;
        }
        let mut kept = Map::new();
        for (key, value) in object {
            let path = format!("{prefix}.{key}");
            if self
                .excludes
                .iter()
                .any(|pattern| wildcard_match(pattern, &path))
            {
                continue;
            }
            match value {
                Value::Object(child) => {
                    kept.insert(
                        key,
                        Value::Object(self.filter_object_included(&path, child)),
                    );
                }
                other => {
                    kept.insert(key, other);
                }
            }
        }
        kept
    }
}

fn strings(values: &[Value]) -> QueryResult<Vec<String>> {
    values
        .iter()
        .map(|value| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| QueryError::parsing("[_source] patterns must be strings"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        map
    }

    fn filtered(filter: Value, source: Value) -> Option<Value> {
        SourceFilter::parse(&filter)
            .unwrap()
            .apply(object(source))
            .map(Value::Object)
    }

    #[test]
    fn includes_and_excludes() {
        let source = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": "x"});
        assert_eq!(filtered(json!(false), source.clone()), None);
        assert_eq!(
            filtered(json!(["a", "e"]), source.clone()),
            Some(json!({"a": 1, "e": "x"}))
        );
        assert_eq!(
            filtered(json!("b.c"), source.clone()),
            Some(json!({"b": {"c": 2}}))
        );
        assert_eq!(
            filtered(json!("b"), source.clone()),
            Some(json!({"b": {"c": 2, "d": 3}}))
        );
        assert_eq!(
            filtered(json!({"excludes": ["b.d"]}), source.clone()),
            Some(json!({"a": 1, "b": {"c": 2}, "e": "x"}))
        );
        assert_eq!(
            filtered(
                json!({"includes": "b.*", "excludes": "b.d"}),
                source.clone()
            ),
            Some(json!({"b": {"c": 2}}))
        );
        // Elasticsearch 9's DSL sends `exclude_vectors` with every search.
        assert_eq!(
            filtered(json!({"exclude_vectors": false}), source.clone()),
            Some(source.clone())
        );
        assert_eq!(
            filtered(json!({"exclude_vectors": true, "excludes": "e"}), source),
            Some(json!({"a": 1, "b": {"c": 2, "d": 3}}))
        );
        assert!(SourceFilter::parse(&json!({"exclude_vectors": "yes"})).is_err());
    }

    #[test]
    fn url_parameters() {
        let filter = SourceFilter::from_url(Some("a,b"), None, Some("b")).unwrap();
        assert_eq!(filter.includes, ["a", "b"]);
        assert_eq!(filter.excludes, ["b"]);
        assert!(
            SourceFilter::from_url(Some("false"), None, None)
                .unwrap()
                .disabled
        );
        assert!(SourceFilter::from_url(None, None, None).is_none());
    }
}
