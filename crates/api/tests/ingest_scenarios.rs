//! `_simulate` scenarios as data: every `tests/ingest/scenarios/*.json` file is a pipeline, the
//! documents to run through it and what `POST /_ingest/pipeline/_simulate` must answer. The
//! format is described in that folder's README; adding a case is adding a file.
//!
//! Every file runs, each on its own fresh server; the test then fails once, listing each
//! scenario that did not answer as expected with the path to the first difference.

mod common;

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::{Map, Value, json};

/// Stands for any string that is an RFC 3339 timestamp, such as `_ingest.timestamp`.
const ANY_TIMESTAMP: &str = "$timestamp";
/// Stands for any value at all, as long as the member is there.
const ANY_VALUE: &str = "$any";

fn scenarios_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ingest/scenarios")
}

/// One scenario file.
struct Scenario {
    name: String,
    stored_pipelines: Map<String, Value>,
    pipeline: Value,
    verbose: bool,
    docs: Value,
    expected: Value,
}

impl Scenario {
    fn read(path: &Path) -> Result<Scenario, String> {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
        let Value::Object(mut file) =
            serde_json::from_str::<Value>(&text).map_err(|error| error.to_string())?
        else {
            return Err("a scenario is a JSON object".to_owned());
        };
        let mut take = |key: &str| file.remove(key);
        match take("description") {
            Some(Value::String(text)) if !text.is_empty() => {}
            _ => return Err("[description] is required: say what the scenario covers".to_owned()),
        }
        let stored_pipelines = match take("stored_pipelines") {
            None => Map::new(),
            Some(Value::Object(pipelines)) => pipelines,
            Some(_) => return Err("[stored_pipelines] maps ids to pipelines".to_owned()),
        };
        let pipeline = take("pipeline").ok_or("[pipeline] is required")?;
        let verbose = match take("verbose") {
            None => false,
            Some(Value::Bool(flag)) => flag,
            Some(_) => return Err("[verbose] is a boolean".to_owned()),
        };
        let docs = take("docs").ok_or("[docs] is required")?;
        let expected = take("expected").ok_or("[expected] is required")?;
        if let Some(unknown) = file.keys().next() {
            return Err(format!("unknown key [{unknown}]"));
        }
        Ok(Scenario {
            name,
            stored_pipelines,
            pipeline,
            verbose,
            docs,
            expected,
        })
    }

    /// Runs the scenario; the difference from what was expected, if any.
    async fn run(&self) -> Result<(), String> {
        let harness = harness(16 << 20);
        for (id, pipeline) in &self.stored_pipelines {
            let (status, body, _) = call(
                &harness,
                "PUT",
                &format!("/_ingest/pipeline/{id}"),
                &pipeline.to_string(),
            )
            .await;
            if status != StatusCode::OK {
                return Err(format!("storing pipeline [{id}] answered {status}: {body}"));
            }
        }
        let path = if self.verbose {
            "/_ingest/pipeline/_simulate?verbose"
        } else {
            "/_ingest/pipeline/_simulate"
        };
        let request = json!({"pipeline": self.pipeline, "docs": self.docs});
        let (status, body, _) = call(&harness, "POST", path, &request.to_string()).await;
        match &self.expected {
            // The pipeline is refused: the status and the error body.
            Value::Object(refusal) => {
                let expected_status = refusal
                    .get("status")
                    .and_then(Value::as_u64)
                    .ok_or("an expected refusal names its [status]")?;
                if u64::from(status.as_u16()) != expected_status {
                    return Err(format!(
                        "status {status}, expected {expected_status}: {body}"
                    ));
                }
                let expected_error = refusal
                    .get("error")
                    .ok_or("an expected refusal has its [error]")?;
                matches(expected_error, &body["error"], "error")
            }
            // The documents as `_simulate` shows them, in order.
            Value::Array(_) => {
                if status != StatusCode::OK {
                    return Err(format!("status {status}: {body}"));
                }
                matches(&self.expected, &body["docs"], "docs")
            }
            _ => Err("[expected] is a list of documents or a refusal object".to_owned()),
        }
    }
}

/// Whether `actual` is `expected`, placeholders aside; the path to the first difference.
fn matches(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    let differ = |what: String| Err(format!("at {path}: {what}"));
    match (expected, actual) {
        (Value::String(placeholder), _) if placeholder == ANY_VALUE => Ok(()),
        (Value::String(placeholder), Value::String(text)) if placeholder == ANY_TIMESTAMP => {
            if text.parse::<jiff::Timestamp>().is_ok() {
                Ok(())
            } else {
                differ(format!("[{text}] is not a timestamp"))
            }
        }
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let Some(found) = actual.get(key) else {
                    return differ(format!(
                        "[{key}] is missing from {}",
                        Value::Object(actual.clone())
                    ));
                };
                matches(value, found, &format!("{path}.{key}"))?;
            }
            if let Some(extra) = actual.keys().find(|key| !expected.contains_key(*key)) {
                return differ(format!(
                    "unexpected [{extra}] = {}",
                    actual.get(extra).unwrap_or(&Value::Null)
                ));
            }
            Ok(())
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if expected.len() != actual.len() {
                return differ(format!(
                    "{} items, expected {}: {}",
                    actual.len(),
                    expected.len(),
                    Value::Array(actual.clone())
                ));
            }
            for (index, (expected, actual)) in expected.iter().zip(actual).enumerate() {
                matches(expected, actual, &format!("{path}[{index}]"))?;
            }
            Ok(())
        }
        // `1` and `1.0` are different documents: JSON numbers compare by their text.
        _ if expected == actual => Ok(()),
        _ => differ(format!("{actual}, expected {expected}")),
    }
}

#[tokio::test]
async fn every_simulate_scenario_answers_as_expected() {
    let directory = scenarios_directory();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 30,
        "the scenarios are in {}",
        directory.display()
    );
    let mut failures = Vec::new();
    for path in &paths {
        let outcome = match Scenario::read(path) {
            Ok(scenario) => scenario
                .run()
                .await
                .map_err(|difference| format!("{}: {difference}", scenario.name)),
            Err(problem) => Err(format!("{}: {problem}", path.display())),
        };
        if let Err(failure) = outcome {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

#[test]
fn the_matcher_finds_differences_and_honours_placeholders() {
    let expected = json!({"a": [1, {"b": "$timestamp"}], "c": "$any"});
    assert!(
        matches(
            &expected,
            &json!({"a": [1, {"b": "2026-12-07T10:00:00.123Z"}], "c": [3]}),
            "doc"
        )
        .is_ok()
    );
    let wrong = matches(
        &expected,
        &json!({"a": [1, {"b": "yesterday"}], "c": 1}),
        "doc",
    );
    assert_eq!(
        wrong.unwrap_err(),
        "at doc.a[1].b: [yesterday] is not a timestamp"
    );
    let extra = matches(&json!({"a": 1}), &json!({"a": 1, "z": 2}), "doc");
    assert_eq!(extra.unwrap_err(), "at doc: unexpected [z] = 2");
    let missing = matches(&json!({"c": "$any"}), &json!({}), "doc");
    assert!(missing.unwrap_err().starts_with("at doc: [c] is missing"));
    let number = matches(&json!(1), &json!(1.0), "doc");
    assert_eq!(number.unwrap_err(), "at doc: 1.0, expected 1");
}
