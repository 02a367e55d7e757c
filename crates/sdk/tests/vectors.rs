//! The shared SDK test vectors (`tests/vectors/sdk`): a helper call in, the exact event out.
//!
//! The Python SDK's `sdks/python/tests/test_vectors.py` reads the same files, so both SDKs
//! write the same field names, values, JSON types and field order. Only `@timestamp` and the
//! fields a vector lists in `random` (ids, durations and process figures measured at run
//! time) are checked for shape and JSON type instead of value.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use axum::routing::{MethodFilter, on};
use logfleet_model::{DbAction, Event, Level, LogCategory};
use logfleet_sdk::{
    ApiRequestLayer, AuthEvent, FieldValue, MemoryWriter, RequestSpan, UserAction, action_type,
    emit, log_authentication_event, log_database_operation, log_external_request, log_user_action,
    set_user,
};
use serde_json::{Map, Value};
use tower::ServiceExt;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

/// The helpers whose event comes from the SDK's own thread, found by its message.
const PERIODIC: [(&str, &str); 2] = [
    ("performance_sample", "performance sample"),
    ("drop_report", "logfleet sdk dropped events"),
];

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

/// A request through [`ApiRequestLayer`] to a handler at the vector's route, driven in
/// process: the `api_request` event.
async fn api_request(spec: &Value) {
    let user = spec
        .get("user")
        .map(|user| (text(user, "id").to_owned(), text(user, "name").to_owned()));
    let status =
        StatusCode::from_u16(spec["status"].as_u64().expect("status") as u16).expect("status code");
    let response_body = spec
        .get("response_body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let method = Method::from_bytes(text(spec, "method").as_bytes()).expect("method");
    let handler = move || async move {
        if let Some((id, name)) = user {
            set_user(id, name);
        }
        (status, response_body)
    };
    let mut route = on(
        MethodFilter::try_from(method.clone()).expect("method"),
        handler,
    );
    if let Some(action) = spec.get("action_type").and_then(Value::as_str) {
        route = route.layer(action_type(action.to_owned()));
    }
    let app = Router::new()
        .route(text(spec, "route"), route)
        .layer(ApiRequestLayer::new());
    let mut request = Request::builder().method(method).uri(text(spec, "path"));
    for (name, value) in spec["headers"].as_object().into_iter().flatten() {
        request = request.header(name.as_str(), value.as_str().expect("header value"));
    }
    let body = spec.get("body").and_then(Value::as_str);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .header("content-length", body.len());
    }
    let mut request = request
        .body(Body::from(body.unwrap_or_default().to_owned()))
        .expect("request");
    let peer: IpAddr = text(spec, "peer").parse().expect("peer");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(peer, 40000)));
    let response = app.oneshot(request).await.expect("response");
    assert_eq!(response.status(), status);
}

/// A server answering every request with the vector's status, for an inter-service call.
async fn upstream(spec: &Value) -> SocketAddr {
    let status =
        StatusCode::from_u16(spec["status"].as_u64().expect("status") as u16).expect("status code");
    let app = Router::new().fallback(move || async move { (status, "{}") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// An address where nothing listens.
fn closed_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
}

/// The helper call a vector describes, written as a Rust service would write it.
fn call(spec: &Value, runtime: &tokio::runtime::Runtime, upstream: Option<SocketAddr>) {
    match text(spec, "helper") {
        "api_request" => runtime.block_on(api_request(spec)),
        "inter_service" => {
            let upstream = upstream.expect("upstream");
            let url = text(spec, "url").replace("{upstream}", &upstream.to_string());
            let method = Method::from_bytes(text(spec, "method").as_bytes()).expect("method");
            let request = reqwest::Client::new().request(method, url);
            // The context is taken here, inside the request; the call runs after.
            let call = log_external_request(text(spec, "target_service"), request);
            let response = runtime.block_on(call).expect("upstream response");
            assert_eq!(u64::from(response.status().as_u16()), spec["status"]);
        }
        "performance_sample" => {
            for number in 0..spec["requests"].as_u64().expect("requests") {
                let ping = serde_json::json!({
                    "method": "GET",
                    "route": "/api/ping/",
                    "path": "/api/ping/",
                    "peer": "127.0.0.1",
                    "status": 200,
                    "response_body": number.to_string(),
                });
                runtime.block_on(api_request(&ping));
            }
        }
        "drop_report" => {
            for number in 0..spec["undeliverable"].as_u64().expect("undeliverable") {
                emit(
                    Event::new(LogCategory::ApiRequest, Level::Info, "undeliverable")
                        .with("sequence", Value::from(number)),
                );
            }
        }
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

/// Runs one vector through a fresh SDK and returns the lines it wrote (for a periodic event,
/// that event's line), and the test upstream's address if the call had one.
fn run(vector: &Value, identity: &Value) -> (Vec<String>, Option<SocketAddr>) {
    let spec = &vector["call"];
    let helper = text(spec, "helper");
    let output = MemoryWriter::new();
    let mut builder = logfleet_sdk::builder()
        .app_name(text(identity, "app_name"))
        .service_type(text(identity, "service_type"))
        .environment(text(identity, "environment"))
        .host(text(identity, "host"))
        .service_version(text(identity, "service_version"))
        .writer(output.clone())
        .performance_interval(None);
    if helper == "performance_sample" {
        builder = builder.performance_interval(Some(Duration::from_millis(200)));
    }
    if helper == "drop_report" {
        builder = builder
            .url(format!("http://{}", closed_address()))
            .max_attempts(2)
            .backoff(Duration::from_millis(10), Duration::from_millis(10))
            .batch_interval(Duration::from_millis(10))
            .drop_report_interval(Duration::from_millis(100));
    }
    let (layer, guard) = builder.layer::<Registry>().expect("sdk");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let upstream = (helper == "inter_service").then(|| runtime.block_on(upstream(spec)));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || match vector.get("context") {
        None => call(spec, &runtime, upstream),
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
                    call(spec, &runtime, upstream);
                });
        }
    });
    if let Some((_, message)) = PERIODIC.iter().find(|(name, _)| *name == helper) {
        return (vec![wait_for(&output, message)], upstream);
    }
    assert!(guard.flush(Duration::from_secs(10)), "flush failed");
    (output.lines(), upstream)
}

