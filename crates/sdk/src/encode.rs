//! Turning a [`Record`] into one line of canonical JSON, on the background thread.
//!
//! Field order follows the schema: `@timestamp`, `log_category`, `level`, `message`, the
//! service identity (`app_name`, `service_type`, `environment`, `host`, `service_version`,
//! written from a pre-encoded prefix), the request context (`request_id`, `trace_id`,
//! `span_id`, `endpoint_signature`, `user_id`, `user_name`), then the event's own fields, then
//! `target`. A field the event sets itself replaces the identity or context value of the same
//! name rather than duplicating the key. Every value passes through the [`Redactor`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::SystemTime;

use logfleet_model::{LogCategory, fields, format_timestamp};
use serde_json::Value;
use time::OffsetDateTime;

use crate::config::Identity;
use crate::record::{Category, Key, Record, Val};
use logfleet_model::redact::{REDACTED, Redactor};

/// Identity and context fields an event may override, one bit each.
const OVERRIDABLE: [&str; 11] = [
    fields::APP_NAME,
    fields::SERVICE_TYPE,
    fields::ENVIRONMENT,
    fields::HOST,
    fields::SERVICE_VERSION,
    fields::REQUEST_ID,
    fields::TRACE_ID,
    fields::SPAN_ID,
    fields::ENDPOINT_SIGNATURE,
    fields::USER_ID,
    fields::USER_NAME,
];
const IDENTITY_MASK: u16 = 0b1_1111;

/// Writes records as JSON lines.
#[derive(Debug)]
pub(crate) struct Encoder {
    identity: Identity,
    /// `,"app_name":"…",…,"service_version":"…"`, written as is when no event overrides it.
    identity_json: Vec<u8>,
    redactor: Redactor,
    default_category: LogCategory,
    /// Whether each `&'static str` key seen so far is sensitive, by address: the same few
    /// dozen field names come back in every event, and matching a name against every
    /// sensitive fragment costs more than the rest of its encoding.
    static_keys: HashMap<(usize, usize), bool, BuildHasherDefault<AddressHasher>>,
    /// The last `@timestamp` written, reused while events share a millisecond.
    last_timestamp: (i128, String),
}

impl Encoder {
    pub(crate) fn new(
        identity: Identity,
        redactor: Redactor,
        default_category: LogCategory,
    ) -> Self {
        let mut identity_json = Vec::new();
        for (name, value) in identity.fields() {
            identity_json.push(b',');
            write_str(&mut identity_json, name);
            identity_json.push(b':');
            write_str(&mut identity_json, value);
        }
        Self {
            identity,
            identity_json,
            redactor,
            default_category,
            static_keys: HashMap::default(),
            last_timestamp: (i128::MIN, String::new()),
        }
    }

    fn is_sensitive(&mut self, key: &Key) -> bool {
        match key {
            Cow::Borrowed(name) => {
                let address = (name.as_ptr() as usize, name.len());
                let redactor = &self.redactor;
                *self
                    .static_keys
                    .entry(address)
                    .or_insert_with(|| redactor.is_sensitive_key(name))
            }
            Cow::Owned(name) => self.redactor.is_sensitive_key(name),
        }
    }

    fn timestamp(&mut self, time: SystemTime) -> &str {
        let moment = OffsetDateTime::from(time);
        let millis = moment.unix_timestamp_nanos() / 1_000_000;
        if self.last_timestamp.0 != millis {
            self.last_timestamp = (millis, format_timestamp(moment));
        }
        &self.last_timestamp.1
    }

