//! The document a pipeline works on, and field paths into it, as Elasticsearch's
//! `IngestDocument` has them.
//!
//! A path is a dotted name. `_ingest.<key>` reaches the ingest metadata (`timestamp`, the
//! `on_failure_*` values, `pipeline`); `_source.<path>` and any other path reach the source;
//! the metadata fields `_index`, `_id`, `_routing`, `_version` and `_version_type` are reached by
//! their names. Each step descends into an object member or, with a number, an array element.
//! Setting a path creates the objects it crosses; errors use Elasticsearch's words, so a
//! `_simulate` answer reads as Elasticsearch's does.

use std::borrow::Cow;

use logfleet_model::json::{JsonObject, JsonValue};

use crate::PipelineError;

/// The metadata fields a path can name directly.
pub const METADATA_FIELDS: [&str; 5] = ["_index", "_id", "_routing", "_version", "_version_type"];

/// One event travelling through the pipeline; `'a` is the lifetime of the request body its
/// strings borrow from.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestDocument<'a> {
    /// Where the event will be written: an index or a data stream name (`_index`).
    pub target: String,
    /// The event's fields.
    pub source: JsonObject<'a>,
    /// `_id`, `_routing`, `_version` and `_version_type`, when given.
    pub metadata: JsonObject<'a>,
    /// `_ingest`: `timestamp` and, in `on_failure` processors, the failure's details.
    pub ingest: JsonObject<'a>,
    /// Whether a processor changed `source`, so that the stored `_source` must be re-encoded.
    pub source_modified: bool,
}

