//! The values a script computes with.
//!
//! A condition only reads, so it sees the document in place: [`Value::Context`],
//! [`Value::JsonMap`] and [`Value::JsonList`] are views into the [`IngestDocument`], and strings
//! read from it borrow from it ([`Text::Borrowed`]) — testing `ctx.event?.outcome == 'failure'`
//! copies nothing. A `script` processor writes, and Painless gives maps and lists reference
//! semantics (`def m = ctx.a; m.b = 1` changes the document), so there the document's maps and
//! lists become shared [`Map`]s and [`List`]s for the run, while strings keep borrowing from the
//! request body; the result is turned back into JSON at the end.

use std::borrow::Cow;
use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;
use std::sync::Arc;

use logfleet_model::json::{JsonObject, JsonValue};
use serde_json::Number;

use crate::document::METADATA_FIELDS;
use crate::{IngestDocument, PipelineError};

/// How deep values may nest when they are compared, printed or turned into JSON: deeper than
/// any document, shallow enough that a map that contains itself is an error, not a crash.
pub(crate) const MAX_VALUE_DEPTH: usize = 256;

/// A string: borrowed from the document, shared with the compiled script (literals), or
/// computed.
#[derive(Debug, Clone)]
pub(crate) enum Text<'v> {
    Borrowed(&'v str),
    Shared(Arc<str>),
    Owned(Rc<str>),
}

impl<'v> Text<'v> {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Shared(text) => text,
            Text::Owned(text) => text,
        }
    }

    fn from_cow(text: Cow<'v, str>) -> Text<'v> {
        match text {
            Cow::Borrowed(text) => Text::Borrowed(text),
            Cow::Owned(text) => Text::Owned(Rc::from(text)),
        }
    }

    pub fn into_cow(self) -> Cow<'v, str> {
        match self {
            Text::Borrowed(text) => Cow::Borrowed(text),
            other => Cow::Owned(other.as_str().to_owned()),
        }
    }
}

impl From<String> for Text<'_> {
    fn from(text: String) -> Self {
        Text::Owned(Rc::from(text))
    }
}

impl From<&str> for Text<'_> {
    fn from(text: &str) -> Self {
        Text::Owned(Rc::from(text))
    }
}

/// Which part of the document a shared map or list came from, so that a change to it can be
/// told apart from a change to a script's own collections (`source_modified`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Made by the script.
    Script,
    /// Part of the document's source.
    Source,
    /// `ctx` itself: the source plus the metadata members.
    Context,
    /// `_ingest` or the metadata: not the source.
    Metadata,
}

/// A map made or changed by a script; members keep their order, as the document's do.
#[derive(Debug)]
pub(crate) struct Map<'v> {
    pub entries: Vec<(Text<'v>, Value<'v>)>,
    pub origin: Origin,
}

impl<'v> Map<'v> {
    pub fn new(origin: Origin) -> Map<'v> {
        Map {
            entries: Vec::new(),
            origin,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value<'v>> {
        self.entries
            .iter()
            .find(|(name, _)| name.as_str() == key)
            .map(|(_, value)| value)
    }

    /// Sets `key`, returning the value it replaced.
    pub fn put(&mut self, key: Text<'v>, value: Value<'v>) -> Option<Value<'v>> {
        match self
            .entries
            .iter_mut()
            .find(|(name, _)| name.as_str() == key.as_str())
        {
            Some((_, existing)) => Some(std::mem::replace(existing, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value<'v>> {
        let position = self
            .entries
            .iter()
            .position(|(name, _)| name.as_str() == key)?;
        Some(self.entries.remove(position).1)
    }
}

/// A list made or changed by a script; `set` makes it a `HashSet` (no duplicates).
#[derive(Debug)]
pub(crate) struct List<'v> {
    pub items: Vec<Value<'v>>,
    pub set: bool,
    pub origin: Origin,
}

pub(crate) type SharedMap<'v> = Rc<RefCell<Map<'v>>>;
pub(crate) type SharedList<'v> = Rc<RefCell<List<'v>>>;

/// A `java.util.StringTokenizer`: the tokens of a string, handed out one by one.
#[derive(Debug)]
pub(crate) struct Tokenizer {
    tokens: Vec<String>,
    next: usize,
}

impl Tokenizer {
    /// The maximal runs of characters of `text` that are not in `delimiters`.
    pub fn new(text: &str, delimiters: &str) -> Tokenizer {
        let tokens = text
            .split(|character| delimiters.contains(character))
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .collect();
        Tokenizer { tokens, next: 0 }
    }

