//! Silences, as Alertmanager's: label matchers and a time span during which the
//! notifications of the alerts they match are not sent (the history still records the
//! changes, marked `silenced`).

use serde::{Deserialize, Serialize};

/// One silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    /// The labels an alert must have, all of them.
    pub matchers: Vec<Matcher>,
    /// When it starts, epoch milliseconds (now when absent).
    #[serde(default)]
    pub starts_at_ms: i64,
    /// When it ends, epoch milliseconds.
    pub ends_at_ms: i64,
    /// Why, for the next person.
    #[serde(default)]
    pub comment: String,
    /// Who.
    #[serde(default)]
    pub created_by: String,
}

/// A label matcher: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// The label (`alertname`, `severity`, `rule_id`, a `group_by` field, a rule label).
    pub name: String,
    /// The value, or a regular expression matched against the whole value.
    pub value: String,
    /// Whether `value` is a regular expression.
    #[serde(default, rename = "isRegex")]
    pub is_regex: bool,
    /// Whether the label must equal (match) the value, or not.
    #[serde(default = "yes", rename = "isEqual")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Silence {
    /// Checks the matchers and the time span.
    pub fn validate(&self) -> Result<(), String> {
        if self.matchers.is_empty() {
            return Err("a silence needs at least one matcher".into());
        }
        for matcher in &self.matchers {
            if matcher.name.is_empty() {
                return Err("a matcher needs a [name]".into());
            }
            if matcher.is_regex {
                regex::Regex::new(&format!("^(?:{})$", matcher.value)).map_err(|error| {
                    format!(
                        "matcher [{}] has an invalid regular expression: {error}",
                        matcher.name
                    )
                })?;
            }
        }
        if self.ends_at_ms <= self.starts_at_ms {
            return Err("a silence must end after it starts".into());
        }
        Ok(())
    }

    /// Whether it is in force at `now_ms`.
    pub fn active(&self, now_ms: i64) -> bool {
        self.starts_at_ms <= now_ms && now_ms < self.ends_at_ms
    }

    /// Whether an alert with these labels is silenced by it (at any time).
    pub fn matches(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|matcher| {
            let value = labels.get(&matcher.name).map_or("", String::as_str);
            let equal = if matcher.is_regex {
                regex::Regex::new(&format!("^(?:{})$", matcher.value))
                    .is_ok_and(|pattern| pattern.is_match(value))
            } else {
                value == matcher.value
            };
            equal == matcher.is_equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn matchers_all_hold_within_the_span() {
        let silence: Silence = serde_json::from_value(serde_json::json!({
            "matchers": [
                {"name": "alertname", "value": "Error rate.*", "isRegex": true},
                {"name": "app_name", "value": "user_service", "isEqual": false}
            ],
            "starts_at_ms": 100, "ends_at_ms": 200, "comment": "deploy"
        }))
        .unwrap();
        silence.validate().unwrap();
        assert!(silence.matches(&labels(&[
            ("alertname", "Error rate over 5%"),
            ("app_name", "auth")
        ])));
        assert!(!silence.matches(&labels(&[
            ("alertname", "Error rate over 5%"),
            ("app_name", "user_service")
        ])));
        assert!(!silence.matches(&labels(&[("alertname", "p95"), ("app_name", "auth")])));
        assert!(silence.active(150) && !silence.active(200) && !silence.active(99));
        let broken = Silence {
            matchers: vec![Matcher {
                name: "a".into(),
                value: "(".into(),
                is_regex: true,
                is_equal: true,
            }],
            starts_at_ms: 0,
            ends_at_ms: 1,
            comment: String::new(),
            created_by: String::new(),
        };
        assert!(
            broken
                .validate()
                .unwrap_err()
                .contains("invalid regular expression")
        );
    }
}