    /// Appends the record as one line of JSON, without the newline.
    pub(crate) fn encode(&mut self, record: &Record, out: &mut Vec<u8>) {
        let overridden = record
            .fields
            .iter()
            .filter_map(|(key, _)| OVERRIDABLE.iter().position(|name| *name == key.as_ref()))
            .fold(0_u16, |mask, position| mask | (1 << position));

        out.extend_from_slice(b"{\"@timestamp\":");
        write_str(out, self.timestamp(record.time));

        out.extend_from_slice(b",\"log_category\":");
        match record.category {
            Some(Category::Known(category)) => write_str(out, category.as_str()),
            Some(Category::Other(range)) => self.write_text(out, record.text_of(range)),
            None if record.context.is_some() => write_str(out, LogCategory::ApiRequest.as_str()),
            None => write_str(out, self.default_category.as_str()),
        }

        out.extend_from_slice(b",\"level\":");
        write_str(out, record.level.as_str());

        out.extend_from_slice(b",\"message\":");
        let message = record.message.map(|range| record.text_of(range));
        self.write_text(out, message.unwrap_or_default());

        if overridden & IDENTITY_MASK == 0 {
            out.extend_from_slice(&self.identity_json);
        } else {
            for (position, (name, value)) in self.identity.fields().into_iter().enumerate() {
                if overridden & (1 << position) == 0 {
                    write_key(out, name);
                    write_str(out, value);
                }
            }
        }

        if let Some(context) = &record.context {
            let user = context.user();
            let context_fields = [
                Some(&*context.request_id),
                Some(&*context.trace_id),
                Some(&*context.span_id),
                context.endpoint_signature.as_deref(),
                user.id.as_deref(),
                user.name.as_deref(),
            ];
            for (offset, value) in context_fields.into_iter().enumerate() {
                let position = IDENTITY_MASK.count_ones() as usize + offset;
                if let Some(value) = value
                    && overridden & (1 << position) == 0
                {
                    write_key(out, OVERRIDABLE[position]);
                    self.write_text(out, value);
                }
            }
        }

        for (key, value) in &record.fields {
            write_key(out, key);
            if self.is_sensitive(key) {
                write_str(out, REDACTED);
                continue;
            }
            match value {
                Val::Text(range) => self.write_text(out, record.text_of(*range)),
                Val::Shared(text) => self.write_text(out, text),
                Val::I64(number) => {
                    if self.redactor.is_card_number(number.unsigned_abs()) {
                        write_str(out, REDACTED);
                    } else {
                        write_number(out, number);
                    }
                }
                Val::U64(number) => {
                    if self.redactor.is_card_number(*number) {
                        write_str(out, REDACTED);
                    } else {
                        write_number(out, number);
                    }
                }
                Val::F64(number) => write_number(out, number),
                Val::Bool(flag) => out.extend_from_slice(if *flag { b"true" } else { b"false" }),
                Val::Json(json) => self.write_json(out, json),
            }
        }

        if let Some(target) = record.target {
            write_key(out, "target");
            write_str(out, target);
        }
        out.push(b'}');
    }

    fn write_text(&self, out: &mut Vec<u8>, text: &str) {
        write_str(out, &self.redactor.redact_text(text));
    }

    /// Writes a JSON value, redacting sensitive keys and values at every depth.
    fn write_json(&self, out: &mut Vec<u8>, value: &Value) {
        match value {
            Value::String(text) => self.write_text(out, text),
            Value::Number(number) => {
                if number
                    .as_u64()
                    .is_some_and(|integer| self.redactor.is_card_number(integer))
                {
                    write_str(out, REDACTED);
                } else {
                    write_number(out, number);
                }
            }
            Value::Array(items) => {
                out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    self.write_json(out, item);
                }
                out.push(b']');
            }
            Value::Object(map) => {
                out.push(b'{');
                for (index, (key, item)) in map.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    write_str(out, key);
                    out.push(b':');
                    if self.redactor.is_sensitive_key(key) {
                        write_str(out, REDACTED);
                    } else {
                        self.write_json(out, item);
                    }
                }
                out.push(b'}');
            }
            Value::Null | Value::Bool(_) => write_number(out, value),
        }
    }
}

/// Hashes the (address, length) pairs of `static_keys`: already unique, they only need
/// mixing, not SipHash's protection against chosen keys.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b',');
    write_str(out, key);
    out.push(b':');
}

