//! Pipelines nobody here wrote, with the sample inputs and expected documents Elastic's own
//! tests use, copied unchanged under `tests/ingest/elastic/` (see the NOTICE there for their
//! source, commits and licenses): Filebeat's module pipelines for web server access logs, and
//! Elastic Agent's System integration pipeline for auth logs. Each set runs the way its own
//! harness runs it.
//!
//! # Filebeat modules (nginx and Apache access logs)
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
//! Filebeat's own `system/auth` fileset is not here: no version of its sample logs could be
//! paired with expected documents written from that same log by a version of its pipeline
//! (the `test.log` available has the anonymised addresses, 216.160.83.57, while its expected
//! documents predate them; the `secure-rhel7.log` available is the long original of a later,
//! shortened and anonymised sample). Comparing mismatched files would test nothing. The
//! integration below covers system auth logs instead.
//!
//! One more kind of difference is listed rather than ignored: where the user-agent rules
//! Logfleet ships (uap-core 0.18.0) and the older ones bundled with the Elasticsearch that
//! wrote an expected document classify a header differently. Each is named with the header,
//! the field, Elasticsearch's value and Logfleet's, so anything else about that header still
//! has to match.
//!
//! # Elastic integrations (the System integration's auth data stream)
//!
//! An integration's data stream keeps its pipelines in `elasticsearch/ingest_pipeline/` and
//! its pipeline tests in `_dev/test/pipeline/`, which `elastic-package test pipeline` runs.
//! This harness does what elastic-package does (`internal/testrunner/runners/pipeline/`):
//!
//! - every pipeline file is installed with `PUT /_ingest/pipeline/{name}`, after replacing
//!   each `{{ IngestPipeline "other" }}` in it with the name `other` is installed under — the
//!   only change made to a pipeline — and the data stream's `default` pipeline is simulated
//!   with `POST /_ingest/pipeline/{name}/_simulate`, each event with the data stream's index;
//! - a `.log` input gives one event `{"message": line}` per line; a line that does not match
//!   the config's `multiline.first_line_pattern`, when there is one, continues the event
//!   before it (joined with a newline); a `.json` input is `{"events": [...]}`, taken as it is;
//! - the config's `fields` are set on every event, at their dotted paths;
//! - the config's `dynamic_fields` are removed from both documents before comparing, after
//!   checking that the value produced matches the field's regular expression;
//! - the rest must be equal as JSON: lists in order, empty objects seen, numbers equal by
//!   value (`1` is `1.0`). `numeric_keyword_fields` and `string_number_fields` only relax
//!   elastic-package's separate check of field types against the package's field
//!   definitions, which is not run here; they never change the comparison.
//!
//! Left out of the comparison are `input.type`, which the agent sets and the pipeline neither
//! reads nor writes (test-auth-rhel79's config adds it after its expected documents were
//! written; test-5424's expected documents have it with no config in the history available),
//! and, as for Filebeat, `source.geo.*` and `source.as.*`.
//!
//! One difference is accepted and checked for what it is: a syslog timestamp without a year
//! (`Oct 23 16:54:59`) is dated in the current year, by Elasticsearch as by Logfleet, so an
//! expected `@timestamp` holds the year its file was generated in. For an event whose
//! `message` starts with such a timestamp, the expected `@timestamp` may differ from ours in
//! the year only, and ours must be in the current year. (Where the config lists `@timestamp`
//! as dynamic, as most of the package's do for this reason, it is simply left out.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use common::{call, harness};
use regex::Regex;
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

/// Whose harness wrote the expected documents, and so how ours are compared with them.
#[derive(Clone, Copy)]
enum ExpectedBy {
    /// Filebeat's: flat dotted keys, lists sorted.
    Filebeat,
    /// elastic-package's: nested objects compared as they are, lists in order, empty objects
    /// kept, numbers equal by value (`1` is `1.0`).
    ElasticPackage,
}

/// `document` with nested objects flattened into dotted keys, as Filebeat's expected
/// documents are written; lists sorted for Filebeat, and empty objects kept as values for
/// elastic-package, whose comparison sees them.
fn flatten(document: &Map<String, Value>, expected_by: ExpectedBy) -> BTreeMap<String, Value> {
    fn walk(
        prefix: &str,
        value: &Value,
        expected_by: ExpectedBy,
        into: &mut BTreeMap<String, Value>,
    ) {
        match value {
            Value::Object(members)
                if members.is_empty()
                    && !prefix.is_empty()
                    && matches!(expected_by, ExpectedBy::ElasticPackage) =>
            {
                into.insert(prefix.to_owned(), value.clone());
            }
            Value::Object(members) => {
                for (key, member) in members {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, member, expected_by, into);
                }
            }
            Value::Array(items) if matches!(expected_by, ExpectedBy::Filebeat) => {
                let mut items = items.clone();
                items.sort_by_key(Value::to_string);
                into.insert(prefix.to_owned(), Value::Array(items));
            }
            other => {
                into.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut flat = BTreeMap::new();
    walk("", &Value::Object(document.clone()), expected_by, &mut flat);
    flat
}

/// Whether two values are the same, numbers by value as elastic-package compares them.
fn same(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64() == right.as_f64(),
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .zip(right)
                    .all(|(left, right)| same(left, right))
        }
        _ => left == right,
    }
}

