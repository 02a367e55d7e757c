//! Alert rules as data: what to count or measure over which events, when that is a problem,
//! and whom to tell. A rule is JSON (the API), or the same keys in TOML (`[[alerts.rules]]`):
//!
//! ```json
//! {
//!   "name": "Error rate over 5%",
//!   "index": "logs-api_request-*",
//!   "query": "service_type:proxy_service",
//!   "condition": {"metric": "ratio", "numerator": {"range": {"status_code": {"gte": 500}}},
//!                 "op": ">", "threshold": 5},
//!   "window": "5m", "every": "1m", "for": "2m", "group_by": ["app_name"],
//!   "severity": "critical",
//!   "annotations": {"summary": "{{group.app_name}}: {{value}}% of requests failed"},
//!   "notify": [{"type": "webhook", "url": "http://127.0.0.1:9000/hook"}]
//! }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A rule, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// What people call it.
    pub name: String,
    /// The indexes or data streams it reads (`logs-*`).
    pub index: String,
    /// Which events count: a Query DSL object or a Lucene query string; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// When it is a problem.
    pub condition: Condition,
    /// The span of events each evaluation looks at (`5m`).
    #[serde(default = "default_window")]
    pub window: String,
    /// How often it is evaluated (`1m`).
    #[serde(default = "default_every")]
    pub every: String,
    /// How long the condition must hold before the alert fires (`0s`: at once).
    #[serde(default = "default_for", rename = "for")]
    pub for_: String,
    /// How far behind now each window ends, for events that arrive late (`30s`).
    #[serde(default = "default_delay")]
    pub delay: String,
    /// How often receivers are reminded of an alert that still fires (`4h`, Alertmanager's
    /// `repeat_interval`; `0s` for never).
    #[serde(default = "default_repeat", alias = "repeat_interval")]
    pub repeat: String,
    /// How long the first notification of a rule's alerts waits for more of them to join it
    /// (`0s`, Alertmanager's `group_wait`).
    #[serde(default = "default_group_wait")]
    pub group_wait: String,
    /// The least time between two notifications of a rule's alerts; changes in between wait
    /// and go together (`1m`, Alertmanager's `group_interval`).
    #[serde(default = "default_group_interval")]
    pub group_interval: String,
    /// When an alert counts as flapping, and is notified less.
    #[serde(default)]
    pub flapping: Flapping,
    /// One alert per value of these fields (`["app_name"]`); one alert in all when empty.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub group_by: Vec<String>,
    /// `critical`, `warning` or `info`.
    #[serde(default = "default_severity")]
    pub severity: String,
    /// Labels for silences and receivers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`…, with `{{group.<field>}}`, `{{value}}`, `{{threshold}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Where notifications go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<Channel>,
    /// A disabled rule is kept and not evaluated.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

/// An alert flaps when it has started or stopped firing `changes` times within `window`:
/// receivers are told once that it flaps, then hear nothing of it until it has changed no
/// more than a third as often over the window (it then settles, and they hear how it stands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flapping {
    /// The span changes are counted over (`1h`).
    #[serde(default = "default_flap_window")]
    pub window: String,
    /// How many changes make an alert flap (`6`; `0` turns flapping detection off).
    #[serde(default = "default_flap_changes")]
    pub changes: u32,
}

impl Default for Flapping {
    fn default() -> Flapping {
        Flapping {
            window: default_flap_window(),
            changes: default_flap_changes(),
        }
    }
}

/// What a rule measures and when that is a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The measure.
    pub metric: Metric,
    /// The field of `avg`, `max`, `min`, `sum`, the percentiles and `cardinality`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `ratio`: the events counted above the line (a Query DSL object or Lucene string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<Value>,
    /// `ratio`: the events below it; the rule's events when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Value>,
    /// The comparison (`>` unless said); not used by `absence`.
    #[serde(default = "default_op")]
    pub op: Op,
    /// The value compared with: a count, a field's unit, a percentage for `ratio`, a factor
    /// for `change`.
    #[serde(default)]
    pub threshold: f64,
}

