//! `match`, `match_phrase`, `match_phrase_prefix`, `multi_match` and `prefix`.

mod common;

use common::Server;
use serde_json::{Value, json};

fn server_with_messages() -> Server {
    let server = Server::start();
    let mut body = String::new();
    for (message, path) in [
        ("Disk full on /var/log", "/api/users/1"),
        ("disk almost full", "/api/users/2"),
        ("Connection refused by upstream auth", "/api/orders/7"),
        ("user login failed: invalid password", "/health"),
    ] {
        body.push_str("{\"create\":{}}\n");
        body.push_str(
            &json!({"log_category": "api_request", "message": message, "path": path}).to_string(),
        );
        body.push('\n');
    }
    let (_, response) = server.bulk("/logs/_bulk?refresh=true", &body);
    assert_eq!(response["errors"], false, "{response}");
    server
}

fn total(server: &Server, query: Value) -> u64 {
    let (status, result) = server.post("/logs-*/_search", &json!({"query": query}).to_string());
    assert_eq!(status, 200, "{result}");
    result["hits"]["total"]["value"].as_u64().unwrap()
}

#[test]
fn match_queries_analyse_text_fields() {
    let server = server_with_messages();
    assert_eq!(
        total(&server, json!({"match": {"message": "DISK"}})),
        2,
        "case-insensitive"
    );
    assert_eq!(
        total(&server, json!({"match": {"message": "disk refused"}})),
        3,
        "any term by default"
    );
    assert_eq!(
        total(
            &server,
            json!({"match": {"message": {"query": "disk full", "operator": "and"}}})
        ),
        2
    );
    assert_eq!(
        total(
            &server,
            json!({"match": {"message": {"query": "disk full var", "minimum_should_match": 3}}})
        ),
        1
    );
    assert_eq!(
        total(&server, json!({"match_phrase": {"message": "disk full"}})),
        1,
        "order and adjacency matter"
    );
    assert_eq!(
        total(
            &server,
            json!({"match_phrase": {"message": {"query": "disk full", "slop": 1}}})
        ),
        2
    );
    assert_eq!(
        total(
            &server,
            json!({"match_phrase_prefix": {"message": "invalid pass"}})
        ),
        1
    );
    assert_eq!(
        total(&server, json!({"match": {"path": "/health"}})),
        1,
        "match on a keyword is exact"
    );
    assert_eq!(total(&server, json!({"match": {"nothing": "x"}})), 0);
    assert_eq!(
        total(&server, json!({"match": {"message": "!!!"}})),
        0,
        "no terms, no hits"
    );
}

#[test]
fn multi_match_and_prefix() {
    let server = server_with_messages();
    assert_eq!(
        total(
            &server,
            json!({"multi_match": {"query": "auth", "fields": ["message", "path"]}})
        ),
        1
    );
    assert_eq!(
        total(
            &server,
            json!({"multi_match": {"query": "/health", "fields": ["mess*", "pa*"]}})
        ),
        1
    );
    assert_eq!(
        total(&server, json!({"prefix": {"path": "/api/users/"}})),
        2
    );
    assert_eq!(
        total(&server, json!({"prefix": {"path": {"value": "/api"}}})),
        3
    );
    assert_eq!(
        total(&server, json!({"prefix": {"message": "conn"}})),
        1,
        "prefix of a token in text"
    );
    let (status, result) = server.post(
        "/logs-*/_search",
        r#"{"query":{"match":{"message":{"query":"x","operator":"maybe"}}}}"#,
    );
    assert_eq!(
        (status, result["error"]["type"].as_str()),
        (400, Some("parsing_exception"))
    );
}

#[test]
fn query_string_and_uri_search() {
    let server = server_with_messages();
    let query_string = |text: &str| total(&server, json!({"query_string": {"query": text}}));
    assert_eq!(
        query_string("disk"),
        2,
        "default fields: every text and keyword field"
    );
    assert_eq!(query_string("message:disk AND message:var"), 1);
    assert_eq!(query_string("message:\"disk full\""), 1);
    assert_eq!(query_string("message:(refused OR password)"), 2);
    assert_eq!(query_string("disk -almost"), 1);
    assert_eq!(query_string("path:\\/api\\/users*"), 2);
    assert_eq!(query_string("_exists_:path AND NOT message:disk"), 2);
    assert_eq!(
        total(
            &server,
            json!({"query_string": {"query": "disk full", "default_field": "message", "default_operator": "AND"}})
        ),
        2
    );
    let (status, result) = server.get("/logs-*/_search?q=message:refused");
    assert_eq!(
        (status, result["hits"]["total"]["value"].as_u64()),
        (200, Some(1)),
        "{result}"
    );
    let (_, result) = server.get("/logs-*/_count?q=disk&df=message");
    assert_eq!(result["count"], 2);
    let (status, result) = server.post(
        "/logs-*/_search",
        r#"{"query":{"query_string":{"query":"message:(unclosed"}}}"#,
    );
    assert_eq!(
        (status, result["error"]["type"].as_str()),
        (400, Some("parsing_exception"))
    );
}
