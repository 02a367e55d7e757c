//! Events decoded in place: a JSON tree whose strings borrow from the bytes it was read from.
//!
//! Ingest reads every event once to route it, check it against its mapping and collect the
//! values to index, and never needs it again: the stored `_source` is the bytes as sent. A
//! [`serde_json::Value`] would copy every key and string into its own allocation and hash
//! every key into an ordered map only for that walk to read them once. A [`JsonValue`] keeps
//! strings without escapes as slices of the input and objects as vectors of members in their
//! order, so decoding an event costs a few allocations instead of one per member.
//!
//! Duplicate keys are rejected, as Elasticsearch's parser does (`Duplicate field 'x'`): a
//! document whose `_source` says two things about one field has no single meaning to index.
//!
//! ```
//! use logfleet_model::json::{JsonObject, JsonValue};
//!
//! let bytes = br#"{"level":"info","http":{"status_code":200}}"#;
//! let event = JsonObject::from_slice(bytes).unwrap();
//! assert_eq!(event.get("level").and_then(JsonValue::as_str), Some("info"));
//! assert!(JsonObject::from_slice(br#"{"a":1,"a":2}"#).is_err());
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Number;

/// A JSON value whose strings borrow from the decoded input where they can.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(Number),
    /// A string: borrowed unless it had escapes.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<JsonValue<'a>>),
    /// An object.
    Object(JsonObject<'a>),
}

/// A JSON object: its members in the order they were written, no key twice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonObject<'a> {
    members: Vec<(Cow<'a, str>, JsonValue<'a>)>,
}

impl<'a> JsonObject<'a> {
    /// Decodes a JSON object from `bytes`, borrowing its strings. Anything but one object
    /// (with optional surrounding whitespace) is an error, as are duplicate keys.
    pub fn from_slice(bytes: &'a [u8]) -> Result<JsonObject<'a>, serde_json::Error> {
        decode(bytes)
    }

    /// The value of member `key`.
    pub fn get(&self, key: &str) -> Option<&JsonValue<'a>> {
        self.members
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// Whether the object has member `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets member `key`, in place if it exists, else after the others.
    pub fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: JsonValue<'a>) {
        let key = key.into();
        match self.members.iter_mut().find(|(name, _)| *name == key) {
            Some((_, existing)) => *existing = value,
            None => self.members.push((key, value)),
        }
    }

    /// The value of member `key`, to change it in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut JsonValue<'a>> {
        self.members
            .iter_mut()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// Removes member `key`, keeping the others in order, and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<JsonValue<'a>> {
        let position = self.members.iter().position(|(name, _)| name == key)?;
        Some(self.members.remove(position).1)
    }

    /// Keeps the members for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &JsonValue<'a>) -> bool) {
        self.members.retain(|(key, value)| keep(key, value));
    }

    /// The members, in order, to change their values in place.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut JsonValue<'a>)> {
        self.members.iter_mut().map(|(key, value)| (&**key, value))
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> JsonObject<'static> {
        JsonObject {
            members: self
                .members
                .into_iter()
                .map(|(key, value)| (Cow::Owned(key.into_owned()), value.into_owned()))
                .collect(),
        }
    }

    /// The object of a [`serde_json::Map`].
    pub fn from_map(map: serde_json::Map<String, serde_json::Value>) -> JsonObject<'static> {
        JsonObject {
            members: map
                .into_iter()
                .map(|(key, value)| (Cow::Owned(key), JsonValue::from_value(value)))
                .collect(),
        }
    }

    /// The members, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, (Cow<'a, str>, JsonValue<'a>)> {
        self.members.iter()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(key, _)| key.as_ref())
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// An owned copy as a [`serde_json::Map`].
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.members
            .iter()
            .map(|(key, value)| (key.as_ref().to_owned(), value.to_value()))
            .collect()
    }
}

impl<'o, 'a> IntoIterator for &'o JsonObject<'a> {
    type Item = &'o (Cow<'a, str>, JsonValue<'a>);
    type IntoIter = std::slice::Iter<'o, (Cow<'a, str>, JsonValue<'a>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.iter()
    }
}

/// Decodes `bytes`, checking that they are UTF-8 once rather than string by string (which
/// serde_json does for input that is not known to be a `str`).
fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        // Decoding the bytes finds the same problem and says where it is.
        Err(_) => serde_json::from_slice(bytes),
    }
}

