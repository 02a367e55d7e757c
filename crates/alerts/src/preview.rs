//! A rule's preview: what it would have done over a past span ("this rule would have fired at
//! these times over the last 24 h"), computed from the stored events by evaluating it at
//! evenly spaced times and replaying its states, `for` included.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::evaluate::GroupResult;
use crate::rule::{Metric, Op, Rule, Timing, metric_name};
use crate::state::{Alert, Phase, Transition};

/// The most evaluations a preview runs: a day at five-minute steps.
pub const MAX_EVALUATIONS: i64 = 288;
/// The most groups whose measures a preview shows.
pub const MAX_SERIES: usize = 20;

/// What a rule would have done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    /// The first evaluation's time.
    pub from: String,
    /// The last evaluation's time.
    pub to: String,
    /// The time between two evaluations (`5m`).
    pub step: String,
    /// How many evaluations were run.
    pub evaluations: usize,
    /// The rule's measure.
    pub metric: &'static str,
    /// Its comparison.
    pub op: &'static str,
    /// Its threshold.
    pub threshold: f64,
    /// The measure of the groups that came nearest to or went furthest past the threshold,
    /// at each evaluation.
    pub series: Vec<Series>,
    /// Every span the rule would have been firing, per group, in time order.
    pub fired: Vec<Fired>,
}

/// One group's measure over the preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The `group_by` values.
    pub group: BTreeMap<String, Value>,
    /// `[epoch milliseconds, measure]` at each evaluation; `null` where there was nothing to
    /// measure.
    pub points: Vec<(i64, Option<f64>)>,
}

/// A span a group's alert would have fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    /// The `group_by` values.
    pub group: BTreeMap<String, Value>,
    /// When it would have fired.
    pub from: String,
    /// When it would have resolved; `null` when it would still be firing at the end.
    pub to: Option<String>,
    /// The worst measure while it fired.
    pub peak: Option<f64>,
}

/// The time between a preview's evaluations over `span_ms`: the rule's `every`, or the
/// next round step (`2m`, `5m`, `15m`…) that keeps them to at most [`MAX_EVALUATIONS`].
pub fn step(timing: &Timing, span_ms: i64) -> i64 {
    const ROUND: [i64; 17] = [
        1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ];
    let every = timing.every.as_millis() as i64;
    let spread = (span_ms.max(0) + MAX_EVALUATIONS - 1) / MAX_EVALUATIONS;
    let round = ROUND
        .iter()
        .map(|seconds| seconds * 1000)
        .find(|&step| step >= spread)
        .unwrap_or(spread);
    (every.max(round) + 999) / 1000 * 1000
}

/// The evaluation times in `[from_ms, to_ms]`: multiples of `step`, so that previewing the
/// same rule again asks the same searches (and the request cache answers them).
pub fn times(from_ms: i64, to_ms: i64, step: i64) -> Vec<i64> {
    let first = from_ms.div_euclid(step) * step + if from_ms % step == 0 { 0 } else { step };
    (0..)
        .map(|n| first + n * step)
        .take_while(|&at| at <= to_ms)
        .collect()
}

/// Replays a rule's states over its measures at `times`.
pub fn replay(
    rule: &Rule,
    timing: &Timing,
    step_ms: i64,
    times: &[i64],
    measured: Vec<Vec<GroupResult>>,
) -> Preview {
    let condition = &rule.condition;
    // A group missing from an evaluation had no events: a count of 0, else nothing.
    let absent = match condition.metric {
        Metric::Count | Metric::Absence => Some(0.0),
        _ => None,
    };
    let mut groups: BTreeMap<String, Replayed> = BTreeMap::new();
    for (index, results) in measured.into_iter().enumerate() {
        let at = times[index];
        let mut seen = Vec::with_capacity(results.len());
        for result in results {
            let key = Alert::key("", &result.group);
            let group = groups.entry(key.clone()).or_insert_with(|| Replayed {
                alert: Alert::new("", result.group.clone()),
                points: times[..index].iter().map(|&at| (at, absent)).collect(),
                fired: Vec::new(),
            });
            group.step(result.holds, result.value, at, timing.hold);
            seen.push(key);
        }
        for (key, group) in groups.iter_mut() {
            if !seen.contains(key) {
                let holds = condition.metric == Metric::Absence;
                group.step(holds, absent, at, timing.hold);
            }
        }
    }
    let margin = |value: f64| match condition.metric {
        Metric::Absence => -value,
        _ => match condition.op {
            Op::Above | Op::AtLeast => value - condition.threshold,
            Op::Below | Op::AtMost => condition.threshold - value,
        },
    };
    let mut ranked: Vec<&Replayed> = groups.values().collect();
    let score = |group: &Replayed| {
        let closest = group
            .points
            .iter()
            .filter_map(|(_, value)| value.map(margin))
            .fold(f64::NEG_INFINITY, f64::max);
        (group.fired.len(), closest)
    };
    ranked.sort_by(|a, b| {
        let (a, b) = (score(a), score(b));
        b.0.cmp(&a.0).then(b.1.total_cmp(&a.1))
    });
    let series = ranked
        .iter()
        .take(MAX_SERIES)
        .map(|group| Series {
            group: group.alert.group.clone(),
            points: group.points.clone(),
        })
        .collect();
    let mut fired: Vec<(i64, Fired)> = groups
        .values()
        .flat_map(|group| {
            group.fired.iter().map(|span| {
                let peak = group
                    .points
                    .iter()
                    .filter(|(at, _)| *at >= span.0 && span.1.is_none_or(|to| *at < to))
                    .filter_map(|(_, value)| *value)
                    .max_by(|a, b| margin(*a).total_cmp(&margin(*b)));
                (
                    span.0,
                    Fired {
                        group: group.alert.group.clone(),
                        from: iso(span.0),
                        to: span.1.map(iso),
                        peak,
                    },
                )
            })
        })
        .collect();
    fired.sort_by_key(|(at, _)| *at);
    Preview {
        from: times.first().map(|&at| iso(at)).unwrap_or_default(),
        to: times.last().map(|&at| iso(at)).unwrap_or_default(),
        step: duration_text(step_ms),
        evaluations: times.len(),
        metric: metric_name(condition.metric),
        op: condition.op.as_str(),
        threshold: condition.threshold,
        series,
        fired: fired.into_iter().map(|(_, fired)| fired).collect(),
    }
}

