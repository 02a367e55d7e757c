//! OTLP logs: decoding `ExportLogsServiceRequest`s (protobuf or JSON) into events shaped as
//! Elasticsearch 9 stores OpenTelemetry logs, and encoding the service's answers.
//!
//! Each log record becomes one document in `logs-<dataset>.otel-<namespace>`, where the
//! dataset and namespace come from the `data_stream.dataset` and `data_stream.namespace`
//! attributes (of the record, else its scope, else its resource; `generic` and `default`
//! when none says): `@timestamp` (the record's time, else when it was observed),
//! `observed_timestamp`, `body.text` (or `body.structured` for a map or list body),
//! `severity_text`, `severity_number`, `trace_id` and `span_id` in hex, `event_name`,
//! `attributes.*`, `resource.attributes.*`, `scope.name`, `scope.version`,
//! `scope.attributes.*`, and the dropped-attribute counts and schema URLs.

mod json;
pub mod proto;

use base64::Engine as _;
use bytes::Bytes;
use prost::Message as _;
use serde_json::{Map, Value as Json};

use crate::batch::Event;
use proto::{ExportLogsServiceRequest, KeyValue, LogRecord, Value};

/// How a request or answer is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Binary protobuf, `application/x-protobuf`.
    Protobuf,
    /// OTLP/JSON, `application/json`.
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names, if OTLP/HTTP knows it.
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    /// The `Content-Type` of answers in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Decodes an export request.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<ExportLogsServiceRequest, String> {
    match encoding {
        Encoding::Protobuf => ExportLogsServiceRequest::decode(body)
            .map_err(|error| format!("invalid protobuf: {error}")),
        Encoding::Json => json::decode(body),
    }
}

/// The documents of a request's log records, in order.
pub fn events(request: &ExportLogsServiceRequest) -> Vec<Event> {
    let mut events = Vec::new();
    for resource_logs in &request.resource_logs {
        let resource_attributes = resource_logs
            .resource
            .as_ref()
            .map_or(&[][..], |resource| &resource.attributes);
        let mut resource = Map::new();
        resource.insert("attributes".into(), attributes(resource_attributes));
        if let Some(dropped) = resource_logs
            .resource
            .as_ref()
            .map(|resource| resource.dropped_attributes_count)
            .filter(|dropped| *dropped > 0)
        {
            resource.insert("dropped_attributes_count".into(), dropped.into());
        }
        if !resource_logs.schema_url.is_empty() {
            resource.insert("schema_url".into(), resource_logs.schema_url.clone().into());
        }
        for scope_logs in &resource_logs.scope_logs {
            let scope_attributes = scope_logs
                .scope
                .as_ref()
                .map_or(&[][..], |scope| &scope.attributes);
            let mut scope = Map::new();
            if let Some(instrumentation) = &scope_logs.scope {
                if !instrumentation.name.is_empty() {
                    scope.insert("name".into(), instrumentation.name.clone().into());
                }
                if !instrumentation.version.is_empty() {
                    scope.insert("version".into(), instrumentation.version.clone().into());
                }
                if !instrumentation.attributes.is_empty() {
                    scope.insert("attributes".into(), attributes(scope_attributes));
                }
                if instrumentation.dropped_attributes_count > 0 {
                    scope.insert(
                        "dropped_attributes_count".into(),
                        instrumentation.dropped_attributes_count.into(),
                    );
                }
            }
            if !scope_logs.schema_url.is_empty() {
                scope.insert("schema_url".into(), scope_logs.schema_url.clone().into());
            }
            for record in &scope_logs.log_records {
                let levels = [
                    &record.attributes[..],
                    scope_attributes,
                    resource_attributes,
                ];
                let dataset = routing_value(&levels, "data_stream.dataset")
                    .map_or_else(|| "generic".to_owned(), |dataset| sanitize(&dataset, true));
                let namespace = routing_value(&levels, "data_stream.namespace").map_or_else(
                    || "default".to_owned(),
                    |namespace| sanitize(&namespace, false),
                );
                let dataset = if dataset.ends_with(".otel") {
                    dataset
                } else {
                    format!("{dataset}.otel")
                };
                let document = document(record, &resource, &scope, &dataset, &namespace);
                events.push(Event {
                    index: format!("logs-{dataset}-{namespace}"),
                    source: Bytes::from(serde_json::to_vec(&document).unwrap_or_default()),
                });
            }
        }
    }
    events
}