/// Whether a field is left out of the comparison with Filebeat's expected documents (see the
/// module's documentation).
fn ignored_by_filebeat(field: &str) -> bool {
    FILEBEAT_FIELDS.contains(&field)
        || field.starts_with("agent.")
        || field == "event.created"
        || field == "event.ingested"
        || field.starts_with("source.geo.")
        || field.starts_with("source.as.")
}

/// The differences between what the pipeline gave and what is expected, leaving out the
/// fields `ignored` names.
fn differences(
    actual: &BTreeMap<String, Value>,
    expected: &BTreeMap<String, Value>,
    ignored: fn(&str) -> bool,
) -> Vec<String> {
    let mut found = Vec::new();
    for (field, value) in expected.iter().filter(|(field, _)| !ignored(field)) {
        match actual.get(field) {
            None => found.push(format!("missing {field} = {value}")),
            Some(other)
                if !same(other, value) && !known_rule_difference(actual, field, value, other) =>
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
        let actual = flatten(source, ExpectedBy::Filebeat);
        if actual.get("event.created") != Some(&json!(READ_AT)) {
            mismatches.push(format!(
                "{name}:{line}: event.created = {:?}, expected the read time {READ_AT}",
                actual.get("event.created")
            ));
        }
        // Filebeat's expected documents are flat already; flattening changes nothing else.
        for difference in differences(
            &actual,
            &flatten(expected, ExpectedBy::Filebeat),
            ignored_by_filebeat,
        ) {
            mismatches.push(format!("{name}:{line}: {difference}"));
        }
    }
    mismatches
}

/// Fails, listing them all, if there are mismatches with `whose` expected documents.
fn assert_no_mismatches(mismatches: &[String], whose: &str) {
    assert!(
        mismatches.is_empty(),
        "{} differences from {whose} expected documents:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

async fn assert_samples_pass(samples: &[Sample]) {
    let mut mismatches = Vec::new();
    for sample in samples {
        mismatches.extend(run(sample).await);
    }
    assert_no_mismatches(&mismatches, "Filebeat's");
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

/// Fields left out of the comparison with elastic-package's expected documents: `input.type`,
/// which the agent sets and the pipeline here neither reads nor writes, and what the
/// `geoip` processors would add with MaxMind's test databases.
fn ignored_by_elastic_package(field: &str) -> bool {
    field == "input.type" || field.starts_with("source.geo.") || field.starts_with("source.as.")
}

/// One pipeline test case of an Elastic integration's data stream, as elastic-package runs
/// it.
struct PackageCase {
    /// The data stream's folder under `tests/ingest/elastic/`, e.g. `system/auth`.
    data_stream: &'static str,
    /// The input file under the data stream's `_dev/test/pipeline/`, e.g. `test-5424.log`.
    input: &'static str,
}

/// What a test case's `-config.yml` says, as elastic-package reads it.
#[derive(Default)]
struct CaseConfig {
    /// Set on every input document, at dotted paths.
    fields: Map<String, Value>,
    /// Fields removed from both sides before comparing; the actual value must match the
    /// regular expression.
    dynamic_fields: Vec<(String, Regex)>,
    /// A line matching this starts a new event; the others continue the one before.
    first_line_pattern: Option<Regex>,
}

impl CaseConfig {
    fn read(path: &Path) -> CaseConfig {
        let Ok(text) = std::fs::read_to_string(path) else {
            return CaseConfig::default();
        };
        let config: Value = serde_norway::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let regex = |pattern: &Value| {
            let pattern = pattern.as_str().expect("a pattern is a string");
            Regex::new(pattern).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        };
        CaseConfig {
            fields: config["fields"].as_object().cloned().unwrap_or_default(),
            dynamic_fields: config["dynamic_fields"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, pattern)| (field.clone(), regex(pattern)))
                .collect(),
            first_line_pattern: config["multiline"].get("first_line_pattern").map(regex),
        }
    }
}

/// The events of a raw `.log` input: one per line, or per first line and its continuation
/// lines when the config has a multiline pattern (elastic-package's `readRawInputEntries`).
fn log_entries(text: &str, first_line_pattern: Option<&Regex>) -> Vec<String> {
    let Some(pattern) = first_line_pattern else {
        return text.lines().map(str::to_owned).collect();
    };
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        match entries.last_mut() {
            Some(entry) if !pattern.is_match(line) => {
                entry.push('\n');
                entry.push_str(line);
            }
            _ => entries.push(line.to_owned()),
        }
    }
    entries
}

/// Sets `value` at the dotted `path`, making the objects on the way.
fn put(document: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            document.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let member = document
                .entry(head)
                .or_insert_with(|| Value::Object(Map::new()));
            if !member.is_object() {
                *member = Value::Object(Map::new());
            }
            put(
                member.as_object_mut().expect("just made an object"),
                rest,
                value,
            );
        }
    }
}

