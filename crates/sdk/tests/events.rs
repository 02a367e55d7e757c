//! Events from `tracing` macros and from every helper, with every field they emit, read back
//! from captured output.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{capture, capture_with, only};
use logfleet_model::{DbAction, Event, Level, LogCategory, fields};
use logfleet_sdk::{
    AuthEvent, DatabaseOperation, RequestSpan, UserAction, log_authentication_event,
    log_database_operation, log_user_action, set_user,
};
use serde_json::json;

const REDACTED: &str = "[REDACTED]";

#[test]
fn tracing_event_fields_levels_and_target() {
    let sdk = capture();
    tracing::info!(
        user_count = 3_u64,
        balance = -12_i64,
        ratio = 0.5,
        active = true,
        name = "alice",
        shown = %"display",
        debugged = ?vec![1, 2],
        "loaded {} users",
        3
    );
    tracing::warn!("careful");
    tracing::error!(level = "critical", "on fire");
    let events = sdk.events();
    assert_eq!(events.len(), 3);

    let loaded = only(&events, "loaded 3 users");
    assert_eq!(loaded.level(), Some(Level::Info));
    assert_eq!(loaded.get("user_count"), Some(&json!(3)));
    assert_eq!(loaded.get("balance"), Some(&json!(-12)));
    assert_eq!(loaded.get("ratio"), Some(&json!(0.5)));
    assert_eq!(loaded.get("active"), Some(&json!(true)));
    assert_eq!(loaded.get_str("name"), Some("alice"));
    assert_eq!(loaded.get_str("shown"), Some("display"));
    assert_eq!(loaded.get_str("debugged"), Some("[1, 2]"));
    assert_eq!(loaded.get_str("target"), Some("events"));
    // Outside a request: the default category, and no request fields.
    assert_eq!(loaded.log_category(), Some(LogCategory::ApiRequest));
    assert_eq!(loaded.get(fields::REQUEST_ID), None);

    assert_eq!(only(&events, "careful").level(), Some(Level::Warning));
    assert_eq!(only(&events, "on fire").level(), Some(Level::Critical));
}

#[test]
fn explicit_log_category_wins_and_default_category_is_configurable() {
    let sdk = capture_with(|builder| builder.default_category(LogCategory::Performance));
    tracing::info!(log_category = "database", "explicit");
    tracing::info!(log_category = "billing", "unknown but kept");
    tracing::info!("implicit");
    RequestSpan::new().start().in_scope(|| {
        tracing::info!("inside a request");
        tracing::info!(log_category = "audit", "explicit inside a request");
    });
    let events = sdk.events();
    assert_eq!(
        only(&events, "explicit").log_category(),
        Some(LogCategory::Database)
    );
    assert_eq!(
        only(&events, "unknown but kept").get_str(fields::LOG_CATEGORY),
        Some("billing")
    );
    assert_eq!(
        only(&events, "implicit").log_category(),
        Some(LogCategory::Performance)
    );
    assert_eq!(
        only(&events, "inside a request").log_category(),
        Some(LogCategory::ApiRequest)
    );
    assert_eq!(
        only(&events, "explicit inside a request").log_category(),
        Some(LogCategory::Audit)
    );
}

#[test]
fn events_inside_a_request_span_carry_its_context_and_user() {
    let sdk = capture();
    let span = RequestSpan::new()
        .request_id("req-123")
        .traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .endpoint_signature("POST /api/signup/")
        .start();
    span.in_scope(|| {
        tracing::info!("before user");
        assert!(set_user(42, "alice"));
        let child = tracing::info_span!("child work");
        child.in_scope(|| tracing::info!("in a child span"));
    });
    assert!(!set_user(1, "outside"));
    tracing::info!("outside");
    let events = sdk.events();

    let child_event = only(&events, "in a child span");
    assert_eq!(child_event.get_str(fields::REQUEST_ID), Some("req-123"));
    assert_eq!(
        child_event.get_str(fields::TRACE_ID),
        Some("0af7651916cd43dd8448eb211c80319c")
    );
    let span_id = child_event.get_str(fields::SPAN_ID).unwrap();
    assert_eq!(span_id.len(), 16);
    assert_ne!(
        span_id, "b7ad6b7169203331",
        "a new span id, not the caller's"
    );
    assert_eq!(
        child_event.get_str(fields::ENDPOINT_SIGNATURE),
        Some("POST /api/signup/")
    );
    assert_eq!(child_event.get_str(fields::USER_ID), Some("42"));
    assert_eq!(child_event.get_str(fields::USER_NAME), Some("alice"));

    let outside = only(&events, "outside");
    assert_eq!(outside.get(fields::REQUEST_ID), None);
    assert_eq!(outside.get(fields::USER_ID), None);
}

