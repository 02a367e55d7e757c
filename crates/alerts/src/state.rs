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
    /// A firing alert's condition no longer holds.
    Resolved,
    /// A pending alert's condition stopped holding before `for`: nothing was notified.
    Cleared,
    /// The alert has started or stopped firing too often: it flaps, and is notified less.
    Flapping,
    /// A flapping alert changes seldom enough again.
    Settled,
}

impl Transition {
    /// The state name events carry.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Pending => "pending",
            Transition::Firing => "firing",
            Transition::Resolved => "resolved",
            Transition::Cleared => "inactive",
            Transition::Flapping => "flapping",
            Transition::Settled => "settled",
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
    /// When it last fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_ms: Option<i64>,
    /// When it last resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_ms: Option<i64>,
    /// The measure at the last evaluation.
    #[serde(default)]
    pub value: Option<f64>,
    /// When it was last evaluated.
    pub evaluated_ms: i64,
    /// Whether receivers were last told that it fires (what they believe, which a silence,
    /// grouping or flapping can keep behind what is).
    #[serde(default)]
    pub told_firing: bool,
    /// When receivers were last told of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told_ms: Option<i64>,
    /// When it started or stopped firing, within the rule's flapping window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes_ms: Vec<i64>,
    /// Whether it flaps.
    #[serde(default)]
    pub flapping: bool,
    /// Whether receivers were told that it flaps (once, when it started).
    #[serde(default)]
    pub told_flapping: bool,
}

/// What receivers are to be told of an alert at a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tell {
    /// It fires (and they do not know, or the rule's `repeat` has passed).
    Firing,
    /// It no longer fires.
    Resolved,
    /// It flaps; `firing` is how it stands.
    Flapping {
        /// Whether it fires now.
        firing: bool,
    },
}

