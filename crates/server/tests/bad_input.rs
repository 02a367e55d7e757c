//! Bad input gets Elasticsearch's error shape and status, fails only what Elasticsearch fails
//! (the item, or the request before anything is written), and never loses accepted data.

mod common;

use common::{Server, bulk_body, raw_request};
use serde_json::{Value, json};

/// A server holding 10 accepted documents in `base`, which every case re-checks.
fn server_with_data() -> Server {
    let server = Server::start();
    let (status, response) = server.bulk("/_bulk?refresh=true", &bulk_body("base", "b", 0..10));
    assert_eq!((status, response["errors"].as_bool()), (200, Some(false)));
    server
}

fn assert_intact(server: &Server) {
    server.request("POST", "/_refresh", None);
    assert_eq!(server.count("base"), 10, "accepted data must be intact");
}

fn assert_error(response: &(u16, Value), status: u16, error_type: &str) {
    assert_eq!(response.0, status, "{}", response.1);
    assert_eq!(response.1["status"], status, "{}", response.1);
    assert_eq!(response.1["error"]["type"], error_type, "{}", response.1);
    assert_eq!(
        response.1["error"]["root_cause"][0]["type"], error_type,
        "{}",
        response.1
    );
    assert!(
        response.1["error"]["reason"]
            .as_str()
            .is_some_and(|reason| !reason.is_empty())
    );
}

