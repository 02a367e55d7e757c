//! End-to-end behaviour of the real binary over HTTP.

mod common;

use common::{Server, bulk_body, raw_request, response_headers};
use serde_json::json;

#[test]
fn root_answers_like_elasticsearch_with_the_product_header() {
    let server = Server::start();
    let (status, body) = server.get("/");
    assert_eq!(status, 200);
    assert_eq!(body["tagline"], "You Know, for Search");
    assert!(body["version"]["number"].as_str().unwrap().starts_with('8'));
    assert!(body["cluster_uuid"].is_string());
    let headers = response_headers(&format!("{}/", server.base));
    assert!(
        headers.contains(&("x-elastic-product".into(), "Elasticsearch".into())),
        "{headers:?}"
    );
    let headers = response_headers(&format!("{}/missing-index/_search", server.base));
    assert!(
        headers.iter().any(|(name, _)| name == "x-elastic-product"),
        "errors carry it too"
    );
}

#[test]
fn bulk_routes_by_category_and_searches_see_it() {
    let server = Server::start();
    let body = concat!(
        "{\"create\":{}}\n{\"@timestamp\":\"2026-11-20T10:00:00Z\",\"log_category\":\"api_request\",\"status_code\":500,\"duration_ms\":30.5,\"client_ip\":\"10.1.2.3\",\"response_category\":\"server_error\"}\n",
        "{\"create\":{}}\n{\"@timestamp\":\"2026-11-20T10:00:01Z\",\"log_category\":\"api_request\",\"status_code\":200,\"duration_ms\":3.5,\"client_ip\":\"192.168.0.1\",\"response_category\":\"success\"}\n",
        "{\"create\":{}}\n{\"@timestamp\":\"2026-11-19T10:00:00Z\",\"log_category\":\"audit\",\"user_action\":\"LOGIN_FAILED\",\"success\":false,\"user_id\":\"u1\"}\n",
        "{\"create\":{}}\n{\"log_category\":\"performance\",\"cpu_percent\":12.5}\n",
    );
    let (status, response) = server.bulk("/logs/_bulk?refresh=true", body);
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["errors"], false, "{response}");
    let items = response["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["create"]["status"], 201);
    assert!(
        items[0]["create"]["_index"]
            .as_str()
            .unwrap()
            .starts_with(".ds-logs-api_request-default-2026.11.20-")
    );
    assert!(
        items[2]["create"]["_index"]
            .as_str()
            .unwrap()
            .starts_with(".ds-logs-audit-default-2026.11.19-")
    );

    assert_eq!(server.count("logs-*"), 4);
    assert_eq!(server.count("logs-api_request-default"), 2);
    assert_eq!(server.count("logs-audit-*,logs-performance-default"), 2);

    let (_, hits) = server.post(
        "/logs-*/_search",
        &json!({"query": {"term": {"status_code": 500}}}).to_string(),
    );
    assert_eq!(hits["hits"]["total"]["value"], 1, "{hits}");
    let (_, hits) = server.post(
        "/logs-*/_search",
        &json!({"query": {"term": {"status_code": "500"}}}).to_string(),
    );
    assert_eq!(
        hits["hits"]["total"]["value"], 1,
        "numeric term given as a string compares numerically"
    );
    let (_, hits) = server.post(
        "/logs-*/_search",
        &json!({"query": {"range": {"duration_ms": {"gt": 3.5}}}}).to_string(),
    );
    assert_eq!(hits["hits"]["total"]["value"], 1);
    let (_, hits) = server.post(
        "/logs-*/_search",
        &json!({"query": {"term": {"client_ip": "10.0.0.0/8"}}}).to_string(),
    );
    assert_eq!(
        hits["hits"]["total"]["value"], 1,
        "CIDR term on an ip field"
    );
    let (_, hits) = server.post(
        "/logs-*/_search",
        &json!({"query": {"range": {"@timestamp": {"gte": "2026-11-20T00:00:00Z", "lt": "2026-11-21"}}}}).to_string(),
    );
    assert_eq!(hits["hits"]["total"]["value"], 2, "{hits}");
    assert_eq!(
        hits["_shards"]["skipped"], 2,
        "the 19th's partition and today's are pruned: {hits}"
    );
    let (_, hits) = server.post(
        "/logs-*/_search",
        &json!({"query": {"bool": {"must": [{"term": {"log_category": "audit"}}, {"exists": {"field": "user_id"}}], "must_not": [{"term": {"success": true}}]}}}).to_string(),
    );
    assert_eq!(hits["hits"]["total"]["value"], 1);
    let hit = &hits["hits"]["hits"][0];
    assert_eq!(hit["_source"]["user_action"], "LOGIN_FAILED");

    let (_, mapping) = server.get("/logs-api_request-default/_mapping");
    let (_, properties) = mapping.as_object().unwrap().iter().next().unwrap();
    assert_eq!(
        properties["mappings"]["properties"]["client_ip"]["type"],
        "ip"
    );
    assert_eq!(
        properties["mappings"]["properties"]["duration_ms"]["type"],
        "double"
    );
    assert_eq!(
        properties["mappings"]["properties"]["status_code"]["type"],
        "long"
    );
}