impl Tell {
    /// Whether the alert fires, as told.
    pub fn firing(self) -> bool {
        match self {
            Tell::Firing => true,
            Tell::Resolved => false,
            Tell::Flapping { firing } => firing,
        }
    }
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
            resolved_ms: None,
            value: None,
            evaluated_ms: 0,
            told_firing: false,
            told_ms: None,
            changes_ms: Vec::new(),
            flapping: false,
            told_flapping: false,
        }
    }

    /// Takes an evaluation's outcome; returns the change it makes, if any.
    pub fn step(
        &mut self,
        holds: bool,
        value: Option<f64>,
        now_ms: i64,
        hold: Duration,
    ) -> Option<Transition> {
        self.value = value;
        self.evaluated_ms = now_ms;
        match (self.phase, holds) {
            (Phase::Inactive, true) => {
                self.active_since_ms = Some(now_ms);
                if hold.is_zero() {
                    Some(self.fire(now_ms))
                } else {
                    self.phase = Phase::Pending;
                    Some(Transition::Pending)
                }
            }
            (Phase::Pending, true) => {
                let since = self.active_since_ms.unwrap_or(now_ms);
                (now_ms - since >= hold.as_millis() as i64).then(|| self.fire(now_ms))
            }
            (Phase::Pending, false) => {
                self.phase = Phase::Inactive;
                self.active_since_ms = None;
                Some(Transition::Cleared)
            }
            (Phase::Firing, false) => {
                self.phase = Phase::Inactive;
                self.active_since_ms = None;
                self.resolved_ms = Some(now_ms);
                self.changes_ms.push(now_ms);
                Some(Transition::Resolved)
            }
            (Phase::Firing, true) | (Phase::Inactive, false) => None,
        }
    }

    fn fire(&mut self, now_ms: i64) -> Transition {
        self.phase = Phase::Firing;
        self.fired_ms = Some(now_ms);
        self.changes_ms.push(now_ms);
        Transition::Firing
    }

    /// Counts the changes within `window` of `now_ms`: the alert flaps from `changes` of
    /// them on, and settles at a third as many (so that it does not flap about flapping).
    /// `changes` 0 turns detection off.
    pub fn observe_flapping(
        &mut self,
        now_ms: i64,
        window: Duration,
        changes: u32,
    ) -> Option<Transition> {
        let since = now_ms - window.as_millis() as i64;
        self.changes_ms.retain(|&at| at > since);
        if changes == 0 {
            self.changes_ms.clear();
        }
        let count = self.changes_ms.len();
        let high = changes as usize;
        let low = high / 3;
        if !self.flapping && high > 0 && count >= high {
            self.flapping = true;
            Some(Transition::Flapping)
        } else if self.flapping && count <= low {
            self.flapping = false;
            self.told_flapping = false;
            Some(Transition::Settled)
        } else {
            None
        }
    }

    /// What receivers are to be told at `now_ms`, if anything: that it fires when they do
    /// not know (or `repeat` has passed since they were told), that it resolved when they
    /// believe it fires, once that it flaps, and nothing more while it does.
    pub fn news(&self, now_ms: i64, repeat: Duration) -> Option<Tell> {
        let firing = self.phase == Phase::Firing;
        if self.flapping {
            return (!self.told_flapping).then_some(Tell::Flapping { firing });
        }
        match (firing, self.told_firing) {
            (true, false) => Some(Tell::Firing),
            (false, true) => Some(Tell::Resolved),
            (true, true) => {
                let last = self.told_ms.unwrap_or(now_ms);
                (!repeat.is_zero() && now_ms - last >= repeat.as_millis() as i64)
                    .then_some(Tell::Firing)
            }
            (false, false) => None,
        }
    }

    /// Records that receivers were told `tell` at `now_ms`.
    pub fn told(&mut self, tell: Tell, now_ms: i64) {
        self.told_firing = tell.firing();
        self.told_ms = Some(now_ms);
        if matches!(tell, Tell::Flapping { .. }) {
            self.told_flapping = true;
        }
    }

    /// Whether the alert still needs keeping: it is active, receivers believe it fires, or
    /// its recent changes still count towards flapping.
    pub fn worth_keeping(&self) -> bool {
        self.phase != Phase::Inactive
            || self.told_firing
            || self.flapping
            || !self.changes_ms.is_empty()
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

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn for_holds_back_a_blip_and_resolution_follows_firing() {
        let hold = Duration::from_secs(120);
        let mut alert = Alert::new("r", BTreeMap::new());
        assert_eq!(
            alert.step(true, Some(9.0), 0, hold),
            Some(Transition::Pending)
        );
        assert_eq!(
            alert.step(false, Some(1.0), 60_000, hold),
            Some(Transition::Cleared)
        );
        assert_eq!(alert.phase, Phase::Inactive);
        assert_eq!(
            alert.step(true, Some(9.0), 120_000, hold),
            Some(Transition::Pending)
        );
        assert_eq!(alert.step(true, Some(9.0), 180_000, hold), None);
        assert_eq!(
            alert.step(true, Some(9.0), 240_000, hold),
            Some(Transition::Firing)
        );
        assert_eq!(alert.fired_ms, Some(240_000));
        assert_eq!(
            alert.step(true, Some(9.0), 300_000, hold),
            None,
            "fires once"
        );
        assert_eq!(
            alert.step(false, Some(0.0), 360_000, hold),
            Some(Transition::Resolved)
        );
        assert_eq!(
            alert.step(false, Some(0.0), 420_000, hold),
            None,
            "resolves once"
        );
    }

    #[test]
    fn without_for_an_alert_fires_at_once() {
        let mut alert = Alert::new("r", BTreeMap::new());
        assert_eq!(
            alert.step(true, Some(1.0), 5, Duration::ZERO),
            Some(Transition::Firing)
        );
    }

    #[test]
    fn receivers_hear_each_change_once_and_a_reminder_every_repeat() {
        let mut alert = Alert::new("r", BTreeMap::new());
        assert_eq!(alert.news(0, HOUR), None);
        alert.step(true, Some(1.0), 0, Duration::ZERO);
        assert_eq!(alert.news(0, HOUR), Some(Tell::Firing));
        alert.told(Tell::Firing, 0);
        assert_eq!(alert.news(3_599_999, HOUR), None);
        assert_eq!(
            alert.news(3_600_000, HOUR),
            Some(Tell::Firing),
            "a reminder"
        );
        assert_eq!(
            alert.news(3_600_000, Duration::ZERO),
            None,
            "repeat 0s: never"
        );
        alert.step(false, Some(0.0), 4_000_000, Duration::ZERO);
        assert_eq!(alert.news(4_000_000, HOUR), Some(Tell::Resolved));
        alert.told(Tell::Resolved, 4_000_000);
        assert_eq!(alert.news(4_000_000, HOUR), None);
        assert!(!alert.told_firing);
    }

    #[test]
    fn a_resolution_receivers_never_heard_the_firing_of_is_not_sent() {
        let mut alert = Alert::new("r", BTreeMap::new());
        alert.step(true, Some(1.0), 0, Duration::ZERO);
        alert.step(false, Some(0.0), 1000, Duration::ZERO);
        assert_eq!(alert.news(1000, HOUR), None);
    }

    #[test]
    fn an_alert_that_changes_too_often_flaps_is_told_once_and_settles() {
        let mut alert = Alert::new("r", BTreeMap::new());
        let minute = 60_000;
        let mut told = Vec::new();
        let mut flaps = Vec::new();
        for n in 0..12 {
            let at = n * minute;
            alert.step(n % 2 == 0, Some(1.0), at, Duration::ZERO);
            if let Some(change) = alert.observe_flapping(at, HOUR, 6) {
                flaps.push((n, change));
            }
            if let Some(tell) = alert.news(at, Duration::ZERO) {
                alert.told(tell, at);
                told.push((n, tell));
            }
        }
        assert_eq!(flaps, [(5, Transition::Flapping)]);
        assert_eq!(
            told,
            [
                (0, Tell::Firing),
                (1, Tell::Resolved),
                (2, Tell::Firing),
                (3, Tell::Resolved),
                (4, Tell::Firing),
                (5, Tell::Flapping { firing: false }),
            ],
            "told of each change until it flaps, then once that it does"
        );
        // Quiet and firing: an hour on, its changes are out of the window.
        alert.step(true, Some(1.0), 12 * minute, Duration::ZERO);
        alert.observe_flapping(12 * minute, HOUR, 6);
        assert_eq!(
            alert.news(12 * minute, Duration::ZERO),
            None,
            "still flapping"
        );
        assert_eq!(
            alert.observe_flapping(80 * minute, HOUR, 6),
            Some(Transition::Settled)
        );
        assert_eq!(
            alert.news(80 * minute, Duration::ZERO),
            Some(Tell::Firing),
            "once settled, receivers hear how it stands"
        );
        assert_eq!(alert.observe_flapping(81 * minute, HOUR, 0), None);
    }
}
