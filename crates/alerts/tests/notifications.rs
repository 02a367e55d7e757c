//! What receivers hear, with a controlled clock: a rule's news grouped by `group_wait` and
//! `group_interval`, a flapping alert told once and again when it settles, a silenced alert
//! told when its silence ends, and email through a local SMTP server over STARTTLS (with a
//! login) and over TLS.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use common::{Harness, MINUTE, NOON, Receiver, open, open_with, request};
use logfleet_alerts::Options;
use logfleet_alerts::notify::{SmtpConfig, SmtpSecurity};
use logfleet_alerts::state::Transition;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// `app`'s failed requests every 30 s over `[from, to)` minutes from noon.
fn failures(app: &str, from: i64, to: i64) -> Vec<Value> {
    (from * 2..to * 2)
        .map(|half| request(NOON + half * 30_000, app, 500, 1.0))
        .collect()
}

async fn rule(harness: &Harness, id: &str, body: Value) {
    let mut rule = json!({
        "name": "Errors", "index": "logs-*", "query": "status_code:>=500",
        "condition": {"metric": "count", "op": ">", "threshold": 0},
        "window": "1m", "every": "1m", "delay": "0s", "group_by": "app_name",
    });
    for (key, value) in body.as_object().unwrap() {
        rule[key] = value.clone();
    }
    harness.alerts.put_rule(id, &rule).unwrap();
}

/// Evaluates at each minute from noon in `minutes`, returning the changes.
async fn evaluate(harness: &Harness, id: &str, minutes: std::ops::Range<i64>) -> Vec<Transition> {
    let mut changes = Vec::new();
    for minute in minutes {
        let notices = harness
            .alerts
            .evaluate(id, NOON + minute * MINUTE)
            .await
            .unwrap();
        changes.extend(notices.iter().map(|notice| notice.transition));
    }
    changes
}

/// Waits for deliveries in flight, then returns every body received.
async fn settled(receiver: &Receiver) -> Vec<Value> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    receiver.bodies()
}