fn document(
    record: &LogRecord,
    resource: &Map<String, Json>,
    scope: &Map<String, Json>,
    dataset: &str,
    namespace: &str,
) -> Json {
    let mut document = Map::new();
    let observed = record.observed_time_unix_nano;
    let time = if record.time_unix_nano > 0 {
        record.time_unix_nano
    } else if observed > 0 {
        observed
    } else {
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64
    };
    document.insert("@timestamp".into(), format_nanos(time).into());
    if observed > 0 {
        document.insert("observed_timestamp".into(), format_nanos(observed).into());
    }
    document.insert(
        "data_stream".into(),
        serde_json::json!({"type": "logs", "dataset": dataset, "namespace": namespace}),
    );
    if let Some(body) = record.body.as_ref().and_then(|body| body.value.as_ref()) {
        let body = match body {
            Value::String(text) => serde_json::json!({ "text": text }),
            Value::Array(_) | Value::KeyValueList(_) => {
                serde_json::json!({ "structured": value(body) })
            }
            other => serde_json::json!({ "text": scalar_text(other) }),
        };
        document.insert("body".into(), body);
    }
    if !record.severity_text.is_empty() {
        document.insert("severity_text".into(), record.severity_text.clone().into());
    }
    if record.severity_number > 0 {
        document.insert("severity_number".into(), record.severity_number.into());
    }
    if !record.trace_id.is_empty() {
        document.insert("trace_id".into(), hex(&record.trace_id).into());
    }
    if !record.span_id.is_empty() {
        document.insert("span_id".into(), hex(&record.span_id).into());
    }
    if !record.event_name.is_empty() {
        document.insert("event_name".into(), record.event_name.clone().into());
    }
    if !record.attributes.is_empty() {
        document.insert("attributes".into(), attributes(&record.attributes));
    }
    if record.dropped_attributes_count > 0 {
        document.insert(
            "dropped_attributes_count".into(),
            record.dropped_attributes_count.into(),
        );
    }
    document.insert("resource".into(), Json::Object(resource.clone()));
    if !scope.is_empty() {
        document.insert("scope".into(), Json::Object(scope.clone()));
    }
    Json::Object(document)
}

/// Attributes as an object whose keys are the attribute names, dots and all
/// (`{"http.request.method": "GET"}`), as Elasticsearch's passthrough objects keep them.
fn attributes(attributes: &[KeyValue]) -> Json {
    Json::Object(
        attributes
            .iter()
            .filter_map(|attribute| {
                let value = attribute.value.as_ref()?.value.as_ref()?;
                Some((attribute.key.clone(), self::value(value)))
            })
            .collect(),
    )
}

fn value(value: &Value) -> Json {
    match value {
        Value::String(text) => text.clone().into(),
        Value::Bool(flag) => (*flag).into(),
        Value::Int(integer) => (*integer).into(),
        Value::Double(double) => serde_json::Number::from_f64(*double)
            .map_or_else(|| double.to_string().into(), Json::Number),
        Value::Array(array) => Json::Array(
            array
                .values
                .iter()
                .filter_map(|item| item.value.as_ref().map(self::value))
                .collect(),
        ),
        Value::KeyValueList(list) => attributes(&list.values),
        Value::Bytes(bytes) => base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into(),
    }
}

fn scalar_text(value: &Value) -> String {
    match self::value(value) {
        Json::String(text) => text,
        other => other.to_string(),
    }
}

/// The first string value of `key` among the levels' attributes.
fn routing_value(levels: &[&[KeyValue]], key: &str) -> Option<String> {
    levels.iter().find_map(|attributes| {
        attributes
            .iter()
            .find(|attribute| attribute.key == key)
            .and_then(
                |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                    Value::String(text) if !text.is_empty() => Some(text.clone()),
                    _ => None,
                },
            )
    })
}

/// A dataset or namespace as a data stream name may hold it: lower case, without the
/// characters index names forbid (nor `-`, which separates the name's parts, in a dataset),
/// at most 100 bytes — Elasticsearch's exporter's rules.
fn sanitize(name: &str, dataset: bool) -> String {
    let mut clean: String = name
        .chars()
        .map(|character| {
            let forbidden = matches!(
                character,
                '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ' ' | ',' | '#' | ':'
            ) || (dataset && character == '-');
            if forbidden { '_' } else { character }
        })
        .flat_map(char::to_lowercase)
        .collect();
    while clean.len() > 100 {
        clean.pop();
    }
    clean
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    text
}

/// RFC 3339 in UTC, with as many fraction digits as the time needs (3 or 9).
fn format_nanos(nanos: u64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fraction = nanos % 1_000_000_000;
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    if fraction.is_multiple_of(1_000_000) {
        format!("{base}.{:03}Z", fraction / 1_000_000)
    } else {
        format!("{base}.{fraction:09}Z")
    }
}

