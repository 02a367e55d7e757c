//! End to end: `logfleet quickstart` for a bounded time — the server, the three demo
//! services as processes, the traffic generator — then the data it produced, checked the way
//! a dashboard would read it: all five categories with the fields DESIGN.md lists, the seed's
//! four dashboard queries verbatim, errors only where faults were injected, slow queries only
//! where they were made slow, and one request id across two services.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::Server;
use serde_json::{Value, json};

/// Long enough for every kind of traffic, including the first brute-force burst (10 s in)
/// and several performance samples (every 2 s here).
const TRAFFIC_TIME: Duration = Duration::from_secs(40);

fn search(server: &Server, body: Value) -> Value {
    let (status, response) = server.post("/logs-*/_search", &body.to_string());
    assert_eq!(status, 200, "{response}");
    response
}

fn hits(server: &Server, query: Value, size: usize) -> Vec<Value> {
    let response = search(server, json!({"query": query, "size": size}));
    response["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_source"].clone())
        .collect()
}

fn bucket_keys(aggregation: &Value) -> Vec<String> {
    aggregation["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| bucket["key"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn quickstart_produces_every_category_and_answers_the_seed_queries() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let mut server = Server::start_command(
        "quickstart",
        &data_dir,
        &["--performance-interval", "2", "--users", "8"],
    );
    std::thread::sleep(TRAFFIC_TIME);
    let (status, _) = server.post("/logs-*/_refresh", "");
    assert_eq!(status, 200);

    // Every category, with the fields DESIGN.md lists for it.
    let common_fields = [
        "@timestamp",
        "log_category",
        "level",
        "message",
        "app_name",
        "service_type",
        "environment",
        "host",
        "service_version",
    ];
    let by_category = [
        (
            "api_request",
            // Request summaries; plain log lines inside a request share the category.
            json!({"bool": {"filter": [{"term": {"log_category": "api_request"}}, {"exists": {"field": "status_code"}}]}}),
            vec![
                "action_type",
                "http_method",
                "path",
                "endpoint_signature",
                "status_code",
                "response_category",
                "duration_ms",
                "client_ip",
                "user_agent",
                "request_id",
                "trace_id",
                "span_id",
            ],
        ),
        (
            // Operations that completed; a failed one (an injected fault) carries `db_error`
            // instead of `rows_affected`, checked below.
            "database",
            json!({"bool": {
                "filter": [{"term": {"log_category": "database"}}],
                "must_not": [{"exists": {"field": "db_error"}}]
            }}),
            vec![
                "db_operation",
                "db_entity",
                "db_action",
                "duration_ms",
                "rows_affected",
                "slow_query",
                "request_id",
            ],
        ),
        (
            "inter_service",
            json!({"term": {"log_category": "inter_service"}}),
            vec![
                "target_service",
                "target_url",
                "http_method",
                "duration_ms",
                "request_id",
                "trace_id",
            ],
        ),
        (
            "performance",
            json!({"bool": {"filter": [{"term": {"log_category": "performance"}}, {"exists": {"field": "memory_rss_bytes"}}]}}),
            vec![
                "cpu_percent",
                "memory_rss_bytes",
                "requests_per_minute",
                "open_connections",
            ],
        ),
        (
            "audit",
            json!({"bool": {"filter": [{"term": {"log_category": "audit"}}, {"term": {"user_action": "LOGIN_SUCCESS"}}]}}),
            vec![
                "user_action",
                "user_id",
                "user_name",
                "success",
                "client_ip",
                "session_id",
            ],
        ),
    ];
    for (category, query, fields) in by_category {
        let events = hits(&server, query, 5);
        assert!(!events.is_empty(), "no {category} events");
        for event in &events {
            for field in common_fields.iter().chain(&fields) {
                assert!(
                    event.get(*field).is_some(),
                    "{category} event without {field}: {event}"
                );
            }
        }
    }
    // A failed operation (an injected fault) names its error where a completed one counts rows.
    let failed = json!({"bool": {"filter": [
        {"term": {"log_category": "database"}},
        {"exists": {"field": "db_error"}}
    ]}});
    for event in hits(&server, failed, 5) {
        for field in [
            "db_operation",
            "db_entity",
            "db_action",
            "duration_ms",
            "request_id",
        ] {
            assert!(
                event.get(field).is_some(),
                "failed database event without {field}: {event}"
            );
        }
    }

    // The seed's four dashboard queries, verbatim.
    let api_performance = search(
        &server,
        json!({
          "query": {"bool": {"must": [
            {"term": {"log_category": "api_request"}},
            {"exists": {"field": "duration_ms"}}
          ]}},
          "aggs": {
            "avg_response_time": {"avg": {"field": "duration_ms"}},
            "response_times_by_endpoint": {
              "terms": {"field": "endpoint_signature"},
              "aggs": {"avg_time": {"avg": {"field": "duration_ms"}}}
            }
          }
        }),
    );
    let aggregations = &api_performance["aggregations"];
    let average = aggregations["avg_response_time"]["value"].as_f64().unwrap();
    assert!(average > 0.0 && average < 5_000.0, "average {average}");
    let endpoints = bucket_keys(&aggregations["response_times_by_endpoint"]);
    assert!(
        endpoints.contains(&"POST /api/login/".to_owned()),
        "{endpoints:?}"
    );
    assert!(
        endpoints.contains(&"GET /api/profile/{user_id}/".to_owned()),
        "route templates, not raw paths: {endpoints:?}"
    );

    let error_rate = search(
        &server,
        json!({
          "query": {"bool": {"must": [
            {"range": {"@timestamp": {"gte": "now-1h"}}},
            {"term": {"response_category": "server_error"}}
          ]}},
          "aggs": {
            "errors_by_service": {"terms": {"field": "app_name"}},
            "errors_by_endpoint": {"terms": {"field": "endpoint_signature"}}
          }
        }),
    );
    assert!(!bucket_keys(&error_rate["aggregations"]["errors_by_service"]).is_empty());

    let user_activity = search(
        &server,
        json!({
          "query": {"bool": {"must": [
            {"term": {"log_category": "audit"}},
            {"exists": {"field": "user_id"}}
          ]}},
          "aggs": {
            "top_users": {"terms": {"field": "user_name"}},
            "actions_by_type": {"terms": {"field": "user_action", "size": 20}}
          }
        }),
    );
    assert!(!bucket_keys(&user_activity["aggregations"]["top_users"]).is_empty());
    let actions = bucket_keys(&user_activity["aggregations"]["actions_by_type"]);
    for action in ["USER_CREATED", "LOGIN_SUCCESS"] {
        assert!(actions.contains(&action.to_owned()), "{actions:?}");
    }

    let service_health = search(
        &server,
        json!({
          "query": {"bool": {"must": [
            {"term": {"log_category": "inter_service"}},
            {"range": {"@timestamp": {"gte": "now-5m"}}}
          ]}},
          "aggs": {
            "service_communication": {
              "terms": {"field": "target_service"},
              "aggs": {
                "avg_latency": {"avg": {"field": "duration_ms"}},
                "error_rate": {"filter": {"term": {"response_category": "server_error"}}}
              }
            }
          }
        }),
    );
    let targets = bucket_keys(&service_health["aggregations"]["service_communication"]);
    assert!(
        targets.contains(&"access_postgresql".to_owned()),
        "{targets:?}"
    );

    // Server errors only where the traffic asked for one (an injected fault, or the
    // recommendations service that is never there): every request that ended in a 5xx
    // carries one of those causes somewhere along its path.
    // Only requests a few seconds old: the services ship in batches, so the newest events of
    // one hop may not have arrived beside the other's yet.
    let server_errors = hits(
        &server,
        json!({"bool": {"filter": [
            {"term": {"log_category": "api_request"}},
            {"term": {"response_category": "server_error"}},
            {"range": {"@timestamp": {"lt": "now-5s"}}}
        ]}}),
        1000,
    );
    assert!(!server_errors.is_empty(), "faults were injected");
    // Injected database faults fail a query: its `database` event carries the driver error.
    let database_errors: Vec<&str> = logfleet_demo::faults::DATABASE_FAULTS
        .iter()
        .map(|(_, error)| *error)
        .collect();
    let caused: HashSet<String> = hits(
        &server,
        json!({"bool": {"should": [
            {"terms": {"error_type": ["InjectedFault", "UpstreamUnavailable"]}},
            {"terms": {"db_error": database_errors}}
        ]}}),
        10_000,
    )
    .iter()
    .filter_map(|event| event["request_id"].as_str().map(str::to_owned))
    .collect();
    for event in &server_errors {
        let request_id = event["request_id"].as_str().unwrap_or_default();
        assert!(
            caused.contains(request_id),
            "a server error nobody injected: {event}"
        );
    }

    // Slow queries only where they were made slow, and all of those flagged.
    let slow = hits(&server, json!({"term": {"slow_query": true}}), 1000);
    assert!(!slow.is_empty(), "slow queries were injected");
    for event in &slow {
        assert!(event["duration_ms"].as_f64().unwrap() >= 1000.0, "{event}");
    }
    let unflagged = hits(
        &server,
        json!({"bool": {"filter": [
            {"term": {"log_category": "database"}},
            {"range": {"duration_ms": {"gte": 1000}}},
            {"term": {"slow_query": false}}
        ]}}),
        10,
    );
    assert!(unflagged.is_empty(), "{unflagged:?}");

    // Wrong passwords and the brute-force burst, as audit events with their reasons.
    let reasons = search(
        &server,
        json!({"size": 0, "query": {"term": {"user_action": "LOGIN_FAILED"}},
               "aggs": {"reasons": {"terms": {"field": "reason"}}}}),
    );
    let reasons = bucket_keys(&reasons["aggregations"]["reasons"]);
    for reason in ["invalid_password", "too_many_attempts"] {
        assert!(reasons.contains(&reason.to_owned()), "{reasons:?}");
    }

    // One request id end to end: a proxy's request and the data manager's share it.
    let proxied = hits(
        &server,
        json!({"bool": {"filter": [
            {"term": {"log_category": "api_request"}},
            {"term": {"app_name": "auth"}},
            {"term": {"endpoint_signature": "POST /api/login/"}}
        ]}}),
        1,
    );
    let request_id = proxied[0]["request_id"].as_str().unwrap();
    let along = hits(&server, json!({"term": {"request_id": request_id}}), 100);
    let services: HashSet<&str> = along
        .iter()
        .filter_map(|event| event["app_name"].as_str())
        .collect();
    assert!(
        services.contains("auth") && services.contains("access_postgresql"),
        "{services:?}"
    );
    let trace_ids: HashSet<&str> = along
        .iter()
        .filter_map(|event| event["trace_id"].as_str())
        .collect();
    assert_eq!(trace_ids.len(), 1, "one trace: {along:?}");

    // Ctrl-C (SIGTERM here) stops everything cleanly.
    server.stop();
}