/// The name a pipeline file is installed under, for the data stream's `logs-` index.
fn installed_name(data_stream: &str, file_stem: &str) -> String {
    format!("logs-{}-{file_stem}", data_stream.replace('/', "."))
}

/// A pipeline file's YAML with each `{{ IngestPipeline "name" }}` replaced by the name that
/// pipeline is installed under — the one change elastic-package makes before installing it.
fn resolve_pipeline_references(yaml: &str, data_stream: &str) -> String {
    let reference =
        Regex::new(r#"\{\{\s*IngestPipeline\s+["']([^"']+)["']\s*\}\}"#).expect("a valid pattern");
    reference
        .replace_all(yaml, |captures: &regex::Captures<'_>| {
            installed_name(data_stream, &captures[1])
        })
        .into_owned()
}

/// Whether a line starts with a syslog timestamp that has no year, such as `Oct 23 16:54:59`
/// (after an optional `<priority>`): Elasticsearch, like Logfleet, dates it in the current
/// year, so the expected document holds the year it was written in.
fn has_yearless_timestamp(line: &str) -> bool {
    let yearless = Regex::new(r"^(?:<\d+>)?[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} ")
        .expect("a valid pattern");
    yearless.is_match(line)
}

/// Runs one test case: installs the data stream's pipelines, simulates the `default` one on
/// the case's events and compares each result with its expected document.
async fn run_package_case(case: &PackageCase) -> Vec<String> {
    let data_stream = elastic_directory().join(case.data_stream);
    let cases = data_stream.join("_dev/test/pipeline");
    let name = format!("{}/{}", case.data_stream, case.input);
    let config = CaseConfig::read(&cases.join(format!("{}-config.yml", case.input)));
    let input_path = cases.join(case.input);
    let input = read(&input_path);
    let mut events: Vec<Map<String, Value>> = if case.input.ends_with(".json") {
        let file: Value = serde_json::from_str(&input)
            .unwrap_or_else(|error| panic!("{}: {error}", input_path.display()));
        file["events"]
            .as_array()
            .expect("a .json input holds an events list")
            .iter()
            .map(|event| event.as_object().expect("an event is an object").clone())
            .collect()
    } else {
        log_entries(&input, config.first_line_pattern.as_ref())
            .into_iter()
            .map(|line| Map::from_iter([("message".to_owned(), Value::String(line))]))
            .collect()
    };
    for event in &mut events {
        for (path, value) in &config.fields {
            put(event, path, value.clone());
        }
    }
    let expected_path = cases.join(format!("{}-expected.json", case.input));
    let expected: Value = serde_json::from_str(&read(&expected_path))
        .unwrap_or_else(|error| panic!("{}: {error}", expected_path.display()));
    let expected = expected["expected"].as_array().expect("an expected list");
    if events.len() != expected.len() {
        return vec![format!(
            "{name}: {} events but {} expected documents",
            events.len(),
            expected.len()
        )];
    }

    let harness = harness(16 << 20);
    let pipelines = data_stream.join("elasticsearch/ingest_pipeline");
    for entry in std::fs::read_dir(&pipelines).expect("the ingest_pipeline folder") {
        let path = entry.expect("a pipeline file").path();
        let stem = path.file_stem().expect("a file name").to_string_lossy();
        let yaml = resolve_pipeline_references(&read(&path), case.data_stream);
        let pipeline: Value = serde_norway::from_str(&yaml)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let uri = format!(
            "/_ingest/pipeline/{}",
            installed_name(case.data_stream, &stem)
        );
        let (status, body, _) = call(&harness, "PUT", &uri, &pipeline.to_string()).await;
        if status != StatusCode::OK {
            return vec![format!("{}: refused ({status}): {body}", path.display())];
        }
    }
    let index = format!("logs-{}-default", case.data_stream.replace('/', "."));
    let docs: Vec<Value> = events
        .iter()
        .map(|event| json!({"_index": index, "_source": event}))
        .collect();
    let uri = format!(
        "/_ingest/pipeline/{}/_simulate",
        installed_name(case.data_stream, "default")
    );
    let (status, body, _) = call(&harness, "POST", &uri, &json!({"docs": docs}).to_string()).await;
    if status != StatusCode::OK {
        return vec![format!(
            "{name}: the simulation was refused ({status}): {body}"
        )];
    }

    let this_year = jiff::Zoned::now().year().to_string();
    let mut mismatches = Vec::new();
    let results = body["docs"].as_array().expect("simulated documents");
    for (number, ((result, expected), event)) in
        results.iter().zip(expected).zip(&events).enumerate()
    {
        let position = number + 1;
        let Some(source) = result["doc"]["_source"].as_object() else {
            mismatches.push(format!("{name}#{position}: no document but {result}"));
            continue;
        };
        let mut actual = flatten(source, ExpectedBy::ElasticPackage);
        let mut expected = flatten(
            expected.as_object().expect("an expected document"),
            ExpectedBy::ElasticPackage,
        );
        for (field, pattern) in &config.dynamic_fields {
            let in_field = |key: &String| key == field || key.starts_with(&format!("{field}."));
            if let Some(Value::String(value)) = actual.get(field)
                && !pattern.is_match(value)
            {
                mismatches.push(format!(
                    "{name}#{position}: dynamic field {field} = {value:?} does not match {pattern}"
                ));
            }
            actual.retain(|key, _| !in_field(key));
            expected.retain(|key, _| !in_field(key));
        }
        let message = event.get("message").and_then(Value::as_str).unwrap_or("");
        if has_yearless_timestamp(message)
            && let (Some(Value::String(ours)), Some(Value::String(theirs))) =
                (actual.get("@timestamp"), expected.get("@timestamp"))
            && ours.starts_with(&this_year)
            && ours.get(4..) == theirs.get(4..)
        {
            expected.insert("@timestamp".to_owned(), Value::String(ours.clone()));
        }
        for difference in differences(&actual, &expected, ignored_by_elastic_package) {
            mismatches.push(format!("{name}#{position}: {difference}"));
        }
    }
    mismatches
}

