//! Runs every scenario in `tests/conformance/` (see its README): requests against a fresh
//! server, responses checked against expected subsets.

mod common;

use std::path::PathBuf;

use common::{Server, raw_request};
use serde_json::Value;

/// Whether `actual` contains `expected`: objects by key, recursively; arrays element by
/// element with equal length; numbers by value (`1` equals `1.0`).
fn contains(actual: &Value, expected: &Value, path: &str, problems: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, expected_value) in expected {
                match actual.get(key) {
                    Some(actual_value) => contains(
                        actual_value,
                        expected_value,
                        &format!("{path}.{key}"),
                        problems,
                    ),
                    None => problems.push(format!("{path}.{key}: missing")),
                }
            }
        }
        (Value::Array(actual), Value::Array(expected)) => {
            if actual.len() != expected.len() {
                problems.push(format!(
                    "{path}: {} elements, expected {}",
                    actual.len(),
                    expected.len()
                ));
                return;
            }
            for (index, (actual_value, expected_value)) in actual.iter().zip(expected).enumerate() {
                contains(
                    actual_value,
                    expected_value,
                    &format!("{path}[{index}]"),
                    problems,
                );
            }
        }
        (Value::Number(actual), Value::Number(expected))
            if actual.as_f64() != expected.as_f64() =>
        {
            problems.push(format!("{path}: {actual}, expected {expected}"));
        }
        (Value::Number(_), Value::Number(_)) => {}
        (actual, expected) if actual != expected => {
            problems.push(format!("{path}: {actual}, expected {expected}"))
        }
        _ => {}
    }
}

fn request_body(step: &Value) -> Option<String> {
    if let Some(raw) = step.get("raw").and_then(Value::as_str) {
        return Some(raw.to_owned());
    }
    if let Some(lines) = step.get("ndjson").and_then(Value::as_array) {
        let mut body = String::new();
        for line in lines {
            body.push_str(&line.to_string());
            body.push('\n');
        }
        return Some(body);
    }
    step.get("body").map(Value::to_string)
}

fn run_scenario(path: &PathBuf) -> Vec<String> {
    let scenario: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let server = Server::start();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();
    let send = |step: &Value| {
        let method = step["method"].as_str().unwrap_or("GET");
        let url = format!("{}{}", server.base, step["path"].as_str().unwrap());
        let body = request_body(step);
        let (status, text) =
            raw_request(method, &url, body.as_deref().map(str::as_bytes), &[]).unwrap();
        (
            status,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
        )
    };
    for step in scenario["setup"].as_array().into_iter().flatten() {
        let (status, response) = send(step);
        assert!(
            status < 300 && response.get("errors") != Some(&Value::Bool(true)),
            "{name} setup failed: {status} {response}"
        );
    }
    for step in scenario["steps"].as_array().unwrap() {
        let step_name = step["name"].as_str().unwrap_or("?");
        let (status, response) = send(step);
        let mut problems = Vec::new();
        let expected_status = step["status"].as_u64().unwrap_or(200);
        if u64::from(status) != expected_status {
            problems.push(format!("status {status}, expected {expected_status}"));
        }
        if let Some(expected) = step.get("expect") {
            contains(&response, expected, "", &mut problems);
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name} / {step_name}: {}\n  response: {response}",
                problems.join("; ")
            ));
        }
    }
    failures
}

#[test]
fn conformance_scenarios() {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 3, "scenarios in {}", directory.display());
    let failures: Vec<String> = scenarios.iter().flat_map(run_scenario).collect();
    assert!(
        failures.is_empty(),
        "{} failing step(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_subset_check_can_fail() {
    let mut problems = Vec::new();
    contains(
        &serde_json::json!({"a": [1, 2]}),
        &serde_json::json!({"a": [1]}),
        "",
        &mut problems,
    );
    contains(
        &serde_json::json!({"a": 1}),
        &serde_json::json!({"b": 1}),
        "",
        &mut problems,
    );
    contains(
        &serde_json::json!({"a": 1}),
        &serde_json::json!({"a": 1.0}),
        "",
        &mut problems,
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
}