impl<'a> JsonValue<'a> {
    /// Decodes one JSON value from `bytes`, borrowing its strings; duplicate keys in any
    /// object are an error.
    pub fn from_slice(bytes: &'a [u8]) -> Result<JsonValue<'a>, serde_json::Error> {
        decode(bytes)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(text) => Some(text),
            _ => None,
        }
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> JsonValue<'static> {
        match self {
            JsonValue::Null => JsonValue::Null,
            JsonValue::Bool(flag) => JsonValue::Bool(flag),
            JsonValue::Number(number) => JsonValue::Number(number),
            JsonValue::String(text) => JsonValue::String(Cow::Owned(text.into_owned())),
            JsonValue::Array(items) => {
                JsonValue::Array(items.into_iter().map(JsonValue::into_owned).collect())
            }
            JsonValue::Object(object) => JsonValue::Object(object.into_owned()),
        }
    }

    /// The value of a [`serde_json::Value`].
    pub fn from_value(value: serde_json::Value) -> JsonValue<'static> {
        match value {
            serde_json::Value::Null => JsonValue::Null,
            serde_json::Value::Bool(flag) => JsonValue::Bool(flag),
            serde_json::Value::Number(number) => JsonValue::Number(number),
            serde_json::Value::String(text) => JsonValue::String(Cow::Owned(text)),
            serde_json::Value::Array(items) => {
                JsonValue::Array(items.into_iter().map(JsonValue::from_value).collect())
            }
            serde_json::Value::Object(map) => JsonValue::Object(JsonObject::from_map(map)),
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, JsonValue::Object(_))
    }

    /// An owned copy as a [`serde_json::Value`].
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            JsonValue::Null => serde_json::Value::Null,
            JsonValue::Bool(flag) => serde_json::Value::Bool(*flag),
            JsonValue::Number(number) => serde_json::Value::Number(number.clone()),
            JsonValue::String(text) => serde_json::Value::String(text.as_ref().to_owned()),
            JsonValue::Array(items) => {
                serde_json::Value::Array(items.iter().map(JsonValue::to_value).collect())
            }
            JsonValue::Object(object) => serde_json::Value::Object(object.to_map()),
        }
    }
}

impl From<&str> for JsonValue<'static> {
    fn from(text: &str) -> Self {
        JsonValue::String(Cow::Owned(text.to_owned()))
    }
}

impl From<String> for JsonValue<'static> {
    fn from(text: String) -> Self {
        JsonValue::String(Cow::Owned(text))
    }
}

/// Writes the value as compact JSON, as [`serde_json::Value`]'s `Display` does.
impl fmt::Display for JsonValue<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        formatter.write_str(&text)
    }
}

impl Serialize for JsonValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonValue::Null => serializer.serialize_unit(),
            JsonValue::Bool(flag) => serializer.serialize_bool(*flag),
            JsonValue::Number(number) => number.serialize(serializer),
            JsonValue::String(text) => serializer.serialize_str(text),
            JsonValue::Array(items) => {
                let mut sequence = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    sequence.serialize_element(item)?;
                }
                sequence.end()
            }
            JsonValue::Object(object) => object.serialize(serializer),
        }
    }
}