#[test]
fn documents_by_id_in_a_plain_index() {
    let server = Server::start();
    let (status, created) = server.put("/orders/_doc/1", r#"{"item":"book","qty":2}"#);
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["result"], "created");
    assert_eq!(created["_version"], 1);
    let (status, fetched) = server.get("/orders/_doc/1");
    assert_eq!(
        status, 200,
        "get is real time, no refresh needed: {fetched}"
    );
    assert_eq!(fetched["found"], true);
    assert_eq!(fetched["_source"], json!({"item": "book", "qty": 2}));
    let (status, updated) = server.put("/orders/_doc/1", r#"{"item":"book","qty":3}"#);
    assert_eq!(
        (
            status,
            updated["result"].as_str(),
            updated["_version"].as_u64()
        ),
        (200, Some("updated"), Some(2))
    );
    let (status, conflict) = server.put("/orders/_create/1", r#"{"item":"pen"}"#);
    assert_eq!(status, 409);
    assert_eq!(
        conflict["error"]["type"],
        "version_conflict_engine_exception"
    );
    let (status, _) = server.request("POST", "/orders/_refresh", None);
    assert_eq!(status, 200);
    assert_eq!(server.count("orders"), 1, "the replaced version is gone");
    let (status, deleted) = server.request("DELETE", "/orders/_doc/1", None);
    assert_eq!((status, deleted["result"].as_str()), (200, Some("deleted")));
    let (status, missing) = server.get("/orders/_doc/1");
    assert_eq!((status, missing["found"].as_bool()), (404, Some(false)));
    let (status, missing) = server.request("DELETE", "/orders/_doc/1", None);
    assert_eq!(
        (status, missing["result"].as_str()),
        (404, Some("not_found"))
    );
}

#[test]
fn explicit_mappings_templates_and_index_lifecycle() {
    let server = Server::start();
    let (status, body) = server.put(
        "/products",
        r#"{"settings":{"number_of_shards":1},"mappings":{"properties":{"name":{"type":"keyword"},"price":{"type":"double"},"tags":{"type":"text","fields":{"raw":{"type":"keyword"}}}}}}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"acknowledged": true, "shards_acknowledged": true, "index": "products"})
    );
    let (status, body) = server.put("/products", "{}");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "resource_already_exists_exception");
    let (_, mapping) = server.get("/products/_mapping");
    assert_eq!(
        mapping["products"]["mappings"]["properties"]["tags"]["fields"]["raw"]["type"],
        "keyword"
    );
    server.post(
        "/products/_doc?refresh=true",
        r#"{"name":"Lamp","price":"12.5","tags":"Warm Light"}"#,
    );
    let (_, hits) = server.post("/products/_search", r#"{"query":{"term":{"tags":"warm"}}}"#);
    assert_eq!(
        hits["hits"]["total"]["value"], 1,
        "text is analysed: {hits}"
    );
    let (_, hits) = server.post(
        "/products/_search",
        r#"{"query":{"term":{"tags.raw":"Warm Light"}}}"#,
    );
    assert_eq!(hits["hits"]["total"]["value"], 1);
    let (_, hits) = server.post(
        "/products/_search",
        r#"{"query":{"range":{"price":{"gte":12,"lt":13}}}}"#,
    );
    assert_eq!(hits["hits"]["total"]["value"], 1);

    let (status, _) = server.put(
        "/_index_template/metrics",
        r#"{"index_patterns":["metrics-*"],"data_stream":{},"priority":100,"template":{"mappings":{"properties":{"value":{"type":"double"}}},"lifecycle":{"data_retention":"7d"}}}"#,
    );
    assert_eq!(status, 200);
    let (status, body) = server.bulk(
        "/metrics-cpu/_bulk?refresh=true",
        "{\"create\":{}}\n{\"@timestamp\":\"2026-11-26T00:00:00Z\",\"value\":3}\n",
    );
    assert_eq!(
        (status, body["errors"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    let (_, streams) = server.get("/_data_stream/metrics-cpu");
    assert_eq!(
        streams["data_streams"][0]["lifecycle"]["data_retention"],
        "7d"
    );
    let (_, mapping) = server.get("/metrics-cpu/_mapping");
    let (_, mappings) = mapping.as_object().unwrap().iter().next().unwrap();
    assert_eq!(
        mappings["mappings"]["properties"]["value"]["type"], "double",
        "template mapping wins over dynamic long"
    );

    let (status, _) = server.request("DELETE", "/products", None);
    assert_eq!(status, 200);
    let (status, body) = server.get("/products/_search");
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "index_not_found_exception");
}

#[test]
fn cat_indices_and_cluster_health() {
    let server = Server::start();
    server.bulk("/_bulk?refresh=true", &bulk_body("web", "w", 0..5));
    let (status, text) =
        raw_request("GET", &format!("{}/_cat/indices?v", server.base), None, &[]).unwrap();
    assert_eq!(status, 200);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("health status index"));
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["green", "open", "web"]);
    assert_eq!(row[6], "5");
    let (_, json_rows) = server.get("/_cat/indices?format=json");
    assert_eq!(json_rows[0]["index"], "web");
    assert_eq!(json_rows[0]["docs.count"], "5", "cat values are strings");
    let (_, health) = server.get("/_cluster/health");
    assert_eq!(health["status"], "green");
    assert_eq!(health["number_of_nodes"], 1);
}

#[test]
fn paging_source_filtering_and_total_hits() {
    let server = Server::start();
    server.bulk("/_bulk?refresh=true", &bulk_body("pages", "p", 0..25));
    let (_, first) = server.post(
        "/pages/_search",
        r#"{"size":10,"from":0,"_source":["app_name"]}"#,
    );
    let (_, second) = server.post("/pages/_search", r#"{"size":10,"from":10,"_source":false}"#);
    assert_eq!(
        first["hits"]["total"],
        json!({"value": 25, "relation": "eq"})
    );
    let first_ids: Vec<&str> = first["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_id"].as_str().unwrap())
        .collect();
    let second_ids: Vec<&str> = second["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_id"].as_str().unwrap())
        .collect();
    assert_eq!(first_ids.len(), 10);
    assert!(
        first_ids.iter().all(|id| !second_ids.contains(id)),
        "pages do not overlap"
    );
    assert_eq!(
        first["hits"]["hits"][0]["_source"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
    assert!(second["hits"]["hits"][0].get("_source").is_none());
    let (_, limited) = server.post("/pages/_search", r#"{"track_total_hits":10,"size":0}"#);
    assert_eq!(
        limited["hits"]["total"],
        json!({"value": 10, "relation": "gte"})
    );
    let (_, as_int) = server.get("/pages/_search?rest_total_hits_as_int=true&size=0");
    assert_eq!(as_int["hits"]["total"], 25);
    let (_, ids) = server.post(
        "/pages/_search",
        r#"{"query":{"ids":{"values":["p-3","p-4","nope"]}}}"#,
    );
    assert_eq!(ids["hits"]["total"]["value"], 2);
}

#[test]
fn refresh_wait_for_and_the_periodic_refresh() {
    let server = Server::start();
    let (status, _) = server.bulk("/_bulk?refresh=wait_for", &bulk_body("waits", "x", 0..3));
    assert_eq!(status, 200);
    assert_eq!(server.count("waits"), 3, "wait_for returns once searchable");
    server.bulk("/_bulk", &bulk_body("waits", "y", 0..2));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while server.count("waits") < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "writes must become searchable within the refresh interval"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn data_survives_a_clean_restart() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let mut server = Server::start_in(&data_dir, &[]);
    server.bulk("/_bulk", &bulk_body("keep", "k", 0..100));
    server.bulk(
        "/logs/_bulk",
        "{\"create\":{}}\n{\"log_category\":\"audit\",\"user_action\":\"LOGOUT\"}\n",
    );
    server.stop();
    let server = Server::start_in(&data_dir, &[]);
    assert_eq!(server.count("keep"), 100);
    assert_eq!(server.count("logs-audit-default"), 1);
    let (_, mapping) = server.get("/keep/_mapping");
    assert_eq!(
        mapping["keep"]["mappings"]["properties"]["status_code"]["type"],
        "long"
    );
    let wal_files = std::fs::read_dir(data_dir.join("wal")).unwrap().count();
    assert_eq!(wal_files, 0, "a clean shutdown leaves nothing to replay");
}

#[test]
fn retention_drops_expired_partitions() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let config = temporary.path().join("logfleet.toml");
    std::fs::write(&config, "[retention]\ncheck_interval = \"200ms\"\n[[retention.rules]]\npattern = \"logs-old-*\"\nmax_age = \"2d\"\n").unwrap();
    let server = Server::start_in(&data_dir, &["--config", config.to_str().unwrap()]);
    let now = time::OffsetDateTime::now_utc();
    let old = now - time::Duration::days(10);
    let recent = now - time::Duration::hours(1);
    let format = |moment: time::OffsetDateTime| {
        moment
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let body = format!(
        "{{\"create\":{{}}}}\n{{\"@timestamp\":\"{}\",\"m\":1}}\n{{\"create\":{{}}}}\n{{\"@timestamp\":\"{}\",\"m\":2}}\n",
        format(old),
        format(recent)
    );
    let (_, response) = server.bulk("/logs-old-default/_bulk?refresh=true", &body);
    assert_eq!(response["errors"], false, "{response}");
    let (_, kept) = server.bulk("/logs-keep-default/_bulk?refresh=true", &body);
    assert_eq!(kept["errors"], false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.count("logs-old-default") != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the 10-day-old partition must be dropped"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        server.count("logs-keep-default"),
        2,
        "streams without a rule keep everything"
    );
    let (_, lifecycle) = server.get("/_data_stream/logs-old-default/_lifecycle");
    assert_eq!(
        lifecycle["data_streams"][0]["lifecycle"]["retention_determined_by"],
        "logfleet_configuration"
    );
    let (status, _) = server.put(
        "/_data_stream/logs-keep-default/_lifecycle",
        r#"{"data_retention":"1d"}"#,
    );
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.count("logs-keep-default") != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream's own lifecycle applies too"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn gzip_request_bodies_and_compatible_media_types() {
    use std::io::Write;
    let server = Server::start();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(bulk_body("zipped", "z", 0..50).as_bytes())
        .unwrap();
    let compressed = encoder.finish().unwrap();
    let (status, text) = raw_request(
        "POST",
        &format!("{}/_bulk?refresh=true", server.base),
        Some(&compressed),
        &[
            ("Content-Encoding", "gzip"),
            (
                "Content-Type",
                "application/vnd.elasticsearch+x-ndjson; compatible-with=8",
            ),
            (
                "Accept",
                "application/vnd.elasticsearch+json; compatible-with=8",
            ),
        ],
    )
    .unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"errors\":false"), "{text}");
    assert_eq!(server.count("zipped"), 50);
}

#[test]
fn help_explains_every_subcommand() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_logfleet"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["serve", "bench", "config"] {
        assert!(help.contains(subcommand), "{help}");
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_logfleet"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("--data-dir") && help.contains("--listen") && help.contains("LOGFLEET_"),
        "{help}"
    );
}

