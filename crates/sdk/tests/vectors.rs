//! The shared SDK test vectors (`tests/vectors/sdk`): a helper call in, the exact event out.
//!
//! The Python SDK's `sdks/python/tests/test_vectors.py` reads the same files, so both SDKs
//! write the same field names, values, JSON types and field order. Only `@timestamp` and the
//! fields a vector lists in `random` (ids drawn at run time) are checked for shape instead of
//! value.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use logfleet_model::{DbAction, Event, Level, LogCategory};
use logfleet_sdk::{
    AuthEvent, FieldValue, MemoryWriter, RequestSpan, UserAction, emit, log_authentication_event,
    log_database_operation, log_user_action, set_user,
};
use serde_json::{Map, Value};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/sdk")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path:?}: {error}"))
}

fn text<'a>(spec: &'a Value, key: &str) -> &'a str {
    spec[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` in {spec}"))
}

/// A JSON scalar as the typed value a Rust service would pass.
fn field_value(value: &Value) -> FieldValue {
    match value {
        Value::String(text) => FieldValue::from(text.as_str()),
        Value::Bool(flag) => FieldValue::Bool(*flag),
        Value::Number(number) => number
            .as_u64()
            .map(FieldValue::U64)
            .or_else(|| number.as_i64().map(FieldValue::I64))
            .unwrap_or_else(|| FieldValue::F64(number.as_f64().unwrap_or(f64::NAN))),
        other => FieldValue::Json(other.clone()),
    }
}

fn extra_fields(spec: &Value) -> Vec<(String, Value)> {
    spec.get("fields")
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The helper call a vector describes, written as a Rust service would write it.
fn call(spec: &Value) {
    match text(spec, "helper") {
        "log_database_operation" => {
            let action: DbAction = text(spec, "db_action").parse().expect("db_action");
            let mut operation = log_database_operation(
                text(spec, "operation").to_owned(),
                text(spec, "entity").to_owned(),
                action,
            );
            for (name, value) in extra_fields(spec) {
                operation = operation.field(name, field_value(&value));
            }
            let millis = spec["duration_ms"].as_f64().expect("duration_ms");
            operation = operation.duration(Duration::from_nanos((millis * 1e6).round() as u64));
            match spec.get("db_error").and_then(Value::as_str) {
                Some(error) => operation.fail(&error),
                None => operation.finish(spec["rows_affected"].as_u64().expect("rows_affected")),
            }
        }
        "log_user_action" => {
            let mut audit = log_user_action(UserAction::from(text(spec, "action").to_owned()));
            if let Some(user) = spec.get("user") {
                audit = audit.user(text(user, "id"), text(user, "name"));
            }
            if let Some(entity) = spec.get("target_entity").and_then(Value::as_str) {
                audit = audit.target_entity(entity);
            }
            if let Some(session) = spec.get("session_id").and_then(Value::as_str) {
                audit = audit.session_id(session);
            }
            if let Some(success) = spec.get("success").and_then(Value::as_bool) {
                audit = audit.success(success);
            }
            for (name, value) in extra_fields(spec) {
                audit = audit.field(name, field_value(&value));
            }
            audit.emit();
        }
        "log_authentication_event" => {
            let action = text(spec, "event").to_owned();
            let success = spec["success"].as_bool().expect("success");
            let event = match spec.get("session_duration_ms").and_then(Value::as_u64) {
                Some(millis) if action == "LOGOUT" => AuthEvent::Logout {
                    session_duration: Some(Duration::from_millis(millis)),
                },
                _ => AuthEvent::Custom {
                    action: action.into(),
                    success,
                },
            };
            let mut audit = log_authentication_event(event);
            if let Some(user) = spec.get("user") {
                audit = audit.user(text(user, "id"), text(user, "name"));
            }
            if let Some(name) = spec.get("username").and_then(Value::as_str) {
                // The name that was tried, as the demo's data manager records it.
                audit = audit.field("username", name.to_owned());
            }
            if let Some(address) = spec.get("ip_address").and_then(Value::as_str) {
                audit = audit.client_ip(address.parse::<IpAddr>().expect("ip_address"));
            }
            if let Some(reason) = spec.get("reason").and_then(Value::as_str) {
                audit = audit.reason(reason);
            }
            if let Some(session) = spec.get("session_id").and_then(Value::as_str) {
                audit = audit.session_id(session);
            }
            for (name, value) in extra_fields(spec) {
                audit = audit.field(name, field_value(&value));
            }
            audit.emit();
        }
        "log_event" => {
            let category: LogCategory = text(spec, "log_category").parse().expect("category");
            let level: Level = text(spec, "level").parse().expect("level");
            let mut event = Event::new(category, level, text(spec, "message"));
            for (name, value) in extra_fields(spec) {
                event = event.with(name, value);
            }
            emit(event);
        }
        other => panic!("unknown helper {other}"),
    }
}

/// Runs one vector through a fresh SDK and returns the lines it wrote.
fn run(vector: &Value, identity: &Value) -> Vec<String> {
    let output = MemoryWriter::new();
    let (layer, guard) = logfleet_sdk::builder()
        .app_name(text(identity, "app_name"))
        .service_type(text(identity, "service_type"))
        .environment(text(identity, "environment"))
        .host(text(identity, "host"))
        .service_version(text(identity, "service_version"))
        .writer(output.clone())
        .performance_interval(None)
        .layer::<Registry>()
        .expect("sdk");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || match vector.get("context") {
        None => call(&vector["call"]),
        Some(context) => {
            let client_ip: IpAddr = text(context, "client_ip").parse().expect("client_ip");
            RequestSpan::new()
                .request_id(text(context, "request_id"))
                .traceparent(text(context, "traceparent"))
                .endpoint_signature(text(context, "endpoint_signature"))
                .client_ip(client_ip)
                .start()
                .in_scope(|| {
                    let user = &context["user"];
                    assert!(set_user(text(user, "id"), text(user, "name")));
                    call(&vector["call"]);
                });
        }
    });
    assert!(guard.flush(Duration::from_secs(10)), "flush failed");
    output.lines()
}

/// Equal values of equal JSON types (an integer is not a float), objects in the same order.
fn assert_same(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            let actual_keys: Vec<&String> = actual.keys().collect();
            let expected_keys: Vec<&String> = expected.keys().collect();
            assert_eq!(actual_keys, expected_keys, "{path}: keys");
            for (key, value) in expected {
                assert_same(&actual[key], value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(actual), Value::Array(expected)) => {
            assert_eq!(actual.len(), expected.len(), "{path}: length");
            for (index, (item, expected_item)) in actual.iter().zip(expected).enumerate() {
                assert_same(item, expected_item, &format!("{path}[{index}]"));
            }
        }
        // `Number` equality distinguishes 1 from 1.0, as the vectors require.
        _ => assert_eq!(actual, expected, "{path}"),
    }
}

fn is_timestamp(text: &str) -> bool {
    logfleet_model::parse_timestamp(text).is_some()
        && text.len() == 24
        && text.ends_with('Z')
        && text.as_bytes()[19] == b'.'
}

fn is_span_id(text: &str) -> bool {
    text.len() == 16
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn every_vector_gives_its_exact_event() {
    let directory = vectors_dir();
    let identity = read_json(&directory.join("identity.json"));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(directory.join("events"))
        .expect("vectors directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "vectors found: {paths:?}");
    for path in paths {
        let vector = read_json(&path);
        let lines = run(&vector, &identity);
        assert_eq!(lines.len(), 1, "{path:?}: {lines:?}");
        let mut event: Map<String, Value> = serde_json::from_str(&lines[0]).expect("json line");
        let timestamp = event.shift_remove("@timestamp").expect("@timestamp");
        assert!(
            is_timestamp(timestamp.as_str().unwrap_or_default()),
            "{timestamp}"
        );
        for name in vector["random"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("random field name");
            assert_eq!(name, "span_id", "only span ids are random");
            let value = event
                .shift_remove(name)
                .unwrap_or_else(|| panic!("{name} in {path:?}"));
            assert!(is_span_id(value.as_str().unwrap_or_default()), "{value}");
        }
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("?");
        assert_same(&Value::Object(event), &vector["expected"], name);
    }
}