/// Where a path leads.
enum Root<'p> {
    Source(&'p str),
    Ingest(&'p str),
    Index,
    Metadata(&'p str),
}

fn root(path: &str) -> Root<'_> {
    if path == "_index" {
        Root::Index
    } else if METADATA_FIELDS.contains(&path) {
        Root::Metadata(path)
    } else if let Some(rest) = path.strip_prefix("_ingest.") {
        Root::Ingest(rest)
    } else if let Some(rest) = path.strip_prefix("_source.") {
        Root::Source(rest)
    } else {
        Root::Source(path)
    }
}

impl<'a> IngestDocument<'a> {
    /// Wraps a decoded event bound for `target`.
    pub fn new(target: impl Into<String>, source: JsonObject<'a>) -> IngestDocument<'a> {
        IngestDocument {
            target: target.into(),
            source,
            metadata: JsonObject::default(),
            ingest: JsonObject::default(),
            source_modified: false,
        }
    }

    /// The value at `path`, or `None` when some step is missing. A step that cannot be taken
    /// (a member of a string, an index that is not a number) is an error.
    pub fn get(&self, path: &str) -> Result<Option<Cow<'_, JsonValue<'a>>>, PipelineError> {
        let (object, rest) = match root(path) {
            Root::Index => {
                return Ok(Some(Cow::Owned(JsonValue::String(Cow::Owned(
                    self.target.clone(),
                )))));
            }
            Root::Metadata(name) => return Ok(self.metadata.get(name).map(Cow::Borrowed)),
            Root::Ingest(rest) => (&self.ingest, rest),
            Root::Source(rest) => (&self.source, rest),
        };
        Ok(resolve(object, rest, path)?.map(Cow::Borrowed))
    }

    /// The value at `path`; a missing one is an error, as processors report it.
    pub fn require(&self, path: &str) -> Result<Cow<'_, JsonValue<'a>>, PipelineError> {
        self.get(path)?.ok_or_else(|| not_present(path))
    }

    /// Whether `path` leads to a value (which may be `null`).
    pub fn has(&self, path: &str) -> bool {
        matches!(self.get(path), Ok(Some(_)))
    }

    /// Sets the value at `path`, creating the objects on the way.
    pub fn set(&mut self, path: &str, value: JsonValue<'a>) -> Result<(), PipelineError> {
        let rest = match root(path) {
            Root::Index => {
                self.target = match value {
                    JsonValue::String(name) => name.into_owned(),
                    other => other.to_string(),
                };
                return Ok(());
            }
            Root::Metadata(name) => {
                self.metadata.insert(name.to_owned(), value);
                return Ok(());
            }
            Root::Ingest(rest) => return set_in(&mut self.ingest, rest, path, value),
            Root::Source(rest) => rest,
        };
        self.source_modified = true;
        set_in(&mut self.source, rest, path, value)
    }

    /// The value at `path` for changing in place; `None` when missing.
    pub fn get_mut(&mut self, path: &str) -> Result<Option<&mut JsonValue<'a>>, PipelineError> {
        let (object, rest) = match root(path) {
            Root::Index => {
                return Err(PipelineError::illegal_argument(
                    "[_index] cannot be changed in place; set it".to_owned(),
                ));
            }
            Root::Metadata(name) => return Ok(self.metadata.get_mut(name)),
            Root::Ingest(rest) => (&mut self.ingest, rest),
            Root::Source(rest) => {
                self.source_modified = true;
                (&mut self.source, rest)
            }
        };
        resolve_mut(object, rest, path)
    }

    /// Removes the value at `path` and returns it; `None` when it was missing.
    pub fn remove(&mut self, path: &str) -> Result<Option<JsonValue<'a>>, PipelineError> {
        let (object, rest) = match root(path) {
            Root::Index => {
                return Err(PipelineError::illegal_argument(
                    "cannot remove [_index]".to_owned(),
                ));
            }
            Root::Metadata(name) => return Ok(self.metadata.remove(name)),
            Root::Ingest(rest) => (&mut self.ingest, rest),
            Root::Source(rest) => (&mut self.source, rest),
        };
        let (parent, last) = match rest.rsplit_once('.') {
            Some((parent, last)) => (Some(parent), last),
            None => (None, rest),
        };
        let removed = match parent {
            None => object.remove(last),
            Some(parent) => match resolve_mut(object, parent, path)? {
                None => None,
                Some(JsonValue::Object(object)) => object.remove(last),
                Some(JsonValue::Array(items)) => {
                    let index = list_index(last, items.len(), path)?;
                    Some(items.remove(index))
                }
                Some(other) => {
                    return Err(PipelineError::illegal_argument(format!(
                        "cannot remove [{last}] from object of type [{}] as part of path [{path}]",
                        java_type(other)
                    )));
                }
            },
        };
        if removed.is_some() && matches!(root(path), Root::Source(_)) {
            self.source_modified = true;
        }
        Ok(removed)
    }

    /// Appends `value` (each element of it, when it is an array) to the value at `path`,
    /// turning a single value into an array; `allow_duplicates: false` skips values already
    /// there.
    pub fn append(
        &mut self,
        path: &str,
        value: JsonValue<'a>,
        allow_duplicates: bool,
    ) -> Result<(), PipelineError> {
        let new_items = match value {
            JsonValue::Array(items) => items,
            single => vec![single],
        };
        match self.get_mut(path)? {
            None => {
                let mut items = Vec::with_capacity(new_items.len());
                for item in new_items {
                    if allow_duplicates || !items.contains(&item) {
                        items.push(item);
                    }
                }
                self.set(path, JsonValue::Array(items))
            }
            Some(existing) => {
                if !matches!(existing, JsonValue::Array(_)) {
                    let single = std::mem::replace(existing, JsonValue::Null);
                    *existing = JsonValue::Array(vec![single]);
                }
                let JsonValue::Array(items) = existing else {
                    unreachable!("made an array above")
                };
                for item in new_items {
                    if allow_duplicates || !items.contains(&item) {
                        items.push(item);
                    }
                }
                Ok(())
            }
        }
    }

    /// The document as `_simulate` shows it: `_index`, `_id`…, `_source` and `_ingest`, with
    /// `_version` `"-3"` (Elasticsearch's internal "match any") unless the document has one,
    /// in the final document and after each processor of a verbose run alike.
    pub fn to_simulated(&self) -> serde_json::Value {
        let mut shown = serde_json::Map::new();
        shown.insert("_index".to_owned(), self.target.clone().into());
        for (key, value) in &self.metadata {
            shown.insert(key.to_string(), value.to_value());
        }
        shown
            .entry("_version")
            .or_insert_with(|| serde_json::Value::from("-3"));
        shown.insert(
            "_source".to_owned(),
            serde_json::Value::Object(self.source.to_map()),
        );
        shown.insert(
            "_ingest".to_owned(),
            serde_json::Value::Object(self.ingest.to_map()),
        );
        serde_json::Value::Object(shown)
    }
}

/// Elasticsearch's error for a path that leads nowhere.
pub fn not_present(path: &str) -> PipelineError {
    let last = path.rsplit('.').next().unwrap_or(path);
    PipelineError::illegal_argument(format!(
        "field [{last}] not present as part of path [{path}]"
    ))
}

