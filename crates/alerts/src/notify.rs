//! Notifications: what each kind of receiver is sent when a rule's alerts fire, resolve or
//! flap, and the sending, with retries, each attempt recorded. A failing receiver never
//! holds back the others: every delivery is a task of its own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::rule::{Channel, Metric, Rule, metric_name};
use crate::state::{Alert, Tell, Transition};

/// Attempts per delivery, the first included.
pub const ATTEMPTS: u32 = 4;
/// The wait before the second attempt; it doubles for each one after.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One alert as receivers and the history describe it, in a given state.
struct Described<'a> {
    rule_id: &'a str,
    rule: &'a Rule,
    alert: &'a Alert,
    status: &'a str,
}

impl Described<'_> {
    fn group_text(&self) -> String {
        self.alert
            .group
            .iter()
            .map(|(field, value)| format!("{field}={}", plain(value)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn annotations(&self) -> BTreeMap<String, String> {
        self.rule
            .annotations
            .iter()
            .map(|(key, template)| (key.clone(), self.render(template)))
            .collect()
    }

    fn render(&self, template: &str) -> String {
        let mut text = template
            .replace("{{value}}", &self.value_text())
            .replace("{{threshold}}", &number(self.rule.condition.threshold))
            .replace("{{rule.name}}", &self.rule.name);
        for (field, value) in &self.alert.group {
            text = text.replace(&format!("{{{{group.{field}}}}}"), &plain(value));
        }
        text
    }

    fn value_text(&self) -> String {
        self.alert.value.map_or_else(|| "none".to_owned(), number)
    }

    fn headline(&self) -> String {
        let group = self.group_text();
        let group = if group.is_empty() {
            String::new()
        } else {
            format!(" ({group})")
        };
        let condition = &self.rule.condition;
        let comparison = match condition.metric {
            Metric::Absence => "no events in the window".to_owned(),
            _ => format!(
                "{} {} {} {}",
                metric_name(condition.metric),
                self.value_text(),
                condition.op.as_str(),
                number(condition.threshold)
            ),
        };
        format!(
            "[{}] {}{group}: {comparison}",
            self.status.to_uppercase(),
            self.rule.name
        )
    }

    fn labels(&self) -> BTreeMap<String, String> {
        labels(self.rule_id, self.rule, self.alert)
    }
}

/// The labels silences and Alertmanager's receivers match on: `alertname`, `severity`,
/// `rule_id`, the rule's labels and the group's values.
pub fn labels(rule_id: &str, rule: &Rule, alert: &Alert) -> BTreeMap<String, String> {
    let mut labels = rule.labels.clone();
    labels.insert("alertname".into(), rule.name.clone());
    labels.insert("severity".into(), rule.severity.clone());
    labels.insert("rule_id".into(), rule_id.to_owned());
    for (field, value) in &alert.group {
        labels.insert(field.clone(), plain(value));
    }
    labels
}

/// One alert's change, as the history records it.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The rule's id.
    pub rule_id: String,
    /// The rule.
    pub rule: Rule,
    /// The alert after the change.
    pub alert: Alert,
    /// The change.
    pub transition: Transition,
    /// When, epoch milliseconds.
    pub at_ms: i64,
}

impl Notice {
    fn described(&self) -> Described<'_> {
        Described {
            rule_id: &self.rule_id,
            rule: &self.rule,
            alert: &self.alert,
            status: self.transition.as_str(),
        }
    }

    /// `pending`, `firing`, `resolved`, `inactive`, `flapping` or `settled`.
    pub fn status(&self) -> &'static str {
        self.transition.as_str()
    }

    /// `app_name=checkout, host=web-1`, or empty for an ungrouped rule.
    pub fn group_text(&self) -> String {
        self.described().group_text()
    }

    /// The rule's annotations with `{{value}}`, `{{threshold}}`, `{{group.<field>}}` and
    /// `{{rule.name}}` filled in.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.described().annotations()
    }

    /// One line: `[FIRING] Error rate (app_name=checkout): ratio 7.5 > 5`.
    pub fn headline(&self) -> String {
        self.described().headline()
    }

    /// The alert's labels (see [`labels`]).
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.described().labels()
    }
}

/// What receivers are sent at once about a rule's alerts: each that fired, resolved or
/// started flapping since they last heard, or is repeated.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The rule's id.
    pub rule_id: String,
    /// The rule.
    pub rule: Rule,
    /// The alerts, each with what receivers are told of it.
    pub alerts: Vec<(Alert, Tell)>,
    /// When, epoch milliseconds.
    pub at_ms: i64,
}

