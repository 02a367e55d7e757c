//! Evaluating a rule: one search (size 0, aggregations) over the rule's window, which ends
//! `delay` before the evaluation time so that late events are in, and counts by
//! `@timestamp`, not by arrival. Groups are a `composite` aggregation over the `group_by`
//! fields (at most 10,000 groups per rule).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::rule::{Metric, Rule, Timing};

/// How far back grouped `absence` rules look for the groups that exist.
pub const ABSENCE_LOOKBACK_MS: i64 = 24 * 60 * 60 * 1000;
/// The most groups one rule evaluates.
pub const MAX_GROUPS: usize = 10_000;

/// One group's measure at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResult {
    /// The `group_by` fields' values (empty for an ungrouped rule).
    pub group: BTreeMap<String, Value>,
    /// The measure; `None` when there is nothing to measure (no values of the field, no
    /// events below a ratio's line, nothing in the window before a `change`).
    pub value: Option<f64>,
    /// Whether the condition holds.
    pub holds: bool,
}

/// The window an evaluation at `now_ms` covers: `[start, end)`, epoch milliseconds.
pub fn window(timing: &Timing, now_ms: i64) -> (i64, i64) {
    let end = now_ms - timing.delay.as_millis() as i64;
    (end - timing.window.as_millis() as i64, end)
}

/// The search an evaluation at `now_ms` runs.
pub fn request_body(rule: &Rule, timing: &Timing, now_ms: i64) -> Value {
    let (start, end) = window(timing, now_ms);
    let width = end - start;
    let grouped = !rule.group_by.is_empty();
    let from = match rule.condition.metric {
        Metric::Change => start - width,
        Metric::Absence if grouped => end - ABSENCE_LOOKBACK_MS.max(width),
        _ => start,
    };
    let mut filters = vec![range(from, end)];
    if let Some(query) = &rule.query {
        filters.push(as_query(query));
    }
    let measures = measures(rule, start, end);
    let aggregations = if grouped {
        let sources: Vec<Value> = rule
            .group_by
            .iter()
            .enumerate()
            .map(|(position, field)| json!({ format!("g{position}"): {"terms": {"field": field}} }))
            .collect();
        json!({"groups": {
            "composite": {"size": MAX_GROUPS, "sources": sources},
            "aggs": measures,
        }})
    } else {
        json!({"all": {"filter": {"match_all": {}}, "aggs": measures}})
    };
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": {"bool": {"filter": filters}},
        "aggs": aggregations,
    })
}

fn range(from: i64, to: i64) -> Value {
    json!({"range": {"@timestamp": {"gte": from, "lt": to, "format": "epoch_millis"}}})
}

/// A rule's query: a DSL object as it is, a string as `query_string`.
fn as_query(query: &Value) -> Value {
    match query {
        Value::String(text) => json!({"query_string": {"query": text}}),
        other => other.clone(),
    }
}

fn measures(rule: &Rule, start: i64, end: i64) -> Value {
    let condition = &rule.condition;
    let field = condition.field.clone().unwrap_or_default();
    let percentile =
        |percent: f64| json!({"measure": {"percentiles": {"field": field, "percents": [percent]}}});
    match condition.metric {
        Metric::Count => json!({}),
        Metric::Avg => json!({"measure": {"avg": {"field": field}}}),
        Metric::Max => json!({"measure": {"max": {"field": field}}}),
        Metric::Min => json!({"measure": {"min": {"field": field}}}),
        Metric::Sum => json!({"measure": {"sum": {"field": field}}}),
        Metric::P50 => percentile(50.0),
        Metric::P95 => percentile(95.0),
        Metric::P99 => percentile(99.0),
        Metric::Cardinality => json!({"measure": {"cardinality": {"field": field}}}),
        Metric::Ratio => {
            let mut aggregations = Map::new();
            if let Some(numerator) = &condition.numerator {
                aggregations.insert("numerator".into(), json!({"filter": as_query(numerator)}));
            }
            if let Some(denominator) = &condition.denominator {
                aggregations.insert(
                    "denominator".into(),
                    json!({"filter": as_query(denominator)}),
                );
            }
            Value::Object(aggregations)
        }
        Metric::Absence => json!({"recent": {"filter": range(start, end)}}),
        Metric::Change => json!({
            "current": {"filter": range(start, end)},
            "previous": {"filter": range(start - (end - start), start)},
        }),
    }
}

/// Reads the search's answer: each group's measure and whether the condition holds.
pub fn interpret(rule: &Rule, response: &Value) -> Vec<GroupResult> {
    let aggregations = &response["aggregations"];
    if rule.group_by.is_empty() {
        return vec![measure(rule, BTreeMap::new(), &aggregations["all"])];
    }
    aggregations["groups"]["buckets"]
        .as_array()
        .map(|buckets| {
            buckets
                .iter()
                .map(|bucket| {
                    let group = rule
                        .group_by
                        .iter()
                        .enumerate()
                        .map(|(position, field)| {
                            (field.clone(), bucket["key"][format!("g{position}")].clone())
                        })
                        .collect();
                    measure(rule, group, bucket)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn measure(rule: &Rule, group: BTreeMap<String, Value>, bucket: &Value) -> GroupResult {
    let condition = &rule.condition;
    let count = |value: &Value| value["doc_count"].as_f64().unwrap_or(0.0);
    let value = match condition.metric {
        Metric::Count => Some(count(bucket)),
        Metric::Avg | Metric::Max | Metric::Min | Metric::Sum | Metric::Cardinality => {
            bucket["measure"]["value"].as_f64()
        }
        Metric::P50 | Metric::P95 | Metric::P99 => bucket["measure"]["values"]
            .as_object()
            .and_then(|values| values.values().next())
            .and_then(Value::as_f64),
        Metric::Ratio => {
            let below = match &condition.denominator {
                Some(_) => count(&bucket["denominator"]),
                None => count(bucket),
            };
            (below > 0.0).then(|| 100.0 * count(&bucket["numerator"]) / below)
        }
        Metric::Absence => Some(if rule.group_by.is_empty() {
            count(bucket)
        } else {
            count(&bucket["recent"])
        }),
        Metric::Change => {
            let previous = count(&bucket["previous"]);
            (previous > 0.0).then(|| count(&bucket["current"]) / previous)
        }
    };
    let holds = match condition.metric {
        Metric::Absence => value == Some(0.0),
        _ => value.is_some_and(|value| condition.op.holds(value, condition.threshold)),
    };
    GroupResult {
        group,
        value,
        holds,
    }
}
