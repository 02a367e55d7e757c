//! Index lifecycle (ILM) policies, `PUT /_ilm/policy/{name}`, as shippers install them.
//!
//! Filebeat, Logstash and Elastic Agent create a policy and name it in their index template's
//! `index.lifecycle.name` setting. A data stream created from such a template keeps its data
//! for the policy's `delete` phase `min_age`: Logfleet's time partitions play the part of
//! rollover, so retention drops a partition once everything in it is older than that.
//!
//! Plain indexes written through a rollover alias (`index.lifecycle.rollover_alias`, as
//! Logstash bootstraps `logstash-000001`) follow the policy as in Elasticsearch: the hot
//! phase's `rollover` action rolls the alias over when its conditions are met, and the
//! `delete` phase deletes an index once its `min_age` has passed since it was rolled over.
//! The other actions (`forcemerge`, `shrink`, tiers…) describe Lucene and cluster
//! housekeeping that has no counterpart here; they are validated and echoed back.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{StoreError, StoreResult};
use crate::rollover::RolloverConditions;
use crate::time_value::parse_time_value;

/// The phases of Elasticsearch's time-series lifecycle, in order.
const PHASES: &[&str] = &["hot", "warm", "cold", "frozen", "delete"];

/// A stored lifecycle policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecyclePolicy {
    /// The policy's name.
    pub name: String,
    /// The `policy` object as given, each phase with its `min_age` filled in.
    pub policy: Value,
    /// Incremented by every `PUT`.
    pub version: u64,
    /// When it was last stored, epoch milliseconds.
    pub modified_date_ms: i64,
    /// The `delete` phase's `min_age`, if the policy deletes data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after: Option<String>,
    /// The hot phase's `rollover` conditions, if the policy rolls indexes over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollover: Option<Value>,
}

impl LifecyclePolicy {
    /// Parses a `PUT /_ilm/policy/{name}` body (`{"policy": {"phases": {…}}}`).
    pub fn parse(name: &str, body: &Value) -> StoreResult<LifecyclePolicy> {
        check_policy_name(name)?;
        let Value::Object(body) = body else {
            return Err(StoreError::IllegalArgument(
                "request body must be an object".into(),
            ));
        };
        if let Some(key) = body.keys().find(|key| key.as_str() != "policy") {
            return Err(StoreError::IllegalArgument(format!(
                "[put_lifecycle_request] unknown field [{key}]"
            )));
        }
        let Some(Value::Object(policy)) = body.get("policy") else {
            return Err(StoreError::IllegalArgument(
                "[put_lifecycle_request] Required [policy]".into(),
            ));
        };
        let mut normalised = Map::new();
        let mut delete_after = None;
        let mut rollover = None;
        for (key, value) in policy {
            match key.as_str() {
                "phases" => {
                    let Value::Object(phases) = value else {
                        return Err(StoreError::IllegalArgument(
                            "[lifecycle_policy] [phases] must be an object".into(),
                        ));
                    };
                    let mut parsed = Map::new();
                    for (phase, definition) in phases {
                        let (definition, min_age) = parse_phase(phase, definition)?;
                        if phase == "delete" && has_delete_action(&definition) {
                            delete_after = Some(min_age);
                        }
                        if phase == "hot"
                            && let Some(conditions) = definition.pointer("/actions/rollover")
                        {
                            RolloverConditions::parse(conditions)?;
                            rollover = Some(conditions.clone());
                        }
                        parsed.insert(phase.clone(), definition);
                    }
                    normalised.insert(key.clone(), Value::Object(parsed));
                }
                "_meta" if value.is_object() => {
                    normalised.insert(key.clone(), value.clone());
                }
                "deprecated" if value.is_boolean() => {
                    normalised.insert(key.clone(), value.clone());
                }
                "_meta" | "deprecated" => {
                    return Err(StoreError::IllegalArgument(format!(
                        "[lifecycle_policy] failed to parse field [{key}]"
                    )));
                }
                other => {
                    return Err(StoreError::IllegalArgument(format!(
                        "[lifecycle_policy] unknown field [{other}]"
                    )));
                }
            }
        }
        normalised
            .entry("phases")
            .or_insert_with(|| Value::Object(Map::new()));
        Ok(LifecyclePolicy {
            name: name.to_owned(),
            policy: Value::Object(normalised),
            version: 1,
            modified_date_ms: 0,
            delete_after,
            rollover,
        })
    }

    /// How long data governed by this policy is kept, if it is ever deleted.
    pub fn retention(&self) -> Option<Duration> {
        self.delete_after
            .as_deref()
            .and_then(|min_age| parse_time_value(min_age).ok())
    }
}