/// The measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Matching events.
    Count,
    /// A field's mean.
    Avg,
    /// A field's largest value.
    Max,
    /// A field's smallest value.
    Min,
    /// A field's total.
    Sum,
    /// A field's median.
    P50,
    /// A field's 95th percentile.
    P95,
    /// A field's 99th percentile.
    P99,
    /// Distinct values of a field.
    Cardinality,
    /// `numerator` events as a percentage of `denominator` events.
    Ratio,
    /// No matching events in the window (per group: none of a group seen in the last day).
    Absence,
    /// The count against the window before it, as a factor (`2` is twice as many).
    Change,
}

/// Comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Above.
    #[serde(rename = ">")]
    Above,
    /// At or above.
    #[serde(rename = ">=")]
    AtLeast,
    /// Below.
    #[serde(rename = "<")]
    Below,
    /// At or below.
    #[serde(rename = "<=")]
    AtMost,
}

impl Op {
    /// Whether `value` compares so with `threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Above => value > threshold,
            Op::AtLeast => value >= threshold,
            Op::Below => value < threshold,
            Op::AtMost => value <= threshold,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Above => ">",
            Op::AtLeast => ">=",
            Op::Below => "<",
            Op::AtMost => "<=",
        }
    }
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Channel {
    /// Logfleet's JSON (see the README) posted to a URL, or the user's own body.
    Webhook {
        /// Where.
        url: String,
        /// The body to post instead of Logfleet's: any JSON, whose strings may hold
        /// `{{headline}}`, `{{text}}`, `{{status}}`, `{{count}}`, `{{at}}`, `{{rule.id}}`,
        /// `{{rule.name}}` and `{{rule.severity}}` (for PagerDuty, Teams, Discord…).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<Value>,
    },
    /// A Slack-compatible incoming webhook (`{"text": …}`).
    Slack {
        /// Where.
        url: String,
    },
    /// Alertmanager's webhook payload, version 4, so that its receivers work.
    Alertmanager {
        /// Where.
        url: String,
    },
    /// Email over SMTP (the server's `[alerts.smtp]` settings).
    Email {
        /// The recipients.
        #[serde(deserialize_with = "one_or_many")]
        to: Vec<String>,
    },
}

impl Channel {
    /// The channel's kind, as rules write it.
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Webhook { .. } => "webhook",
            Channel::Slack { .. } => "slack",
            Channel::Alertmanager { .. } => "alertmanager",
            Channel::Email { .. } => "email",
        }
    }

    /// Where it delivers: a URL, or `mailto:` the recipients.
    pub fn target(&self) -> String {
        match self {
            Channel::Webhook { url, .. }
            | Channel::Slack { url }
            | Channel::Alertmanager { url } => url.clone(),
            Channel::Email { to } => format!("mailto:{}", to.join(",")),
        }
    }
}

fn default_window() -> String {
    "5m".into()
}

fn default_every() -> String {
    "1m".into()
}

fn default_for() -> String {
    "0s".into()
}

fn default_delay() -> String {
    "30s".into()
}

fn default_repeat() -> String {
    "4h".into()
}

fn default_group_wait() -> String {
    "0s".into()
}

fn default_group_interval() -> String {
    "1m".into()
}

fn default_flap_window() -> String {
    "1h".into()
}

fn default_flap_changes() -> u32 {
    6
}

fn default_severity() -> String {
    "warning".into()
}

fn default_op() -> Op {
    Op::Above
}

fn enabled() -> bool {
    true
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// A rule's durations, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// `window`.
    pub window: Duration,
    /// `every`.
    pub every: Duration,
    /// `for`.
    pub hold: Duration,
    /// `delay`.
    pub delay: Duration,
    /// `repeat`.
    pub repeat: Duration,
    /// `group_wait`.
    pub group_wait: Duration,
    /// `group_interval`.
    pub group_interval: Duration,
    /// `flapping.window`.
    pub flap_window: Duration,
}

impl Rule {
    /// Parses and checks a rule from JSON; the error names the key at fault.
    pub fn parse(id: &str, body: &Value) -> Result<Rule, String> {
        let rule: Rule = serde_json::from_value(body.clone())
            .map_err(|error| format!("alert rule [{id}]: {error}"))?;
        rule.validate(id)?;
        Ok(rule)
    }

