//! `sort` and `search_after` across partitions.

mod common;

use common::Server;
use serde_json::{Value, json};

fn server_with_events() -> Server {
    let server = Server::start();
    let mut body = String::new();
    // Two days, so two partitions of one data stream, plus a second stream.
    let events = [
        (
            "logs-api_request-default",
            "2026-11-19T10:00:00.000Z",
            Some(30.0),
            "b",
            "10.0.0.9",
        ),
        (
            "logs-api_request-default",
            "2026-11-20T10:00:00.000Z",
            Some(10.0),
            "a",
            "10.0.0.10",
        ),
        (
            "logs-api_request-default",
            "2026-11-20T11:00:00.000Z",
            None,
            "c",
            "9.9.9.9",
        ),
        (
            "logs-audit-default",
            "2026-11-20T09:00:00.000Z",
            Some(20.0),
            "d",
            "192.168.0.1",
        ),
        (
            "logs-audit-default",
            "2026-11-18T09:00:00.000Z",
            Some(40.0),
            "a",
            "10.0.0.1",
        ),
    ];
    for (index, timestamp, duration, name, ip) in events {
        body.push_str(&format!("{{\"create\":{{\"_index\":\"{index}\"}}}}\n"));
        let mut event =
            json!({"@timestamp": timestamp, "user_name": name, "client_ip": ip, "message": "x"});
        if let Some(duration) = duration {
            event["duration_ms"] = json!(duration);
        }
        body.push_str(&event.to_string());
        body.push('\n');
    }
    let (_, response) = server.bulk("/_bulk?refresh=true", &body);
    assert_eq!(response["errors"], false, "{response}");
    server
}

