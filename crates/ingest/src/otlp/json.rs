//! OTLP/JSON: the protobuf messages in protobuf's JSON mapping, with OTLP's exceptions —
//! trace and span ids as hex rather than base64, enums as integers. As protobuf's JSON
//! parsers do, this takes field names in lowerCamelCase (`timeUnixNano`) or as the `.proto`
//! spells them (`time_unix_nano`), 64-bit integers as numbers or strings, enums as numbers
//! or names, and ignores fields it does not know.

use base64::Engine as _;
use serde_json::{Map, Value as Json};

use super::proto::{
    AnyValue, ArrayValue, ExportLogsServiceRequest, InstrumentationScope, KeyValue, KeyValueList,
    LogRecord, Resource, ResourceLogs, ScopeLogs, Value,
};

/// Decodes an `ExportLogsServiceRequest` from OTLP/JSON.
pub fn decode(body: &[u8]) -> Result<ExportLogsServiceRequest, String> {
    let json: Json =
        serde_json::from_slice(body).map_err(|error| format!("invalid JSON: {error}"))?;
    let object = as_object(&json, "ExportLogsServiceRequest")?;
    Ok(ExportLogsServiceRequest {
        resource_logs: messages(object, "resourceLogs", resource_logs)?,
    })
}

fn resource_logs(object: &Map<String, Json>) -> Result<ResourceLogs, String> {
    Ok(ResourceLogs {
        resource: message(object, "resource", resource)?,
        scope_logs: messages(object, "scopeLogs", scope_logs)?,
        schema_url: string(object, "schemaUrl")?,
    })
}

fn resource(object: &Map<String, Json>) -> Result<Resource, String> {
    Ok(Resource {
        attributes: messages(object, "attributes", key_value)?,
        dropped_attributes_count: unsigned(object, "droppedAttributesCount")? as u32,
    })
}

fn scope_logs(object: &Map<String, Json>) -> Result<ScopeLogs, String> {
    Ok(ScopeLogs {
        scope: message(object, "scope", scope)?,
        log_records: messages(object, "logRecords", log_record)?,
        schema_url: string(object, "schemaUrl")?,
    })
}

fn scope(object: &Map<String, Json>) -> Result<InstrumentationScope, String> {
    Ok(InstrumentationScope {
        name: string(object, "name")?,
        version: string(object, "version")?,
        attributes: messages(object, "attributes", key_value)?,
        dropped_attributes_count: unsigned(object, "droppedAttributesCount")? as u32,
    })
}

fn log_record(object: &Map<String, Json>) -> Result<LogRecord, String> {
    Ok(LogRecord {
        time_unix_nano: unsigned(object, "timeUnixNano")?,
        observed_time_unix_nano: unsigned(object, "observedTimeUnixNano")?,
        severity_number: severity_number(field(object, "severityNumber"))?,
        severity_text: string(object, "severityText")?,
        body: message(object, "body", any_value)?,
        attributes: messages(object, "attributes", key_value)?,
        dropped_attributes_count: unsigned(object, "droppedAttributesCount")? as u32,
        flags: unsigned(object, "flags")? as u32,
        trace_id: hex_id(object, "traceId", 16)?,
        span_id: hex_id(object, "spanId", 8)?,
        event_name: string(object, "eventName")?,
    })
}

fn key_value(object: &Map<String, Json>) -> Result<KeyValue, String> {
    Ok(KeyValue {
        key: string(object, "key")?,
        value: message(object, "value", any_value)?,
    })
}

fn any_value(object: &Map<String, Json>) -> Result<AnyValue, String> {
    let value = if let Some(text) = field(object, "stringValue") {
        Some(Value::String(
            text.as_str()
                .ok_or("stringValue must be a string")?
                .to_owned(),
        ))
    } else if let Some(flag) = field(object, "boolValue") {
        Some(Value::Bool(
            flag.as_bool().ok_or("boolValue must be a boolean")?,
        ))
    } else if let Some(integer) = field(object, "intValue") {
        Some(Value::Int(signed(integer, "intValue")?))
    } else if let Some(double) = field(object, "doubleValue") {
        Some(Value::Double(float(double)?))
    } else if let Some(array) = field(object, "arrayValue") {
        let array = as_object(array, "arrayValue")?;
        Some(Value::Array(ArrayValue {
            values: messages(array, "values", any_value)?,
        }))
    } else if let Some(list) = field(object, "kvlistValue") {
        let list = as_object(list, "kvlistValue")?;
        Some(Value::KeyValueList(KeyValueList {
            values: messages(list, "values", key_value)?,
        }))
    } else if let Some(bytes) = field(object, "bytesValue") {
        let text = bytes.as_str().ok_or("bytesValue must be a base64 string")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
            .map_err(|_| format!("bytesValue [{text}] is not base64"))?;
        Some(Value::Bytes(decoded))
    } else {
        None
    };
    Ok(AnyValue { value })
}