/// A local webhook receiver: every JSON body posted to it, in order.
fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let received = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                received
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

#[test]
fn quickstart_faults_and_brute_force_fire_the_prebuilt_alert_rules() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let (url, bodies) = webhook_receiver();
    let server = Server::start_command(
        "quickstart",
        &data_dir,
        &["--users", "8", "--fault-rate", "0.2"],
    );
    // The prebuilt rules, edited as a user would: sooner (every 2 s, no `for`, no ingest
    // delay, for a test that lasts seconds) and notifying the test's webhook.
    let (status, rules) = server.get("/_logfleet/alerts/rules");
    assert_eq!(status, 200);
    for id in ["sla-error-rate", "inter-service-errors", "brute-force"] {
        let mut rule = rules[id].clone();
        assert!(
            rule.is_object(),
            "the prebuilt rule {id} is installed: {rules}"
        );
        rule.as_object_mut().unwrap().remove("state");
        rule["every"] = json!("2s");
        rule["for"] = json!("0s");
        rule["delay"] = json!("0s");
        rule["notify"] = json!([{"type": "webhook", "url": url}]);
        let (status, body) =
            server.put(&format!("/_logfleet/alerts/rules/{id}"), &rule.to_string());
        assert_eq!(status, 200, "{body}");
    }
    let fired = |bodies: &[Value]| -> HashSet<String> {
        bodies
            .iter()
            .filter(|body| body["status"] == "firing")
            .map(|body| body["rule"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let deadline = std::time::Instant::now() + TRAFFIC_TIME;
    while fired(&bodies.lock().unwrap()).len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(
        fired(&bodies),
        ["sla-error-rate", "inter-service-errors", "brute-force"]
            .map(String::from)
            .into_iter()
            .collect(),
        "{bodies:#?}"
    );
    let burst = bodies
        .iter()
        .find(|body| body["rule"]["id"] == "brute-force")
        .unwrap();
    let summary = burst["alerts"][0]["annotations"]["summary"]
        .as_str()
        .unwrap();
    assert!(summary.contains("failed logins from"), "{summary}");
    let errors = bodies
        .iter()
        .find(|body| body["rule"]["id"] == "sla-error-rate")
        .unwrap();
    assert!(
        errors["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|alert| alert["value"].as_f64().unwrap() > 5.0),
        "{errors}"
    );

    // The server's own view agrees, and the history has the changes.
    let (_, active) = server.get("/_logfleet/alerts");
    let firing: HashSet<&str> = active["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|alert| alert["state"] == "firing")
        .filter_map(|alert| alert["rule"].as_str())
        .collect();
    assert!(
        firing.contains("brute-force") || firing.contains("sla-error-rate"),
        "{active}"
    );
    server.post("/logs-alerts-default/_refresh", "");
    let (status, history) = server.post(
        "/logs-alerts-default/_search",
        &json!({"size": 0, "query": {"term": {"alert.state": "firing"}},
                "aggs": {"rules": {"terms": {"field": "alert.rule"}}}})
        .to_string(),
    );
    assert_eq!(status, 200, "{history}");
    let recorded: HashSet<String> = bucket_keys(&history["aggregations"]["rules"])
        .into_iter()
        .collect();
    assert!(recorded.contains("brute-force"), "{history}");
}