fn item_error(response: &Value, position: usize) -> (u64, String) {
    let item = response["items"][position]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    (
        item["status"].as_u64().unwrap(),
        item["error"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn malformed_action_line_rejects_the_whole_request() {
    let server = server_with_data();
    let body = format!(
        "{}{{\"index\": nope}}\n{{}}\n",
        bulk_body("base", "new", 0..3)
    );
    let response = server.bulk("/_bulk?refresh=true", &body);
    assert_error(&response, 400, "x_content_parse_exception");
    assert_intact(&server);
    assert_eq!(
        server.get("/base/_doc/new-0").0,
        404,
        "nothing of a rejected request is written"
    );
}

#[test]
fn action_without_source_and_unknown_action() {
    let server = server_with_data();
    assert_error(
        &server.bulk("/_bulk", "{\"index\":{\"_index\":\"base\"}}\n"),
        400,
        "illegal_argument_exception",
    );
    assert_error(
        &server.bulk("/_bulk", "{\"upsert\":{\"_index\":\"base\"}}\n{}\n"),
        400,
        "illegal_argument_exception",
    );
    assert_error(
        &server.bulk("/_bulk", "{\"index\":{}}\n{}\n"),
        400,
        "action_request_validation_exception",
    );
    assert_error(
        &server.bulk("/_bulk", ""),
        400,
        "action_request_validation_exception",
    );
    assert_error(
        &server.bulk("/_bulk", "{\"index\":{\"_index\":\"base\"}}\n{}"),
        400,
        "illegal_argument_exception",
    );
    assert_intact(&server);
}

#[test]
fn invalid_index_names_fail_their_items_only() {
    let server = server_with_data();
    let long = "a".repeat(256);
    let names = [
        "Upper",
        "_under",
        "-dash",
        "+plus",
        "..",
        "a/b",
        "sp ace",
        long.as_str(),
    ];
    let mut body = String::new();
    for name in names {
        body.push_str(&format!(
            "{{\"index\":{{\"_index\":{}}}}}\n{{\"x\":1}}\n",
            json!(name)
        ));
    }
    body.push_str("{\"index\":{\"_index\":\"fine\"}}\n{\"x\":1}\n");
    let (status, response) = server.bulk("/_bulk?refresh=true", &body);
    assert_eq!(status, 200);
    assert_eq!(response["errors"], true);
    for (position, name) in names.iter().enumerate() {
        assert_eq!(
            item_error(&response, position),
            (400, "invalid_index_name_exception".to_owned()),
            "{name}"
        );
    }
    assert_eq!(response["items"][names.len()]["index"]["status"], 201);
    assert_eq!(server.count("fine"), 1);
    assert_error(
        &server.put("/Upper", "{}"),
        400,
        "invalid_index_name_exception",
    );
    assert_error(
        &server.put("/_under", "{}"),
        400,
        "invalid_index_name_exception",
    );
    assert_intact(&server);
}

#[test]
fn non_json_and_invalid_utf8() {
    let server = server_with_data();
    assert_error(
        &server.post("/base/_doc", "this is not json"),
        400,
        "document_parsing_exception",
    );
    assert_error(
        &server.post("/base/_doc", "[1,2,3]"),
        400,
        "document_parsing_exception",
    );
    assert_error(
        &server.post("/base/_search", "{\"query\":"),
        400,
        "parsing_exception",
    );
    let (status, text) = raw_request(
        "POST",
        &format!("{}/base/_doc", server.base),
        Some(b"{\"x\":\"\xff\xfe\"}"),
        &[],
    )
    .unwrap();
    assert_eq!(status, 400, "{text}");
    let mut body = b"{\"index\":{\"_index\":\"base\"}}\n{\"x\":\"\xff\"}\n".to_vec();
    body.extend_from_slice(b"{\"index\":{\"_index\":\"other\"}}\n{\"x\":\"ok\"}\n");
    let (status, text) =
        raw_request("POST", &format!("{}/_bulk", server.base), Some(&body), &[]).unwrap();
    assert_eq!(status, 200, "{text}");
    let response: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        item_error(&response, 0),
        (400, "document_parsing_exception".to_owned())
    );
    assert_eq!(response["items"][1]["index"]["status"], 201);
    assert_intact(&server);
}

#[test]
fn duplicate_keys_fail_the_document() {
    let server = server_with_data();
    // Elasticsearch's parser rejects a key given twice in one object, at any depth.
    let body = concat!(
        "{\"index\":{\"_index\":\"dup\"}}\n{\"level\":\"info\",\"level\":\"error\"}\n",
        "{\"index\":{\"_index\":\"dup\"}}\n{\"http\":{\"status\":200,\"status\":500}}\n",
        "{\"index\":{\"_index\":\"dup\"}}\n{\"level\":\"info\",\"http\":{\"level\":1}}\n",
    );
    let (status, response) = server.bulk("/_bulk?refresh=true", body);
    assert_eq!(status, 200, "{response}");
    for position in 0..2 {
        assert_eq!(
            item_error(&response, position),
            (400, "document_parsing_exception".to_owned())
        );
        let reason = response["items"][position]["index"]["error"]["reason"]
            .as_str()
            .unwrap();
        assert!(reason.contains("Duplicate field '"), "{reason}");
    }
    assert_eq!(response["items"][2]["index"]["status"], 201);
    assert_error(
        &server.post("/dup/_doc", r#"{"a":1,"b":2,"a":3}"#),
        400,
        "document_parsing_exception",
    );
    assert_eq!(server.count("dup"), 1);
    assert_intact(&server);
}

#[test]
fn oversize_bodies_are_refused_with_413() {
    let temporary = tempfile::tempdir().unwrap();
    let config = temporary.path().join("small.toml");
    std::fs::write(&config, "max_content_length = \"2kb\"\n").unwrap();
    let server = Server::start_in(
        &temporary.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    server.bulk("/_bulk?refresh=true", &bulk_body("base", "b", 0..10));
    let huge = bulk_body("base", "huge", 0..200);
    assert!(huge.len() > 2048);
    assert_error(
        &server.bulk("/_bulk", &huge),
        413,
        "content_too_long_exception",
    );
    assert_intact(&server);
}

#[test]
fn nesting_deeper_than_twenty_fails_the_document() {
    let server = server_with_data();
    let mut nested = json!({"leaf": 1});
    for _ in 0..21 {
        nested = json!({"o": nested});
    }
    let body = format!(
        "{{\"index\":{{\"_index\":\"deep\"}}}}\n{nested}\n{{\"index\":{{\"_index\":\"deep\"}}}}\n{{\"shallow\":true}}\n"
    );
    let (_, response) = server.bulk("/_bulk?refresh=true", &body);
    let (status, kind) = item_error(&response, 0);
    assert_eq!((status, kind.as_str()), (400, "document_parsing_exception"));
    assert_eq!(response["items"][1]["index"]["status"], 201);
    // Far deeper than any parser limit: still a clean 400, never a crash.
    let abyss = format!("{}1{}", "{\"a\":".repeat(5000), "}".repeat(5000));
    let response = server.post("/deep/_doc", &abyss);
    assert_eq!(response.0, 400, "{}", response.1);
    let response = server.post(
        "/deep/_search",
        &format!(
            "{{\"query\":{}{{}}{}}}",
            "{\"bool\":{\"must\":".repeat(3000),
            "}}".repeat(3000)
        ),
    );
    assert_eq!(response.0, 400);
    assert_intact(&server);
}

#[test]
fn mapping_conflicts_and_field_explosions_fail_the_document() {
    let server = server_with_data();
    let body = "{\"index\":{\"_index\":\"base\"}}\n{\"status_code\":\"not a number\"}\n{\"index\":{\"_index\":\"base\"}}\n{\"app_name\":{\"nested\":1}}\n";
    let (_, response) = server.bulk("/_bulk", body);
    assert_eq!(
        item_error(&response, 0),
        (400, "document_parsing_exception".to_owned())
    );
    assert_eq!(
        item_error(&response, 1),
        (400, "document_parsing_exception".to_owned())
    );
    let mut explosion = serde_json::Map::new();
    for field in 0..1001 {
        explosion.insert(format!("field_{field}"), json!(field));
    }
    let response = server.post("/explode/_doc", &Value::Object(explosion).to_string());
    assert_error(&response, 400, "document_parsing_exception");
    assert!(
        response.1["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("Limit of total fields [1000]")
    );
    assert_eq!(
        response.1["error"]["caused_by"]["type"],
        "illegal_argument_exception"
    );
    let (_, mapping) = server.get("/explode/_mapping");
    assert!(
        mapping["explode"]["mappings"].get("properties").is_none(),
        "a rejected document adds no fields: {mapping}"
    );
    assert_intact(&server);
}

#[test]
fn unknown_endpoints_parameters_and_queries() {
    let server = server_with_data();
    let (status, body) = server.get("/base/_nonsense/here");
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "resource_not_found_exception");
    assert!(
        body["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("no handler found for uri"),
        "{body}"
    );
    assert_error(
        &server.get("/base/_search?colour=red"),
        400,
        "illegal_argument_exception",
    );
    assert_error(
        &server.post("/base/_search", r#"{"query":{"fuzzy_logic":{}}}"#),
        400,
        "parsing_exception",
    );
    assert_error(
        &server.post("/base/_search", r#"{"query":{"match_all":{}},"sizee":3}"#),
        400,
        "parsing_exception",
    );
    assert_error(
        &server.post("/base/_search", r#"{"from":9999,"size":10}"#),
        400,
        "search_phase_execution_exception",
    );
    assert_error(
        &server.post(
            "/base/_search",
            r#"{"query":{"range":{"@timestamp":{"gte":"now-1x"}}}}"#,
        ),
        400,
        "illegal_argument_exception",
    );
    assert_error(
        &server.get("/missing/_search"),
        404,
        "index_not_found_exception",
    );
    let (status, body) = server.get("/missing*/_search");
    assert_eq!(
        (status, body["hits"]["total"]["value"].as_u64()),
        (200, Some(0)),
        "a wildcard matching nothing is empty, not an error"
    );
    assert_intact(&server);
}

#[test]
fn hostile_strings_are_stored_verbatim_and_never_break_the_server() {
    let server = server_with_data();
    let hostile = json!({
        "message": "<script>alert(1)</script>\u{0000}\u{202e}💥 \" \\ '; DROP TABLE logs;--",
        "path": "../../etc/passwd",
        "app_name": "\u{ffff}".repeat(100),
    });
    let (status, created) = server.put(
        "/hostile/_doc/%2E%2E%2Fid%20with%20spaces",
        &hostile.to_string(),
    );
    assert_eq!(status, 201, "{created}");
    let (status, fetched) = server.get("/hostile/_doc/%2E%2E%2Fid%20with%20spaces");
    assert_eq!(status, 200);
    assert_eq!(fetched["_id"], "../id with spaces");
    assert_eq!(fetched["_source"], hostile);
    let (status, _) = server.post(
        "/hostile/_search",
        &json!({"query": {"term": {"app_name.keyword": "x".repeat(40_000)}}}).to_string(),
    );
    assert_eq!(status, 200);
    assert_intact(&server);
}