impl Serialize for JsonObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.members.len()))?;
        for (key, value) in &self.members {
            map.serialize_entry(key.as_ref(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for JsonValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for JsonObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(ValueVisitor)? {
            JsonValue::Object(object) => Ok(object),
            _ => Err(de::Error::custom("the document must be a JSON object")),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = JsonValue<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(JsonValue::Bool(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Self::Value, E> {
        Ok(JsonValue::Number(number.into()))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Self::Value, E> {
        Ok(JsonValue::Number(number.into()))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
        Number::from_f64(number)
            .map(JsonValue::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(JsonValue::String(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(JsonValue::String(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(JsonValue::String(Cow::Owned(text)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(JsonValue::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(JsonValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        JsonValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(sequence.size_hint().unwrap_or(0).min(64));
        while let Some(item) = sequence.next_element()? {
            items.push(item);
        }
        Ok(JsonValue::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Events are flat-ish objects of a few dozen members: sized for that up front.
        let mut members: Vec<(Cow<'de, str>, JsonValue<'de>)> = Vec::with_capacity(16);
        let mut seen = KeyFilter::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            // The filter rules out almost every key without comparing it to the others.
            if seen.insert(&key) && members.iter().any(|(existing, _)| *existing == key) {
                return Err(de::Error::custom(format_args!("Duplicate field '{key}'")));
            }
            let value = map.next_value()?;
            members.push((key, value));
        }
        Ok(JsonValue::Object(JsonObject { members }))
    }
}

/// Decodes an object key, borrowed when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text))
    }
}

/// A 128-bit Bloom filter over the keys of one object: most keys set a bit no other key
/// set, and only the others are compared with the keys before them.
#[derive(Default)]
struct KeyFilter(u128);

impl KeyFilter {
    /// Records `key`; `true` when it may have been recorded before.
    fn insert(&mut self, key: &str) -> bool {
        // The first and last eight bytes and the length tell almost all keys apart; a miss
        // only costs a comparison with the keys before.
        let bytes = key.as_bytes();
        let edge = bytes.len().min(8);
        let mut head = [0u8; 8];
        head[..edge].copy_from_slice(&bytes[..edge]);
        let mut tail = [0u8; 8];
        tail[..edge].copy_from_slice(&bytes[bytes.len() - edge..]);
        let hash = (u64::from_le_bytes(head) ^ u64::from_le_bytes(tail).rotate_left(23))
            .wrapping_add(bytes.len() as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // The top bits of a multiplicative hash are its best mixed.
        let bit = 1u128 << (hash >> 57);
        let seen = self.0 & bit != 0;
        self.0 |= bit;
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_borrow_from_the_input() {
        let bytes = br#"{"plain":"value","esc\"aped":"a\nb","n":[1,-2,2.5,null,true]}"#;
        let object = JsonObject::from_slice(bytes).unwrap();
        let members: Vec<_> = object.iter().collect();
        assert!(matches!(members[0].0, Cow::Borrowed("plain")));
        assert!(matches!(
            members[0].1,
            JsonValue::String(Cow::Borrowed("value"))
        ));
        assert!(matches!(members[1].0, Cow::Owned(_)));
        assert_eq!(members[1].0, "esc\"aped");
        assert_eq!(members[1].1.as_str(), Some("a\nb"));
        assert_eq!(
            object.get("n").unwrap().to_value(),
            serde_json::json!([1, -2, 2.5, null, true])
        );
    }

    #[test]
    fn round_trips_through_serde_json_in_order() {
        let text = r#"{"z":1,"a":{"y":"é","b":[{},[]]},"m":-2.5,"u":18446744073709551615}"#;
        let object = JsonObject::from_slice(text.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&object).unwrap(), text);
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::Value::Object(object.to_map()), value);
        assert_eq!(object.keys().collect::<Vec<_>>(), ["z", "a", "m", "u"]);
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"b":2,"c":3,"b":4}"#,
            r#"{"x":{"k":1,"k":{}}}"#,
            r#"[{"q":1,"q":1}]"#,
        ] {
            let error = serde_json::from_str::<JsonValue<'_>>(text).unwrap_err();
            assert!(
                error.to_string().starts_with("Duplicate field '"),
                "{text}: {error}"
            );
        }
        // Same key in different objects, and many distinct keys, are fine.
        let many: String = format!(
            "{{{}}}",
            (0..500)
                .map(|index| format!(r#""key{index}":{{"key{index}":1}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(JsonObject::from_slice(many.as_bytes()).unwrap().len(), 500);
    }

    #[test]
    fn rejects_what_is_not_one_object() {
        for text in [
            "[]",
            "1",
            "\"x\"",
            "null",
            "{",
            r#"{"a":1} {"#,
            r#"{"a":1}x"#,
            "",
        ] {
            assert!(JsonObject::from_slice(text.as_bytes()).is_err(), "{text}");
        }
        let error = JsonObject::from_slice(b"[1]").unwrap_err();
        assert!(
            error.to_string().contains("must be a JSON object"),
            "{error}"
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_that_says_where() {
        let error = JsonObject::from_slice(b"{\"a\":\"ok\",\"b\":\"\xff\"}").unwrap_err();
        assert_eq!((error.line(), error.column()), (1, 16), "{error}");
        assert!(JsonValue::from_slice(b"\"\xc3\"").is_err());
        assert_eq!(
            JsonValue::from_slice("\"caf\u{e9}\"".as_bytes()).unwrap(),
            JsonValue::from("caf\u{e9}")
        );
    }

    #[test]
    fn insert_replaces_in_place_or_appends() {
        let mut object = JsonObject::from_slice(br#"{"a":1,"b":2}"#).unwrap();
        object.insert("a", JsonValue::from("one"));
        object.insert("c", JsonValue::Null);
        assert_eq!(
            serde_json::to_string(&object).unwrap(),
            r#"{"a":"one","b":2,"c":null}"#
        );
        assert!(object.contains_key("c"));
        assert_eq!(object.get("b").unwrap().to_string(), "2");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        assert!(JsonObject::from_slice(deep.as_bytes()).is_err());
    }
}
