//! [`Record`]: what the caller's thread hands to the background thread.
//!
//! The calling thread does as little as possible: it copies the event's values into one
//! compact owned record — string values appended to a single `text` buffer and referred to by
//! range, numbers and booleans inline, the request context as a shared pointer — and pushes
//! it onto the queue. JSON, redaction, timestamps formatting and I/O all happen later, on the
//! background thread (see `encode.rs`). Two allocations per event in the common case (the
//! field vector and the text buffer) is what keeps the per-event cost below a microsecond.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::SystemTime;

use logfleet_model::{Level, LogCategory};

use crate::context::RequestContext;

/// A field name: the `&'static str` of a `tracing` field or helper, or an owned name given at
/// run time (extra helper fields, events passed to [`emit`](crate::emit)).
pub(crate) type Key = Cow<'static, str>;

/// A byte range into [`Record::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRange {
    start: u32,
    end: u32,
}

/// One captured value.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// A string stored in the record's text buffer.
    Text(TextRange),
    /// A string shared with something longer-lived (request ids, service names).
    Shared(Arc<str>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// Anything structured, from [`FieldValue::Json`] or [`emit`](crate::emit).
    Json(Box<serde_json::Value>),
}

/// `log_category` as the event gave it: one of the schema's, or another string kept verbatim
/// (an explicit `log_category` always wins, even a misspelt one, so it is visible downstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Known(LogCategory),
    Other(TextRange),
}

/// One event, owned, ready to cross to the background thread.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) time: SystemTime,
    pub(crate) level: Level,
    /// `None`: decided at encoding time (request span → `api_request`, else the default).
    pub(crate) category: Option<Category>,
    pub(crate) message: Option<TextRange>,
    /// The `tracing` target (module path) of events from `tracing` macros.
    pub(crate) target: Option<&'static str>,
    pub(crate) text: String,
    pub(crate) fields: Vec<(Key, Val)>,
    pub(crate) context: Option<Arc<RequestContext>>,
}

impl Record {
    /// An empty record stamped now, with room for `field_count` fields.
    pub(crate) fn new(level: Level, field_count: usize) -> Self {
        Self {
            time: SystemTime::now(),
            level,
            category: None,
            message: None,
            target: None,
            // Room for a message and a few short values without growing.
            text: String::with_capacity(128),
            fields: Vec::with_capacity(field_count),
            context: None,
        }
    }

    /// Empties a used record for reuse, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.category = None;
        self.message = None;
        self.target = None;
        self.text.clear();
        self.fields.clear();
        self.context = None;
    }

    /// Readies a cleared record for a new event.
    pub(crate) fn restart(&mut self, level: Level) {
        self.time = SystemTime::now();
        self.level = level;
    }

    /// A record of a known category with a message, as helpers build them.
    pub(crate) fn with_message(
        category: LogCategory,
        level: Level,
        message: &str,
        field_count: usize,
    ) -> Self {
        let mut record = Self::new(level, field_count);
        record.category = Some(Category::Known(category));
        record.message = Some(record.push_text(message));
        record
    }

    /// Appends `value` to the text buffer and returns where it is.
    pub(crate) fn push_text(&mut self, value: &str) -> TextRange {
        let start = self.text.len();
        self.text.push_str(value);
        self.range_since(start)
    }

    /// Formats `value` into the text buffer and returns where it is.
    pub(crate) fn push_display(&mut self, value: &dyn fmt::Display) -> TextRange {
        let start = self.text.len();
        // Writing into a `String` cannot fail; a `Display` impl that reports an error anyway
        // leaves whatever it wrote, which is the most useful thing to keep.
        let _ = write!(self.text, "{value}");
        self.range_since(start)
    }

    /// Formats `value` with `Debug` into the text buffer and returns where it is.
    pub(crate) fn push_debug(&mut self, value: &dyn fmt::Debug) -> TextRange {
        let start = self.text.len();
        let _ = write!(self.text, "{value:?}");
        self.range_since(start)
    }

    fn range_since(&self, start: usize) -> TextRange {
        // Records are single events; a text buffer beyond 4 GiB is not a case to design for, so
        // saturating keeps the ranges valid (the value is cut) rather than panicking.
        let clamp = |offset: usize| u32::try_from(offset).unwrap_or(u32::MAX);
        TextRange {
            start: clamp(start),
            end: clamp(self.text.len()),
        }
    }

    /// The string a range refers to.
    pub(crate) fn text_of(&self, range: TextRange) -> &str {
        self.text
            .get(range.start as usize..range.end as usize)
            .unwrap_or_default()
    }

    /// Adds a string field.
    pub(crate) fn str(&mut self, key: impl Into<Key>, value: &str) -> &mut Self {
        let range = self.push_text(value);
        self.fields.push((key.into(), Val::Text(range)));
        self
    }

    /// Adds a field formatted with `Display`.
    pub(crate) fn display(&mut self, key: impl Into<Key>, value: &dyn fmt::Display) -> &mut Self {
        let range = self.push_display(value);
        self.fields.push((key.into(), Val::Text(range)));
        self
    }

    /// Adds a field of any captured kind.
    pub(crate) fn val(&mut self, key: impl Into<Key>, value: Val) -> &mut Self {
        self.fields.push((key.into(), value));
        self
    }

    /// Adds a field given through the public [`FieldValue`], replacing an earlier field of
    /// the same name so helpers never produce duplicate keys.
    pub(crate) fn field_value(&mut self, key: Key, value: FieldValue) -> &mut Self {
        let captured = match value {
            FieldValue::Str(text) => Val::Text(self.push_text(&text)),
            FieldValue::I64(number) => Val::I64(number),
            FieldValue::U64(number) => Val::U64(number),
            FieldValue::F64(number) => Val::F64(number),
            FieldValue::Bool(flag) => Val::Bool(flag),
            FieldValue::Json(json) => Val::Json(Box::new(json)),
        };
        match self.fields.iter_mut().find(|(name, _)| *name == key) {
            Some(slot) => slot.1 = captured,
            None => self.fields.push((key, captured)),
        }
        self
    }

    /// Whether a field of that name was set.
    #[cfg(test)]
    pub(crate) fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(name, _)| name == key)
    }
}

