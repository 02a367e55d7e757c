//! The seed's four Kibana dashboard queries, sent verbatim to `/logs-*/_search`, over a
//! generated data set; the expected numbers are computed here from the generated events,
//! independently of Logfleet.

mod common;

use std::collections::BTreeMap;

use common::Server;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn timestamp(moment: OffsetDateTime) -> String {
    moment.format(&Rfc3339).unwrap()
}

/// Deterministic events with distinct counts per key, so that "top 10" is unambiguous.
fn generate(now: OffsetDateTime) -> Vec<Value> {
    let mut events = Vec::new();
    let minutes = |count: i64| now - time::Duration::minutes(count);
    for endpoint in 0..12 {
        for copy in 0..(endpoint + 1) * 3 {
            let recent = copy % 4 != 0;
            let server_error = copy % 5 == 0;
            events.push(json!({
                "@timestamp": timestamp(if recent { minutes(20 + copy % 30) } else { minutes(120) }),
                "log_category": "api_request",
                "app_name": format!("service_{}", (endpoint + copy) % 4),
                "endpoint_signature": format!("GET /api/resource_{endpoint}/"),
                "status_code": if server_error { 500 } else { 200 },
                "response_category": if server_error { "server_error" } else { "success" },
                "duration_ms": 5.0 + (endpoint * 7 + copy) as f64 * 1.25,
            }));
        }
    }
    // An api_request without a duration: excluded by query 1's `exists`.
    events.push(json!({"@timestamp": timestamp(minutes(3)), "log_category": "api_request", "endpoint_signature": "GET /health/", "response_category": "success"}));
    for user in 0..15 {
        for copy in 0..user + 1 {
            let action = [
                "LOGIN_SUCCESS",
                "LOGIN_FAILED",
                "LOGOUT",
                "PROFILE_UPDATED",
                "USER_CREATED",
            ][(user + copy) % 5];
            events.push(json!({
                "@timestamp": timestamp(minutes((user * 3 + copy) as i64)),
                "log_category": "audit",
                "user_action": action,
                "user_id": format!("u{user}"),
                "user_name": format!("user_{user:02}"),
                "success": action != "LOGIN_FAILED",
            }));
        }
    }
    // Failed logins for unknown users carry no user id: excluded by query 3's `exists`.
    for copy in 0..4 {
        events.push(json!({"@timestamp": timestamp(minutes(copy)), "log_category": "audit", "user_action": "LOGIN_FAILED", "username": "mallory", "success": false, "reason": "invalid_password"}));
    }
    for target in 0..4 {
        for copy in 0..(target + 2) * 2 {
            let recent = copy % 3 != 0;
            events.push(json!({
                "@timestamp": timestamp(if recent { now - time::Duration::seconds(30 + copy as i64) } else { minutes(10) }),
                "log_category": "inter_service",
                "target_service": format!("target_{target}"),
                "duration_ms": 2.0 + (target * 11 + copy) as f64 * 0.5,
                "response_category": if copy % 4 == 1 { "server_error" } else { "success" },
                "status_code": if copy % 4 == 1 { 503 } else { 200 },
            }));
        }
    }
    events
}

fn within(event: &Value, now: OffsetDateTime, window: time::Duration) -> bool {
    let moment = OffsetDateTime::parse(event["@timestamp"].as_str().unwrap(), &Rfc3339).unwrap();
    moment >= now - window
}

/// Elasticsearch's terms order: count descending, then key ascending; top 10.
fn top_terms(counts: &BTreeMap<String, u64>) -> (Vec<(String, u64)>, u64) {
    let mut sorted: Vec<(String, u64)> = counts
        .iter()
        .map(|(key, count)| (key.clone(), *count))
        .collect();
    sorted.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(&right.0)));
    let other: u64 = sorted.iter().skip(10).map(|(_, count)| count).sum();
    sorted.truncate(10);
    (sorted, other)
}

fn bucket_pairs(aggregation: &Value) -> Vec<(String, u64)> {
    aggregation["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| {
            (
                bucket["key"].as_str().unwrap().to_owned(),
                bucket["doc_count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_close(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {actual}"));
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{actual} != {expected}"
    );
}

