//! Aggregations beyond the seed queries: shapes, key rendering and errors.

mod common;

use common::Server;
use serde_json::{Value, json};

fn server_with_events() -> Server {
    let server = Server::start();
    let mut body = String::new();
    for (index, (hour, duration, ip, success)) in [
        ("10", 10.0, "10.0.0.1", true),
        ("10", 20.0, "10.0.0.1", true),
        ("11", 30.0, "10.0.0.2", false),
        ("12", 40.0, "192.168.1.1", true),
    ]
    .iter()
    .enumerate()
    {
        body.push_str("{\"create\":{}}\n");
        body.push_str(
            &json!({
                "@timestamp": format!("2026-11-20T{hour}:{index:02}:00.000Z"),
                "log_category": "api_request",
                "duration_ms": duration,
                "status_code": 200 + index * 100,
                "client_ip": ip,
                "success": success,
                "message": "hello world",
            })
            .to_string(),
        );
        body.push('\n');
    }
    let (_, response) = server.bulk("/logs/_bulk?refresh=true", &body);
    assert_eq!(response["errors"], false, "{response}");
    server
}

fn aggregate(server: &Server, aggs: Value) -> (u16, Value) {
    server.post(
        "/logs-*/_search",
        &json!({"size": 0, "aggs": aggs}).to_string(),
    )
}