    pub fn next_token(&mut self) -> Option<String> {
        let token = self.tokens.get(self.next)?.clone();
        self.next += 1;
        Some(token)
    }

    pub fn remaining(&self) -> usize {
        self.tokens.len() - self.next
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Value<'v> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Str(Text<'v>),
    /// `ctx` in a condition: the document, read-only.
    Context(&'v IngestDocument<'v>),
    /// A map of the document (or of `params`), read-only.
    JsonMap(&'v JsonObject<'v>),
    /// A list of the document (or of `params`), read-only.
    JsonList(&'v [JsonValue<'v>]),
    Map(SharedMap<'v>),
    List(SharedList<'v>),
    /// A member of `entrySet()`.
    Entry(Rc<(Text<'v>, Value<'v>)>),
    /// `new StringTokenizer(…)`: a script's own, never part of a document.
    Tokenizer(Rc<RefCell<Tokenizer>>),
}

pub(crate) fn number<'v>(number: &Number) -> Value<'v> {
    if let Some(integer) = number.as_i64() {
        return match i32::try_from(integer) {
            Ok(small) => Value::Int(small),
            Err(_) => Value::Long(integer),
        };
    }
    Value::Double(number.as_f64().unwrap_or(f64::NAN))
}

pub(crate) fn string<'v>(text: impl Into<String>) -> Value<'v> {
    Value::Str(Text::from(text.into()))
}

pub(crate) fn new_map<'v>(entries: Vec<(Text<'v>, Value<'v>)>, origin: Origin) -> Value<'v> {
    Value::Map(Rc::new(RefCell::new(Map { entries, origin })))
}

pub(crate) fn new_list<'v>(items: Vec<Value<'v>>, set: bool) -> Value<'v> {
    Value::List(Rc::new(RefCell::new(List {
        items,
        set,
        origin: Origin::Script,
    })))
}

/// The members of a document object as map entries, taken out of it.
pub(crate) fn adopt_members<'v>(
    mut object: JsonObject<'v>,
    origin: Origin,
) -> Vec<(Text<'v>, Value<'v>)> {
    let keys: Vec<Cow<'v, str>> = object.iter().map(|(key, _)| key.clone()).collect();
    keys.into_iter()
        .zip(object.iter_mut())
        .map(|(key, (_, member))| {
            let member = std::mem::replace(member, JsonValue::Null);
            (Text::from_cow(key), Value::adopt(member, origin))
        })
        .collect()
}

/// Reads a shared collection; the evaluator never holds a borrow across evaluation, so this
/// only fails on a bug, which is reported rather than panicking.
pub(crate) fn read<T>(cell: &RefCell<T>) -> Result<Ref<'_, T>, PipelineError> {
    cell.try_borrow().map_err(|_| concurrent_modification())
}

pub(crate) fn write<T>(cell: &RefCell<T>) -> Result<RefMut<'_, T>, PipelineError> {
    cell.try_borrow_mut().map_err(|_| concurrent_modification())
}

fn concurrent_modification() -> PipelineError {
    PipelineError::new(
        "concurrent_modification_exception",
        "a collection was changed while it was being read".to_owned(),
    )
}

fn too_deep() -> PipelineError {
    PipelineError::new(
        "script_exception",
        format!(
            "values nest deeper than [{MAX_VALUE_DEPTH}] levels (a map or list that contains itself?)"
        ),
    )
}