fn resolve<'o, 'a>(
    object: &'o JsonObject<'a>,
    path: &str,
    full: &str,
) -> Result<Option<&'o JsonValue<'a>>, PipelineError> {
    let mut steps = path.split('.');
    let first = steps.next().unwrap_or_default();
    let Some(mut current) = object.get(first) else {
        return Ok(None);
    };
    for step in steps {
        current = match current {
            JsonValue::Object(object) => match object.get(step) {
                Some(next) => next,
                None => return Ok(None),
            },
            JsonValue::Array(items) => {
                let index = list_index(step, items.len(), full)?;
                &items[index]
            }
            JsonValue::Null => return Ok(None),
            other => return Err(cannot_resolve(step, other, full)),
        };
    }
    Ok(Some(current))
}

fn resolve_mut<'o, 'a>(
    object: &'o mut JsonObject<'a>,
    path: &str,
    full: &str,
) -> Result<Option<&'o mut JsonValue<'a>>, PipelineError> {
    let mut steps = path.split('.');
    let first = steps.next().unwrap_or_default();
    let Some(mut current) = object.get_mut(first) else {
        return Ok(None);
    };
    for step in steps {
        current = match current {
            JsonValue::Object(object) => match object.get_mut(step) {
                Some(next) => next,
                None => return Ok(None),
            },
            JsonValue::Array(items) => {
                let index = list_index(step, items.len(), full)?;
                &mut items[index]
            }
            JsonValue::Null => return Ok(None),
            other => return Err(cannot_resolve(step, other, full)),
        };
    }
    Ok(Some(current))
}

fn set_in<'a>(
    object: &mut JsonObject<'a>,
    path: &str,
    full: &str,
    value: JsonValue<'a>,
) -> Result<(), PipelineError> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (Some(parent), last),
        None => (None, path),
    };
    let Some(parent) = parent else {
        object.insert(last.to_owned(), value);
        return Ok(());
    };
    let mut current = object;
    for step in parent.split('.') {
        if current
            .get(step)
            .is_none_or(|existing| *existing == JsonValue::Null)
        {
            current.insert(step.to_owned(), JsonValue::Object(JsonObject::default()));
        }
        let next = current.get_mut(step).expect("inserted above");
        current = match next {
            JsonValue::Object(object) => object,
            JsonValue::Array(items) => {
                return set_in_array(items, path_after(parent, step), last, full, value);
            }
            other => {
                return Err(PipelineError::illegal_argument(format!(
                    "cannot set [{last}] with parent object of type [{}] as part of path [{full}]",
                    java_type(other)
                )));
            }
        };
    }
    current.insert(last.to_owned(), value);
    Ok(())
}

/// What is left of `parent` after `step` (an array was found at `step`).
fn path_after<'p>(parent: &'p str, step: &str) -> Option<&'p str> {
    let start = parent.find(step)? + step.len();
    parent.get(start + 1..).filter(|rest| !rest.is_empty())
}

fn set_in_array<'a>(
    items: &mut [JsonValue<'a>],
    between: Option<&str>,
    last: &str,
    full: &str,
    value: JsonValue<'a>,
) -> Result<(), PipelineError> {
    match between {
        None => {
            let index = list_index(last, items.len(), full)?;
            items[index] = value;
            Ok(())
        }
        Some(rest) => {
            let (index, rest) = match rest.split_once('.') {
                Some((index, rest)) => (index, Some(rest)),
                None => (rest, None),
            };
            let index = list_index(index, items.len(), full)?;
            match (&mut items[index], rest) {
                (JsonValue::Object(object), None) => {
                    object.insert(last.to_owned(), value);
                    Ok(())
                }
                (JsonValue::Object(object), Some(rest)) => {
                    set_in(object, &format!("{rest}.{last}"), full, value)
                }
                (other, _) => Err(PipelineError::illegal_argument(format!(
                    "cannot set [{last}] with parent object of type [{}] as part of path [{full}]",
                    java_type(other)
                ))),
            }
        }
    }
}

fn list_index(step: &str, length: usize, full: &str) -> Result<usize, PipelineError> {
    let Ok(index) = step.parse::<usize>() else {
        return Err(PipelineError::illegal_argument(format!(
            "[{step}] is not an integer, cannot be used as an index as part of path [{full}]"
        )));
    };
    if index >= length {
        return Err(PipelineError::illegal_argument(format!(
            "[{index}] is out of bounds for array with length [{length}] as part of path [{full}]"
        )));
    }
    Ok(index)
}