    /// Checks what serde cannot: durations, fields a metric needs, channel URLs, ids.
    pub fn validate(&self, id: &str) -> Result<(), String> {
        let prefix = |reason: String| format!("alert rule [{id}]: {reason}");
        let fail = |reason: String| Err(prefix(reason));
        if !valid_id(id) {
            return fail(
                "ids are 1 to 128 letters, digits, `-`, `_` and `.`, starting with a letter or digit"
                    .into(),
            );
        }
        if self.name.trim().is_empty() {
            return fail("[name] must not be empty".into());
        }
        if self.index.trim().is_empty() {
            return fail("[index] must not be empty".into());
        }
        let timing = self.timing().map_err(prefix)?;
        if timing.window.is_zero() || timing.every.is_zero() {
            return fail("[window] and [every] must be longer than 0s".into());
        }
        if timing.every < Duration::from_secs(1) {
            return fail("[every] must be at least 1s".into());
        }
        if !matches!(self.severity.as_str(), "critical" | "warning" | "info") {
            return fail(format!(
                "[severity] must be critical, warning or info, found [{}]",
                self.severity
            ));
        }
        if let Some(query) = &self.query {
            check_query(query, "query").map_err(prefix)?;
        }
        let condition = &self.condition;
        let needs_field = matches!(
            condition.metric,
            Metric::Avg
                | Metric::Max
                | Metric::Min
                | Metric::Sum
                | Metric::P50
                | Metric::P95
                | Metric::P99
                | Metric::Cardinality
        );
        if needs_field && condition.field.as_deref().is_none_or(str::is_empty) {
            return fail(format!(
                "[condition.field] is required for the [{}] metric",
                metric_name(condition.metric)
            ));
        }
        if condition.metric == Metric::Ratio {
            match &condition.numerator {
                Some(numerator) => check_query(numerator, "condition.numerator").map_err(prefix)?,
                None => return fail("[condition.numerator] is required for [ratio]".into()),
            }
            if let Some(denominator) = &condition.denominator {
                check_query(denominator, "condition.denominator").map_err(prefix)?;
            }
        }
        if !condition.threshold.is_finite() {
            return fail("[condition.threshold] must be a finite number".into());
        }
        for channel in &self.notify {
            match channel {
                Channel::Email { to } => {
                    if to.is_empty() {
                        return fail(
                            "an [email] channel needs at least one address in [to]".into(),
                        );
                    }
                    for address in to {
                        if address.parse::<lettre::Address>().is_err() {
                            return fail(format!("[{address}] is not an email address"));
                        }
                    }
                }
                Channel::Webhook { template, .. }
                    if template
                        .as_ref()
                        .is_some_and(|body| !(body.is_object() || body.is_array())) =>
                {
                    return fail("a webhook's [template] must be a JSON object or array".into());
                }
                Channel::Webhook { url, .. }
                | Channel::Slack { url }
                | Channel::Alertmanager { url } => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return fail(format!(
                            "notification URL [{url}] must be http:// or https://"
                        ));
                    }
                }
            }
        }
        for field in &self.group_by {
            if field.trim().is_empty() {
                return fail("[group_by] fields must not be empty".into());
            }
        }
        Ok(())
    }

    /// The rule's durations.
    pub fn timing(&self) -> Result<Timing, String> {
        let read = |key: &str, text: &str| {
            logfleet_store::parse_time_value(text).map_err(|error| format!("[{key}]: {error}"))
        };
        Ok(Timing {
            window: read("window", &self.window)?,
            every: read("every", &self.every)?,
            hold: read("for", &self.for_)?,
            delay: read("delay", &self.delay)?,
            repeat: read("repeat", &self.repeat)?,
            group_wait: read("group_wait", &self.group_wait)?,
            group_interval: read("group_interval", &self.group_interval)?,
            flap_window: read("flapping.window", &self.flapping.window)?,
        })
    }
}

