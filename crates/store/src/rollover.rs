//! Rollover (`POST /{alias}/_rollover`): when an alias's write index is old or large enough,
//! a new index takes the alias's writes. Conditions are Elasticsearch's: a rollover happens
//! when any `max_*` condition is met and every `min_*` one is, or unconditionally.

use serde_json::{Map, Value};

use crate::error::{StoreError, StoreResult};
use crate::time_value::{parse_byte_size_value, parse_time_value};

/// What is measured of the write index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexMeasures {
    /// Milliseconds since the index was created.
    pub age_ms: u64,
    /// Live documents.
    pub docs: u64,
    /// Bytes on disk.
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Age,
    Docs,
    Size,
}

/// One condition, as given (`"max_age": "7d"`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    name: String,
    text: String,
    measure: Measure,
    limit: u64,
    is_max: bool,
}

/// The `conditions` of a rollover request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloverConditions(Vec<Condition>);

impl RolloverConditions {
    /// Parses a `conditions` object.
    pub fn parse(conditions: &Value) -> StoreResult<RolloverConditions> {
        let Value::Object(object) = conditions else {
            return Err(StoreError::IllegalArgument(
                "[conditions] must be an object".into(),
            ));
        };
        let mut parsed = Vec::with_capacity(object.len());
        for (name, value) in object {
            let (is_max, measured) = match name.split_once('_') {
                Some(("max", measured)) => (true, measured),
                Some(("min", measured)) => (false, measured),
                _ => return Err(unknown(name)),
            };
            let measure = match measured {
                "age" => Measure::Age,
                "docs" | "primary_shard_docs" => Measure::Docs,
                "size" | "primary_shard_size" => Measure::Size,
                _ => return Err(unknown(name)),
            };
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => {
                    return Err(StoreError::IllegalArgument(format!(
                        "[{name}] must be a string or a number"
                    )));
                }
            };
            let limit = match measure {
                Measure::Age => parse_time_value(&text)
                    .map_err(StoreError::IllegalArgument)?
                    .as_millis() as u64,
                Measure::Size => {
                    parse_byte_size_value(&text).map_err(StoreError::IllegalArgument)?
                }
                Measure::Docs => text.parse().map_err(|_| {
                    StoreError::IllegalArgument(format!(
                        "failed to parse [{name}] with value [{text}] as a number of documents"
                    ))
                })?,
            };
            parsed.push(Condition {
                name: name.clone(),
                text,
                measure,
                limit,
                is_max,
            });
        }
        let conditions = RolloverConditions(parsed);
        if conditions.0.iter().any(|condition| !condition.is_max)
            && !conditions.0.iter().any(|condition| condition.is_max)
        {
            return Err(StoreError::IllegalArgument(
                "Validation Failed: 1: at least one max_* rollover condition must be set when using min_* conditions;".into(),
            ));
        }
        Ok(conditions)
    }

    /// Whether there are no conditions (the rollover is unconditional).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each condition as Elasticsearch names it in responses (`[max_docs: 1000]`), with
    /// whether it is met, and whether the rollover should happen.
    pub fn evaluate(&self, measures: IndexMeasures) -> (Map<String, Value>, bool) {
        let mut results = Map::new();
        let mut any_max = false;
        let mut all_min = true;
        for condition in &self.0 {
            let value = match condition.measure {
                Measure::Age => measures.age_ms,
                Measure::Docs => measures.docs,
                Measure::Size => measures.size_bytes,
            };
            let met = value >= condition.limit;
            if condition.is_max {
                any_max |= met;
            } else {
                all_min &= met;
            }
            results.insert(
                format!("[{}: {}]", condition.name, condition.text),
                Value::Bool(met),
            );
        }
        (results, self.0.is_empty() || (any_max && all_min))
    }
}

fn unknown(name: &str) -> StoreError {
    StoreError::IllegalArgument(format!("[conditions] unknown field [{name}]"))
}

/// The name that follows `name` in a rollover series: its trailing number plus one, padded
/// to six digits (`logs-000001` → `logs-000002`). A date math name (`<logs-{now/d}-000001>`)
/// keeps its math, to be resolved anew.
pub fn next_index_name(name: &str) -> StoreResult<String> {
    let (body, closing) = match name.strip_suffix('>') {
        Some(body) if name.starts_with('<') => (body, ">"),
        _ => (name, ""),
    };
    let digits = body.len() - body.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (prefix, number) = body.split_at(digits);
    match (prefix.strip_suffix('-'), number.parse::<u64>()) {
        (Some(_), Ok(number)) => Ok(format!("{prefix}{:06}{closing}", number + 1)),
        _ => Err(StoreError::IllegalArgument(format!(
            "index name [{name}] does not match pattern '^.*-\\d+$'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_count_up() {
        assert_eq!(next_index_name("logs-000001").unwrap(), "logs-000002");
        assert_eq!(next_index_name("logs-9").unwrap(), "logs-000010");
        assert_eq!(next_index_name("logs-1234567").unwrap(), "logs-1234568");
        assert_eq!(
            next_index_name("<logs-{now/d}-000001>").unwrap(),
            "<logs-{now/d}-000002>"
        );
        assert!(next_index_name("logs").is_err());
        assert!(next_index_name("logs000001").is_err());
    }

    #[test]
    fn any_max_and_every_min_roll_over() {
        let conditions = RolloverConditions::parse(
            &json!({"max_docs": 100, "max_age": "7d", "min_size": "1kb"}),
        )
        .unwrap();
        let young_full_small = IndexMeasures {
            age_ms: 1000,
            docs: 150,
            size_bytes: 10,
        };
        let (results, roll) = conditions.evaluate(young_full_small);
        assert!(!roll);
        assert_eq!(
            Value::Object(results),
            json!({"[max_docs: 100]": true, "[max_age: 7d]": false, "[min_size: 1kb]": false})
        );
        let (_, roll) = conditions.evaluate(IndexMeasures {
            size_bytes: 4096,
            ..young_full_small
        });
        assert!(roll);
        let (_, roll) = RolloverConditions::default().evaluate(young_full_small);
        assert!(roll);
    }

    #[test]
    fn bad_conditions_are_refused() {
        assert!(RolloverConditions::parse(&json!({"max_bananas": 1})).is_err());
        assert!(RolloverConditions::parse(&json!({"max_age": "soon"})).is_err());
        assert!(RolloverConditions::parse(&json!({"min_docs": 1})).is_err());
        assert!(RolloverConditions::parse(&json!([1])).is_err());
    }
}