#[test]
fn config_errors_name_the_key() {
    let temporary = tempfile::tempdir().unwrap();
    let config = temporary.path().join("bad.toml");
    std::fs::write(&config, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_logfleet"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("lisen"), "{message}");
}

#[test]
fn environment_variables_override_the_defaults() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_logfleet"))
        .arg("config")
        .env("LOGFLEET_WRITER_MEMORY", "64mb")
        .env("LOGFLEET_RETENTION__CHECK_INTERVAL", "5m")
        .env("LOGFLEET_SDK_ONLY_SETTING", "left alone")
        .output()
        .unwrap();
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains("writer_memory = \"64mb\""), "{printed}");
    assert!(printed.contains("check_interval = \"5m\""), "{printed}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_logfleet"))
        .arg("config")
        .env("LOGFLEET_WRITER_MEMORY", "1mb")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("writer_memory"), "{message}");
}

#[test]
fn msearch_field_caps_and_resolve() {
    let server = Server::start();
    server.bulk("/_bulk?refresh=true", &bulk_body("web", "w", 0..5));
    server.bulk("/logs/_bulk?refresh=true", "{\"create\":{}}\n{\"log_category\":\"audit\",\"user_action\":\"LOGOUT\",\"message\":\"bye\"}\n");
    let body = concat!(
        "{\"index\":\"web\"}\n{\"query\":{\"term\":{\"status_code\":200}},\"size\":0}\n",
        "{}\n{\"size\":0}\n",
        "{\"index\":\"missing\"}\n{}\n",
        "{\"index\":\"web\"}\n{\"query\":{\"nope\":{}}}\n",
    );
    let (status, result) = server.post("/_msearch", body);
    assert_eq!(status, 200, "{result}");
    let responses = result["responses"].as_array().unwrap();
    assert_eq!(responses[0]["hits"]["total"]["value"], 2);
    assert_eq!(responses[0]["status"], 200);
    assert_eq!(
        responses[1]["hits"]["total"]["value"], 6,
        "no index: every index and data stream"
    );
    assert_eq!(
        (
            responses[2]["status"].as_u64(),
            responses[2]["error"]["type"].as_str()
        ),
        (Some(404), Some("index_not_found_exception"))
    );
    assert_eq!(
        (
            responses[3]["status"].as_u64(),
            responses[3]["error"]["type"].as_str()
        ),
        (Some(400), Some("parsing_exception"))
    );

    let (status, caps) = server.get("/logs-*/_field_caps?fields=*");
    assert_eq!(status, 200, "{caps}");
    assert_eq!(
        caps["fields"]["user_action"]["keyword"]["aggregatable"],
        true
    );
    assert_eq!(
        caps["fields"]["message"]["match_only_text"]["aggregatable"],
        false
    );
    assert_eq!(caps["fields"]["@timestamp"]["date"]["searchable"], true);
    assert!(
        caps["indices"][0]
            .as_str()
            .unwrap()
            .starts_with(".ds-logs-audit-default-")
    );
    let (status, _) = server.get("/_field_caps");
    assert_eq!(status, 400, "fields are required");

    let (_, resolved) = server.get("/_resolve/index/*");
    assert_eq!(resolved["data_streams"][0]["name"], "logs-audit-default");
    assert!(
        resolved["indices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|index| index["name"] == "web")
    );
}

#[test]
fn scroll_reads_everything_once_from_a_point_in_time() {
    let server = Server::start();
    server.bulk("/_bulk?refresh=true", &bulk_body("scrolled", "s", 0..25));
    let (status, first) = server.post(
        "/scrolled/_search?scroll=1m",
        r#"{"size":10,"sort":["_doc"]}"#,
    );
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["hits"]["total"]["value"], 25);
    let mut seen: Vec<String> = first["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_id"].as_str().unwrap().to_owned())
        .collect();
    let id = first["_scroll_id"].as_str().unwrap().to_owned();
    // Written after the scroll started: not part of it.
    server.bulk("/_bulk?refresh=true", &bulk_body("scrolled", "late", 0..5));
    loop {
        let (status, page) = server.post(
            "/_search/scroll",
            &json!({"scroll": "1m", "scroll_id": id}).to_string(),
        );
        assert_eq!(status, 200, "{page}");
        let hits = page["hits"]["hits"].as_array().unwrap();
        if hits.is_empty() {
            break;
        }
        seen.extend(
            hits.iter()
                .map(|hit| hit["_id"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen.len(), 25);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25, "no document twice");
    let (status, cleared) = server.request(
        "DELETE",
        "/_search/scroll",
        Some(&json!({"scroll_id": id}).to_string()),
    );
    assert_eq!((status, cleared["num_freed"].as_u64()), (200, Some(1)));
    let (status, missing) = server.post("/_search/scroll", &json!({"scroll_id": id}).to_string());
    assert_eq!(
        (status, missing["error"]["type"].as_str()),
        (404, Some("search_context_missing_exception"))
    );
    // Aggregations come with the first page only, over the scroll's point in time.
    let (status, first) = server.post(
        "/scrolled/_search?scroll=1m",
        r#"{"size": 1, "aggs": {"n": {"value_count": {"field": "status_code"}}}}"#,
    );
    assert_eq!(status, 200, "{first}");
    let total = first["hits"]["total"]["value"].as_u64().unwrap();
    assert_eq!(first["aggregations"]["n"]["value"].as_u64(), Some(total));
    let id = first["_scroll_id"].as_str().unwrap();
    let (_, second) = server.post(
        "/_search/scroll",
        &json!({"scroll": "1m", "scroll_id": id}).to_string(),
    );
    assert!(second.get("aggregations").is_none(), "{second}");
}