/// The answer to an export: empty when every record was stored, else a partial success
/// naming how many were not and why.
pub fn encode_response(encoding: Encoding, rejected: i64, message: &str) -> Vec<u8> {
    let partial = (rejected > 0).then(|| proto::ExportLogsPartialSuccess {
        rejected_log_records: rejected,
        error_message: message.to_owned(),
    });
    match encoding {
        Encoding::Protobuf => proto::ExportLogsServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Encoding::Json => {
            let body = match partial {
                Some(partial) => serde_json::json!({"partialSuccess": {
                    "rejectedLogRecords": partial.rejected_log_records.to_string(),
                    "errorMessage": partial.error_message,
                }}),
                None => serde_json::json!({}),
            };
            serde_json::to_vec(&body).unwrap_or_default()
        }
    }
}

/// The body of an error answer: a `google.rpc.Status`.
pub fn encode_status(encoding: Encoding, code: i32, message: &str) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => proto::Status {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&serde_json::json!({
            "code": code,
            "message": message,
        }))
        .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::proto::*;
    use super::*;

    fn text(value: &str) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(Value::String(value.to_owned())),
        })
    }

    fn attribute(key: &str, value: Option<AnyValue>) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value,
        }
    }

    fn request(records: Vec<LogRecord>, resource: Vec<KeyValue>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: resource,
                    dropped_attributes_count: 0,
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "checkout.logger".into(),
                        version: "2.1".into(),
                        ..Default::default()
                    }),
                    log_records: records,
                    schema_url: String::new(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
        }
    }

    #[test]
    fn a_record_becomes_an_elasticsearch_otel_document() {
        let record = LogRecord {
            time_unix_nano: 1_765_101_600_123_456_789,
            observed_time_unix_nano: 1_765_101_600_200_000_000,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: text("payment declined"),
            attributes: vec![
                attribute("http.request.method", text("POST")),
                attribute(
                    "retry",
                    Some(AnyValue {
                        value: Some(Value::Int(3)),
                    }),
                ),
            ],
            trace_id: vec![0xab; 16],
            span_id: vec![0x01; 8],
            ..Default::default()
        };
        let events = events(&request(
            vec![record],
            vec![attribute("service.name", text("checkout"))],
        ));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].index, "logs-generic.otel-default");
        let document: Json = serde_json::from_slice(&events[0].source).unwrap();
        assert_eq!(
            document,
            serde_json::json!({
                "@timestamp": "2025-12-07T10:00:00.123456789Z",
                "observed_timestamp": "2025-12-07T10:00:00.200Z",
                "data_stream": {"type": "logs", "dataset": "generic.otel", "namespace": "default"},
                "body": {"text": "payment declined"},
                "severity_text": "ERROR",
                "severity_number": 17,
                "trace_id": "abababababababababababababababab",
                "span_id": "0101010101010101",
                "attributes": {"http.request.method": "POST", "retry": 3},
                "resource": {
                    "attributes": {"service.name": "checkout"},
                    "schema_url": "https://opentelemetry.io/schemas/1.26.0"
                },
                "scope": {"name": "checkout.logger", "version": "2.1"}
            })
        );
    }

    #[test]
    fn routing_attributes_pick_the_data_stream_record_first() {
        let routed = LogRecord {
            body: text("x"),
            attributes: vec![attribute("data_stream.dataset", text("Payments-API"))],
            ..Default::default()
        };
        let plain = LogRecord {
            body: Some(AnyValue {
                value: Some(Value::KeyValueList(KeyValueList {
                    values: vec![attribute("a", text("b"))],
                })),
            }),
            ..Default::default()
        };
        let events = events(&request(
            vec![routed, plain],
            vec![
                attribute("data_stream.dataset", text("checkout")),
                attribute("data_stream.namespace", text("Prod")),
            ],
        ));
        assert_eq!(events[0].index, "logs-payments_api.otel-prod");
        assert_eq!(events[1].index, "logs-checkout.otel-prod");
        let document: Json = serde_json::from_slice(&events[1].source).unwrap();
        assert_eq!(
            document["body"],
            serde_json::json!({"structured": {"a": "b"}})
        );
    }

    #[test]
    fn protobuf_round_trips_and_answers_encode() {
        let request = request(vec![LogRecord::default()], Vec::new());
        let bytes = request.encode_to_vec();
        assert_eq!(decode(&bytes, Encoding::Protobuf).unwrap(), request);
        assert!(decode(b"\xff\xff\xff", Encoding::Protobuf).is_err());
        assert!(encode_response(Encoding::Protobuf, 0, "").is_empty());
        let partial = proto::ExportLogsServiceResponse::decode(
            &encode_response(Encoding::Protobuf, 2, "mapping")[..],
        )
        .unwrap();
        assert_eq!(partial.partial_success.unwrap().rejected_log_records, 2);
        assert_eq!(encode_response(Encoding::Json, 0, ""), b"{}");
        let json: Json = serde_json::from_slice(&encode_response(Encoding::Json, 1, "x")).unwrap();
        assert_eq!(json["partialSuccess"]["rejectedLogRecords"], "1");
        assert_eq!(
            Encoding::from_content_type("application/json; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
    }
}