fn cannot_resolve(step: &str, value: &JsonValue<'_>, full: &str) -> PipelineError {
    PipelineError::illegal_argument(format!(
        "cannot resolve [{step}] from object of type [{}] as part of path [{full}]",
        java_type(value)
    ))
}

/// The Java class Elasticsearch would name for a value in its messages.
pub fn java_type(value: &JsonValue<'_>) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "java.lang.Boolean",
        JsonValue::Number(number) => match number.as_i64() {
            Some(integer) if i32::try_from(integer).is_ok() => "java.lang.Integer",
            Some(_) => "java.lang.Long",
            None if number.is_u64() => "java.math.BigInteger",
            None => "java.lang.Double",
        },
        JsonValue::String(_) => "java.lang.String",
        JsonValue::Array(_) => "java.util.ArrayList",
        JsonValue::Object(_) => "java.util.HashMap",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(json: &str) -> IngestDocument<'static> {
        let source = JsonObject::from_slice(json.as_bytes())
            .unwrap()
            .into_owned();
        IngestDocument::new("logs", source)
    }

    fn text(value: &str) -> JsonValue<'static> {
        JsonValue::from(value)
    }

    #[test]
    fn paths_reach_objects_arrays_and_metadata() {
        let mut doc = document(r#"{"a":{"b":[{"c":1},{"c":2}]},"s":"x"}"#);
        assert_eq!(doc.get("a.b.1.c").unwrap().unwrap().to_string(), "2");
        assert_eq!(doc.get("_source.s").unwrap().unwrap().as_str(), Some("x"));
        assert!(doc.get("a.missing.deeper").unwrap().is_none());
        assert_eq!(doc.get("_index").unwrap().unwrap().as_str(), Some("logs"));
        let error = doc.get("s.t").unwrap_err();
        assert_eq!(
            error.reason,
            "cannot resolve [t] from object of type [java.lang.String] as part of path [s.t]"
        );
        let error = doc.get("a.b.5").unwrap_err();
        assert_eq!(
            error.reason,
            "[5] is out of bounds for array with length [2] as part of path [a.b.5]"
        );
        doc.set("_index", text("other")).unwrap();
        assert_eq!(doc.target, "other");
        assert!(!doc.source_modified, "metadata is not the source");
    }

    #[test]
    fn set_creates_objects_and_refuses_to_cross_values() {
        let mut doc = document(r#"{"s":"x","list":[{"k":1}]}"#);
        doc.set("new.deep.field", text("v")).unwrap();
        assert_eq!(
            doc.get("new.deep.field").unwrap().unwrap().as_str(),
            Some("v")
        );
        assert!(doc.source_modified);
        let error = doc.set("s.t", text("v")).unwrap_err();
        assert_eq!(
            error.reason,
            "cannot set [t] with parent object of type [java.lang.String] as part of path [s.t]"
        );
        doc.set("list.0.k", text("changed")).unwrap();
        assert_eq!(
            doc.get("list.0.k").unwrap().unwrap().as_str(),
            Some("changed")
        );
        doc.set("_ingest.mark", text("m")).unwrap();
        assert_eq!(
            doc.get("_ingest.mark").unwrap().unwrap().as_str(),
            Some("m")
        );
    }

    #[test]
    fn remove_and_append() {
        let mut doc = document(r#"{"a":{"b":1,"c":2},"tags":"one"}"#);
        assert_eq!(doc.remove("a.b").unwrap().unwrap().to_string(), "1");
        assert!(doc.remove("a.b").unwrap().is_none());
        assert_eq!(
            not_present("a.b").reason,
            "field [b] not present as part of path [a.b]"
        );
        doc.append("tags", text("two"), true).unwrap();
        doc.append(
            "tags",
            JsonValue::Array(vec![text("two"), text("three")]),
            false,
        )
        .unwrap();
        assert_eq!(
            doc.get("tags").unwrap().unwrap().to_string(),
            r#"["one","two","three"]"#
        );
        doc.append("fresh.list", text("x"), true).unwrap();
        assert_eq!(
            doc.get("fresh.list").unwrap().unwrap().to_string(),
            r#"["x"]"#
        );
    }
}