/// The first line with this message once the SDK's thread has written it (for a performance
/// sample, the one of the window that holds the requests).
fn wait_for(output: &MemoryWriter, message: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = output.lines().into_iter().find(|line| {
            let event: Value = serde_json::from_str(line).expect("json line");
            event["message"] == message
                && (message != "performance sample" || event.get("duration_ms_p50").is_some())
        });
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no {message:?} in {:?}",
            output.lines()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
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

fn is_lower_hex(text: &str, length: usize) -> bool {
    text.len() == length
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_uuid_v4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|part| part.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|part| is_lower_hex(part, part.len()))
        && parts[2].starts_with('4')
        && parts[3].starts_with(['8', '9', 'a', 'b'])
}

/// What a field listed in a vector's `random` must look like, JSON type included (a float is
/// written with a fraction or exponent, an integer without).
fn has_random_shape(name: &str, value: &Value) -> bool {
    let non_negative_float = || {
        value.as_number().is_some_and(|n| n.is_f64()) && value.as_f64().is_some_and(|v| v >= 0.0)
    };
    match name {
        "span_id" | "parent_span_id" => value.as_str().is_some_and(|v| is_lower_hex(v, 16)),
        "trace_id" => value.as_str().is_some_and(|v| is_lower_hex(v, 32)),
        "request_id" => value.as_str().is_some_and(is_uuid_v4),
        "duration_ms"
        | "cpu_percent"
        | "requests_per_minute"
        | "duration_ms_p50"
        | "duration_ms_p95"
        | "duration_ms_p99" => non_negative_float(),
        "memory_rss_bytes" => value.as_u64().is_some_and(|v| v > 0),
        other => panic!("no shape for random field {other}"),
    }
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
    assert!(paths.len() >= 16, "vectors found: {paths:?}");
    for path in paths {
        let mut vector = read_json(&path);
        let (lines, upstream) = run(&vector, &identity);
        if let Some(upstream) = upstream {
            let text = vector["expected"].to_string();
            vector["expected"] =
                serde_json::from_str(&text.replace("{upstream}", &upstream.to_string()))
                    .expect("expected");
        }
        assert_eq!(lines.len(), 1, "{path:?}: {lines:?}");
        let mut event: Map<String, Value> = serde_json::from_str(&lines[0]).expect("json line");
        let timestamp = event.shift_remove("@timestamp").expect("@timestamp");
        assert!(
            is_timestamp(timestamp.as_str().unwrap_or_default()),
            "{timestamp}"
        );
        for name in vector["random"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("random field name");
            let value = event
                .get_mut(name)
                .unwrap_or_else(|| panic!("{name} in {path:?}"));
            assert!(has_random_shape(name, value), "{name}: {value} in {path:?}");
            match vector["expected"].get(name) {
                // Its place and JSON type are the vector's; the value is the run's.
                Some(expected) => {
                    assert!(has_random_shape(name, expected), "{name} in {path:?}");
                    *value = expected.clone();
                }
                None => {
                    event.shift_remove(name);
                }
            }
        }
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("?");
        assert_same(&Value::Object(event), &vector["expected"], name);
    }
}