impl Notification {
    /// `firing` when any of its alerts fires, else `resolved`.
    pub fn status(&self) -> &'static str {
        if self.alerts.iter().any(|(_, tell)| tell.firing()) {
            "firing"
        } else {
            "resolved"
        }
    }

    fn described<'a>(&'a self, alert: &'a Alert, tell: Tell) -> Described<'a> {
        Described {
            rule_id: &self.rule_id,
            rule: &self.rule,
            alert,
            status: match tell {
                Tell::Firing => "firing",
                Tell::Resolved => "resolved",
                Tell::Flapping { .. } => "flapping",
            },
        }
    }

    /// One line: an alert's own headline when there is one alert, else
    /// `[FIRING:2] Error rate (1 resolved)`.
    pub fn headline(&self) -> String {
        if let [(alert, tell)] = self.alerts.as_slice() {
            return self.described(alert, *tell).headline();
        }
        let firing = self.alerts.iter().filter(|(_, tell)| tell.firing()).count();
        let resolved = self.alerts.len() - firing;
        match (firing, resolved) {
            (0, resolved) => format!("[RESOLVED:{resolved}] {}", self.rule.name),
            (firing, 0) => format!("[FIRING:{firing}] {}", self.rule.name),
            (firing, resolved) => {
                format!("[FIRING:{firing}] {} ({resolved} resolved)", self.rule.name)
            }
        }
    }

    /// What a channel is sent.
    pub fn payload(&self, channel: &Channel) -> Payload {
        match channel {
            Channel::Webhook { url, template } => Payload::Json {
                url: url.clone(),
                body: match template {
                    Some(template) => self.fill(template),
                    None => self.webhook(),
                },
            },
            Channel::Slack { url } => Payload::Json {
                url: url.clone(),
                body: json!({"text": self.text()}),
            },
            Channel::Alertmanager { url } => Payload::Json {
                url: url.clone(),
                body: self.alertmanager(),
            },
            Channel::Email { to } => Payload::Email {
                to: to.clone(),
                subject: self.headline(),
                body: self.text(),
            },
        }
    }

    /// A user's webhook body: `template` with the placeholders of its strings filled in
    /// (keys stay as written; the result is JSON whatever the values hold).
    pub fn fill(&self, template: &Value) -> Value {
        match template {
            Value::String(text) => {
                let mut filled = text.clone();
                for (placeholder, value) in [
                    ("{{headline}}", self.headline()),
                    ("{{text}}", self.text()),
                    ("{{status}}", self.status().to_owned()),
                    ("{{count}}", self.alerts.len().to_string()),
                    ("{{at}}", iso(self.at_ms)),
                    ("{{rule.id}}", self.rule_id.clone()),
                    ("{{rule.name}}", self.rule.name.clone()),
                    ("{{rule.severity}}", self.rule.severity.clone()),
                ] {
                    if filled.contains(placeholder) {
                        filled = filled.replace(placeholder, &value);
                    }
                }
                Value::String(filled)
            }
            Value::Array(items) => Value::Array(items.iter().map(|item| self.fill(item)).collect()),
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.clone(), self.fill(value)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Logfleet's webhook body (documented in the README).
    pub fn webhook(&self) -> Value {
        let condition = &self.rule.condition;
        let alerts: Vec<Value> = self
            .alerts
            .iter()
            .map(|(alert, tell)| {
                let described = self.described(alert, *tell);
                json!({
                    "status": if tell.firing() { "firing" } else { "resolved" },
                    "flapping": matches!(tell, Tell::Flapping { .. }),
                    "group": alert.group,
                    "value": alert.value,
                    "labels": described.labels(),
                    "annotations": described.annotations(),
                    "headline": described.headline(),
                    "starts_at": alert.fired_ms.map(iso),
                    "ends_at": (!tell.firing()).then(|| iso(alert.resolved_ms.unwrap_or(self.at_ms))),
                })
            })
            .collect();
        json!({
            "version": "2",
            "status": self.status(),
            "headline": self.headline(),
            "rule": {
                "id": self.rule_id,
                "name": self.rule.name,
                "index": self.rule.index,
                "severity": self.rule.severity,
                "metric": metric_name(condition.metric),
                "op": condition.op.as_str(),
                "threshold": condition.threshold,
                "window": self.rule.window,
            },
            "alerts": alerts,
            "at": iso(self.at_ms),
        })
    }

    /// Plain text, for Slack and email: the headline, then a line per alert with its
    /// summary (or description) when the rule has one.
    pub fn text(&self) -> String {
        let mut lines = vec![self.headline()];
        for (alert, tell) in &self.alerts {
            let described = self.described(alert, *tell);
            let annotations = described.annotations();
            let summary = annotations
                .get("summary")
                .or_else(|| annotations.get("description"));
            if self.alerts.len() > 1 {
                lines.push(described.headline());
            }
            if let Some(summary) = summary {
                lines.push(summary.clone());
            }
        }
        lines.join("\n")
    }

    /// Alertmanager's webhook payload, version 4.
    pub fn alertmanager(&self) -> Value {
        let alerts: Vec<ShownAlert> = self
            .alerts
            .iter()
            .map(|(alert, tell)| {
                let described = self.described(alert, *tell);
                let (labels, annotations) = (described.labels(), described.annotations());
                let firing = tell.firing();
                let starts_at = alert
                    .fired_ms
                    .or(alert.active_since_ms)
                    .unwrap_or(self.at_ms);
                let ends_at = if firing {
                    "0001-01-01T00:00:00Z".to_owned()
                } else {
                    iso(alert.resolved_ms.unwrap_or(self.at_ms))
                };
                let shown = json!({
                    "status": if firing { "firing" } else { "resolved" },
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": iso(starts_at),
                    "endsAt": ends_at,
                    "generatorURL": "",
                    "fingerprint": fingerprint(&Alert::key(&self.rule_id, &alert.group)),
                });
                ShownAlert {
                    labels,
                    annotations,
                    shown,
                }
            })
            .collect();
        let group_labels: BTreeMap<String, String> =
            [("alertname".to_owned(), self.rule.name.clone())]
                .into_iter()
                .collect();
        json!({
            "version": "4",
            "groupKey": format!("{{}}:{{alertname=\"{}\"}}", self.rule.name),
            "truncatedAlerts": 0,
            "status": self.status(),
            "receiver": "logfleet",
            "groupLabels": group_labels,
            "commonLabels": common(alerts.iter().map(|alert| &alert.labels)),
            "commonAnnotations": common(alerts.iter().map(|alert| &alert.annotations)),
            "externalURL": "",
            "alerts": alerts.into_iter().map(|alert| alert.shown).collect::<Vec<_>>(),
        })
    }
}

/// One alert of an Alertmanager payload, with its labels and annotations.
struct ShownAlert {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    shown: Value,
}

/// The pairs every map has, as Alertmanager's `commonLabels`.
fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut shared = maps.next().cloned().unwrap_or_default();
    for map in maps {
        shared.retain(|key, value| map.get(key) == Some(value));
    }
    shared
}