impl<'v> Value<'v> {
    /// A read-only view of a document value.
    pub fn view(value: &'v JsonValue<'v>) -> Value<'v> {
        match value {
            JsonValue::Null => Value::Null,
            JsonValue::Bool(flag) => Value::Bool(*flag),
            JsonValue::Number(value) => number(value),
            JsonValue::String(text) => Value::Str(Text::Borrowed(text)),
            JsonValue::Array(items) => Value::JsonList(items),
            JsonValue::Object(object) => Value::JsonMap(object),
        }
    }

    /// Takes over a document value as shared maps and lists; strings keep what they borrow.
    /// Documents are at most as deep as the JSON decoder allows, so this recursion is bounded.
    pub fn adopt(value: JsonValue<'v>, origin: Origin) -> Value<'v> {
        match value {
            JsonValue::Null => Value::Null,
            JsonValue::Bool(flag) => Value::Bool(flag),
            JsonValue::Number(value) => number(&value),
            JsonValue::String(text) => Value::Str(Text::from_cow(text)),
            JsonValue::Array(items) => Value::List(Rc::new(RefCell::new(List {
                items: items
                    .into_iter()
                    .map(|item| Value::adopt(item, origin))
                    .collect(),
                set: false,
                origin,
            }))),
            JsonValue::Object(object) => new_map(adopt_members(object, origin), origin),
        }
    }

    /// A copy of a value that is borrowed for less time than the run (`params`).
    pub fn copy(value: &JsonValue<'_>) -> Value<'v> {
        Value::adopt(JsonValue::from_value(value.to_value()), Origin::Script)
    }

    /// The value as JSON for the document.
    pub fn to_json(&self, depth: usize) -> Result<JsonValue<'v>, PipelineError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        Ok(match self {
            Value::Null => JsonValue::Null,
            Value::Bool(flag) => JsonValue::Bool(*flag),
            Value::Int(integer) => JsonValue::Number((*integer).into()),
            Value::Long(integer) => JsonValue::Number((*integer).into()),
            Value::Double(double) => match Number::from_f64(*double) {
                Some(finite) => JsonValue::Number(finite),
                None => {
                    return Err(PipelineError::illegal_argument(format!(
                        "cannot store the non-finite number [{}] in a document",
                        java_double(*double)
                    )));
                }
            },
            Value::Str(text) => JsonValue::String(text.clone().into_cow()),
            Value::Context(document) => {
                let mut object = JsonObject::default();
                for (key, member) in context_entries(document) {
                    object.insert(key, member.to_json(depth + 1)?);
                }
                JsonValue::Object(object)
            }
            Value::JsonMap(object) => JsonValue::Object((*object).clone()),
            Value::JsonList(items) => JsonValue::Array(items.to_vec()),
            Value::Map(map) => {
                let map = read(map)?;
                let mut object = JsonObject::default();
                for (key, member) in &map.entries {
                    object.insert(key.clone().into_cow(), member.to_json(depth + 1)?);
                }
                JsonValue::Object(object)
            }
            Value::List(list) => {
                let list = read(list)?;
                JsonValue::Array(
                    list.items
                        .iter()
                        .map(|item| item.to_json(depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            }
            Value::Entry(entry) => {
                let mut object = JsonObject::default();
                object.insert(entry.0.clone().into_cow(), entry.1.to_json(depth + 1)?);
                JsonValue::Object(object)
            }
            Value::Tokenizer(_) => {
                return Err(PipelineError::illegal_argument(
                    "cannot store a [java.util.StringTokenizer] in a document".to_owned(),
                ));
            }
        })
    }

    /// The Java class Painless would name for the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "java.lang.Boolean",
            Value::Int(_) => "java.lang.Integer",
            Value::Long(_) => "java.lang.Long",
            Value::Double(_) => "java.lang.Double",
            Value::Str(_) => "java.lang.String",
            Value::Context(_) | Value::JsonMap(_) | Value::Map(_) => "java.util.HashMap",
            Value::JsonList(_) => "java.util.ArrayList",
            Value::List(list) => match read(list).map(|list| list.set) {
                Ok(true) => "java.util.HashSet",
                _ => "java.util.ArrayList",
            },
            Value::Entry(_) => "java.util.Map$Entry",
            Value::Tokenizer(_) => "java.util.StringTokenizer",
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Long(_) | Value::Double(_))
    }

    pub fn is_map(&self) -> bool {
        matches!(self, Value::Context(_) | Value::JsonMap(_) | Value::Map(_))
    }

    /// Lists and sets.
    pub fn is_collection(&self) -> bool {
        matches!(self, Value::JsonList(_) | Value::List(_))
    }

    pub fn is_set(&self) -> bool {
        match self {
            Value::List(list) => read(list).is_ok_and(|list| list.set),
            _ => false,
        }
    }

    /// The number as a double, for arithmetic that has been promoted to one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(integer) => Some(f64::from(*integer)),
            Value::Long(integer) => Some(*integer as f64),
            Value::Double(double) => Some(*double),
            _ => None,
        }
    }

    /// An `int` or `long` as a long.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(integer) => Some(i64::from(*integer)),
            Value::Long(integer) => Some(*integer),
            _ => None,
        }
    }

    /// The value of map member `key`, `None` when missing; `self` must be a map.
    pub fn map_get(&self, key: &str) -> Result<Option<Value<'v>>, PipelineError> {
        Ok(match self {
            Value::Context(document) => context_get(document, key),
            Value::JsonMap(object) => object.get(key).map(Value::view),
            Value::Map(map) => read(map)?.get(key).cloned(),
            _ => None,
        })
    }

    /// The members of a map, in order.
    pub fn map_entries(&self) -> Result<Vec<(Text<'v>, Value<'v>)>, PipelineError> {
        Ok(match self {
            Value::Context(document) => context_entries(document)
                .map(|(key, value)| (Text::Borrowed(key), value))
                .collect(),
            Value::JsonMap(object) => object
                .iter()
                .map(|(key, value)| (Text::Borrowed(key.as_ref()), Value::view(value)))
                .collect(),
            Value::Map(map) => read(map)?.entries.clone(),
            _ => Vec::new(),
        })
    }

    /// The items of a list or set, in order.
    pub fn list_items(&self) -> Result<Vec<Value<'v>>, PipelineError> {
        Ok(match self {
            Value::JsonList(items) => items.iter().map(Value::view).collect(),
            Value::List(list) => read(list)?.items.clone(),
            _ => Vec::new(),
        })
    }

    /// The number of members or items of a map or collection.
    pub fn size(&self) -> Result<usize, PipelineError> {
        Ok(match self {
            Value::Context(document) => context_entries(document).count(),
            Value::JsonMap(object) => object.len(),
            Value::Map(map) => read(map)?.entries.len(),
            Value::JsonList(items) => items.len(),
            Value::List(list) => read(list)?.items.len(),
            _ => 0,
        })
    }

    /// Java's `toString()`.
    pub fn java_string(&self) -> Result<String, PipelineError> {
        let mut text = String::new();
        self.write_java(&mut text, 0)?;
        Ok(text)
    }

    fn write_java(&self, out: &mut String, depth: usize) -> Result<(), PipelineError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Value::Int(integer) => out.push_str(&integer.to_string()),
            Value::Long(integer) => out.push_str(&integer.to_string()),
            Value::Double(double) => out.push_str(&java_double(*double)),
            Value::Str(text) => out.push_str(text.as_str()),
            Value::Entry(entry) => {
                out.push_str(entry.0.as_str());
                out.push('=');
                entry.1.write_java(out, depth + 1)?;
            }
            Value::Tokenizer(_) => out.push_str("java.util.StringTokenizer"),
            map if map.is_map() => {
                out.push('{');
                for (position, (key, value)) in map.map_entries()?.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key.as_str());
                    out.push('=');
                    value.write_java(out, depth + 1)?;
                }
                out.push('}');
            }
            list => {
                out.push('[');
                for (position, item) in list.list_items()?.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    item.write_java(out, depth + 1)?;
                }
                out.push(']');
            }
        }
        Ok(())
    }
}