#[tokio::test]
async fn system_auth_logs_parse_as_elastic_package_expects() {
    let inputs = [
        "test-5424.log",
        "test-auth-rhel79.log",
        "test-host-syslog-processor.json",
        "test-multiline.log",
    ];
    let mut mismatches = Vec::new();
    for input in inputs {
        let case = PackageCase {
            data_stream: "system/auth",
            input,
        };
        mismatches.extend(run_package_case(&case).await);
    }
    assert_no_mismatches(&mismatches, "elastic-package's");
}

#[test]
fn the_comparison_sees_missing_extra_and_different_fields() {
    let expected = flatten(
        json!({"a.b": 1, "c": ["y", "x"], "input.type": "log", "source.geo.city_name": "Radwell"})
            .as_object()
            .unwrap(),
        ExpectedBy::Filebeat,
    );
    let same = flatten(
        json!({"a": {"b": 1}, "c": ["x", "y"]}).as_object().unwrap(),
        ExpectedBy::Filebeat,
    );
    assert!(differences(&same, &expected, ignored_by_filebeat).is_empty());
    let wrong = flatten(
        json!({"a": {"b": 2}, "d": true}).as_object().unwrap(),
        ExpectedBy::Filebeat,
    );
    assert_eq!(
        differences(&wrong, &expected, ignored_by_filebeat),
        [
            "a.b = 2, expected 1",
            "missing c = [\"x\",\"y\"]",
            "unexpected d = true"
        ]
    );
}

#[test]
fn elastic_package_comparison_keeps_order_and_empty_objects_and_numbers_by_value() {
    let expected = flatten(
        json!({"a": {"b": 1.0}, "c": ["y", "x"], "system": {"auth": {}}})
            .as_object()
            .unwrap(),
        ExpectedBy::ElasticPackage,
    );
    let same = flatten(
        json!({"a": {"b": 1}, "c": ["y", "x"], "system": {"auth": {}}})
            .as_object()
            .unwrap(),
        ExpectedBy::ElasticPackage,
    );
    assert!(differences(&same, &expected, ignored_by_elastic_package).is_empty());
    let wrong = flatten(
        json!({"a": {"b": 1}, "c": ["x", "y"]}).as_object().unwrap(),
        ExpectedBy::ElasticPackage,
    );
    assert_eq!(
        differences(&wrong, &expected, ignored_by_elastic_package),
        [
            "c = [\"x\",\"y\"], expected [\"y\",\"x\"]",
            "missing system.auth = {}"
        ]
    );
}