/// Writes a JSON string with serde_json's escaping.
fn write_str(out: &mut Vec<u8>, text: &str) {
    // Serialising a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Writes any scalar through serde_json (NaN and infinities become `null`).
fn write_number<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{RequestSpan, current_context};
    use logfleet_model::{Event, Level};
    use tracing_subscriber::layer::SubscriberExt;

    fn encoder() -> Encoder {
        Encoder::new(
            Identity {
                app_name: "user_service".into(),
                service_type: "proxy_service".into(),
                environment: "test".into(),
                host: "box".into(),
                service_version: "1.2.3".into(),
            },
            Redactor::default(),
            LogCategory::ApiRequest,
        )
    }

    fn encode(record: &Record) -> Event {
        let mut line = Vec::new();
        encoder().encode(record, &mut line);
        // A second time through the caches gives the same line.
        let mut encoder = encoder();
        let mut first = Vec::new();
        encoder.encode(record, &mut first);
        let mut second = Vec::new();
        encoder.encode(record, &mut second);
        assert_eq!(first, second);
        serde_json::from_slice(&line).expect("valid json")
    }

    #[test]
    fn writes_the_common_fields_in_schema_order() {
        let mut record = Record::with_message(LogCategory::Database, Level::Warning, "slow", 2);
        record.val("rows_affected", Val::U64(3));
        record.str("password", "hunter2");
        let event = encode(&record);
        let names: Vec<&str> = event.iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "@timestamp",
                "log_category",
                "level",
                "message",
                "app_name",
                "service_type",
                "environment",
                "host",
                "service_version",
                "rows_affected",
                "password"
            ]
        );
        assert!(event.timestamp().is_some());
        assert_eq!(event.log_category(), Some(LogCategory::Database));
        assert_eq!(event.level(), Some(Level::Warning));
        assert_eq!(event.get_str("password"), Some(REDACTED));
        assert_eq!(event.get_str("service_version"), Some("1.2.3"));
    }

    #[test]
    fn event_fields_replace_identity_and_context_without_duplicates() {
        let subscriber =
            tracing_subscriber::registry().with(tracing_subscriber::layer::Identity::new());
        tracing::subscriber::with_default(subscriber, || {
            RequestSpan::new()
                .request_id("req-1")
                .endpoint_signature("GET /x")
                .start()
                .in_scope(|| {
                    let mut record = Record::new(Level::Info, 2);
                    record.context = current_context();
                    assert!(record.context.is_some());
                    record.str("app_name", "override");
                    record.str("span_id", "client-span");
                    let mut line = Vec::new();
                    encoder().encode(&record, &mut line);
                    let text = String::from_utf8(line).unwrap();
                    assert_eq!(text.matches("\"app_name\"").count(), 1);
                    assert_eq!(text.matches("\"span_id\"").count(), 1);
                    let event: Event = serde_json::from_str(&text).unwrap();
                    assert_eq!(event.get_str("app_name"), Some("override"));
                    assert_eq!(event.get_str("span_id"), Some("client-span"));
                    assert_eq!(event.get_str("request_id"), Some("req-1"));
                    assert_eq!(event.get_str("endpoint_signature"), Some("GET /x"));
                    assert_eq!(event.get_str("service_type"), Some("proxy_service"));
                    // Inside a request, the default category is api_request.
                    assert_eq!(event.log_category(), Some(LogCategory::ApiRequest));
                });
        });
    }

    #[test]
    fn nested_json_is_redacted_at_every_depth() {
        let mut record = Record::new(Level::Info, 1);
        record.val(
            "payload",
            Val::Json(Box::new(serde_json::json!({
                "user": {"name": "bob", "Password": "x"},
                "cards": ["4111 1111 1111 1111", 4111111111111111_u64],
                "note": null
            }))),
        );
        let event = encode(&record);
        assert_eq!(
            event.get("payload"),
            Some(&serde_json::json!({
                "user": {"name": "bob", "Password": REDACTED},
                "cards": [REDACTED, REDACTED],
                "note": null
            }))
        );
    }

    #[test]
    fn unknown_explicit_category_is_kept_verbatim() {
        let mut record = Record::new(Level::Info, 0);
        let range = record.push_text("billing");
        record.category = Some(Category::Other(range));
        assert_eq!(encode(&record).get_str("log_category"), Some("billing"));
    }

    #[test]
    fn non_finite_floats_are_null() {
        let mut record = Record::new(Level::Info, 1);
        record.val("ratio", Val::F64(f64::NAN));
        assert_eq!(encode(&record).get("ratio"), Some(&Value::Null));
    }
}
