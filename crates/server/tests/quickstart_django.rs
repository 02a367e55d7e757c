//! End to end: `logfleet quickstart --stack django` — the server, the seed's services written
//! in Django (`sdks/python/examples/`) under gunicorn and shipping with the Python SDK, the
//! traffic generator — then the data, read the way the dashboards read it: every category
//! from the services that emit it, and one request id from the proxy through its call to the
//! data manager's query and audit events.
//!
//! It needs a Python with the SDK's packages, named by `LOGFLEET_PYTHON` (`scripts/test` sets
//! it to the SDK's virtual environment); without one it says so and checks nothing.

mod common;

use std::time::Duration;

use common::Server;
use serde_json::{Value, json};

/// Long enough for sign-ups, logins, profile traffic and a few performance samples.
const TRAFFIC_TIME: Duration = Duration::from_secs(30);

fn search(server: &Server, body: &Value) -> Value {
    let (status, response) = server.post("/logs-*/_search", &body.to_string());
    assert_eq!(status, 200, "{response}");
    response
}

fn hits(server: &Server, query: Value) -> Vec<Value> {
    let response = search(server, &json!({"query": query, "size": 100}));
    response["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["_source"].clone())
        .collect()
}

fn count(server: &Server, app_name: &str, category: &str) -> u64 {
    let query = json!({"bool": {"filter": [
        {"term": {"app_name": app_name}},
        {"term": {"log_category": category}},
    ]}});
    let response = search(server, &json!({"query": query, "size": 0}));
    response["hits"]["total"]["value"].as_u64().unwrap_or(0)
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "a skipped test says why in the test output"
)]
fn django_services_fill_every_category_with_one_request_id_across_services() {
    let Ok(python) = std::env::var("LOGFLEET_PYTHON") else {
        eprintln!(
            "skipped: set LOGFLEET_PYTHON to a Python with the SDK's packages \
             (scripts/python-sdk venv)"
        );
        return;
    };
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().join("data");
    let mut server = Server::start_command(
        "quickstart",
        &data_dir,
        &[
            "--stack",
            "django",
            "--python",
            &python,
            "--performance-interval",
            "2",
            "--users",
            "8",
        ],
    );
    std::thread::sleep(TRAFFIC_TIME);
    let (status, _) = server.post("/logs-*/_refresh", "");
    assert_eq!(status, 200);

    let expected = [
        ("access_postgresql", "api_request"),
        ("access_postgresql", "database"),
        ("access_postgresql", "audit"),
        ("access_postgresql", "performance"),
        ("user_service", "api_request"),
        ("user_service", "inter_service"),
        ("user_service", "performance"),
        ("auth", "api_request"),
        ("auth", "inter_service"),
        ("auth", "performance"),
    ];
    for (app_name, category) in expected {
        assert!(
            count(&server, app_name, category) > 0,
            "no {category} events from {app_name}"
        );
    }

    // A sign-up through the proxy: its request id is on the proxy's api_request, its call,
    // and the data manager's query, audit event and api_request.
    let signups = hits(
        &server,
        json!({"bool": {"filter": [
            {"term": {"app_name": "user_service"}},
            {"term": {"action_type": "USER_SIGNUP"}},
            {"term": {"status_code": 201}},
        ]}}),
    );
    let signup = signups.first().expect("a successful sign-up");
    assert_eq!(signup["target_service"], "access_postgresql");
    assert!(signup["upstream_duration_ms"].as_f64().unwrap_or(0.0) > 0.0);
    let request_id = signup["request_id"].as_str().unwrap();
    let events = hits(&server, json!({"term": {"request_id": request_id}}));
    let has = |app_name: &str, category: &str| {
        events.iter().any(|event| {
            event["app_name"] == app_name
                && event["log_category"] == category
                && event["trace_id"] == signup["trace_id"]
        })
    };
    assert!(has("user_service", "inter_service"), "{events:#?}");
    assert!(has("access_postgresql", "api_request"), "{events:#?}");
    assert!(has("access_postgresql", "database"), "{events:#?}");
    assert!(has("access_postgresql", "audit"), "{events:#?}");
    let created = events
        .iter()
        .find(|event| event["user_action"] == "USER_CREATED")
        .expect("the audit event of the sign-up");
    assert_eq!(created["target_entity"], "USER");
    // The virtual user's address, passed through the proxy's X-Forwarded-For.
    assert_eq!(created["client_ip"], signup["client_ip"]);
    assert_ne!(created["client_ip"], "127.0.0.1");

    server.stop();
}