#[test]
fn metrics_and_histograms() {
    let server = server_with_events();
    let (status, result) = aggregate(
        &server,
        json!({
            "stats": {"stats": {"field": "duration_ms"}},
            "sum": {"sum": {"field": "duration_ms"}},
            "count": {"value_count": {"field": "duration_ms"}},
            "distinct_ips": {"cardinality": {"field": "client_ip"}},
            "p": {"percentiles": {"field": "duration_ms", "percents": [50]}},
            "latest": {"max": {"field": "@timestamp"}},
            "empty": {"avg": {"field": "no_such_field"}},
            "per_hour": {"date_histogram": {"field": "@timestamp", "calendar_interval": "hour"}},
            "per_10ms": {"histogram": {"field": "duration_ms", "interval": 20}},
            "slow": {"range": {"field": "duration_ms", "ranges": [{"to": 25}, {"from": 25}]}},
        }),
    );
    assert_eq!(status, 200, "{result}");
    let aggregations = &result["aggregations"];
    assert_eq!(aggregations["stats"]["count"], 4);
    assert_eq!(aggregations["stats"]["avg"], 25.0);
    assert_eq!(aggregations["stats"]["min"], 10.0);
    assert_eq!(aggregations["sum"]["value"], 100.0);
    assert_eq!(aggregations["count"]["value"], 4);
    assert_eq!(aggregations["distinct_ips"]["value"], 3);
    assert!(
        aggregations["p"]["values"]["50.0"].as_f64().is_some(),
        "{}",
        aggregations["p"]
    );
    assert_eq!(
        aggregations["latest"]["value_as_string"],
        "2026-11-20T12:03:00.000Z"
    );
    assert_eq!(
        aggregations["empty"]["value"],
        Value::Null,
        "empty metrics are null"
    );
    let hours = aggregations["per_hour"]["buckets"].as_array().unwrap();
    assert_eq!(hours.len(), 3);
    assert_eq!(
        hours[0]["key"], 1_795_168_800_000i64,
        "integer epoch-millisecond keys"
    );
    assert_eq!(hours[0]["key_as_string"], "2026-11-20T10:00:00.000Z");
    assert_eq!(hours[0]["doc_count"], 2);
    let ranges = aggregations["slow"]["buckets"].as_array().unwrap();
    assert_eq!(
        (
            ranges[0]["doc_count"].as_u64(),
            ranges[1]["doc_count"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let histogram = aggregations["per_10ms"]["buckets"].as_array().unwrap();
    assert_eq!(
        histogram
            .iter()
            .map(|bucket| bucket["doc_count"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
}

#[test]
fn terms_keys_render_as_elasticsearch_does() {
    let server = server_with_events();
    let (status, result) = aggregate(
        &server,
        json!({
            "ips": {"terms": {"field": "client_ip"}},
            "outcome": {"terms": {"field": "success"}},
            "codes": {"terms": {"field": "status_code", "order": {"_key": "asc"}, "size": 2}},
            "per_ip": {"terms": {"field": "client_ip", "size": 1}, "aggs": {"avg": {"avg": {"field": "duration_ms"}}}},
        }),
    );
    assert_eq!(status, 200, "{result}");
    let aggregations = &result["aggregations"];
    assert_eq!(
        aggregations["ips"]["buckets"][0],
        json!({"key": "10.0.0.1", "doc_count": 2})
    );
    assert_eq!(
        aggregations["outcome"]["buckets"][0],
        json!({"key": 1, "key_as_string": "true", "doc_count": 3})
    );
    assert_eq!(aggregations["codes"]["buckets"][0]["key"], 200);
    assert_eq!(aggregations["codes"]["buckets"][1]["key"], 300);
    assert_eq!(aggregations["codes"]["sum_other_doc_count"], 2);
    assert_eq!(aggregations["per_ip"]["buckets"][0]["avg"]["value"], 15.0);
    let keys: Vec<&str> = aggregations["ips"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "doc_count_error_upper_bound",
            "sum_other_doc_count",
            "buckets"
        ]
    );
}

#[test]
fn aggregation_errors_are_400s_that_name_the_problem() {
    let server = server_with_events();
    let (status, result) = aggregate(&server, json!({"m": {"terms": {"field": "message"}}}));
    assert_eq!(status, 400);
    assert!(
        result["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("Fielddata is disabled on [message]"),
        "{result}"
    );
    let (status, result) = aggregate(&server, json!({"m": {"magic": {"field": "x"}}}));
    assert_eq!(
        (status, result["error"]["type"].as_str()),
        (400, Some("parsing_exception"))
    );
    assert_eq!(
        result["error"]["reason"],
        "Unknown aggregation type [magic]"
    );
    let (status, result) = aggregate(
        &server,
        json!({"m": {"avg": {"field": "duration_ms"}, "aggs": {"x": {"max": {"field": "duration_ms"}}}}}),
    );
    assert_eq!(status, 400, "{result}");
    let (status, result) = aggregate(
        &server,
        json!({"m": {"date_histogram": {"field": "@timestamp"}}}),
    );
    assert_eq!(status, 400, "{result}");
    let (status, result) = aggregate(&server, json!({"m": {"filter": {"no_such_query": {}}}}));
    assert_eq!(
        (status, result["error"]["type"].as_str()),
        (400, Some("parsing_exception"))
    );
    let (status, _) = server.get("/logs-*/_search?size=0");
    assert_eq!(status, 200, "the server is unaffected");
}

#[test]
fn filters_and_missing() {
    let server = server_with_events();
    let (status, result) = aggregate(
        &server,
        json!({
            "outcomes": {
                "filters": {
                    "filters": {"ok": {"term": {"success": true}}, "slow": {"range": {"duration_ms": {"gte": 30}}}},
                    "other_bucket_key": "rest",
                },
                "aggs": {"avg": {"avg": {"field": "duration_ms"}}},
            },
            "listed": {"filters": {"filters": [{"term": {"client_ip": "10.0.0.1"}}, {"match_all": {}}]}},
            "no_user": {"missing": {"field": "user_name"}, "aggs": {"max": {"max": {"field": "duration_ms"}}}},
            "no_duration": {"missing": {"field": "duration_ms"}},
        }),
    );
    assert_eq!(status, 200, "{result}");
    let outcomes = &result["aggregations"]["outcomes"]["buckets"];
    assert_eq!(outcomes["ok"]["doc_count"], 3);
    assert_eq!(
        outcomes["ok"]["avg"]["value"],
        json!((10.0 + 20.0 + 40.0) / 3.0)
    );
    assert_eq!(outcomes["slow"]["doc_count"], 2);
    assert_eq!(
        outcomes["rest"]["doc_count"], 0,
        "every event is ok or slow"
    );
    let listed = result["aggregations"]["listed"]["buckets"]
        .as_array()
        .unwrap();
    assert_eq!(
        (
            listed[0]["doc_count"].as_u64(),
            listed[1]["doc_count"].as_u64()
        ),
        (Some(2), Some(4))
    );
    assert_eq!(result["aggregations"]["no_user"]["doc_count"], 4);
    assert_eq!(result["aggregations"]["no_user"]["max"]["value"], 40.0);
    assert_eq!(result["aggregations"]["no_duration"]["doc_count"], 0);
}

#[test]
fn cached_aggregations_follow_new_data() {
    let server = server_with_events();
    let body = json!({"size": 0, "aggs": {"total": {"sum": {"field": "duration_ms"}}}}).to_string();
    let sum = |path: &str| {
        let (status, response) = server.post(path, &body);
        assert_eq!(status, 200, "{response}");
        (
            response["aggregations"]["total"]["value"].as_f64().unwrap(),
            response["hits"]["total"]["value"].as_u64().unwrap(),
        )
    };
    assert_eq!(sum("/logs-*/_search"), (100.0, 4));
    assert_eq!(
        sum("/logs-*/_search"),
        (100.0, 4),
        "served again, same answer"
    );

    // A new document makes a new segment: the cached result is not used for it.
    let (_, response) = server.bulk(
        "/logs/_bulk?refresh=true",
        "{\"create\":{}}\n{\"@timestamp\":\"2026-11-20T13:00:00.000Z\",\"log_category\":\"api_request\",\"duration_ms\":5.0}\n",
    );
    assert_eq!(response["errors"], false, "{response}");
    assert_eq!(sum("/logs-*/_search"), (105.0, 5));
    assert_eq!(sum("/logs-*/_search?request_cache=false"), (105.0, 5));
    let (status, response) = server.post("/logs-*/_search?request_cache=maybe", &body);
    assert_eq!(status, 400, "{response}");

    // With hits asked for, the aggregations may come from the cache; the hits never do.
    let with_hits =
        json!({"size": 2, "sort": [{"duration_ms": "asc"}], "aggs": {"total": {"sum": {"field": "duration_ms"}}}})
            .to_string();
    for _ in 0..2 {
        let (status, response) = server.post("/logs-*/_search", &with_hits);
        assert_eq!(status, 200, "{response}");
        assert_eq!(response["aggregations"]["total"]["value"], 105.0);
        assert_eq!(response["hits"]["total"]["value"], 5);
        let durations: Vec<f64> = response["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["_source"]["duration_ms"].as_f64().unwrap())
            .collect();
        assert_eq!(durations, [5.0, 10.0]);
    }
}

/// What Grafana's Elasticsearch data source sends: numbers as strings and an empty
/// `script_fields` on every query.
#[test]
fn grafana_requests_with_numbers_as_strings() {
    let server = server_with_events();
    let (status, result) = server.post(
        "/logs-*/_search",
        &json!({
            "size": "0",
            "script_fields": {},
            "aggs": {
                "2": {
                    "date_histogram": {"field": "@timestamp", "fixed_interval": "1h", "min_doc_count": "0"},
                    "aggs": {"3": {"percentiles": {"field": "duration_ms", "percents": ["25", "50", "95"]}}}
                },
                "4": {"terms": {"field": "client_ip", "size": "10", "min_doc_count": "1"}}
            }
        })
        .to_string(),
    );
    assert_eq!(status, 200, "{result}");
    let buckets = result["aggregations"]["2"]["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 3);
    assert!(
        buckets[0]["3"]["values"]["50.0"].is_number(),
        "{}",
        buckets[0]
    );
    assert_eq!(
        result["aggregations"]["4"]["buckets"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (status, error) = server.post(
        "/logs-*/_search",
        &json!({"script_fields": {"x": {"script": "1"}}}).to_string(),
    );
    assert_eq!(status, 400, "scripts are still refused: {error}");
}

/// Grafana orders terms by a percentile of a sub-aggregation (`"4.95"` or `"4[95]"`).
#[test]
fn terms_ordered_by_a_percentile() {
    let server = server_with_events();
    // Medians: 10.0.0.1 → 15 (two events), 10.0.0.2 → 30, 192.168.1.1 → 40.
    let cases = [
        ("desc", ["192.168.1.1", "10.0.0.2"], 2),
        ("asc", ["10.0.0.1", "10.0.0.2"], 1),
    ];
    for path in ["p.50", "p[50.0]", "p[50]"] {
        for (direction, expected, others) in cases {
            let (status, result) = aggregate(
                &server,
                json!({"ips": {
                    "terms": {"field": "client_ip", "size": "2", "order": {path: direction}},
                    "aggs": {"p": {"percentiles": {"field": "duration_ms", "percents": ["50"]}}}
                }}),
            );
            assert_eq!(status, 200, "{result}");
            let buckets = result["aggregations"]["ips"]["buckets"].as_array().unwrap();
            let keys: Vec<&str> = buckets
                .iter()
                .map(|bucket| bucket["key"].as_str().unwrap())
                .collect();
            assert_eq!(keys, expected, "{path} {direction}: {result}");
            assert_eq!(
                result["aggregations"]["ips"]["sum_other_doc_count"], others,
                "{path} {direction}: {result}"
            );
        }
    }
}

/// The logs query Grafana's Elasticsearch data source sends for its logs panels and Explore.
#[test]
fn grafana_logs_query() {
    let server = server_with_events();
    let (status, result) = server.post(
        "/logs-*/_msearch",
        &[
            json!({"search_type": "query_then_fetch", "ignore_unavailable": true, "index": "logs-*"}).to_string(),
            json!({
                "size": 500,
                "query": {"bool": {"filter": [
                    {"range": {"@timestamp": {"gte": 1_795_132_800_000_i64, "lte": 1_795_219_200_000_i64, "format": "epoch_millis"}}},
                    {"query_string": {"analyze_wildcard": true, "query": "message:hello"}}
                ]}},
                "sort": [{"@timestamp": {"order": "desc", "unmapped_type": "boolean"}}, {"_doc": {"order": "desc"}}],
                "script_fields": {},
                "docvalue_fields": ["@timestamp"],
                "highlight": {
                    "fields": {"*": {}},
                    "pre_tags": ["@HIGHLIGHT@"],
                    "post_tags": ["@/HIGHLIGHT@"],
                    "fragment_size": 2_147_483_647
                },
                "aggs": {"2": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h", "min_doc_count": "0", "extended_bounds": {"min": 1_795_132_800_000_i64, "max": 1_795_219_200_000_i64}, "format": "epoch_millis"}}}
            })
            .to_string(),
            String::new(),
        ]
        .join("\n"),
    );
    assert_eq!(status, 200, "{result}");
    let response = &result["responses"][0];
    assert_eq!(response["status"], 200, "{response}");
    let hits = response["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 4, "{response}");
    assert_eq!(
        hits[0]["highlight"]["message"][0], "@HIGHLIGHT@hello@/HIGHLIGHT@ world",
        "{}",
        hits[0]
    );
    assert!(hits[0]["fields"]["@timestamp"].is_array(), "{}", hits[0]);
    assert_eq!(
        response["aggregations"]["2"]["buckets"]
            .as_array()
            .unwrap()
            .len(),
        25
    );
}

#[test]
fn filters_under_a_bucket_count_each_bucket() {
    let server = server_with_events();
    let (status, result) = aggregate(
        &server,
        json!({
            "per_ip": {
                "terms": {"field": "client_ip", "order": {"_key": "asc"}},
                "aggs": {"speed": {"filters": {"filters": {"slow": {"range": {"duration_ms": {"gte": 20}}}}}}},
            },
        }),
    );
    assert_eq!(status, 200, "{result}");
    let first = &result["aggregations"]["per_ip"]["buckets"][0];
    assert_eq!(first["key"], "10.0.0.1");
    assert_eq!(first["speed"]["buckets"]["slow"]["doc_count"], 1, "{first}");
    assert!(first.get("speed>slow").is_none(), "{first}");
}
