//! Pipelines nobody here wrote: Filebeat's module ingest pipelines, with the sample logs and
//! expected documents Filebeat's own tests use, copied unchanged under
//! `tests/ingest/elastic/` (see the NOTICE there for their source and license).
//!
//! Each sample line goes through `POST /_ingest/pipeline/_simulate` as Filebeat would send
//! it — `message` and the `@timestamp` of reading it — and the document that comes out must
//! equal the expected one, field by field, except for:
//!
//! - the fields Filebeat adds itself, which its expected documents record but the pipeline
//!   neither reads nor writes: `input.type`, `log.offset`, `log.file.path`, `service.type`,
//!   `fileset.name`, `event.dataset`, `event.module`, `event.timezone` and `agent.*`;
//! - `event.created` and `event.ingested`, which hold the time of reading and of ingest, and
//!   which Filebeat's harness drops for that reason; `event.created` is checked instead to be
//!   the `@timestamp` the line was sent with;
//! - `source.geo.*` and `source.as.*`: they come from MaxMind's GeoLite2 test databases,
//!   which are not redistributable here, and the harness runs without a GeoIP database, so
//!   the `geoip` processors skip (as Elasticsearch's do without one).
//!
//! Lists are compared as sorted, as Filebeat's harness writes them.
//!
//! Filebeat's `system/auth` fileset is not here: no version of its sample logs could be
//! paired with expected documents written from that same log by a version of its pipeline
//! (the `test.log` available has the anonymised addresses, 216.160.83.57, while its expected
//! documents predate them; the `secure-rhel7.log` available is the long original of a later,
//! shortened and anonymised sample). Comparing mismatched files would test nothing.
//!
//! One more kind of difference is listed rather than ignored: where the user-agent rules
//! Logfleet ships (uap-core 0.18.0) and the older ones bundled with the Elasticsearch that
//! wrote an expected document classify a header differently. Each is named with the header,
//! the field, Elasticsearch's value and Logfleet's, so anything else about that header still
//! has to match.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use common::{call, harness};
use serde_json::{Map, Value, json};

/// The `@timestamp` Filebeat gives a line: when it read it.
const READ_AT: &str = "2026-12-07T10:00:00.000Z";

/// Fields Filebeat adds to every event, outside the pipeline.
const FILEBEAT_FIELDS: [&str; 8] = [
    "input.type",
    "log.offset",
    "log.file.path",
    "service.type",
    "fileset.name",
    "event.dataset",
    "event.module",
    "event.timezone",
];

/// Known differences of user-agent rule data: header, field, Elasticsearch's string, ours.
/// The rule that reads `Firefox/50.0` in Elasticsearch's bundled rules has a fourth group that
/// matches empty, which it joins as an empty patch (`50.0.`, `49.0.`); in uap-core 0.18.0 the first
/// rule to match, `(Firefox)/(\d+)\.(\d+)(?:\.(\d+)|$)`, leaves the patch out. uap-core's
/// device rules also know Macs, which the rules of the Elasticsearch that wrote the Apache
/// samples called `Other`.
const USER_AGENT_RULE_DIFFERENCES: [(&str, &str, &str, &str); 3] = [
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0",
        "user_agent.version",
        "49.0.",
        "49.0",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0",
        "user_agent.version",
        "50.0.",
        "50.0",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0",
        "user_agent.device.name",
        "Other",
        "Mac",
    ),
];

/// Whether a difference is one of [`USER_AGENT_RULE_DIFFERENCES`].
fn known_rule_difference(
    actual: &BTreeMap<String, Value>,
    field: &str,
    expected: &Value,
    found: &Value,
) -> bool {
    let header = actual.get("user_agent.original").and_then(Value::as_str);
    USER_AGENT_RULE_DIFFERENCES
        .iter()
        .any(|(known_header, known_field, theirs, ours)| {
            header == Some(*known_header)
                && field == *known_field
                && expected.as_str() == Some(*theirs)
                && found.as_str() == Some(*ours)
        })
}

/// One sample of a Filebeat module: its pipeline, a log and the documents it must give.
struct Sample {
    /// The fileset's folder under `tests/ingest/elastic/`, e.g. `apache/access`.
    fileset: &'static str,
    /// The sample log under the fileset's `test/` folder.
    log: &'static str,
}

fn elastic_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ingest/elastic")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The pipeline as Elasticsearch receives it: Filebeat's YAML, parsed as it is.
fn pipeline(fileset: &Path) -> Value {
    let path = fileset.join("ingest/pipeline.yml");
    serde_norway::from_str(&read(&path))
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `document` with nested objects flattened into dotted keys, as Filebeat's expected
/// documents are written; lists sorted.
fn flatten(document: &Map<String, Value>) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, into: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, member, into);
                }
            }
            Value::Array(items) => {
                let mut items = items.clone();
                items.sort_by_key(Value::to_string);
                into.insert(prefix.to_owned(), Value::Array(items));
            }
            scalar => {
                into.insert(prefix.to_owned(), scalar.clone());
            }
        }
    }
    let mut flat = BTreeMap::new();
    walk("", &Value::Object(document.clone()), &mut flat);
    flat
}