fn average(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn the_seed_dashboard_queries_return_the_right_numbers() {
    let server = Server::start();
    let now = OffsetDateTime::now_utc();
    let events = generate(now);
    let mut body = String::new();
    for event in &events {
        body.push_str("{\"create\":{}}\n");
        body.push_str(&event.to_string());
        body.push('\n');
    }
    let (status, response) = server.bulk("/logs/_bulk?refresh=true", &body);
    assert_eq!(
        (status, response["errors"].as_bool()),
        (200, Some(false)),
        "{response}"
    );

    // 1. API Performance Dashboard
    let (status, result) = server.post(
        "/logs-*/_search",
        r#"{
  "query": {
    "bool": {
      "must": [
        {"term": {"log_category": "api_request"}},
        {"exists": {"field": "duration_ms"}}
      ]
    }
  },
  "aggs": {
    "avg_response_time": {
      "avg": {"field": "duration_ms"}
    },
    "response_times_by_endpoint": {
      "terms": {"field": "endpoint_signature"},
      "aggs": {
        "avg_time": {"avg": {"field": "duration_ms"}}
      }
    }
  }
}"#,
    );
    assert_eq!(status, 200, "{result}");
    let matching: Vec<&Value> = events
        .iter()
        .filter(|event| {
            event["log_category"] == "api_request" && event.get("duration_ms").is_some()
        })
        .collect();
    assert_eq!(
        result["hits"]["total"]["value"].as_u64(),
        Some(matching.len() as u64)
    );
    let durations: Vec<f64> = matching
        .iter()
        .map(|event| event["duration_ms"].as_f64().unwrap())
        .collect();
    assert_close(
        &result["aggregations"]["avg_response_time"]["value"],
        average(&durations),
    );
    let mut by_endpoint: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for event in &matching {
        by_endpoint
            .entry(event["endpoint_signature"].as_str().unwrap().to_owned())
            .or_default()
            .push(event["duration_ms"].as_f64().unwrap());
    }
    let counts = by_endpoint
        .iter()
        .map(|(key, values)| (key.clone(), values.len() as u64))
        .collect();
    let (expected_top, expected_other) = top_terms(&counts);
    let endpoints = &result["aggregations"]["response_times_by_endpoint"];
    assert_eq!(bucket_pairs(endpoints), expected_top);
    assert_eq!(
        endpoints["sum_other_doc_count"].as_u64(),
        Some(expected_other)
    );
    for bucket in endpoints["buckets"].as_array().unwrap() {
        assert_close(
            &bucket["avg_time"]["value"],
            average(&by_endpoint[bucket["key"].as_str().unwrap()]),
        );
    }

    // 2. Error Rate Monitoring
    let (status, result) = server.post(
        "/logs-*/_search",
        r#"{
  "query": {
    "bool": {
      "must": [
        {"range": {"@timestamp": {"gte": "now-1h"}}},
        {"term": {"response_category": "server_error"}}
      ]
    }
  },
  "aggs": {
    "errors_by_service": {
      "terms": {"field": "app_name"}
    },
    "errors_by_endpoint": {
      "terms": {"field": "endpoint_signature"}
    }
  }
}"#,
    );
    assert_eq!(status, 200, "{result}");
    let errors: Vec<&Value> = events
        .iter()
        .filter(|event| {
            event["response_category"] == "server_error"
                && within(event, now, time::Duration::hours(1))
        })
        .collect();
    assert!(!errors.is_empty());
    assert_eq!(
        result["hits"]["total"]["value"].as_u64(),
        Some(errors.len() as u64)
    );
    for (aggregation, field) in [
        ("errors_by_service", "app_name"),
        ("errors_by_endpoint", "endpoint_signature"),
    ] {
        let mut counts = BTreeMap::new();
        for event in errors.iter().filter(|event| event.get(field).is_some()) {
            *counts
                .entry(event[field].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
        assert_eq!(
            bucket_pairs(&result["aggregations"][aggregation]),
            top_terms(&counts).0,
            "{aggregation}"
        );
    }

    // 3. User Activity Analysis
    let (status, result) = server.post(
        "/logs-*/_search",
        r#"{
  "query": {
    "bool": {
      "must": [
        {"term": {"log_category": "audit"}},
        {"exists": {"field": "user_id"}}
      ]
    }
  },
  "aggs": {
    "top_users": {
      "terms": {"field": "user_name"}
    },
    "actions_by_type": {
      "terms": {"field": "user_action"}
    }
  }
}"#,
    );
    assert_eq!(status, 200, "{result}");
    let audits: Vec<&Value> = events
        .iter()
        .filter(|event| event["log_category"] == "audit" && event.get("user_id").is_some())
        .collect();
    assert_eq!(
        result["hits"]["total"]["value"].as_u64(),
        Some(audits.len() as u64)
    );
    for (aggregation, field) in [
        ("top_users", "user_name"),
        ("actions_by_type", "user_action"),
    ] {
        let mut counts = BTreeMap::new();
        for event in &audits {
            *counts
                .entry(event[field].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
        let (top, other) = top_terms(&counts);
        assert_eq!(
            bucket_pairs(&result["aggregations"][aggregation]),
            top,
            "{aggregation}"
        );
        assert_eq!(
            result["aggregations"][aggregation]["sum_other_doc_count"].as_u64(),
            Some(other)
        );
    }

    // 4. Service Health Monitoring
    let (status, result) = server.post(
        "/logs-*/_search",
        r#"{
  "query": {
    "bool": {
      "must": [
        {"term": {"log_category": "inter_service"}},
        {"range": {"@timestamp": {"gte": "now-5m"}}}
      ]
    }
  },
  "aggs": {
    "service_communication": {
      "terms": {"field": "target_service"},
      "aggs": {
        "avg_latency": {"avg": {"field": "duration_ms"}},
        "error_rate": {
          "filter": {"term": {"response_category": "server_error"}}
        }
      }
    }
  }
}"#,
    );
    assert_eq!(status, 200, "{result}");
    let calls: Vec<&Value> = events
        .iter()
        .filter(|event| {
            event["log_category"] == "inter_service"
                && within(event, now, time::Duration::minutes(5))
        })
        .collect();
    assert_eq!(
        result["hits"]["total"]["value"].as_u64(),
        Some(calls.len() as u64)
    );
    let mut by_target: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for event in &calls {
        by_target
            .entry(event["target_service"].as_str().unwrap().to_owned())
            .or_default()
            .push(event);
    }
    let counts = by_target
        .iter()
        .map(|(key, values)| (key.clone(), values.len() as u64))
        .collect();
    let services = &result["aggregations"]["service_communication"];
    assert_eq!(bucket_pairs(services), top_terms(&counts).0);
    for bucket in services["buckets"].as_array().unwrap() {
        let target = &by_target[bucket["key"].as_str().unwrap()];
        let latencies: Vec<f64> = target
            .iter()
            .map(|event| event["duration_ms"].as_f64().unwrap())
            .collect();
        assert_close(&bucket["avg_latency"]["value"], average(&latencies));
        let errors = target
            .iter()
            .filter(|event| event["response_category"] == "server_error")
            .count() as u64;
        assert_eq!(bucket["error_rate"]["doc_count"].as_u64(), Some(errors));
    }
}
