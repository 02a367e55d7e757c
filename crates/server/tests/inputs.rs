//! The inputs besides `_bulk`, end to end against the real binary: Debian's `logger`
//! sending syslog over TCP and UDP, OTLP/HTTP in protobuf and JSON on both ports, and files
//! appended, rotated (by rename and by copy-and-truncate) and read across a restart with
//! nothing lost or read twice.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, free_port, raw_request};
use logfleet_ingest::otlp::proto;
use prost::Message as _;
use serde_json::{Value, json};

/// Polls a search until `done` holds for its answer (inputs write asynchronously).
fn wait_for(server: &Server, index: &str, body: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        server.post("/_refresh", "");
        let (_, found) = server.post(&format!("/{index}/_search"), body);
        if done(&found) || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn total(found: &Value) -> u64 {
    found["hits"]["total"]["value"].as_u64().unwrap_or(0)
}

fn config_file(dir: &Path, text: &str) -> String {
    let path = dir.join("logfleet.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn logger_sends_syslog_over_tcp_and_udp() {
    let temporary = tempfile::tempdir().unwrap();
    let (tcp, udp) = (free_port(), free_port());
    let config = config_file(
        temporary.path(),
        &format!(
            "[inputs.syslog]\ntcp = \"127.0.0.1:{tcp}\"\nudp = \"127.0.0.1:{udp}\"\ntimezone = \"UTC\"\n"
        ),
    );
    let server = Server::start_in(&temporary.path().join("data"), &["--config", &config]);
    let port_text = |port: u16| port.to_string();
    let sends: [&[&str]; 4] = [
        &[
            "--tcp",
            "--rfc5424",
            "--tag",
            "billing",
            "--id=4242",
            "--msgid",
            "PAY",
            "--sd-id",
            "order@32473",
            "--sd-param",
            "total=\"12.50\"",
            "tcp rfc5424 event",
        ],
        &[
            "--tcp",
            "--octet-count",
            "--rfc5424",
            "--tag",
            "billing",
            "tcp octet-counted event",
        ],
        &[
            "--udp",
            "--rfc3164",
            "--tag",
            "cron",
            "-p",
            "cron.err",
            "udp rfc3164 event",
        ],
        &[
            "--udp",
            "--rfc5424",
            "--tag",
            "api",
            "-p",
            "local3.warning",
            "udp rfc5424 event",
        ],
    ];
    for (position, arguments) in sends.iter().enumerate() {
        let port = if arguments[0] == "--tcp" { tcp } else { udp };
        let status = Command::new("logger")
            .args(["--server", "127.0.0.1", "--port", &port_text(port)])
            .args(*arguments)
            .status()
            .expect("Debian's logger (bsdutils) sends the syslog messages");
        assert!(status.success(), "logger call {position} failed");
    }
    let found = wait_for(
        &server,
        "logs-syslog-default",
        r#"{"size": 10, "sort": [{"@timestamp": "asc"}]}"#,
        |found| total(found) >= 4,
    );
    assert_eq!(total(&found), 4, "{found}\n{}", server.log());
    let by_message = |text: &str| -> Value {
        found["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["_source"].clone())
            .find(|source| source["message"] == text)
            .unwrap_or_else(|| panic!("no event {text:?} in {found}"))
    };
    let event = by_message("tcp rfc5424 event");
    let syslog = &event["log"]["syslog"];
    assert_eq!(syslog["version"], 1);
    assert_eq!(syslog["appname"], "billing");
    assert_eq!(syslog["procid"], "4242");
    assert_eq!(syslog["msgid"], "PAY");
    assert_eq!(syslog["structured_data"]["order@32473"]["total"], "12.50");
    assert_eq!(syslog["severity"]["name"], "Notice");
    assert_eq!(event["input"]["type"], "syslog");
    assert!(
        event["log"]["source"]["address"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(
        by_message("tcp octet-counted event")["log"]["syslog"]["appname"],
        "billing"
    );
    let bsd = by_message("udp rfc3164 event");
    assert_eq!(bsd["log"]["syslog"]["facility"]["name"], "clock");
    assert_eq!(bsd["log"]["syslog"]["severity"]["code"], 3);
    assert_eq!(bsd["level"], "error");
    assert_eq!(bsd["log"]["syslog"]["appname"], "cron");
    let stamped = bsd["@timestamp"].as_str().unwrap();
    let received = time::OffsetDateTime::now_utc().year().to_string();
    assert!(
        stamped.starts_with(&received),
        "the year of an RFC 3164 message: {stamped}"
    );
    let warning = by_message("udp rfc5424 event");
    assert_eq!(warning["log"]["syslog"]["facility"]["name"], "local3");
    assert_eq!(warning["level"], "warning");
    // The events are searchable like any other.
    let (_, matched) = server.post(
        "/logs-syslog-default/_search",
        r#"{"query": {"term": {"log.syslog.appname": "cron"}}}"#,
    );
    assert_eq!(total(&matched), 1, "{matched}");
}

fn otlp_request(message: &str, dataset: Option<&str>) -> proto::ExportLogsServiceRequest {
    let text = |value: &str| {
        Some(proto::AnyValue {
            value: Some(proto::Value::String(value.to_owned())),
        })
    };
    let mut resource = vec![proto::KeyValue {
        key: "service.name".into(),
        value: text("checkout"),
    }];
    if let Some(dataset) = dataset {
        resource.push(proto::KeyValue {
            key: "data_stream.dataset".into(),
            value: text(dataset),
        });
    }
    proto::ExportLogsServiceRequest {
        resource_logs: vec![proto::ResourceLogs {
            resource: Some(proto::Resource {
                attributes: resource,
                dropped_attributes_count: 0,
            }),
            scope_logs: vec![proto::ScopeLogs {
                scope: Some(proto::InstrumentationScope {
                    name: "checkout.payments".into(),
                    ..Default::default()
                }),
                log_records: vec![proto::LogRecord {
                    time_unix_nano: 1_765_101_600_000_000_000,
                    severity_number: 17,
                    severity_text: "ERROR".into(),
                    body: text(message),
                    attributes: vec![proto::KeyValue {
                        key: "http.request.method".into(),
                        value: text("POST"),
                    }],
                    trace_id: vec![7; 16],
                    span_id: vec![9; 8],
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

#[test]
fn otlp_logs_arrive_in_protobuf_and_json_on_both_ports() {
    let temporary = tempfile::tempdir().unwrap();
    let otlp_port = free_port();
    let config = config_file(
        temporary.path(),
        &format!("[inputs.otlp]\nlisten = \"127.0.0.1:{otlp_port}\"\n"),
    );
    let server = Server::start_in(&temporary.path().join("data"), &["--config", &config]);
    let protobuf = [("Content-Type", "application/x-protobuf")];

    // Protobuf on the OTLP port, as exporters send it.
    let body = otlp_request("card declined", None).encode_to_vec();
    let (status, answer) = raw_request(
        "POST",
        &format!("http://127.0.0.1:{otlp_port}/v1/logs"),
        Some(&body),
        &protobuf,
    )
    .unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer.is_empty(), "a full success is an empty message");

    // Gzipped protobuf on the main port, routed by `data_stream.dataset`.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&otlp_request("routed", Some("payments")).encode_to_vec())
        .unwrap();
    let body = gzip.finish().unwrap();
    let (status, _) = raw_request(
        "POST",
        &format!("{}/_otlp/v1/logs", server.base),
        Some(&body),
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "gzip"),
        ],
    )
    .unwrap();
    assert_eq!(status, 200);

    // OTLP/JSON.
    let json_body = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1765101601000000000", "severityText": "INFO", "body": {"stringValue": "from json"},
         "attributes": [{"key": "retry", "value": {"intValue": "2"}}]}
    ]}]}]});
    let (status, answer) = raw_request(
        "POST",
        &format!("http://127.0.0.1:{otlp_port}/v1/logs"),
        Some(json_body.to_string().as_bytes()),
        &[],
    )
    .unwrap();
    assert_eq!((status, answer.as_str()), (200, "{}"));

    let found = wait_for(&server, "logs-*.otel-*", r#"{"size": 10}"#, |found| {
        total(found) >= 3
    });
    assert_eq!(total(&found), 3, "{found}");
    let sources: Vec<&Value> = found["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| &hit["_source"])
        .collect();
    let declined = sources
        .iter()
        .find(|source| source["body"]["text"] == "card declined")
        .unwrap();
    assert_eq!(declined["@timestamp"], "2025-12-07T10:00:00.000Z");
    assert_eq!(declined["severity_text"], "ERROR");
    assert_eq!(declined["trace_id"], "07070707070707070707070707070707");
    assert_eq!(
        declined["resource"]["attributes"]["service.name"],
        "checkout"
    );
    assert_eq!(declined["scope"]["name"], "checkout.payments");
    assert_eq!(declined["attributes"]["http.request.method"], "POST");
    let (_, streams) = server.get("/_data_stream/logs-*.otel-*");
    let mut names: Vec<&str> = streams["data_streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|stream| stream["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["logs-generic.otel-default", "logs-payments.otel-default"]
    );
    let (_, by_attribute) = server.post(
        "/logs-*.otel-*/_search",
        r#"{"query": {"term": {"resource.attributes.service.name": "checkout"}}}"#,
    );
    assert_eq!(total(&by_attribute), 2, "{by_attribute}");

    // What cannot be read is refused in OTLP's shape, and nothing is written.
    let (status, answer) = raw_request(
        "POST",
        &format!("http://127.0.0.1:{otlp_port}/v1/logs"),
        Some(b"{\"resourceLogs\": 5}"),
        &[],
    )
    .unwrap();
    assert_eq!(status, 400);
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["code"], 3);
    assert!(answer["message"].as_str().unwrap().contains("resourceLogs"));
    let (status, _) = raw_request(
        "POST",
        &format!("{}/_otlp/v1/logs", server.base),
        Some(b"x"),
        &[("Content-Type", "text/plain")],
    )
    .unwrap();
    assert_eq!(status, 415);
    let (status, _) = raw_request(
        "POST",
        &format!("{}/_otlp/v1/logs", server.base),
        Some(b"\x0a\xff\xff\xff\xff\x0f"),
        &protobuf,
    )
    .unwrap();
    assert_eq!(status, 400);
    assert_eq!(server.count("logs-*.otel-*"), 3);
}

/// The `message`s stored from the file input, each with how many times it was stored.
fn stored_lines(server: &Server, index: &str, expected: usize) -> Vec<String> {
    let found = wait_for(
        server,
        index,
        r#"{"size": 1000, "_source": ["message"]}"#,
        |found| total(found) >= expected as u64,
    );
    let mut lines: Vec<String> = found["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            hit["_source"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    lines.sort();
    lines
}

fn append(path: &Path, lines: impl IntoIterator<Item = String>) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    file.sync_all().unwrap();
}

#[test]
fn files_are_followed_through_rotation_and_restarts_exactly_once() {
    let temporary = tempfile::tempdir().unwrap();
    let logs = temporary.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let config = config_file(
        temporary.path(),
        &format!(
            "[[inputs.file]]\npaths = [\"{dir}/app.log*\"]\nexclude = [\"*.gz\"]\nindex = \"logs-app-default\"\nscan_interval = \"100ms\"\n\n\
             [inputs.file.multiline]\npattern = '^\\s+at '\nmatch = \"after\"\ntimeout = \"300ms\"\n",
            dir = logs.display()
        ),
    );
    let data = temporary.path().join("data");
    let active = logs.join("app.log");
    let lines = |from: usize, to: usize| (from..to).map(|n| format!("line {n:04}"));
    append(&active, lines(0, 50));
    let mut server = Server::start_in(&data, &["--config", &config]);
    assert_eq!(stored_lines(&server, "logs-app-default", 50).len(), 50);

    // Appended while running; then rotated by rename while more is written.
    append(&active, lines(50, 80));
    std::fs::rename(&active, logs.join("app.log.1")).unwrap();
    append(&active, lines(80, 100));
    // A stack trace joins its first line; an ignored compressed file is not read.
    append(
        &active,
        [
            "line 0100 failed".to_owned(),
            "    at com.example.Main.run(Main.java:10)".to_owned(),
        ],
    );
    std::fs::write(logs.join("app.log.2.gz"), b"not read").unwrap();
    assert_eq!(stored_lines(&server, "logs-app-default", 101).len(), 101);

    // Stopped, written to meanwhile, restarted: it resumes where it stopped.
    server.stop();
    append(&active, lines(101, 130));
    let mut server = Server::start_in(&data, &["--config", &config]);
    assert_eq!(stored_lines(&server, "logs-app-default", 130).len(), 130);

    // Copy and truncate, as logrotate's `copytruncate` does.
    append(&active, lines(130, 140));
    std::thread::sleep(Duration::from_millis(400));
    std::fs::copy(&active, logs.join("app.log.3")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&active)
        .unwrap();
    append(&active, lines(140, 150));
    let stored = stored_lines(&server, "logs-app-default", 150);
    server.stop();

    let mut expected: Vec<String> = lines(0, 150).collect();
    expected[100] = "line 0100 failed\n    at com.example.Main.run(Main.java:10)".to_owned();
    expected.sort();
    assert_eq!(stored, expected, "every line once, none twice");
    let server = Server::start_in(&data, &["--config", &config]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.count("logs-app-default"),
        150,
        "a restart reads nothing again"
    );
    let (_, multiline) = server.post(
        "/logs-app-default/_search",
        r#"{"query": {"term": {"log.flags": "multiline"}}}"#,
    );
    assert_eq!(total(&multiline), 1, "{multiline}");
}

#[test]
fn ndjson_files_of_sdk_events_are_routed_by_category() {
    let temporary = tempfile::tempdir().unwrap();
    let path = temporary.path().join("service.ndjson");
    let config = config_file(
        temporary.path(),
        &format!(
            "[[inputs.file]]\npaths = [\"{}\"]\nformat = \"ndjson\"\nscan_interval = \"100ms\"\n",
            path.display()
        ),
    );
    append(
        &path,
        [
            json!({"@timestamp": "2026-12-07T10:00:00Z", "log_category": "api_request", "service_name": "user_service", "status_code": 200, "message": "GET /users"}).to_string(),
            json!({"@timestamp": "2026-12-07T10:00:01Z", "log_category": "authentication", "service_name": "user_service", "message": "login", "password": "hunter2"}).to_string(),
            "not json at all".to_owned(),
        ],
    );
    let server = Server::start_in(&temporary.path().join("data"), &["--config", &config]);
    let found = wait_for(&server, "logs-*", r#"{"size": 10}"#, |found| {
        total(found) >= 3
    });
    assert_eq!(total(&found), 3, "{found}");
    let indices: Vec<&str> = found["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_index"].as_str().unwrap())
        .collect();
    assert!(
        indices
            .iter()
            .any(|index| index.starts_with(".ds-logs-api_request-default-")),
        "{indices:?}"
    );
    assert!(
        indices
            .iter()
            .any(|index| index.starts_with(".ds-logs-authentication-default-"))
    );
    let (_, login) = server.post(
        "/logs-authentication-default/_search",
        r#"{"query": {"match_all": {}}}"#,
    );
    let source = &login["hits"]["hits"][0]["_source"];
    assert_eq!(
        source["password"], "[REDACTED]",
        "the built-in pipeline ran: {source}"
    );
    assert_eq!(source["log"]["file"]["path"], path.display().to_string());
    let (_, broken) = server.post(
        "/logs-*/_search",
        r#"{"query": {"exists": {"field": "error.message"}}}"#,
    );
    assert_eq!(
        broken["hits"]["hits"][0]["_source"]["message"],
        "not json at all"
    );
}

