//! Alert states, as Alertmanager's: per rule and group, inactive → pending (while the
//! condition has held for less than `for`) → firing → resolved (and inactive again).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The condition does not hold.
    Inactive,
    /// It holds, for less than the rule's `for` so far.
    Pending,
    /// It has held for `for`: notified.
    Firing,
}

/// What an evaluation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The condition began to hold; the alert waits for `for`.
    Pending,
    /// The alert fires.
    Firing,
    /// The alert still fires, `repeat` after it was last notified: receivers are reminded.
    Repeat,
    /// A firing alert's condition no longer holds.
    Resolved,
    /// A pending alert's condition stopped holding before `for`: nothing was notified.
    Cleared,
}

impl Transition {
    /// Whether receivers hear of it.
    pub fn notifies(self) -> bool {
        matches!(
            self,
            Transition::Firing | Transition::Repeat | Transition::Resolved
        )
    }

    /// The state name events and notifications carry.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Pending => "pending",
            Transition::Firing | Transition::Repeat => "firing",
            Transition::Resolved => "resolved",
            Transition::Cleared => "inactive",
        }
    }
}

/// One alert: a rule and one group of its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's id.
    pub rule: String,
    /// The group's `group_by` values.
    pub group: BTreeMap<String, Value>,
    /// Where it stands.
    pub phase: Phase,
    /// Since when the condition has held, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_since_ms: Option<i64>,
    /// When it fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_ms: Option<i64>,
    /// When receivers last heard that it fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_ms: Option<i64>,
    /// The measure at the last evaluation.
    #[serde(default)]
    pub value: Option<f64>,
    /// When it was last evaluated.
    pub evaluated_ms: i64,
}

impl Alert {
    /// An inactive alert of `rule` for `group`.
    pub fn new(rule: &str, group: BTreeMap<String, Value>) -> Alert {
        Alert {
            rule: rule.to_owned(),
            group,
            phase: Phase::Inactive,
            active_since_ms: None,
            fired_ms: None,
            notified_ms: None,
            value: None,
            evaluated_ms: 0,
        }
    }

    /// Takes an evaluation's outcome; returns the change it makes, if any. A firing alert
    /// is repeated to receivers once `repeat` has passed since they last heard of it.
    pub fn step(
        &mut self,
        holds: bool,
        value: Option<f64>,
        now_ms: i64,
        hold: Duration,
        repeat: Duration,
    ) -> Option<Transition> {
        self.value = value;
        self.evaluated_ms = now_ms;
        let held_long_enough = |since: i64| now_ms - since >= hold.as_millis() as i64;
        match (self.phase, holds) {
            (Phase::Inactive, true) => {
                self.active_since_ms = Some(now_ms);
                if hold.is_zero() {
                    self.fire(now_ms)
                } else {
                    self.phase = Phase::Pending;
                    Some(Transition::Pending)
                }
            }
            (Phase::Pending, true) => {
                let since = self.active_since_ms.unwrap_or(now_ms);
                if held_long_enough(since) {
                    self.fire(now_ms)
                } else {
                    None
                }
            }
            (Phase::Pending, false) => {
                self.phase = Phase::Inactive;
                self.active_since_ms = None;
                Some(Transition::Cleared)
            }
            (Phase::Firing, false) => {
                self.phase = Phase::Inactive;
                self.active_since_ms = None;
                Some(Transition::Resolved)
            }
            (Phase::Firing, true) => {
                let last = self.notified_ms.or(self.fired_ms).unwrap_or(now_ms);
                if !repeat.is_zero() && now_ms - last >= repeat.as_millis() as i64 {
                    self.notified_ms = Some(now_ms);
                    Some(Transition::Repeat)
                } else {
                    None
                }
            }
            (Phase::Inactive, false) => None,
        }
    }

    fn fire(&mut self, now_ms: i64) -> Option<Transition> {
        self.phase = Phase::Firing;
        self.fired_ms = Some(now_ms);
        self.notified_ms = Some(now_ms);
        Some(Transition::Firing)
    }

    /// The key of a rule's group among all alerts.
    pub fn key(rule: &str, group: &BTreeMap<String, Value>) -> String {
        format!(
            "{rule}\u{1f}{}",
            serde_json::to_string(group).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_holds_back_a_blip_and_resolution_follows_firing() {
        let hold = Duration::from_secs(120);
        let mut alert = Alert::new("r", BTreeMap::new());
        assert_eq!(
            alert.step(true, Some(9.0), 0, hold, Duration::ZERO),
            Some(Transition::Pending)
        );
        assert_eq!(
            alert.step(false, Some(1.0), 60_000, hold, Duration::ZERO),
            Some(Transition::Cleared)
        );
        assert_eq!(alert.phase, Phase::Inactive);
        assert_eq!(
            alert.step(true, Some(9.0), 120_000, hold, Duration::ZERO),
            Some(Transition::Pending)
        );
        assert_eq!(
            alert.step(true, Some(9.0), 180_000, hold, Duration::ZERO),
            None
        );
        assert_eq!(
            alert.step(true, Some(9.0), 240_000, hold, Duration::ZERO),
            Some(Transition::Firing)
        );
        assert_eq!(alert.fired_ms, Some(240_000));
        assert_eq!(
            alert.step(true, Some(9.0), 300_000, hold, Duration::ZERO),
            None,
            "fires once"
        );
        assert_eq!(
            alert.step(false, Some(0.0), 360_000, hold, Duration::ZERO),
            Some(Transition::Resolved)
        );
        assert_eq!(
            alert.step(false, Some(0.0), 420_000, hold, Duration::ZERO),
            None,
            "resolves once"
        );
    }

    #[test]
    fn without_for_an_alert_fires_at_once() {
        let mut alert = Alert::new("r", BTreeMap::new());
        assert_eq!(
            alert.step(true, Some(1.0), 5, Duration::ZERO, Duration::ZERO),
            Some(Transition::Firing)
        );
    }

    #[test]
    fn a_firing_alert_is_repeated_every_repeat_interval() {
        let repeat = Duration::from_secs(3600);
        let mut alert = Alert::new("r", BTreeMap::new());
        let mut step = |at: i64| alert.step(true, Some(1.0), at, Duration::ZERO, repeat);
        assert_eq!(step(0), Some(Transition::Firing));
        assert_eq!(step(3_599_999), None);
        assert_eq!(step(3_600_000), Some(Transition::Repeat));
        assert_eq!(step(3_660_000), None);
        assert_eq!(step(7_200_000), Some(Transition::Repeat));
        assert_eq!(Transition::Repeat.as_str(), "firing");
    }
}