/// The name of a metric as rules write it.
pub fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Count => "count",
        Metric::Avg => "avg",
        Metric::Max => "max",
        Metric::Min => "min",
        Metric::Sum => "sum",
        Metric::P50 => "p50",
        Metric::P95 => "p95",
        Metric::P99 => "p99",
        Metric::Cardinality => "cardinality",
        Metric::Ratio => "ratio",
        Metric::Absence => "absence",
        Metric::Change => "change",
    }
}

/// A query is a Query DSL object or a Lucene string; both must parse.
fn check_query(query: &Value, key: &str) -> Result<(), String> {
    match query {
        Value::String(text) => logfleet_query::parse_uri_query(text, None, None)
            .map(|_| ())
            .map_err(|error| format!("[{key}] is not a valid query string: {error}")),
        Value::Object(_) => logfleet_query::parse_query(query)
            .map(|_| ())
            .map_err(|error| format!("[{key}] is not a valid query: {error}")),
        _ => Err(format!(
            "[{key}] must be a Query DSL object or a query string"
        )),
    }
}

/// Rule ids: what a URL path segment and a file name can both hold.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphanumeric())
        && id.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_rule_parses_with_defaults() {
        let rule = Rule::parse(
            "error-rate",
            &json!({
                "name": "Error rate",
                "index": "logs-api_request-*",
                "query": "service_type:proxy_service",
                "condition": {"metric": "ratio", "numerator": {"range": {"status_code": {"gte": 500}}}, "threshold": 5},
                "group_by": "app_name",
                "notify": [{"type": "alertmanager", "url": "http://127.0.0.1:9093/api/v2/alerts"}]
            }),
        )
        .unwrap();
        assert_eq!(rule.group_by, ["app_name"]);
        assert_eq!(rule.condition.op, Op::Above);
        assert_eq!(rule.window, "5m");
        assert_eq!(rule.severity, "warning");
        let timing = rule.timing().unwrap();
        assert_eq!(timing.delay, Duration::from_secs(30));
        let alias = json!({"name": "n", "index": "logs-*", "repeat_interval": "2h",
                           "condition": {"metric": "count"}});
        assert_eq!(Rule::parse("r", &alias).unwrap().repeat, "2h");
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let base = json!({"name": "n", "index": "logs-*", "condition": {"metric": "count", "op": ">", "threshold": 1}});
        let cases = [
            (
                json!({"condition": {"metric": "avg"}}),
                "[condition.field] is required",
            ),
            (
                json!({"condition": {"metric": "ratio"}}),
                "[condition.numerator] is required",
            ),
            (
                json!({"condition": {"metric": "median"}}),
                "unknown variant `median`",
            ),
            (
                json!({"condition": {"metric": "count", "op": "=="}}),
                "unknown variant `==`",
            ),
            (json!({"window": "soon"}), "[window]"),
            (json!({"every": "0s"}), "must be longer than 0s"),
            (json!({"severity": "urgent"}), "[severity]"),
            (
                json!({"query": {"bogus": {}}}),
                "[query] is not a valid query",
            ),
            (
                json!({"notify": [{"type": "webhook", "url": "ftp://x"}]}),
                "must be http",
            ),
            (
                json!({"notify": [{"type": "pager"}]}),
                "unknown variant `pager`",
            ),
            (
                json!({"notify": [{"type": "email", "to": ["oncall"]}]}),
                "[oncall] is not an email address",
            ),
            (
                json!({"notify": [{"type": "email", "to": []}]}),
                "at least one address",
            ),
            (json!({"group_interval": "often"}), "[group_interval]"),
            (
                json!({"notify": [{"type": "webhook", "url": "http://x", "template": "text"}]}),
                "[template] must be a JSON object or array",
            ),
            (
                json!({"flapping": {"window": "1h", "flips": 3}}),
                "unknown field `flips`",
            ),
            (json!({"extra": 1}), "unknown field `extra`"),
        ];
        for (change, expected) in cases {
            let mut body = base.clone();
            for (key, value) in change.as_object().unwrap() {
                body[key] = value.clone();
            }
            let error = Rule::parse("r", &body).unwrap_err();
            assert!(error.contains(expected), "{change}: {error}");
            assert!(error.starts_with("alert rule [r]: "), "{error}");
        }
        assert!(Rule::parse("../etc", &base).is_err());
    }
}