fn iso(millis: i64) -> String {
    logfleet_time::format_epoch_millis(millis)
}

/// A value as text: strings without their quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A number without a needless fraction: `5`, `7.25`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{:.2}", value)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// Alertmanager's fingerprint is 16 hex digits; this is FNV-1a of the alert's key.
fn fingerprint(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// What one channel is sent.
#[derive(Debug, Clone)]
pub enum Payload {
    /// JSON posted to a URL.
    Json {
        /// Where.
        url: String,
        /// What.
        body: Value,
    },
    /// A plain-text email.
    Email {
        /// The recipients.
        to: Vec<String>,
        /// The subject line.
        subject: String,
        /// The text.
        body: String,
    },
}

/// One delivery attempt's outcome.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    /// The receiver's answer: an HTTP status, or an SMTP reply code.
    pub status: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Whether trying again may help.
    retryable: bool,
}

impl Attempt {
    /// Whether the receiver took it.
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// How the server sends email (`[alerts.smtp]`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port: 587 for `starttls`, 465 for `tls`, 25 for `none` unless said.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (the default), `tls` (implicit TLS, "SMTPS") or `none` (plain text, for a
    /// relay on the same machine).
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The user to log in as, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Its password (better given as `LOGFLEET_ALERTS__SMTP__PASSWORD`); never logged nor
    /// shown.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// The sender: `Logfleet <alerts@example.com>`.
    pub from: String,
    /// A PEM file of certificate authorities to trust besides the usual ones (for a server
    /// whose certificate a private authority signed).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain text upgraded with STARTTLS, which the server must offer.
    #[default]
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// No TLS at all.
    None,
}