/// A field by its lowerCamelCase name or its `.proto` name; `null` counts as absent.
fn field<'j>(object: &'j Map<String, Json>, camel: &str) -> Option<&'j Json> {
    object
        .get(camel)
        .or_else(|| object.get(&snake_case(camel)))
        .filter(|value| !value.is_null())
}

fn snake_case(camel: &str) -> String {
    let mut snake = String::with_capacity(camel.len() + 4);
    for character in camel.chars() {
        if character.is_ascii_uppercase() {
            snake.push('_');
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}

fn as_object<'j>(value: &'j Json, what: &str) -> Result<&'j Map<String, Json>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} must be a JSON object"))
}

fn message<T>(
    object: &Map<String, Json>,
    name: &str,
    decode: fn(&Map<String, Json>) -> Result<T, String>,
) -> Result<Option<T>, String> {
    field(object, name)
        .map(|value| decode(as_object(value, name)?))
        .transpose()
}

fn messages<T>(
    object: &Map<String, Json>,
    name: &str,
    decode: fn(&Map<String, Json>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match field(object, name) {
        None => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| decode(as_object(item, name)?))
            .collect(),
        Some(_) => Err(format!("{name} must be an array")),
    }
}

fn string(object: &Map<String, Json>, name: &str) -> Result<String, String> {
    match field(object, name) {
        None => Ok(String::new()),
        Some(Json::String(text)) => Ok(text.clone()),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// An unsigned integer field (`fixed64`, `uint32`): a number or a decimal string.
fn unsigned(object: &Map<String, Json>, name: &str) -> Result<u64, String> {
    match field(object, name) {
        None => Ok(0),
        Some(Json::Number(number)) => number
            .as_u64()
            .ok_or_else(|| format!("{name} must be an unsigned integer, found [{number}]")),
        Some(Json::String(text)) if text.is_empty() => Ok(0),
        Some(Json::String(text)) => text
            .parse()
            .map_err(|_| format!("{name} must be an unsigned integer, found [{text}]")),
        Some(_) => Err(format!("{name} must be an unsigned integer")),
    }
}

fn signed(value: &Json, name: &str) -> Result<i64, String> {
    match value {
        Json::Number(number) => number
            .as_i64()
            .ok_or_else(|| format!("{name} must be an integer, found [{number}]")),
        Json::String(text) => text
            .parse()
            .map_err(|_| format!("{name} must be an integer, found [{text}]")),
        _ => Err(format!("{name} must be an integer")),
    }
}

fn float(value: &Json) -> Result<f64, String> {
    match value {
        Json::Number(number) => number
            .as_f64()
            .ok_or_else(|| "doubleValue must be a number".to_owned()),
        Json::String(text) => match text.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => text
                .parse()
                .map_err(|_| format!("doubleValue must be a number, found [{text}]")),
        },
        _ => Err("doubleValue must be a number".to_owned()),
    }
}

/// `SeverityNumber`: its number, or its name (`SEVERITY_NUMBER_INFO`).
fn severity_number(value: Option<&Json>) -> Result<i32, String> {
    const NAMES: [&str; 25] = [
        "UNSPECIFIED",
        "TRACE",
        "TRACE2",
        "TRACE3",
        "TRACE4",
        "DEBUG",
        "DEBUG2",
        "DEBUG3",
        "DEBUG4",
        "INFO",
        "INFO2",
        "INFO3",
        "INFO4",
        "WARN",
        "WARN2",
        "WARN3",
        "WARN4",
        "ERROR",
        "ERROR2",
        "ERROR3",
        "ERROR4",
        "FATAL",
        "FATAL2",
        "FATAL3",
        "FATAL4",
    ];
    match value {
        None => Ok(0),
        Some(Json::String(name)) => name
            .strip_prefix("SEVERITY_NUMBER_")
            .and_then(|short| NAMES.iter().position(|known| *known == short))
            .map(|position| position as i32)
            .ok_or_else(|| format!("unknown severityNumber [{name}]")),
        Some(number) => signed(number, "severityNumber").map(|number| number as i32),
    }
}

/// A trace or span id: hex of `length` bytes, or empty.
fn hex_id(object: &Map<String, Json>, name: &str, length: usize) -> Result<Vec<u8>, String> {
    let text = string(object, name)?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let invalid = || format!("{name} must be {} hex digits, found [{text}]", 2 * length);
    if text.len() != 2 * length {
        return Err(invalid());
    }
    (0..length)
        .map(|position| {
            u8::from_str_radix(&text[2 * position..2 * position + 2], 16).map_err(|_| invalid())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_decodes() {
        let body = br#"{
          "resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
            "scopeLogs": [{
              "scope": {"name": "app.logger", "version": "1.2"},
              "logRecords": [{
                "timeUnixNano": "1544712660300000000",
                "observedTimeUnixNano": 1544712660300000001,
                "severityNumber": 10,
                "severityText": "Information",
                "traceId": "5B8EFFF798038103D269B633813FC60C",
                "spanId": "eee19b7ec3c1b174",
                "body": {"stringValue": "Example log record"},
                "attributes": [
                  {"key": "string.attribute", "value": {"stringValue": "some string"}},
                  {"key": "int.attribute", "value": {"intValue": "10"}},
                  {"key": "double.attribute", "value": {"doubleValue": 637.704}},
                  {"key": "array.attribute", "value": {"arrayValue": {"values": [{"stringValue": "many"}, {"boolValue": true}]}}},
                  {"key": "map.attribute", "value": {"kvlistValue": {"values": [{"key": "some.map.key", "value": {"stringValue": "some value"}}]}}},
                  {"key": "bytes.attribute", "value": {"bytesValue": "aGVsbG8="}},
                  {"key": "empty.attribute", "value": {}}
                ],
                "unknownField": 1
              }]
            }]
          }]
        }"#;
        let request = decode(body).unwrap();
        let record = &request.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.time_unix_nano, 1_544_712_660_300_000_000);
        assert_eq!(record.observed_time_unix_nano, 1_544_712_660_300_000_001);
        assert_eq!(record.severity_number, 10);
        assert_eq!(record.trace_id.len(), 16);
        assert_eq!(record.trace_id[0], 0x5b);
        assert_eq!(
            record.span_id,
            vec![0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
        );
        assert_eq!(record.attributes.len(), 7);
        assert_eq!(
            record.attributes[1].value,
            Some(AnyValue {
                value: Some(Value::Int(10))
            })
        );
        assert_eq!(
            record.attributes[5].value,
            Some(AnyValue {
                value: Some(Value::Bytes(b"hello".to_vec()))
            })
        );
        assert_eq!(record.attributes[6].value, Some(AnyValue { value: None }));
    }

    #[test]
    fn proto_field_names_and_enum_names_are_accepted() {
        let body = br#"{"resource_logs": [{"scope_logs": [{"log_records": [
            {"time_unix_nano": 5, "severity_number": "SEVERITY_NUMBER_WARN", "body": {"string_value": "x"}}
        ]}]}]}"#;
        let record = decode(body).unwrap().resource_logs[0].scope_logs[0].log_records[0].clone();
        assert_eq!(record.time_unix_nano, 5);
        assert_eq!(record.severity_number, 13);
    }

    #[test]
    fn malformed_requests_say_what_is_wrong() {
        let cases: [(&[u8], &str); 5] = [
            (b"not json", "invalid JSON"),
            (b"[]", "must be a JSON object"),
            (br#"{"resourceLogs": {}}"#, "resourceLogs must be an array"),
            (
                br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "xyz"}]}]}]}"#,
                "traceId must be 32 hex digits",
            ),
            (
                br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": -1}]}]}]}"#,
                "timeUnixNano must be an unsigned integer",
            ),
        ];
        for (body, expected) in cases {
            let error = decode(body).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
