//! Rules evaluated against stored events with a controlled clock, notifying a real local
//! HTTP receiver: each condition fires and resolves when it should, `for` holds back a
//! blip, groups are alerts of their own, late events count, a failing receiver is retried,
//! and a restart neither repeats a notification nor loses a resolution.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Harness, MINUTE, NOON, Receiver, open, request, transitions};
use logfleet_alerts::state::Transition;
use logfleet_ingest::Event;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn an_error_rate_fires_per_service_after_for_and_resolves_once() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    let url = receiver.start().await;
    harness
        .alerts
        .put_rule(
            "error-rate",
            &json!({
                "name": "Error rate over 5%",
                "index": "logs-api_request-*",
                "condition": {"metric": "ratio", "numerator": "status_code:>=500", "op": ">", "threshold": 5},
                "window": "5m", "every": "1m", "for": "2m", "delay": "30s",
                "group_by": "app_name", "severity": "critical",
                "annotations": {"summary": "{{group.app_name}}: {{value}}% of requests failed"},
                "notify": [{"type": "webhook", "url": url}]
            }),
        )
        .unwrap();
    // user_service fails 1 in 5; access_postgresql never.
    let mut events = Vec::new();
    for second in 0..20 {
        let at = NOON - 3 * MINUTE + second * 1000;
        events.push(request(
            at,
            "user_service",
            if second % 5 == 0 { 503 } else { 200 },
            12.0,
        ));
        events.push(request(at, "access_postgresql", 200, 3.0));
    }
    harness.send(&events).await;

    let first = harness.alerts.evaluate("error-rate", NOON).await.unwrap();
    assert_eq!(
        transitions(&first),
        [("user_service".into(), Transition::Pending)]
    );
    assert!((first[0].alert.value.unwrap() - 20.0).abs() < 1e-9);
    let held = harness
        .alerts
        .evaluate("error-rate", NOON + MINUTE)
        .await
        .unwrap();
    assert!(held.is_empty(), "still pending");
    let fired = harness
        .alerts
        .evaluate("error-rate", NOON + 2 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        transitions(&fired),
        [("user_service".into(), Transition::Firing)]
    );
    let again = harness
        .alerts
        .evaluate("error-rate", NOON + 2 * MINUTE + 30_000)
        .await
        .unwrap();
    assert!(again.is_empty(), "fires once");
    assert_eq!(harness.alerts.active().len(), 1);

    let bodies = receiver.wait_for(1).await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["status"], "firing");
    assert_eq!(bodies[0]["version"], "2");
    assert_eq!(
        bodies[0]["alerts"][0]["group"],
        json!({"app_name": "user_service"})
    );
    assert_eq!(
        bodies[0]["alerts"][0]["annotations"]["summary"],
        "user_service: 20% of requests failed"
    );
    assert_eq!(bodies[0]["rule"]["id"], "error-rate");

    // Ten minutes on, the failing requests are out of the window: resolved, once.
    let resolved = harness
        .alerts
        .evaluate("error-rate", NOON + 10 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        transitions(&resolved),
        [("user_service".into(), Transition::Resolved)]
    );
    let bodies = receiver.wait_for(2).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["status"], "resolved");
    assert_eq!(bodies[1]["alerts"][0]["status"], "resolved");
    assert!(
        harness
            .alerts
            .evaluate("error-rate", NOON + 11 * MINUTE)
            .await
            .unwrap()
            .is_empty()
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = harness.history().await;
    let states: Vec<&str> = history
        .iter()
        .filter(|event| event["alert"].get("delivery").is_none())
        .map(|event| event["alert"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pending", "firing", "resolved"]);
    assert_eq!(history[1]["level"], "critical");
    let deliveries = history
        .iter()
        .filter(|event| event["alert"]["delivery"]["delivered"] == true)
        .count();
    assert_eq!(deliveries, 2, "{history:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_measures_what_it_says() {
    let harness = open(tempfile::tempdir().unwrap());
    let mut events = Vec::new();
    for n in 0..100 {
        events.push(request(
            NOON - 3 * MINUTE + n * 100,
            "user_service",
            200,
            n as f64 * 10.0,
        ));
    }
    // Twice as many as in the window before.
    for n in 0..50 {
        events.push(request(
            NOON - 8 * MINUTE + n * 100,
            "user_service",
            200,
            1.0,
        ));
    }
    events.push(request(NOON - 60 * MINUTE, "quiet_service", 200, 1.0));
    harness.send(&events).await;
    let cases = [
        (
            json!({"metric": "count", "op": ">=", "threshold": 100}),
            Some(100.0),
            true,
        ),
        (
            json!({"metric": "avg", "field": "duration_ms", "threshold": 400}),
            Some(495.0),
            true,
        ),
        (
            json!({"metric": "max", "field": "duration_ms", "threshold": 990}),
            Some(990.0),
            false,
        ),
        (
            json!({"metric": "min", "field": "duration_ms", "op": "<", "threshold": 1}),
            Some(0.0),
            true,
        ),
        (
            json!({"metric": "sum", "field": "duration_ms", "threshold": 1}),
            Some(49_500.0),
            true,
        ),
        (
            json!({"metric": "cardinality", "field": "app_name", "threshold": 1}),
            Some(1.0),
            false,
        ),
        (
            json!({"metric": "change", "op": ">=", "threshold": 2}),
            Some(2.0),
            true,
        ),
    ];
    for (position, (condition, value, holds)) in cases.into_iter().enumerate() {
        let id = format!("metric-{position}");
        harness
            .alerts
            .put_rule(&id, &json!({"name": id, "index": "logs-*", "condition": condition, "query": "app_name:user_service"}))
            .unwrap();
        let notices = harness.alerts.evaluate(&id, NOON).await.unwrap();
        assert_eq!(!notices.is_empty(), holds, "{condition}");
        if let Some(notice) = notices.first() {
            assert_eq!(notice.alert.value, value, "{condition}");
        }
    }
    // p95 of 0, 10, … 990 is near 950.
    harness
        .alerts
        .put_rule("p95", &json!({"name": "p95", "index": "logs-*", "condition": {"metric": "p95", "field": "duration_ms", "threshold": 900}, "query": "app_name:user_service"}))
        .unwrap();
    let notices = harness.alerts.evaluate("p95", NOON).await.unwrap();
    let p95 = notices[0].alert.value.unwrap();
    assert!((930.0..=960.0).contains(&p95), "{p95}");
    // A service seen today and silent for five minutes.
    harness
        .alerts
        .put_rule("silent", &json!({"name": "silent", "index": "logs-*", "condition": {"metric": "absence"}, "group_by": ["app_name"]}))
        .unwrap();
    let notices = harness.alerts.evaluate("silent", NOON).await.unwrap();
    assert_eq!(
        transitions(&notices),
        [("quiet_service".into(), Transition::Firing)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_event_still_fires_and_a_failing_receiver_is_retried() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    receiver.statuses.lock().unwrap().extend([500, 503]);
    let url = receiver.start().await;
    harness
        .alerts
        .put_rule(
            "burst",
            &json!({
                "name": "Brute force", "index": "logs-*",
                "condition": {"metric": "count", "op": ">=", "threshold": 3},
                "window": "5m", "every": "1m", "delay": "30s",
                "notify": [{"type": "alertmanager", "url": url}]
            }),
        )
        .unwrap();
    assert!(
        harness
            .alerts
            .evaluate("burst", NOON)
            .await
            .unwrap()
            .is_empty()
    );
    // Events from before that evaluation arrive only now.
    let late: Vec<Value> = (0..3)
        .map(|n| request(NOON - 2 * MINUTE + n, "user_service", 401, 1.0))
        .collect();
    harness.send(&late).await;
    let notices = harness
        .alerts
        .evaluate("burst", NOON + MINUTE)
        .await
        .unwrap();
    assert_eq!(transitions(&notices), [("-".into(), Transition::Firing)]);
    let bodies = receiver.wait_for(3).await;
    assert_eq!(bodies.len(), 3, "two failures, then delivered");
    assert_eq!(bodies[2]["version"], "4");
    assert_eq!(bodies[2]["status"], "firing");
    assert_eq!(bodies[2]["alerts"][0]["labels"]["alertname"], "Brute force");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts: Vec<Value> = harness
        .history()
        .await
        .into_iter()
        .filter_map(|event| event["alert"].get("delivery").cloned())
        .collect();
    assert_eq!(attempts.len(), 3, "every attempt recorded: {attempts:?}");
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[2]["delivered"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_neither_repeats_a_notification_nor_loses_a_resolution() {
    let directory = tempfile::tempdir().unwrap();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let harness = open(directory);
    harness
        .alerts
        .put_rule(
            "errors",
            &json!({"name": "Errors", "index": "logs-*", "query": {"range": {"status_code": {"gte": 500}}},
                    "condition": {"metric": "count", "op": ">", "threshold": 0},
                    "notify": [{"type": "slack", "url": url}]}),
        )
        .unwrap();
    harness
        .send(&[request(NOON - MINUTE, "user_service", 500, 1.0)])
        .await;
    let fired = harness.alerts.evaluate("errors", NOON).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(receiver.wait_for(1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let Harness {
        store, _directory, ..
    } = harness;
    store.shutdown().await.unwrap();
    let harness = open(_directory);
    assert_eq!(
        harness.alerts.active().len(),
        1,
        "the firing alert survives"
    );
    let still = harness
        .alerts
        .evaluate("errors", NOON + 30_000)
        .await
        .unwrap();
    assert!(still.is_empty(), "no second notification after the restart");
    let resolved = harness
        .alerts
        .evaluate("errors", NOON + 20 * MINUTE)
        .await
        .unwrap();
    assert_eq!(transitions(&resolved), [("-".into(), Transition::Resolved)]);
    let bodies = receiver.wait_for(2).await;
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING] Errors")
    );
    assert!(
        bodies[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("[RESOLVED] Errors")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_prebuilt_sla_rules_fire_on_the_seeds_events() {
    let harness = open(tempfile::tempdir().unwrap());
    assert_eq!(harness.alerts.install_prebuilt().unwrap(), 6);
    assert_eq!(
        harness.alerts.install_prebuilt().unwrap(),
        0,
        "installed once"
    );
    assert!(harness.alerts.delete_rule("slow-queries").unwrap());
    assert_eq!(
        harness.alerts.install_prebuilt().unwrap(),
        0,
        "a deleted one stays deleted"
    );
    // A brute-force burst from one address, and a service failing one request in four.
    let mut audit = Vec::new();
    for n in 0..12 {
        audit.push(Event {
            index: "logs-audit-default".into(),
            source: Bytes::from(
                json!({"@timestamp": logfleet_time::format_epoch_millis(NOON - 2 * MINUTE + n * 1000),
                       "app_name": "auth", "user_action": "LOGIN_FAILED", "client_ip": "203.0.113.9"})
                .to_string(),
            ),
        });
    }
    harness.ingest.write_events(audit).await;
    let requests: Vec<Value> = (0..40)
        .map(|n| {
            request(
                NOON - 3 * MINUTE + n * 1000,
                "user_service",
                if n % 4 == 0 { 500 } else { 200 },
                20.0,
            )
        })
        .collect();
    harness.send(&requests).await;

    let burst = harness.alerts.evaluate("brute-force", NOON).await.unwrap();
    assert_eq!(burst.len(), 1);
    assert_eq!(burst[0].transition, Transition::Firing);
    assert_eq!(burst[0].alert.group["client_ip"], "203.0.113.9");
    assert_eq!(
        burst[0].annotations()["summary"],
        "12 failed logins from 203.0.113.9 in 5 minutes"
    );
    let errors = harness
        .alerts
        .evaluate("sla-error-rate", NOON)
        .await
        .unwrap();
    assert_eq!(
        transitions(&errors),
        [("user_service".into(), Transition::Pending)]
    );
    assert_eq!(errors[0].alert.value, Some(25.0));
    let latency = harness
        .alerts
        .evaluate("sla-latency-p95", NOON)
        .await
        .unwrap();
    assert!(latency.is_empty(), "20 ms is within the SLA");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silence_suppresses_the_notifications_it_matches() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    let url = receiver.start().await;
    harness
        .alerts
        .put_rule(
            "errors",
            &json!({"name": "Errors", "index": "logs-*", "query": "status_code:>=500",
                    "condition": {"metric": "count", "threshold": 0}, "group_by": "app_name",
                    "notify": [{"type": "webhook", "url": url}]}),
        )
        .unwrap();
    let silence: logfleet_alerts::silence::Silence = serde_json::from_value(json!({
        "matchers": [{"name": "app_name", "value": "user_service"}],
        "ends_at_ms": NOON + 60 * MINUTE,
        "comment": "deploying user_service",
    }))
    .unwrap();
    let id = harness.alerts.put_silence(silence, NOON - MINUTE).unwrap();
    harness
        .send(&[
            request(NOON - MINUTE, "user_service", 500, 1.0),
            request(NOON - MINUTE, "auth", 500, 1.0),
        ])
        .await;
    let fired = harness.alerts.evaluate("errors", NOON).await.unwrap();
    assert_eq!(fired.len(), 2);
    let bodies = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bodies = if bodies.len() > 1 {
        bodies
    } else {
        receiver.bodies()
    };
    assert_eq!(bodies.len(), 1, "only the unsilenced group is notified");
    assert_eq!(bodies[0]["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(bodies[0]["alerts"][0]["group"]["app_name"], "auth");
    let history = harness.history().await;
    let silenced: Vec<&Value> = history
        .iter()
        .filter(|event| event["alert"]["silenced"] == true)
        .map(|event| &event["alert"]["group"]["app_name"])
        .collect();
    assert_eq!(silenced, [&json!("user_service")]);
    assert!(harness.alerts.delete_silence(&id).unwrap());
    assert!(harness.alerts.silences().unwrap().is_empty());
}