#[test]
fn database_operation_fields() {
    let sdk = capture_with(|builder| builder.slow_query_threshold(Duration::from_millis(50)));
    DatabaseOperation::start("USER_CREATE", "USER", DbAction::Create)
        .field("username", "alice")
        .field("attempt", 2)
        .finish(1);
    log_database_operation("USER_LIST", "USER", DbAction::Read)
        .duration(Duration::from_millis(120))
        .finish(25);
    let failing = log_database_operation("USER_DELETE", "USER", DbAction::Delete);
    failing.fail(&std::io::Error::other("foreign key violation"));
    drop(log_database_operation(
        "USER_UPDATE",
        "USER",
        DbAction::Update,
    ));
    let events = sdk.events();

    let created = only(&events, "database USER_CREATE on USER");
    assert_eq!(created.log_category(), Some(LogCategory::Database));
    assert_eq!(created.level(), Some(Level::Info));
    assert_eq!(created.get_str(fields::DB_OPERATION), Some("USER_CREATE"));
    assert_eq!(created.get_str(fields::DB_ENTITY), Some("USER"));
    assert_eq!(created.get_str(fields::DB_ACTION), Some("create"));
    assert_eq!(created.get(fields::ROWS_AFFECTED), Some(&json!(1)));
    assert_eq!(created.get(fields::SLOW_QUERY), Some(&json!(false)));
    assert!(created.get(fields::DURATION_MS).unwrap().as_f64().unwrap() < 50.0);
    assert_eq!(created.get_str(fields::USERNAME), Some("alice"));
    assert_eq!(created.get("attempt"), Some(&json!(2)));
    assert_eq!(created.get(fields::DB_ERROR), None);

    let slow = only(&events, "slow database USER_LIST on USER");
    assert_eq!(slow.level(), Some(Level::Warning));
    assert_eq!(slow.get(fields::SLOW_QUERY), Some(&json!(true)));
    assert_eq!(slow.get(fields::DURATION_MS), Some(&json!(120.0)));
    assert_eq!(slow.get_str(fields::DB_ACTION), Some("read"));

    let failed = only(&events, "database USER_DELETE on USER failed");
    assert_eq!(failed.level(), Some(Level::Error));
    assert_eq!(
        failed.get_str(fields::DB_ERROR),
        Some("foreign key violation")
    );
    assert_eq!(failed.get(fields::ROWS_AFFECTED), None);

    let dropped = only(&events, "database USER_UPDATE on USER failed");
    assert_eq!(dropped.level(), Some(Level::Warning));
    assert_eq!(
        dropped.get_str(fields::DB_ERROR),
        Some("operation dropped before finish or fail")
    );
}

#[test]
fn database_operation_keeps_the_context_it_started_in() {
    let sdk = capture();
    let operation = RequestSpan::new()
        .request_id("req-db")
        .start()
        .in_scope(|| DatabaseOperation::start("ORDER_READ", "ORDER", DbAction::Read));
    operation.finish(0);
    let events = sdk.events();
    let event = only(&events, "database ORDER_READ on ORDER");
    assert_eq!(event.get_str(fields::REQUEST_ID), Some("req-db"));
    assert_eq!(event.log_category(), Some(LogCategory::Database));
}

#[test]
fn user_action_fields() {
    let sdk = capture();
    log_user_action(UserAction::UserCreated)
        .user(42, "alice")
        .target_entity("USER")
        .session_id("s-1")
        .field("plan", "pro")
        .emit();
    log_user_action("INVOICE_PAID").user_id(7).emit();
    let events = sdk.events();

    let created = only(&events, "user action USER_CREATED");
    assert_eq!(created.log_category(), Some(LogCategory::Audit));
    assert_eq!(created.level(), Some(Level::Info));
    assert_eq!(created.get_str(fields::USER_ACTION), Some("USER_CREATED"));
    assert_eq!(created.get_str(fields::USER_ID), Some("42"));
    assert_eq!(created.get_str(fields::USER_NAME), Some("alice"));
    assert_eq!(created.get(fields::SUCCESS), Some(&json!(true)));
    assert_eq!(created.get_str(fields::TARGET_ENTITY), Some("USER"));
    assert_eq!(created.get_str(fields::SESSION_ID), Some("s-1"));
    assert_eq!(created.get_str("plan"), Some("pro"));

    let custom = only(&events, "user action INVOICE_PAID");
    assert_eq!(custom.get_str(fields::USER_ID), Some("7"));
    assert_eq!(custom.get(fields::USER_NAME), None);
}

