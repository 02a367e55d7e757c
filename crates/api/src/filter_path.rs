//! `?filter_path`: the parts of a response a client asked for, as Elasticsearch filters them.
//!
//! A comma-separated list of dotted paths. A segment may hold `*` wildcards (`hits.hits._*`),
//! `**` stands for any number of segments (`**._id`), and arrays are crossed as if they were
//! not there (`hits.hits._id` is every hit's id). A path starting with `-` excludes what it
//! matches. Exclusions apply first, then inclusions; objects and arrays left empty by an
//! inclusion are dropped, and a response nothing matches is `{}`.

use serde_json::{Map, Value};

use logfleet_store::wildcard_match;

/// One segment of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of segments, none included.
    AnyDepth,
    /// A field name, possibly with `*` wildcards.
    Name(String),
}

impl Segment {
    fn matches(&self, key: &str) -> bool {
        match self {
            Segment::AnyDepth => true,
            Segment::Name(pattern) if pattern.contains('*') => wildcard_match(pattern, key),
            Segment::Name(name) => name == key,
        }
    }
}

type Path = Vec<Segment>;

/// A parsed `filter_path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPath {
    includes: Vec<Path>,
    excludes: Vec<Path>,
}

impl FilterPath {
    /// Parses the parameter's value; `None` when it names no path (an empty value filters
    /// nothing, as in Elasticsearch).
    pub fn parse(expression: &str) -> Option<FilterPath> {
        let mut filter = FilterPath::default();
        for path in expression
            .split(',')
            .map(str::trim)
            .filter(|path| !path.is_empty())
        {
            let (excluded, path) = match path.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, path),
            };
            let segments: Path = path
                .split('.')
                .filter(|segment| !segment.is_empty())
                .map(|segment| {
                    if segment == "**" {
                        Segment::AnyDepth
                    } else {
                        Segment::Name(segment.to_owned())
                    }
                })
                .collect();
            if segments.is_empty() {
                continue;
            }
            if excluded {
                filter.excludes.push(segments);
            } else {
                filter.includes.push(segments);
            }
        }
        (!filter.includes.is_empty() || !filter.excludes.is_empty()).then_some(filter)
    }

    /// `value` filtered.
    pub fn apply(&self, mut value: Value) -> Value {
        if !self.excludes.is_empty() {
            let paths: Vec<&[Segment]> = self.excludes.iter().map(Vec::as_slice).collect();
            exclude(&mut value, &paths);
        }
        if self.includes.is_empty() {
            return value;
        }
        let paths: Vec<&[Segment]> = self.includes.iter().map(Vec::as_slice).collect();
        include(value, &paths).unwrap_or_else(|| Value::Object(Map::new()))
    }
}

/// The paths that go on below `key`; `true` in the second place when one of them ends there
/// (everything below `key` matches).
fn descend<'a>(paths: &[&'a [Segment]], key: &str) -> (Vec<&'a [Segment]>, bool) {
    let mut next = Vec::new();
    let mut whole = false;
    for path in paths {
        let Some((first, rest)) = path.split_first() else {
            continue;
        };
        if *first == Segment::AnyDepth {
            // `**` stays for deeper keys, and also matches no segment at all.
            next.push(*path);
            let (after, ends) = descend(&[rest], key);
            whole |= ends;
            next.extend(after);
            continue;
        }
        if first.matches(key) {
            if rest.is_empty() {
                whole = true;
            } else {
                next.push(rest);
            }
        }
    }
    (next, whole)
}

/// What of `value` the inclusion `paths` keep; `None` when nothing.
fn include(value: Value, paths: &[&[Segment]]) -> Option<Value> {
    match value {
        Value::Object(object) => {
            let mut kept = Map::new();
            for (key, child) in object {
                let (next, whole) = descend(paths, &key);
                if whole {
                    kept.insert(key, child);
                } else if !next.is_empty()
                    && let Some(child) = include(child, &next)
                {
                    kept.insert(key, child);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|item| include(item, paths))
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        // A value where a path still has segments to go does not match it.
        _ => None,
    }
}

/// Removes from `value` what the exclusion `paths` match.
fn exclude(value: &mut Value, paths: &[&[Segment]]) {
    match value {
        Value::Object(object) => {
            object.retain(|key, child| {
                let (next, whole) = descend(paths, key);
                if whole {
                    return false;
                }
                if !next.is_empty() {
                    exclude(child, &next);
                }
                true
            });
        }
        Value::Array(items) => {
            for item in items {
                exclude(item, paths);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filtered(expression: &str, value: Value) -> Value {
        FilterPath::parse(expression)
            .expect("a filter")
            .apply(value)
    }

    fn search_response() -> Value {
        json!({
            "took": 3,
            "timed_out": false,
            "hits": {
                "total": {"value": 2, "relation": "eq"},
                "hits": [
                    {"_index": "a", "_id": "1", "_source": {"user": {"name": "x", "id": 1}}},
                    {"_index": "b", "_id": "2", "_source": {"user": {"name": "y", "id": 2}}}
                ]
            }
        })
    }

    #[test]
    fn paths_cross_arrays_and_keep_only_what_they_name() {
        assert_eq!(
            filtered("took,hits.hits._id", search_response()),
            json!({"took": 3, "hits": {"hits": [{"_id": "1"}, {"_id": "2"}]}})
        );
    }

    #[test]
    fn wildcards_match_within_a_segment_and_double_stars_across_segments() {
        assert_eq!(
            filtered("hits.hits._i*", search_response()),
            json!({"hits": {"hits": [{"_index": "a", "_id": "1"}, {"_index": "b", "_id": "2"}]}})
        );
        assert_eq!(
            filtered("**.name", search_response()),
            json!({"hits": {"hits": [
                {"_source": {"user": {"name": "x"}}},
                {"_source": {"user": {"name": "y"}}}
            ]}})
        );
        assert_eq!(
            filtered("hits.**.id", search_response()),
            json!({"hits": {"hits": [
                {"_source": {"user": {"id": 1}}},
                {"_source": {"user": {"id": 2}}}
            ]}})
        );
    }

    #[test]
    fn exclusions_remove_and_apply_before_inclusions() {
        assert_eq!(
            filtered("-hits.hits._source,-took", search_response()),
            json!({
                "timed_out": false,
                "hits": {
                    "total": {"value": 2, "relation": "eq"},
                    "hits": [{"_index": "a", "_id": "1"}, {"_index": "b", "_id": "2"}]
                }
            })
        );
        assert_eq!(
            filtered("hits.hits._*,-hits.hits._source", search_response()),
            json!({"hits": {"hits": [{"_index": "a", "_id": "1"}, {"_index": "b", "_id": "2"}]}})
        );
    }

    #[test]
    fn nothing_matched_is_an_empty_object() {
        assert_eq!(filtered("nope", search_response()), json!({}));
        assert_eq!(filtered("took.deeper", search_response()), json!({}));
    }

    #[test]
    fn an_empty_expression_filters_nothing() {
        assert_eq!(FilterPath::parse(""), None);
        assert_eq!(FilterPath::parse(" , "), None);
    }

    #[test]
    fn top_level_arrays_are_filtered_element_by_element() {
        let rows = json!([{"index": "a", "health": "green"}, {"index": "b", "health": "yellow"}]);
        assert_eq!(
            filtered("index", rows),
            json!([{"index": "a"}, {"index": "b"}])
        );
    }
}
