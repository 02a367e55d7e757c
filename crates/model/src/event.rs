//! [`Event`]: one structured log event, owned, in the order its fields were added.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::category::{Level, LogCategory};
use crate::fields;
use crate::timestamp::{format_timestamp, parse_timestamp};

/// One structured event: field name → JSON value, in insertion order.
///
/// Deliberately a thin map rather than a struct with one member per schema field: services
/// add fields of their own (kept by dynamic mapping), the pipeline adds and redacts fields by
/// name, and the stored `_source` must be what was sent. The [`fields`](crate::fields)
/// constants name the canonical ones, and the getters read the few the system routes on.
///
/// Serialises as a plain JSON object, the document shape of `_bulk` and `_source`.
///
/// ```
/// use logfleet_model::{Event, Level, LogCategory, ResponseCategory, fields};
///
/// let event = Event::new(LogCategory::ApiRequest, Level::Info, "user signed up")
///     .with(fields::APP_NAME, "user_service")
///     .with(fields::STATUS_CODE, 201)
///     .with(fields::RESPONSE_CATEGORY, ResponseCategory::from_status(201))
///     .with(fields::DURATION_MS, 12.5);
///
/// assert_eq!(event.log_category(), Some(LogCategory::ApiRequest));
/// assert!(event.to_json_string().starts_with(r#"{"@timestamp":""#));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Event {
    fields: Map<String, Value>,
}

impl Event {
    /// Starts an event stamped now, with `@timestamp`, `log_category`, `level` and `message`
    /// set, in that order.
    pub fn new(category: LogCategory, level: Level, message: impl Into<String>) -> Self {
        Self::default()
            .with_timestamp(OffsetDateTime::now_utc())
            .with(fields::LOG_CATEGORY, category)
            .with(fields::LEVEL, level)
            .with(fields::MESSAGE, message.into())
    }

    /// Sets a field, replacing any previous value in place (the field keeps its position).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets `@timestamp` to `moment`, written as [`format_timestamp`] does.
    pub fn with_timestamp(self, moment: OffsetDateTime) -> Self {
        self.with(fields::TIMESTAMP, format_timestamp(moment))
    }

    /// Sets a field in place, returning the value it replaces; a replaced field keeps its
    /// position.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.fields.insert(name.into(), value.into())
    }

    /// Removes a field, keeping the order of the others.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.fields.shift_remove(name)
    }

    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// The value of a field if it is present and a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// `@timestamp`, if present and valid RFC 3339.
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.get_str(fields::TIMESTAMP).and_then(parse_timestamp)
    }

    /// `log_category`, if present and one of the known categories.
    pub fn log_category(&self) -> Option<LogCategory> {
        self.get_str(fields::LOG_CATEGORY)?.parse().ok()
    }

    /// `level`, if present and one of the known levels (aliases such as `warn` included).
    pub fn level(&self) -> Option<Level> {
        self.get_str(fields::LEVEL)?.parse().ok()
    }

    /// `message`, if present and a string.
    pub fn message(&self) -> Option<&str> {
        self.get_str(fields::MESSAGE)
    }

    /// The fields and their values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// How many fields the event has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the event has no field at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The underlying map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The underlying map, by value.
    pub fn into_map(self) -> Map<String, Value> {
        self.fields
    }

    /// The event as single-line JSON, without a trailing newline.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(&self.fields).expect(SERIALISATION_IS_INFALLIBLE)
    }

    /// Appends the event as single-line JSON, without a trailing newline, to `out` — the
    /// allocation-free way to build an NDJSON batch.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, &self.fields).expect(SERIALISATION_IS_INFALLIBLE);
    }
}

/// Why serialising an event cannot fail: its keys are strings, a `Value` holds no NaN or
/// infinity (serde_json turns them into `null` on the way in), and the sink is memory.
const SERIALISATION_IS_INFALLIBLE: &str = "a json map serialises into memory without error";

impl From<Map<String, Value>> for Event {
    fn from(fields: Map<String, Value>) -> Self {
        Self { fields }
    }
}

