//! Notifications: what each kind of receiver is sent when an alert fires or resolves, and
//! the sending, with retries, each attempt recorded. A failing receiver never holds back
//! the others: every delivery is a task of its own.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::rule::{Channel, Rule, metric_name};
use crate::state::{Alert, Transition};

/// Attempts per delivery, the first included.
pub const ATTEMPTS: u32 = 4;
/// The wait before the second attempt; it doubles for each one after.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One alert's change, as receivers and the history see it.
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
    /// `firing` or `resolved` (or `pending`, `inactive` for the history).
    pub fn status(&self) -> &'static str {
        self.transition.as_str()
    }

    /// `app_name=checkout, host=web-1`, or empty for an ungrouped rule.
    pub fn group_text(&self) -> String {
        self.alert
            .group
            .iter()
            .map(|(field, value)| format!("{field}={}", plain(value)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The rule's annotations with `{{value}}`, `{{threshold}}`, `{{group.<field>}}` and
    /// `{{rule.name}}` filled in.
    pub fn annotations(&self) -> BTreeMap<String, String> {
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

    /// One line: `[FIRING] Error rate (app_name=checkout): 7.5 > 5`.
    pub fn headline(&self) -> String {
        let group = self.group_text();
        let group = if group.is_empty() {
            String::new()
        } else {
            format!(" ({group})")
        };
        let condition = &self.rule.condition;
        let comparison = match condition.metric {
            crate::rule::Metric::Absence => "no events in the window".to_owned(),
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
            self.status().to_uppercase(),
            self.rule.name
        )
    }

    fn iso(millis: i64) -> String {
        logfleet_store::format_epoch_millis(millis)
    }

    /// The labels Alertmanager's receivers match on: `alertname`, `severity`, the rule's
    /// labels and the group's values.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.rule.labels.clone();
        labels.insert("alertname".into(), self.rule.name.clone());
        labels.insert("severity".into(), self.rule.severity.clone());
        labels.insert("rule_id".into(), self.rule_id.clone());
        for (field, value) in &self.alert.group {
            labels.insert(field.clone(), plain(value));
        }
        labels
    }

    /// What a channel is sent.
    pub fn payload(&self, channel: &Channel) -> Value {
        match channel {
            Channel::Webhook { .. } => self.webhook(),
            Channel::Slack { .. } => json!({"text": self.slack_text()}),
            Channel::Alertmanager { .. } => self.alertmanager(),
        }
    }

    /// Logfleet's webhook body (documented in the README).
    pub fn webhook(&self) -> Value {
        let condition = &self.rule.condition;
        json!({
            "version": "1",
            "status": self.status(),
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
            "group": self.alert.group,
            "value": self.alert.value,
            "labels": self.labels(),
            "annotations": self.annotations(),
            "headline": self.headline(),
            "starts_at": self.alert.active_since_ms.or(self.alert.fired_ms).map(Self::iso),
            "fired_at": self.alert.fired_ms.map(Self::iso),
            "at": Self::iso(self.at_ms),
        })
    }

    fn slack_text(&self) -> String {
        let annotations = self.annotations();
        match annotations
            .get("summary")
            .or_else(|| annotations.get("description"))
        {
            Some(summary) => format!("{}\n{summary}", self.headline()),
            None => self.headline(),
        }
    }

    /// Alertmanager's webhook payload, version 4.
    pub fn alertmanager(&self) -> Value {
        let labels = self.labels();
        let annotations = self.annotations();
        let status = if self.transition == Transition::Resolved {
            "resolved"
        } else {
            "firing"
        };
        let starts_at = self
            .alert
            .fired_ms
            .or(self.alert.active_since_ms)
            .unwrap_or(self.at_ms);
        let ends_at = if status == "resolved" {
            Self::iso(self.at_ms)
        } else {
            "0001-01-01T00:00:00Z".to_owned()
        };
        let group_labels: BTreeMap<String, String> =
            [("alertname".to_owned(), self.rule.name.clone())]
                .into_iter()
                .collect();
        json!({
            "version": "4",
            "groupKey": format!("{{}}:{{alertname=\"{}\"}}", self.rule.name),
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "logfleet",
            "groupLabels": group_labels,
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": "",
            "alerts": [{
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": Self::iso(starts_at),
                "endsAt": ends_at,
                "generatorURL": "",
                "fingerprint": fingerprint(&Alert::key(&self.rule_id, &self.alert.group)),
            }],
        })
    }
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

/// One delivery attempt's outcome.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

impl Attempt {
    /// Whether the receiver took it (a 2xx answer).
    pub fn delivered(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// Sends notices over HTTP.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    first_retry: Duration,
}

impl Sender {
    /// A sender retrying after `first_retry`, then twice as long each time.
    pub fn new(first_retry: Duration) -> Sender {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_default();
        Sender {
            client,
            first_retry,
        }
    }

    /// Delivers `payload` to `url`, retrying 5xx, 429 and connection failures; `record`
    /// sees every attempt.
    pub async fn deliver(
        &self,
        url: &str,
        payload: &Value,
        mut record: impl FnMut(Attempt),
    ) -> bool {
        let mut wait = self.first_retry;
        for number in 1..=ATTEMPTS {
            let sent = self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(payload).unwrap_or_default())
                .send()
                .await;
            let attempt = match sent {
                Ok(response) => Attempt {
                    number,
                    status: Some(response.status().as_u16()),
                    error: (!response.status().is_success())
                        .then(|| format!("the receiver answered {}", response.status())),
                },
                Err(error) => Attempt {
                    number,
                    status: None,
                    error: Some(error.to_string()),
                },
            };
            let delivered = attempt.delivered();
            let retryable = match attempt.status {
                None => true,
                Some(status) => status == 429 || status >= 500,
            };
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
}