fn statuses(body: &Value) -> Vec<(String, String)> {
    body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alert| {
            (
                alert["group"]["app_name"].as_str().unwrap().to_owned(),
                alert["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn news_waits_for_group_wait_and_group_interval_and_goes_out_together() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    let url = receiver.start().await;
    rule(
        &harness,
        "errors",
        json!({"group_wait": "2m", "group_interval": "5m", "notify": [{"type": "webhook", "url": url}]}),
    )
    .await;
    let mut events = failures("user_service", -1, 3);
    events.extend(failures("auth", 0, 20));
    harness.send(&events).await;

    // user_service fires at noon, auth a minute later: one notification at 12:02 tells both.
    assert_eq!(
        evaluate(&harness, "errors", 0..2).await,
        [Transition::Firing, Transition::Firing]
    );
    assert!(
        settled(&receiver).await.is_empty(),
        "waiting for group_wait"
    );
    evaluate(&harness, "errors", 2..3).await;
    let bodies = receiver.wait_for(1).await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["headline"], "[FIRING:2] Errors");
    assert_eq!(
        statuses(&bodies[0]),
        [
            ("auth".to_owned(), "firing".to_owned()),
            ("user_service".to_owned(), "firing".to_owned())
        ]
    );

    // user_service resolves at 12:04; receivers hear it at 12:07, group_interval after 12:02.
    assert_eq!(
        evaluate(&harness, "errors", 3..7).await,
        [Transition::Resolved]
    );
    assert_eq!(settled(&receiver).await.len(), 1, "held for group_interval");
    evaluate(&harness, "errors", 7..8).await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["status"], "resolved");
    assert_eq!(
        statuses(&bodies[1]),
        [("user_service".to_owned(), "resolved".to_owned())]
    );
    assert!(bodies[1]["alerts"][0]["ends_at"].is_string());
    assert_eq!(settled(&receiver).await.len(), 2, "nothing else to tell");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flapping_alert_is_told_once_and_again_when_it_settles() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    let url = receiver.start().await;
    rule(
        &harness,
        "errors",
        json!({"group_interval": "0s", "flapping": {"window": "30m", "changes": 4},
               "notify": [{"type": "webhook", "url": url}]}),
    )
    .await;
    // Failures in every other minute for twenty minutes: fire, resolve, fire, resolve…
    let events: Vec<Value> = (0..10)
        .map(|k| request(NOON + 2 * k * MINUTE - 30_000, "auth", 500, 1.0))
        .collect();
    harness.send(&events).await;
    let changes = evaluate(&harness, "errors", 0..20).await;
    assert_eq!(
        changes[..5],
        [
            Transition::Firing,
            Transition::Resolved,
            Transition::Firing,
            Transition::Resolved,
            Transition::Flapping
        ]
    );
    assert_eq!(
        changes
            .iter()
            .filter(|change| **change == Transition::Firing)
            .count(),
        10,
        "every change is still recorded"
    );
    let bodies = settled(&receiver).await;
    let heard: Vec<(String, bool)> = bodies
        .iter()
        .map(|body| {
            (
                body["alerts"][0]["status"].as_str().unwrap().to_owned(),
                body["alerts"][0]["flapping"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        heard,
        [
            ("firing".to_owned(), false),
            ("resolved".to_owned(), false),
            ("firing".to_owned(), false),
            ("resolved".to_owned(), true),
        ],
        "three changes, then once that it flaps; not the sixteen after"
    );
    assert!(
        bodies[3]["alerts"][0]["headline"]
            .as_str()
            .unwrap()
            .starts_with("[FLAPPING] Errors")
    );

    // Quiet for half an hour: the alert settles, resolved, as receivers were last told.
    let changes = evaluate(&harness, "errors", 20..51).await;
    assert_eq!(changes.last(), Some(&Transition::Settled), "{changes:?}");
    assert_eq!(settled(&receiver).await.len(), 4);
    let history = harness.history().await;
    let flapping: Vec<&str> = history
        .iter()
        .filter(|event| {
            event["alert"]["state"] == "flapping" || event["alert"]["state"] == "settled"
        })
        .map(|event| event["alert"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(flapping, ["flapping", "settled"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silenced_alert_is_told_when_its_silence_ends() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    let url = receiver.start().await;
    rule(
        &harness,
        "errors",
        json!({"notify": [{"type": "slack", "url": url}]}),
    )
    .await;
    let silence = serde_json::from_value(json!({
        "matchers": [{"name": "alertname", "value": "Err.*", "isRegex": true}],
        "ends_at_ms": NOON + 3 * MINUTE,
    }))
    .unwrap();
    harness.alerts.put_silence(silence, NOON - MINUTE).unwrap();
    harness.send(&failures("auth", -1, 10)).await;
    assert_eq!(
        evaluate(&harness, "errors", 0..3).await,
        [Transition::Firing]
    );
    assert!(settled(&receiver).await.is_empty(), "silenced");
    evaluate(&harness, "errors", 3..5).await;
    let bodies = receiver.wait_for(1).await;
    assert_eq!(bodies.len(), 1, "told once the silence ended");
    assert!(
        bodies[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING] Errors (app_name=auth)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_template_shapes_the_body_for_another_receiver() {
    let harness = open(tempfile::tempdir().unwrap());
    let receiver = Receiver::default();
    let url = receiver.start().await;
    // PagerDuty's Events API v2, say.
    let template = json!({
        "routing_key": "R0UT1NG",
        "event_action": "trigger",
        "dedup_key": "logfleet-{{rule.id}}",
        "payload": {
            "summary": "{{headline}}",
            "severity": "{{rule.severity}}",
            "source": "logfleet",
            "custom_details": {"alerts": "{{count}}", "status": "{{status}}", "text": "{{text}}", "at": "{{at}}"},
        },
        "links": [{"href": "http://logfleet.example/_ui/alerts", "text": "{{rule.name}} \"quoted\""}],
    });
    rule(
        &harness,
        "errors",
        json!({"severity": "critical", "annotations": {"summary": "{{group.app_name}} is failing"},
               "notify": [{"type": "webhook", "url": url, "template": template}]}),
    )
    .await;
    harness.send(&failures("auth", -1, 1)).await;
    evaluate(&harness, "errors", 0..1).await;
    let bodies = receiver.wait_for(1).await;
    assert_eq!(
        bodies[0],
        json!({
            "routing_key": "R0UT1NG",
            "event_action": "trigger",
            "dedup_key": "logfleet-errors",
            "payload": {
                "summary": "[FIRING] Errors (app_name=auth): count 2 > 0",
                "severity": "critical",
                "source": "logfleet",
                "custom_details": {
                    "alerts": "1",
                    "status": "firing",
                    "text": "[FIRING] Errors (app_name=auth): count 2 > 0\nauth is failing",
                    "at": logfleet_time::format_epoch_millis(NOON),
                },
            },
            "links": [{"href": "http://logfleet.example/_ui/alerts", "text": "Errors \"quoted\""}],
        })
    );
}

/// One message an [`SmtpServer`] took.
#[derive(Debug, Clone, Default)]
struct Mail {
    /// Whether the session was encrypted when the message came.
    encrypted: bool,
    /// `user:password`, when the client logged in.
    login: Option<String>,
    recipients: Vec<String>,
    data: String,
}

/// A local SMTP server speaking just enough ESMTP for a real client: STARTTLS (or TLS from
/// the start), AUTH PLAIN, MAIL, RCPT, DATA.
#[derive(Clone)]
struct SmtpServer {
    mails: Arc<Mutex<Vec<Mail>>>,
    tls: tokio_rustls::TlsAcceptor,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl SmtpServer {
    fn new(certificate: &Path, key: &Path) -> SmtpServer {
        use rustls_pki_types::pem::PemObject;
        let chain = rustls_pki_types::CertificateDer::pem_file_iter(certificate)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        SmtpServer {
            mails: Arc::default(),
            tls: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// Listens on a free port; `implicit_tls` wraps each connection in TLS from the start.
    async fn start(&self, implicit_tls: bool) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    if implicit_tls {
                        let Ok(stream) = server.tls.accept(stream).await else {
                            return;
                        };
                        server.session(Box::new(stream), true).await;
                    } else {
                        server.session(Box::new(stream), false).await;
                    }
                });
            }
        });
        port
    }

    async fn session(&self, stream: Box<dyn Io>, mut encrypted: bool) {
        let mut reader = BufReader::new(stream);
        let mut mail = Mail::default();
        let _ = reader.get_mut().write_all(b"220 localhost ESMTP\r\n").await;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_owned();
            let verb = command
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            let answer: String = match verb.as_str() {
                "EHLO" | "HELO" if encrypted => {
                    "250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n".into()
                }
                "EHLO" | "HELO" => "250-localhost\r\n250-STARTTLS\r\n250 8BITMIME\r\n".into(),
                "STARTTLS" => {
                    let _ = reader.get_mut().write_all(b"220 ready for TLS\r\n").await;
                    let Ok(stream) = self.tls.accept(reader.into_inner()).await else {
                        return;
                    };
                    reader = BufReader::new(Box::new(stream) as Box<dyn Io>);
                    encrypted = true;
                    continue;
                }
                "AUTH" => {
                    let encoded = command.rsplit(' ').next().unwrap_or_default();
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .unwrap_or_default();
                    let parts: Vec<String> = decoded
                        .split(|byte| *byte == 0)
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect();
                    mail.login = Some(parts[1..].join(":"));
                    "235 2.7.0 accepted\r\n".into()
                }
                "MAIL" => "250 2.1.0 ok\r\n".into(),
                "RCPT" => {
                    mail.recipients
                        .push(command[8..].trim_matches(['<', '>', ' ']).to_owned());
                    "250 2.1.5 ok\r\n".into()
                }
                "DATA" => {
                    let _ = reader.get_mut().write_all(b"354 go ahead\r\n").await;
                    let mut data = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    mail.data = data;
                    mail.encrypted = encrypted;
                    self.mails.lock().unwrap().push(std::mem::take(&mut mail));
                    "250 2.0.0 queued\r\n".into()
                }
                "QUIT" => {
                    let _ = reader.get_mut().write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => "250 ok\r\n".into(),
            };
            if reader.get_mut().write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    async fn wait_for(&self, count: usize) -> Vec<Mail> {
        for _ in 0..100 {
            if self.mails.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.mails.lock().unwrap().clone()
    }
}

/// A self-signed certificate for `localhost`, made by openssl: (certificate, key).
fn certificate(directory: &Path) -> (PathBuf, PathBuf) {
    let (certificate, key) = (directory.join("cert.pem"), directory.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl makes the test's certificate");
    assert!(made.success());
    (certificate, key)
}

async fn email_round_trip(security: SmtpSecurity) {
    let directory = tempfile::tempdir().unwrap();
    let (certificate, key) = certificate(directory.path());
    let server = SmtpServer::new(&certificate, &key);
    let port = server.start(security == SmtpSecurity::Tls).await;
    let smtp: SmtpConfig = serde_json::from_value(json!({
        "host": "localhost",
        "port": port,
        "security": security,
        "username": "alerts",
        "password": "s3cret",
        "from": "Logfleet <alerts@example.com>",
        "ca_file": certificate,
    }))
    .unwrap();
    assert!(
        !format!("{smtp:?}").contains("s3cret"),
        "the password is never shown"
    );
    let harness = open_with(
        tempfile::tempdir().unwrap(),
        Options {
            smtp: Some(smtp),
            ..Options::default()
        },
    );
    rule(
        &harness,
        "errors",
        json!({"severity": "critical",
               "annotations": {"summary": "{{group.app_name}} failed {{value}} requests"},
               "notify": [{"type": "email", "to": ["oncall@example.com", "lead@example.com"]}]}),
    )
    .await;
    harness.send(&failures("auth", -1, 1)).await;
    evaluate(&harness, "errors", 0..1).await;
    let mails = server.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.encrypted);
    assert_eq!(mail.login.as_deref(), Some("alerts:s3cret"));
    assert_eq!(mail.recipients, ["oncall@example.com", "lead@example.com"]);
    assert!(
        mail.data
            .contains("Subject: [FIRING] Errors (app_name=auth): count 2 > 0"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("From: Logfleet <alerts@example.com>"));
    assert!(
        mail.data.contains("auth failed 2 requests"),
        "{}",
        mail.data
    );

    evaluate(&harness, "errors", 5..6).await;
    let mails = server.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].data.contains("Subject: [RESOLVED] Errors"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deliveries: Vec<Value> = harness
        .history()
        .await
        .into_iter()
        .filter_map(|event| event["alert"].get("delivery").cloned())
        .collect();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert_eq!(deliveries[0]["channel"], "email");
    assert_eq!(deliveries[0]["status"], 250);
    assert_eq!(
        deliveries[0]["target"],
        "mailto:oncall@example.com,lead@example.com"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn email_goes_over_starttls_with_a_login() {
    email_round_trip(SmtpSecurity::Starttls).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn email_goes_over_tls() {
    email_round_trip(SmtpSecurity::Tls).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn email_without_smtp_settings_fails_once_and_says_why() {
    let harness = open(tempfile::tempdir().unwrap());
    rule(
        &harness,
        "errors",
        json!({"notify": [{"type": "email", "to": "oncall@example.com"}]}),
    )
    .await;
    harness.send(&failures("auth", -1, 1)).await;
    evaluate(&harness, "errors", 0..1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deliveries: Vec<Value> = harness
        .history()
        .await
        .into_iter()
        .filter_map(|event| event["alert"].get("delivery").cloned())
        .collect();
    assert_eq!(deliveries.len(), 1, "not retried: {deliveries:?}");
    assert_eq!(deliveries[0]["delivered"], false);
    assert!(
        deliveries[0]["error"]
            .as_str()
            .unwrap()
            .contains("[alerts.smtp]")
    );
}