/// Java's `equals`: numbers of different classes differ (`Integer 1` is not `Long 1`), maps
/// compare members regardless of order, lists compare in order.
pub(crate) fn java_equals(
    left: &Value<'_>,
    right: &Value<'_>,
    depth: usize,
) -> Result<bool, PipelineError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    Ok(match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(left), Value::Bool(right)) => left == right,
        (Value::Int(left), Value::Int(right)) => left == right,
        (Value::Long(left), Value::Long(right)) => left == right,
        (Value::Double(left), Value::Double(right)) => left.to_bits() == right.to_bits(),
        (Value::Str(left), Value::Str(right)) => left.as_str() == right.as_str(),
        (Value::Entry(left), Value::Entry(right)) => {
            left.0.as_str() == right.0.as_str() && java_equals(&left.1, &right.1, depth + 1)?
        }
        (Value::Tokenizer(left), Value::Tokenizer(right)) => Rc::ptr_eq(left, right),
        (left, right) if left.is_map() && right.is_map() => {
            if left.size()? != right.size()? {
                return Ok(false);
            }
            for (key, value) in left.map_entries()? {
                let Some(other) = right.map_get(key.as_str())? else {
                    return Ok(false);
                };
                if !java_equals(&value, &other, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (left, right) if left.is_collection() && right.is_collection() => {
            let (left_items, right_items) = (left.list_items()?, right.list_items()?);
            if left_items.len() != right_items.len() || left.is_set() != right.is_set() {
                return Ok(false);
            }
            if left.is_set() {
                for item in &left_items {
                    if !contains(&right_items, item)? {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            for (left_item, right_item) in left_items.iter().zip(&right_items) {
                if !java_equals(left_item, right_item, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        _ => false,
    })
}

/// Whether `items` holds a value equal to `wanted`.
pub(crate) fn contains(items: &[Value<'_>], wanted: &Value<'_>) -> Result<bool, PipelineError> {
    for item in items {
        if java_equals(item, wanted, 0)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The members `ctx` shows in a condition: `_index`, the metadata, `_ingest` (when there is
/// ingest metadata), then the source.
pub(crate) fn context_entries<'v>(
    document: &'v IngestDocument<'v>,
) -> impl Iterator<Item = (&'v str, Value<'v>)> {
    let index = std::iter::once(("_index", Value::Str(Text::Borrowed(&document.target))));
    let metadata = document
        .metadata
        .iter()
        .map(|(key, value)| (key.as_ref(), Value::view(value)));
    let ingest =
        (!document.ingest.is_empty()).then_some(("_ingest", Value::JsonMap(&document.ingest)));
    let source = document
        .source
        .iter()
        .map(|(key, value)| (key.as_ref(), Value::view(value)));
    index.chain(metadata).chain(ingest).chain(source)
}

fn context_get<'v>(document: &'v IngestDocument<'v>, key: &str) -> Option<Value<'v>> {
    if key == "_index" {
        return Some(Value::Str(Text::Borrowed(&document.target)));
    }
    if METADATA_FIELDS.contains(&key) {
        return document.metadata.get(key).map(Value::view);
    }
    if key == "_ingest" {
        return (!document.ingest.is_empty()).then_some(Value::JsonMap(&document.ingest));
    }
    document.source.get(key).map(Value::view)
}

/// Java's `Double.toString`: `1.0`, `0.001`, `1.0E7`, `1.5E-5`, `NaN`, `Infinity`.
pub(crate) fn java_double(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{value}");
        if text.contains('.') {
            return text;
        }
        return format!("{text}.0");
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_prints_them() {
        for (value, expected) in [
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.001, "0.001"),
            (1e7, "1.0E7"),
            (1.5e-5, "1.5E-5"),
            (123456.789, "123456.789"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(java_double(value), expected);
        }
    }

    #[test]
    fn document_values_are_viewed_without_copies() {
        let object =
            JsonObject::from_slice(br#"{"s":"text","n":1,"big":5000000000,"d":1.5}"#).unwrap();
        let JsonValue::String(Cow::Borrowed(_)) = object.get("s").unwrap() else {
            panic!("the decoder borrows")
        };
        let view = Value::JsonMap(&object);
        assert!(matches!(
            view.map_get("s").unwrap(),
            Some(Value::Str(Text::Borrowed("text")))
        ));
        assert!(matches!(view.map_get("n").unwrap(), Some(Value::Int(1))));
        assert!(matches!(
            view.map_get("big").unwrap(),
            Some(Value::Long(5_000_000_000))
        ));
        assert!(matches!(view.map_get("d").unwrap(), Some(Value::Double(_))));
        assert_eq!(
            view.java_string().unwrap(),
            "{s=text, n=1, big=5000000000, d=1.5}"
        );
    }

    #[test]
    fn equality_follows_java() {
        let list = new_list(vec![Value::Int(1), string("a")], false);
        let same = new_list(vec![Value::Int(1), string("a")], false);
        assert!(java_equals(&list, &same, 0).unwrap());
        let long = new_list(vec![Value::Long(1), string("a")], false);
        assert!(!java_equals(&list, &long, 0).unwrap());
        let map = new_map(
            vec![
                (Text::from("a"), Value::Int(1)),
                (Text::from("b"), Value::Null),
            ],
            Origin::Script,
        );
        let reordered = new_map(
            vec![
                (Text::from("b"), Value::Null),
                (Text::from("a"), Value::Int(1)),
            ],
            Origin::Script,
        );
        assert!(java_equals(&map, &reordered, 0).unwrap());
    }

    #[test]
    fn a_map_that_contains_itself_is_an_error() {
        let map = new_map(Vec::new(), Origin::Script);
        let Value::Map(shared) = &map else {
            unreachable!()
        };
        shared.borrow_mut().put(Text::from("self"), map.clone());
        assert!(map.to_json(0).is_err());
        assert!(map.java_string().is_err());
        assert!(java_equals(&map, &map.clone(), 0).is_err());
        // Break the cycle so that the test does not leak.
        shared.borrow_mut().entries.clear();
    }
}