/// Whether a field is left out of the comparison (see the module's documentation).
fn ignored(field: &str) -> bool {
    FILEBEAT_FIELDS.contains(&field)
        || field.starts_with("agent.")
        || field == "event.created"
        || field == "event.ingested"
        || field.starts_with("source.geo.")
        || field.starts_with("source.as.")
}

/// The differences between what the pipeline gave and what Filebeat expects.
fn differences(
    actual: &BTreeMap<String, Value>,
    expected: &BTreeMap<String, Value>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (field, value) in expected.iter().filter(|(field, _)| !ignored(field)) {
        match actual.get(field) {
            None => found.push(format!("missing {field} = {value}")),
            Some(other)
                if other != value && !known_rule_difference(actual, field, value, other) =>
            {
                found.push(format!("{field} = {other}, expected {value}"));
            }
            Some(_) => {}
        }
    }
    for (field, value) in actual.iter().filter(|(field, _)| !ignored(field)) {
        if !expected.contains_key(field) {
            found.push(format!("unexpected {field} = {value}"));
        }
    }
    found
}

/// Runs every line of a sample through its pipeline; the mismatches, each naming the file
/// and line.
async fn run(sample: &Sample) -> Vec<String> {
    let fileset = elastic_directory().join(sample.fileset);
    let log_path = fileset.join("test").join(sample.log);
    let log = read(&log_path);
    let lines: Vec<&str> = log.lines().filter(|line| !line.is_empty()).collect();
    let expected_path = fileset
        .join("test")
        .join(format!("{}-expected.json", sample.log));
    let expected: Vec<Map<String, Value>> = serde_json::from_str(&read(&expected_path))
        .unwrap_or_else(|error| panic!("{}: {error}", expected_path.display()));
    let name = format!("{}/test/{}", sample.fileset, sample.log);
    if lines.len() != expected.len() {
        return vec![format!(
            "{name}: {} lines but {} expected documents",
            lines.len(),
            expected.len()
        )];
    }
    let docs: Vec<Value> = lines
        .iter()
        .map(|line| json!({"_index": "filebeat", "_source": {"message": line, "@timestamp": READ_AT}}))
        .collect();
    let request = json!({"pipeline": pipeline(&fileset), "docs": docs});
    let harness = harness(16 << 20);
    let (status, body, _) = call(
        &harness,
        "POST",
        "/_ingest/pipeline/_simulate",
        &request.to_string(),
    )
    .await;
    if status != StatusCode::OK {
        return vec![format!(
            "{name}: the pipeline was refused ({status}): {body}"
        )];
    }
    let mut mismatches = Vec::new();
    for (number, (result, expected)) in body["docs"]
        .as_array()
        .expect("simulated documents")
        .iter()
        .zip(&expected)
        .enumerate()
    {
        let line = number + 1;
        let Some(source) = result["doc"]["_source"].as_object() else {
            mismatches.push(format!("{name}:{line}: no document but {result}"));
            continue;
        };
        let actual = flatten(source);
        if actual.get("event.created") != Some(&json!(READ_AT)) {
            mismatches.push(format!(
                "{name}:{line}: event.created = {:?}, expected the read time {READ_AT}",
                actual.get("event.created")
            ));
        }
        // Filebeat's expected documents are flat already; flattening changes nothing else.
        for difference in differences(&actual, &flatten(expected)) {
            mismatches.push(format!("{name}:{line}: {difference}"));
        }
    }
    mismatches
}

async fn assert_samples_pass(samples: &[Sample]) {
    let mut mismatches = Vec::new();
    for sample in samples {
        mismatches.extend(run(sample).await);
    }
    assert!(
        mismatches.is_empty(),
        "{} differences from Filebeat's expected documents:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn apache_access_logs_parse_as_filebeat_expects() {
    assert_samples_pass(&[
        Sample {
            fileset: "apache/access",
            log: "test.log",
        },
        Sample {
            fileset: "apache/access",
            log: "darwin-2.4.23.log",
        },
        // A later version of the pipeline, which keeps event.original, splits the URL with
        // uri_parts and drops null fields with a script of two recursive functions.
        Sample {
            fileset: "apache/access-8b3afe9",
            log: "ssl-request.log",
        },
    ])
    .await;
}

#[tokio::test]
async fn nginx_access_logs_parse_as_filebeat_expects() {
    assert_samples_pass(&[Sample {
        fileset: "nginx/access",
        log: "test.log",
    }])
    .await;
}

#[test]
fn the_comparison_sees_missing_extra_and_different_fields() {
    let expected = flatten(
        json!({"a.b": 1, "c": ["y", "x"], "input.type": "log", "source.geo.city_name": "Radwell"})
            .as_object()
            .unwrap(),
    );
    let same = flatten(json!({"a": {"b": 1}, "c": ["x", "y"]}).as_object().unwrap());
    assert!(differences(&same, &expected).is_empty());
    let wrong = flatten(json!({"a": {"b": 2}, "d": true}).as_object().unwrap());
    assert_eq!(
        differences(&wrong, &expected),
        [
            "a.b = 2, expected 1",
            "missing c = [\"x\",\"y\"]",
            "unexpected d = true"
        ]
    );
}