#[test]
fn syslog_over_tls_with_octet_counting() {
    let temporary = tempfile::tempdir().unwrap();
    let (certificate, key) = (
        temporary.path().join("cert.pem"),
        temporary.path().join("key.pem"),
    );
    let generated = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl makes the test's certificate");
    assert!(generated.success());
    let port = free_port();
    let config = config_file(
        temporary.path(),
        &format!(
            "[inputs.syslog]\ntls = \"127.0.0.1:{port}\"\ntls_certificate = \"{}\"\ntls_key = \"{}\"\n",
            certificate.display(),
            key.display()
        ),
    );
    let server = Server::start_in(&temporary.path().join("data"), &["--config", &config]);

    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pki_types::CertificateDer::pem_file_iter(&certificate).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(client), name).unwrap();
    let socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stream = rustls::StreamOwned::new(connection, socket);
    for number in 0..3 {
        let message =
            format!("<14>1 2026-12-07T10:00:0{number}Z tls-host vault - - - sealed {number}");
        write!(stream, "{} {message}", message.len()).unwrap();
    }
    stream.flush().unwrap();
    stream.conn.send_close_notify();
    let _ = stream.flush();
    // Read what the server sent (session tickets) until it closes in turn: a socket closed
    // with unread data resets the connection, which discards what the server has not read.
    stream
        .sock
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut rest);

    let found = wait_for(
        &server,
        "logs-syslog-default",
        r#"{"size": 10, "sort": ["@timestamp"]}"#,
        |found| total(found) >= 3,
    );
    let messages: Vec<&str> = found["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_source"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["sealed 0", "sealed 1", "sealed 2"],
        "{}",
        server.log()
    );
    assert_eq!(
        found["hits"]["hits"][0]["_source"]["log"]["syslog"]["hostname"],
        "tls-host"
    );
}