fn sort_values(result: &Value) -> Vec<Value> {
    result["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["sort"].clone())
        .collect()
}

#[test]
fn sorts_by_timestamp_numbers_keywords_and_ips() {
    let server = server_with_events();
    let (status, result) = server.post("/logs-*/_search", r#"{"sort":[{"@timestamp":"desc"}]}"#);
    assert_eq!(status, 200, "{result}");
    let timestamps: Vec<&str> = result["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_source"]["@timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(
        timestamps,
        [
            "2026-11-20T11:00:00.000Z",
            "2026-11-20T10:00:00.000Z",
            "2026-11-20T09:00:00.000Z",
            "2026-11-19T10:00:00.000Z",
            "2026-11-18T09:00:00.000Z"
        ]
    );
    assert_eq!(
        result["hits"]["hits"][0]["sort"],
        json!([1_795_172_400_000i64]),
        "dates sort as epoch milliseconds"
    );
    assert_eq!(result["hits"]["hits"][0]["_score"], Value::Null);
    assert_eq!(result["hits"]["max_score"], Value::Null);

    let (_, result) = server.post("/logs-*/_search", r#"{"sort":[{"duration_ms":"asc"}]}"#);
    assert_eq!(
        sort_values(&result),
        [
            json!([10.0]),
            json!([20.0]),
            json!([30.0]),
            json!([40.0]),
            json!([null])
        ],
        "missing last"
    );
    let (_, result) = server.post(
        "/logs-*/_search",
        r#"{"sort":[{"duration_ms":{"order":"desc","missing":"_first"}}]}"#,
    );
    assert_eq!(sort_values(&result)[0], json!([null]));
    assert_eq!(sort_values(&result)[1], json!([40.0]));

    let (_, result) = server.post(
        "/logs-*/_search",
        r#"{"sort":[{"user_name":"asc"},{"@timestamp":"desc"}]}"#,
    );
    assert_eq!(sort_values(&result)[0], json!(["a", 1_795_168_800_000i64]));
    assert_eq!(sort_values(&result)[1], json!(["a", 1_794_992_400_000i64]));
    let (_, result) = server.post("/logs-*/_search", r#"{"sort":["client_ip"]}"#);
    let ips: Vec<Value> = sort_values(&result)
        .into_iter()
        .map(|values| values[0].clone())
        .collect();
    assert_eq!(
        ips,
        [
            json!("9.9.9.9"),
            json!("10.0.0.1"),
            json!("10.0.0.9"),
            json!("10.0.0.10"),
            json!("192.168.0.1")
        ],
        "addresses sort numerically"
    );

    let (_, result) = server.get("/logs-*/_search?sort=duration_ms:desc&size=1");
    assert_eq!(sort_values(&result), [json!([40.0])]);
}

#[test]
fn search_after_pages_through_everything_once() {
    let server = server_with_events();
    let mut seen = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut body = json!({"size": 2, "sort": [{"@timestamp": "asc"}]});
        if let Some(after) = &after {
            body["search_after"] = after.clone();
        }
        let (status, result) = server.post("/logs-*/_search", &body.to_string());
        assert_eq!(status, 200, "{result}");
        let hits = result["hits"]["hits"].as_array().unwrap().clone();
        if hits.is_empty() {
            break;
        }
        for hit in &hits {
            seen.push(hit["_id"].as_str().unwrap().to_owned());
        }
        after = Some(hits.last().unwrap()["sort"].clone());
    }
    assert_eq!(seen.len(), 5);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "no hit twice");
}

#[test]
fn search_after_on_addresses_compares_addresses() {
    let server = server_with_events();
    let (_, result) = server.post(
        "/logs-*/_search",
        r#"{"sort":["client_ip"],"search_after":["10.0.0.9"]}"#,
    );
    let ips: Vec<Value> = sort_values(&result)
        .into_iter()
        .map(|values| values[0].clone())
        .collect();
    assert_eq!(ips, [json!("10.0.0.10"), json!("192.168.0.1")]);
}

#[test]
fn sort_errors() {
    let server = server_with_events();
    let (status, result) = server.post("/logs-*/_search", r#"{"sort":["message"]}"#);
    assert_eq!(status, 400);
    assert!(
        result["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("Fielddata is disabled"),
        "{result}"
    );
    let (status, result) = server.post("/logs-*/_search", r#"{"sort":["nope"]}"#);
    assert_eq!(status, 400);
    assert!(
        result["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("No mapping found for [nope]"),
        "{result}"
    );
    let (status, _) = server.post(
        "/logs-*/_search",
        r#"{"sort":[{"nope":{"order":"asc","unmapped_type":"long"}}]}"#,
    );
    assert_eq!(status, 200);
    let (status, _) = server.post(
        "/logs-*/_search",
        r#"{"sort":["@timestamp"],"search_after":[1,2]}"#,
    );
    assert_eq!(status, 400);
    let (status, _) = server.post("/logs-*/_search", r#"{"search_after":[1]}"#);
    assert_eq!(status, 400);
}

#[test]
fn sorted_scroll_reads_every_document_once_in_order() {
    let server = Server::start();
    let mut body = String::new();
    // Three days (three partitions), and many equal timestamps straddling pages.
    for index in 0..30 {
        let day = 18 + index % 3;
        let minute = index / 6;
        body.push_str("{\"create\":{\"_index\":\"logs-app-default\"}}\n");
        body.push_str(
            &json!({
                "@timestamp": format!("2026-11-{day}T10:{minute:02}:00.000Z"),
                "n": index,
            })
            .to_string(),
        );
        body.push('\n');
    }
    let (_, response) = server.bulk("/_bulk?refresh=true", &body);
    assert_eq!(response["errors"], false, "{response}");

    let (status, mut page) = server.post(
        "/logs-app-default/_search?scroll=1m",
        r#"{"size": 4, "sort": [{"@timestamp": "desc"}], "query": {"range": {"n": {"gte": 2}}}}"#,
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["hits"]["total"]["value"], 28);
    let mut seen: Vec<(i64, i64)> = Vec::new();
    loop {
        let hits = page["hits"]["hits"].as_array().unwrap().clone();
        if hits.is_empty() {
            break;
        }
        for hit in &hits {
            let sort = hit["sort"].as_array().unwrap();
            assert_eq!(sort.len(), 1, "only the requested sort: {hit}");
            seen.push((
                sort[0].as_i64().unwrap(),
                hit["_source"]["n"].as_i64().unwrap(),
            ));
        }
        let id = page["_scroll_id"].as_str().unwrap().to_owned();
        let (status, next) = server.post(
            "/_search/scroll",
            &json!({"scroll": "1m", "scroll_id": id}).to_string(),
        );
        assert_eq!(status, 200, "{next}");
        page = next;
    }
    let mut numbers: Vec<i64> = seen.iter().map(|(_, n)| *n).collect();
    numbers.sort();
    assert_eq!(numbers, (2..30).collect::<Vec<_>>(), "each document once");
    assert!(
        seen.windows(2).all(|pair| pair[0].0 >= pair[1].0),
        "descending by @timestamp: {seen:?}"
    );
}

#[test]
fn point_in_time_pages_with_search_after_over_a_frozen_view() {
    let server = Server::start();
    let mut body = String::new();
    for index in 0..12 {
        body.push_str("{\"create\":{\"_index\":\"logs-app-default\"}}\n");
        body.push_str(
            &json!({"@timestamp": format!("2026-11-{}T10:00:00.000Z", 18 + index % 2), "n": index})
                .to_string(),
        );
        body.push('\n');
    }
    let (_, response) = server.bulk("/_bulk?refresh=true", &body);
    assert_eq!(response["errors"], false, "{response}");

    let (status, missing) = server.post("/logs-app-default/_pit", "");
    assert_eq!(status, 400, "keep_alive is required: {missing}");
    let (status, opened) = server.post("/logs-app-default/_pit?keep_alive=1m", "");
    assert_eq!(status, 200, "{opened}");
    let id = opened["id"].as_str().unwrap().to_owned();

    // Written after the point in time: not seen through it.
    let (_, response) = server.bulk(
        "/_bulk?refresh=true",
        "{\"create\":{\"_index\":\"logs-app-default\"}}\n{\"@timestamp\":\"2026-11-18T11:00:00.000Z\",\"n\":99}\n",
    );
    assert_eq!(response["errors"], false, "{response}");

    let mut seen = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut request = json!({
            "size": 5,
            "sort": [{"@timestamp": "asc"}],
            "pit": {"id": id, "keep_alive": "1m"},
        });
        if let Some(after) = &after {
            request["search_after"] = after.clone();
        }
        let (status, page) = server.post("/_search", &request.to_string());
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["pit_id"], json!(id));
        let hits = page["hits"]["hits"].as_array().unwrap();
        if hits.is_empty() {
            break;
        }
        for hit in hits {
            assert_eq!(
                hit["sort"].as_array().unwrap().len(),
                2,
                "the sort and the implicit _shard_doc tiebreaker: {hit}"
            );
            seen.push(hit["_source"]["n"].as_i64().unwrap());
        }
        after = Some(hits.last().unwrap()["sort"].clone());
    }
    seen.sort();
    assert_eq!(seen, (0..12).collect::<Vec<_>>());

    let (status, error) = server.post(
        "/logs-app-default/_search",
        &json!({"pit": {"id": id}}).to_string(),
    );
    assert_eq!(status, 400, "no index with a point in time: {error}");
    let (status, closed) = server.request("DELETE", "/_pit", Some(&json!({"id": id}).to_string()));
    assert_eq!((status, closed["num_freed"].as_u64()), (200, Some(1)));
    let (status, gone) = server.post("/_search", &json!({"pit": {"id": id}}).to_string());
    assert_eq!(status, 404, "{gone}");
    assert_eq!(gone["error"]["type"], "search_context_missing_exception");
}

#[test]
fn sorting_on_text_is_refused_with_the_message_aggregating_gets() {
    let server = server_with_events();
    let (status, sorted) = server.post("/logs-*/_search", r#"{"sort":["message"]}"#);
    assert_eq!(status, 400);
    let (status, aggregated) = server.post(
        "/logs-*/_search",
        r#"{"aggs":{"m":{"terms":{"field":"message"}}}}"#,
    );
    assert_eq!(status, 400);
    assert_eq!(
        sorted["error"]["reason"], aggregated["error"]["reason"],
        "Elasticsearch refuses both with one message"
    );
    assert!(
        sorted["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("so these operations are disabled by default"),
        "{sorted}"
    );
}