#[test]
fn authentication_event_fields() {
    let sdk = capture();
    let client = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
    log_authentication_event(AuthEvent::LoginSuccess)
        .user(42, "alice")
        .client_ip(client)
        .session_id("s-9")
        .emit();
    log_authentication_event(AuthEvent::LoginFailed {
        reason: "invalid_password".into(),
    })
    .user_name("mallory")
    .client_ip(client)
    .emit();
    log_authentication_event(AuthEvent::Logout {
        session_duration: Some(Duration::from_secs(90)),
    })
    .user(42, "alice")
    .emit();
    log_authentication_event(AuthEvent::AccountLocked {
        reason: "too_many_attempts".into(),
    })
    .emit();
    let events = sdk.events();

    let success = only(&events, "authentication LOGIN_SUCCESS");
    assert_eq!(success.log_category(), Some(LogCategory::Audit));
    assert_eq!(success.get_str(fields::USER_ACTION), Some("LOGIN_SUCCESS"));
    assert_eq!(success.get(fields::SUCCESS), Some(&json!(true)));
    assert_eq!(success.get_str(fields::CLIENT_IP), Some("203.0.113.7"));
    assert_eq!(success.get_str(fields::SESSION_ID), Some("s-9"));
    assert_eq!(success.level(), Some(Level::Info));

    let failed = only(&events, "authentication LOGIN_FAILED");
    assert_eq!(failed.get(fields::SUCCESS), Some(&json!(false)));
    assert_eq!(failed.get_str(fields::REASON), Some("invalid_password"));
    assert_eq!(failed.get_str(fields::USER_NAME), Some("mallory"));
    assert_eq!(failed.get(fields::USER_ID), None);
    assert_eq!(failed.level(), Some(Level::Warning));

    let logout = only(&events, "authentication LOGOUT");
    assert_eq!(
        logout.get(fields::SESSION_DURATION_MS),
        Some(&json!(90_000))
    );

    let locked = only(&events, "authentication ACCOUNT_LOCKED");
    assert_eq!(locked.get_str(fields::REASON), Some("too_many_attempts"));
    assert_eq!(locked.get(fields::SUCCESS), Some(&json!(false)));
}

#[test]
fn audit_events_default_to_the_request_user_and_client() {
    let sdk = capture();
    RequestSpan::new()
        .client_ip(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4)))
        .start()
        .in_scope(|| {
            set_user("u-1", "bob");
            log_user_action(UserAction::ProfileUpdated).emit();
        });
    let events = sdk.events();
    let event = only(&events, "user action PROFILE_UPDATED");
    assert_eq!(event.get_str(fields::USER_ID), Some("u-1"));
    assert_eq!(event.get_str(fields::USER_NAME), Some("bob"));
    assert_eq!(event.get_str(fields::CLIENT_IP), Some("198.51.100.4"));
    assert!(event.get_str(fields::REQUEST_ID).is_some());
    assert_eq!(event.log_category(), Some(LogCategory::Audit));
}

#[test]
fn sensitive_values_are_redacted_everywhere() {
    let sdk = capture_with(|builder| builder.redact_keys(["ssn"]));
    tracing::info!(
        password = "hunter2",
        user_password = "hunter3",
        x_api_key = "k-123",
        authorization = "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        customer_ssn = "078-05-1120",
        card = "4111 1111 1111 1111",
        header = "Bearer abcDEF1234567890",
        safe = "nothing to see",
        "charging card 5555555555554444 for user with token=abc123"
    );
    log_database_operation("PAYMENT", "CARD", DbAction::Create)
        .field("api_key", "secret-value")
        .field("card_number", 4_111_111_111_111_111_u64)
        .finish(1);
    log_database_operation("LOGIN", "USER", DbAction::Read)
        .fail(&"rejected token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl");
    let events = sdk.events();

    let charged = only(
        &events,
        "charging card [REDACTED] for user with token=[REDACTED]",
    );
    for key in [
        "password",
        "user_password",
        "x_api_key",
        "authorization",
        "customer_ssn",
        "card",
        "header",
    ] {
        assert_eq!(charged.get_str(key), Some(REDACTED), "{key}");
    }
    assert_eq!(charged.get_str("safe"), Some("nothing to see"));

    let payment = only(&events, "database PAYMENT on CARD");
    assert_eq!(payment.get_str("api_key"), Some(REDACTED));
    assert_eq!(payment.get_str("card_number"), Some(REDACTED));

    let login = only(&events, "database LOGIN on USER failed");
    assert_eq!(
        login.get_str(fields::DB_ERROR),
        Some("rejected token [REDACTED]")
    );
}