/// A ready SMTP client and its sender address.
#[derive(Clone)]
struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Smtp")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Smtp {
    fn new(config: &SmtpConfig) -> Result<Smtp, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|error| format!("[alerts.smtp.from] [{}]: {error}", config.from))?;
        let tls = || -> Result<TlsParameters, String> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path).map_err(|error| {
                    format!("[alerts.smtp.ca_file] [{}]: {error}", path.display())
                })?;
                let certificate = Certificate::from_pem(&pem).map_err(|error| {
                    format!("[alerts.smtp.ca_file] [{}]: {error}", path.display())
                })?;
                builder = builder.add_root_certificate(certificate);
            }
            builder
                .build_rustls()
                .map_err(|error| format!("[alerts.smtp] TLS: {error}"))
        };
        let (tls, port) = match config.security {
            SmtpSecurity::Starttls => (Tls::Required(tls()?), 587),
            SmtpSecurity::Tls => (Tls::Wrapper(tls()?), 465),
            SmtpSecurity::None => (Tls::None, 25),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port.unwrap_or(port))
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some(username) = &config.username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                config.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Smtp {
            transport: builder.build(),
            from,
        })
    }

    async fn send(&self, to: &[String], subject: &str, body: &str) -> Result<u16, Attempt> {
        let fail = |error: String, retryable| Attempt {
            number: 0,
            status: None,
            error: Some(error),
            retryable,
        };
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for address in to {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|error| fail(format!("[{address}]: {error}"), false))?;
            message = message.to(mailbox);
        }
        let message = message
            .body(body.to_owned())
            .map_err(|error| fail(error.to_string(), false))?;
        match self.transport.send(message).await {
            Ok(response) => Ok(u16::from(response.code())),
            Err(error) => Err(Attempt {
                number: 0,
                status: error.status().map(u16::from),
                error: Some(error.to_string()),
                retryable: !error.is_permanent(),
            }),
        }
    }
}

/// Sends payloads over HTTP and SMTP.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    smtp: Option<Smtp>,
    first_retry: Duration,
}

impl Sender {
    /// A sender retrying after `first_retry`, then twice as long each time; it sends email
    /// when `smtp` says how.
    pub fn new(first_retry: Duration, smtp: Option<&SmtpConfig>) -> Result<Sender, String> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_default();
        Ok(Sender {
            client,
            smtp: smtp.map(Smtp::new).transpose()?,
            first_retry,
        })
    }

    /// Delivers `payload`, retrying what may pass later (HTTP 5xx and 429, SMTP's transient
    /// replies, connection failures); `record` sees every attempt.
    pub async fn deliver(&self, payload: &Payload, mut record: impl FnMut(Attempt)) -> bool {
        let mut wait = self.first_retry;
        for number in 1..=ATTEMPTS {
            let mut attempt = self.attempt(payload).await;
            attempt.number = number;
            let (delivered, retryable) = (attempt.delivered(), attempt.retryable);
            record(attempt);
            if delivered {
                return true;
            }
            if !retryable || number == ATTEMPTS {
                return false;
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        false
    }

    async fn attempt(&self, payload: &Payload) -> Attempt {
        match payload {
            Payload::Json { url, body } => {
                let sent = self
                    .client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(body).unwrap_or_default())
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        let status = response.status();
                        Attempt {
                            number: 0,
                            status: Some(status.as_u16()),
                            error: (!status.is_success())
                                .then(|| format!("the receiver answered {status}")),
                            retryable: status.as_u16() == 429 || status.is_server_error(),
                        }
                    }
                    Err(error) => Attempt {
                        number: 0,
                        status: None,
                        error: Some(error.to_string()),
                        retryable: true,
                    },
                }
            }
            Payload::Email { to, subject, body } => match &self.smtp {
                None => Attempt {
                    number: 0,
                    status: None,
                    error: Some("email needs the server's [alerts.smtp] settings".into()),
                    retryable: false,
                },
                Some(smtp) => match smtp.send(to, subject, body).await {
                    Ok(code) => Attempt {
                        number: 0,
                        status: Some(code),
                        error: None,
                        retryable: false,
                    },
                    Err(attempt) => attempt,
                },
            },
        }
    }
}