/// A value for an extra field passed to a helper (`.field("username", name)`).
///
/// Built with `From` from strings, integers, floats, booleans and `serde_json::Value`, so
/// call sites write `.field("rows", 3)` or `.field("username", &name)`. Values are redacted
/// like every other field before they leave the process.
///
/// ```
/// use logfleet_sdk::FieldValue;
///
/// assert_eq!(FieldValue::from(3_u32), FieldValue::U64(3));
/// assert_eq!(FieldValue::from("alice"), FieldValue::Str("alice".into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A string (`keyword` unless the schema says otherwise).
    Str(Cow<'static, str>),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A floating-point number; NaN and infinities are written as `null`.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// Any JSON value, e.g. an object (mapped dynamically).
    Json(serde_json::Value),
}

impl From<&str> for FieldValue {
    fn from(value: &str) -> Self {
        Self::Str(Cow::Owned(value.to_owned()))
    }
}

impl From<&String> for FieldValue {
    fn from(value: &String) -> Self {
        Self::Str(Cow::Owned(value.clone()))
    }
}

impl From<String> for FieldValue {
    fn from(value: String) -> Self {
        Self::Str(Cow::Owned(value))
    }
}

impl From<Cow<'static, str>> for FieldValue {
    fn from(value: Cow<'static, str>) -> Self {
        Self::Str(value)
    }
}

impl From<bool> for FieldValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<f64> for FieldValue {
    fn from(value: f64) -> Self {
        Self::F64(value)
    }
}

impl From<f32> for FieldValue {
    fn from(value: f32) -> Self {
        Self::F64(f64::from(value))
    }
}

impl From<serde_json::Value> for FieldValue {
    fn from(value: serde_json::Value) -> Self {
        Self::Json(value)
    }
}

impl From<std::net::IpAddr> for FieldValue {
    fn from(value: std::net::IpAddr) -> Self {
        Self::Str(Cow::Owned(value.to_string()))
    }
}

macro_rules! field_value_from_integers {
    ($variant:ident as $wide:ty: $($narrow:ty),+) => {
        $(
            impl From<$narrow> for FieldValue {
                fn from(value: $narrow) -> Self {
                    Self::$variant(<$wide>::from(value))
                }
            }
        )+
    };
}

field_value_from_integers!(I64 as i64: i8, i16, i32, i64);
field_value_from_integers!(U64 as u64: u8, u16, u32, u64);

impl From<usize> for FieldValue {
    fn from(value: usize) -> Self {
        Self::U64(u64::try_from(value).unwrap_or(u64::MAX))
    }
}

impl From<isize> for FieldValue {
    fn from(value: isize) -> Self {
        Self::I64(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_share_one_buffer_and_come_back_by_range() {
        let mut record = Record::new(Level::Info, 4);
        record.str("a", "first").display("b", &42).str("c", "");
        let texts: Vec<&str> = record
            .fields
            .iter()
            .map(|(_, value)| match value {
                Val::Text(range) => record.text_of(*range),
                _ => panic!("expected text"),
            })
            .collect();
        assert_eq!(texts, ["first", "42", ""]);
        assert_eq!(record.text, "first42");
    }

    #[test]
    fn field_value_replaces_a_field_of_the_same_name() {
        let mut record = Record::new(Level::Info, 2);
        record.field_value("rows".into(), FieldValue::from(1));
        record.field_value("rows".into(), FieldValue::from(2));
        assert_eq!(record.fields.len(), 1);
        assert!(matches!(record.fields[0].1, Val::I64(2)));
        assert!(record.has("rows"));
        assert!(!record.has("row"));
    }
}