fn parse_phase(phase: &str, definition: &Value) -> StoreResult<(Value, String)> {
    if !PHASES.contains(&phase) {
        return Err(StoreError::IllegalArgument(format!(
            "Timeseries lifecycle does not support phase [{phase}]"
        )));
    }
    let Value::Object(definition) = definition else {
        return Err(StoreError::IllegalArgument(format!(
            "[phase] [{phase}] must be an object"
        )));
    };
    let mut normalised = Map::new();
    let mut min_age = "0ms".to_owned();
    for (key, value) in definition {
        match key.as_str() {
            "min_age" => {
                let Some(text) = value.as_str() else {
                    return Err(StoreError::IllegalArgument(format!(
                        "[phase] failed to parse field [min_age] of phase [{phase}]"
                    )));
                };
                parse_time_value(text).map_err(|_| {
                    StoreError::IllegalArgument(format!(
                        "failed to parse setting [min_age] with value [{text}] as a time value: \
                         unit is missing or unrecognized"
                    ))
                })?;
                min_age = text.to_owned();
            }
            "actions" => {
                if !value.is_object() {
                    return Err(StoreError::IllegalArgument(format!(
                        "[phase] [actions] of phase [{phase}] must be an object"
                    )));
                }
                normalised.insert(key.clone(), value.clone());
            }
            other => {
                return Err(StoreError::IllegalArgument(format!(
                    "[phase] unknown field [{other}]"
                )));
            }
        }
    }
    normalised.insert("min_age".to_owned(), Value::String(min_age.clone()));
    normalised
        .entry("actions")
        .or_insert_with(|| Value::Object(Map::new()));
    Ok((Value::Object(normalised), min_age))
}

fn has_delete_action(phase: &Value) -> bool {
    phase
        .get("actions")
        .and_then(Value::as_object)
        .is_some_and(|actions| actions.contains_key("delete"))
}

fn check_policy_name(name: &str) -> StoreResult<()> {
    let problem = if name.is_empty() {
        Some("must not be empty")
    } else if name.contains(',') {
        Some("must not contain a ','")
    } else if name.contains(' ') {
        Some("must not contain a space")
    } else if name.starts_with('_') {
        Some("must not start with '_'")
    } else if name.len() > 255 {
        Some("name is too long, (256 > 255)")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(StoreError::IllegalArgument(format!(
            "invalid policy name [{name}]: {problem}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_delete_phase_sets_retention() {
        let body = json!({"policy": {"phases": {
            "hot": {"actions": {"rollover": {"max_age": "30d", "max_primary_shard_size": "50gb"}}},
            "delete": {"min_age": "90d", "actions": {"delete": {}}}
        }}});
        let policy = LifecyclePolicy::parse("filebeat", &body).unwrap();
        assert_eq!(policy.retention(), Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(policy.policy["phases"]["hot"]["min_age"], "0ms");
        assert_eq!(
            policy.policy["phases"]["hot"]["actions"]["rollover"]["max_age"],
            "30d"
        );
        assert_eq!(
            policy.rollover,
            Some(json!({"max_age": "30d", "max_primary_shard_size": "50gb"}))
        );
    }

    #[test]
    fn a_policy_without_a_delete_action_keeps_data() {
        let body =
            json!({"policy": {"phases": {"hot": {"actions": {}}}, "_meta": {"managed": true}}});
        let policy = LifecyclePolicy::parse("keep", &body).unwrap();
        assert_eq!(policy.retention(), None);
        assert_eq!(policy.policy["_meta"]["managed"], true);
        let empty_delete = json!({"policy": {"phases": {"delete": {"min_age": "1d"}}}});
        assert_eq!(
            LifecyclePolicy::parse("x", &empty_delete)
                .unwrap()
                .retention(),
            None
        );
    }

    #[test]
    fn rejects_malformed_policies() {
        for (name, body) in [
            ("p", json!({})),
            ("p", json!({"policy": {"phases": {"lukewarm": {}}}})),
            (
                "p",
                json!({"policy": {"phases": {"delete": {"min_age": "ten days"}}}}),
            ),
            ("p", json!({"policy": {"phases": {"hot": {"actions": []}}}})),
            (
                "p",
                json!({"policy": {"phases": {"hot": {"actions": {"rollover": {"max_age": "soon"}}}}}}),
            ),
            ("p", json!({"policy": {"stages": {}}})),
            ("p", json!({"policy": {}, "extra": 1})),
            ("_p", json!({"policy": {}})),
            ("a,b", json!({"policy": {}})),
        ] {
            assert!(
                LifecyclePolicy::parse(name, &body).is_err(),
                "{name} {body}"
            );
        }
    }
}