impl From<Event> for Value {
    fn from(event: Event) -> Self {
        Value::Object(event.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn fixed_event() -> Event {
        Event::new(LogCategory::Database, Level::Warning, "slow insert")
            .with_timestamp(datetime!(2026-11-26 16:17:00.123 UTC))
            .with(fields::DB_OPERATION, "USER_CREATE")
            .with(fields::DURATION_MS, 1500.25)
            .with(fields::ROWS_AFFECTED, 1)
            .with(fields::SLOW_QUERY, true)
    }

    #[test]
    fn json_shape_is_a_flat_object_in_insertion_order() {
        assert_eq!(
            fixed_event().to_json_string(),
            concat!(
                r#"{"@timestamp":"2026-11-26T16:17:00.123Z","log_category":"database","#,
                r#""level":"warning","message":"slow insert","db_operation":"USER_CREATE","#,
                r#""duration_ms":1500.25,"rows_affected":1,"slow_query":true}"#
            )
        );
    }

    #[test]
    fn write_json_appends_the_same_bytes_without_newline() {
        let event = fixed_event();
        let mut out = b"prefix ".to_vec();
        event.write_json(&mut out);
        assert_eq!(
            out,
            [b"prefix ", event.to_json_string().as_bytes()].concat()
        );
        assert!(!out.ends_with(b"\n"));
    }

    #[test]
    fn new_stamps_now_in_the_canonical_format() {
        let before = OffsetDateTime::now_utc();
        let event = Event::new(LogCategory::Audit, Level::Info, "login");
        let names: Vec<&str> = event.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["@timestamp", "log_category", "level", "message"]);

        let stamp = event.get_str(fields::TIMESTAMP).unwrap();
        assert_eq!(stamp.len(), "2026-11-26T16:17:00.123Z".len());
        assert!(stamp.ends_with('Z'));
        let moment = event.timestamp().unwrap();
        // Truncation to milliseconds can put the stamp up to 1 ms before `before`.
        assert!(moment >= before - time::Duration::milliseconds(1));
        assert!(moment <= OffsetDateTime::now_utc());
    }

    #[test]
    fn getters_read_the_routing_fields() {
        let event = fixed_event();
        assert_eq!(
            event.timestamp(),
            Some(datetime!(2026-11-26 16:17:00.123 UTC))
        );
        assert_eq!(event.log_category(), Some(LogCategory::Database));
        assert_eq!(event.level(), Some(Level::Warning));
        assert_eq!(event.message(), Some("slow insert"));
        assert_eq!(event.get(fields::ROWS_AFFECTED), Some(&json!(1)));
        assert_eq!(event.get_str(fields::ROWS_AFFECTED), None);
        assert_eq!(event.get("absent"), None);
    }

    #[test]
    fn replacing_keeps_position_and_removing_keeps_order() {
        let mut event = fixed_event().with(fields::LEVEL, Level::Error);
        assert_eq!(event.level(), Some(Level::Error));
        let names: Vec<&str> = event.iter().map(|(name, _)| name).collect();
        assert_eq!(names[2], "level");

        assert_eq!(event.remove(fields::MESSAGE), Some(json!("slow insert")));
        let names: Vec<&str> = event.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "@timestamp",
                "log_category",
                "level",
                "db_operation",
                "duration_ms",
                "rows_affected",
                "slow_query"
            ]
        );
        assert_eq!(event.len(), 7);
    }

    #[test]
    fn serde_round_trips_and_keeps_unknown_fields() {
        let text =
            r#"{"@timestamp":"2026-11-26T16:17:00Z","level":"WARN","shopping_cart":{"items":3}}"#;
        let event: Event = serde_json::from_str(text).unwrap();
        assert_eq!(event.level(), Some(Level::Warning));
        assert_eq!(event.log_category(), None);
        assert_eq!(event.to_json_string(), text);
        assert_eq!(serde_json::to_string(&event).unwrap(), text);
        assert!(serde_json::from_str::<Event>("[1, 2]").is_err());
    }

    #[test]
    fn non_finite_numbers_become_null() {
        let event = Event::default().with(fields::CPU_PERCENT, f64::NAN);
        assert_eq!(event.to_json_string(), r#"{"cpu_percent":null}"#);
    }

    #[test]
    fn converts_to_and_from_json_values() {
        let value = Value::from(fixed_event());
        let Value::Object(map) = value else {
            panic!("an event converts to a json object");
        };
        assert_eq!(Event::from(map), fixed_event());
    }
}