/// One group's replay.
struct Replayed {
    alert: Alert,
    points: Vec<(i64, Option<f64>)>,
    /// `(fired, resolved)` spans.
    fired: Vec<(i64, Option<i64>)>,
}

impl Replayed {
    fn step(&mut self, holds: bool, value: Option<f64>, at: i64, hold: Duration) {
        self.points.push((at, value));
        match self.alert.step(holds, value, at, hold) {
            Some(Transition::Firing) => self.fired.push((at, None)),
            Some(Transition::Resolved) => {
                if let Some(span) = self.fired.last_mut() {
                    span.1 = Some(at);
                }
            }
            _ => {}
        }
        debug_assert!(self.alert.phase != Phase::Firing || self.fired.last().is_some());
    }
}

fn iso(millis: i64) -> String {
    logfleet_time::format_epoch_millis(millis)
}

/// `300000` → `5m`.
fn duration_text(millis: i64) -> String {
    let seconds = millis / 1000;
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(body: Value) -> (Rule, Timing) {
        let rule = Rule::parse("r", &body).unwrap();
        let timing = rule.timing().unwrap();
        (rule, timing)
    }

    #[test]
    fn a_day_is_previewed_in_at_most_288_aligned_steps() {
        let (_, timing) = rule(json!({"name": "n", "index": "logs-*", "every": "1m",
            "condition": {"metric": "count", "threshold": 1}}));
        let day = 24 * 3600 * 1000;
        assert_eq!(step(&timing, day), 300_000);
        assert_eq!(step(&timing, 3600 * 1000), 60_000, "an hour: every minute");
        let times = times(1_000_123, 1_000_123 + day, 300_000);
        assert_eq!(times.len(), 288);
        assert!(times.iter().all(|at| at % 300_000 == 0));
        assert_eq!(duration_text(300_000), "5m");
        assert_eq!(duration_text(7_200_000), "2h");
        assert_eq!(duration_text(90_000), "90s");
    }

    #[test]
    fn replay_finds_each_span_a_group_fires_honouring_for() {
        let (rule, timing) = rule(json!({"name": "n", "index": "logs-*", "every": "1m",
            "for": "2m", "group_by": "app", "condition": {"metric": "count", "op": ">", "threshold": 5}}));
        let group = |app: &str, value: f64| GroupResult {
            group: [("app".to_owned(), json!(app))].into_iter().collect(),
            value: Some(value),
            holds: value > 5.0,
        };
        // `a` is over the threshold for four minutes; `b` for one (a blip `for` hides).
        let counts = [
            (9.0, 1.0),
            (9.0, 8.0),
            (9.0, 1.0),
            (9.0, 1.0),
            (2.0, 1.0),
            (2.0, 1.0),
        ];
        let times: Vec<i64> = (0..counts.len() as i64).map(|n| n * 60_000).collect();
        let measured = counts
            .iter()
            .map(|(a, b)| vec![group("a", *a), group("b", *b)])
            .collect();
        let preview = replay(&rule, &timing, 60_000, &times, measured);
        assert_eq!(preview.evaluations, 6);
        assert_eq!(preview.fired.len(), 1, "{:?}", preview.fired);
        let fired = &preview.fired[0];
        assert_eq!(fired.group["app"], "a");
        assert_eq!(fired.from, iso(120_000), "after `for`");
        assert_eq!(fired.to.as_deref(), Some(iso(240_000).as_str()));
        assert_eq!(fired.peak, Some(9.0));
        assert_eq!(
            preview.series[0].group["app"], "a",
            "the group that fired first"
        );
        assert_eq!(preview.series[1].points[1], (60_000, Some(8.0)));
    }
}