#[test]
fn redaction_can_be_turned_off() {
    let sdk = capture_with(|builder| builder.redaction(false));
    tracing::info!(password = "hunter2", "plain");
    let events = sdk.events();
    assert_eq!(only(&events, "plain").get_str("password"), Some("hunter2"));
}

#[test]
fn levels_below_the_configured_one_are_not_sent() {
    let sdk = capture_with(|builder| builder.level("warning").unwrap());
    tracing::debug!("debug");
    tracing::info!("info");
    tracing::warn!("warn");
    log_database_operation("FAST", "ROW", DbAction::Read).finish(1);
    log_authentication_event(AuthEvent::LoginFailed {
        reason: "unknown_user".into(),
    })
    .emit();
    // The request span is enabled whatever the level, so warnings inside keep their context.
    RequestSpan::new()
        .request_id("kept")
        .start()
        .in_scope(|| tracing::warn!("warn in request"));
    let events = sdk.events();
    let messages: Vec<&str> = events.iter().filter_map(Event::message).collect();
    assert_eq!(
        messages,
        ["warn", "authentication LOGIN_FAILED", "warn in request"]
    );
    assert_eq!(
        only(&events, "warn in request").get_str(fields::REQUEST_ID),
        Some("kept")
    );
}

#[test]
fn filter_directives_are_accepted() {
    let sdk = capture_with(|builder| builder.level("info,events::noisy=error").unwrap());
    tracing::info!("kept");
    tracing::info!(target: "events::noisy", "dropped");
    tracing::error!(target: "events::noisy", "kept error");
    let events = sdk.events();
    let messages: Vec<&str> = events.iter().filter_map(Event::message).collect();
    assert_eq!(messages, ["kept", "kept error"]);
}

#[test]
fn ready_made_events_are_completed_and_sent() {
    let sdk = capture();
    logfleet_sdk::emit(
        Event::new(LogCategory::Performance, Level::Info, "pool sample")
            .with(fields::DB_POOL_IN_USE, 7)
            .with("nested", json!({"token": "abc", "ok": 1})),
    );
    sdk.guard
        .emit(Event::default().with(fields::MESSAGE, "bare"));
    let events = sdk.events();
    let pool = only(&events, "pool sample");
    assert_eq!(pool.log_category(), Some(LogCategory::Performance));
    assert_eq!(pool.get(fields::DB_POOL_IN_USE), Some(&json!(7)));
    assert_eq!(
        pool.get("nested"),
        Some(&json!({"token": REDACTED, "ok": 1}))
    );
    let bare = only(&events, "bare");
    assert_eq!(bare.level(), Some(Level::Info));
    assert_eq!(bare.log_category(), Some(LogCategory::ApiRequest));
}

#[test]
fn performance_samples_report_process_and_request_figures() {
    let sdk = capture_with(|builder| builder.performance_interval(Some(Duration::from_millis(50))));
    std::thread::sleep(Duration::from_millis(200));
    let events = sdk.events();
    let sample = events
        .iter()
        .find(|event| event.message() == Some("performance sample"))
        .expect("a performance sample");
    assert_eq!(sample.log_category(), Some(LogCategory::Performance));
    assert_eq!(sample.get(fields::OPEN_CONNECTIONS), Some(&json!(0)));
    assert_eq!(sample.get(fields::REQUESTS_PER_MINUTE), Some(&json!(0.0)));
    assert_eq!(
        sample.get(fields::DURATION_MS_P50),
        None,
        "no requests, no percentiles"
    );
    if cfg!(target_os = "linux") {
        assert!(sample.get(fields::CPU_PERCENT).unwrap().is_number());
        assert!(
            sample
                .get(fields::MEMORY_RSS_BYTES)
                .unwrap()
                .as_u64()
                .unwrap()
                > 0
        );
    }
}

#[test]
fn helpers_without_an_sdk_do_nothing() {
    // No subscriber with the SDK: nothing to send to, nothing panics.
    log_user_action(UserAction::UserDeleted).emit();
    log_database_operation("X", "Y", DbAction::Read).finish(0);
    assert!(!set_user(1, "nobody"));
    assert!(logfleet_sdk::handle().is_none());
}
