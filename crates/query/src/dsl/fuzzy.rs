//! `fuzzy`, and the `fuzziness` that `match` and Lucene's `term~` share: values within a
//! number of single-character edits (Damerau-Levenshtein with `transpositions`).

use serde_json::{Map, Value};

use crate::ast::{Fuzziness, FuzzySettings, QueryAst};
use crate::dsl::{json_token, parse_boost, single_field};
use crate::error::{QueryError, QueryResult};

/// Parses `{"fuzzy": {"field": "value"}}` or its long form with `value`, `fuzziness`,
/// `prefix_length`, `transpositions`, `max_expansions`, `boost` and `rewrite`.
pub(crate) fn parse_fuzzy(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, value, mut boost) = single_field("fuzzy", body)?;
    let mut options = FuzzyOptions::default();
    let text = match value {
        Value::Object(parameters) => {
            let mut text = None;
            for (key, parameter) in parameters {
                match key.as_str() {
                    "value" => text = Some(scalar(parameter)?),
                    "boost" => boost = Some(parse_boost("fuzzy", parameter)?),
                    "rewrite" | "_name" => {}
                    option => {
                        if !options.apply(option, parameter)? {
                            return Err(QueryError::parsing(format!(
                                "[fuzzy] query does not support [{option}]"
                            )));
                        }
                    }
                }
            }
            text.ok_or_else(|| {
                QueryError::parsing(format!("[fuzzy] query malformed, no [value] for [{field}]"))
            })?
        }
        other => scalar(other)?,
    };
    Ok(options.query(field, text, false, false).boosted(boost))
}

fn scalar(value: &Value) -> QueryResult<String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(QueryError::parsing(format!(
            "[fuzzy] unknown token [{}] after [value]",
            json_token(other)
        ))),
    }
}

/// The fuzziness parameters of a query, with Elasticsearch's defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FuzzyOptions {
    pub(crate) fuzziness: Fuzziness,
    pub(crate) prefix_length: usize,
    pub(crate) transpositions: bool,
}

impl Default for FuzzyOptions {
    fn default() -> FuzzyOptions {
        FuzzyOptions {
            fuzziness: Fuzziness::AUTO,
            prefix_length: 0,
            transpositions: true,
        }
    }
}

impl FuzzyOptions {
    /// Applies one parameter (`fuzziness`, `prefix_length`, `transpositions` or
    /// `fuzzy_transpositions`, `max_expansions`); `false` when `key` is not one of them.
    pub(crate) fn apply(&mut self, key: &str, value: &Value) -> QueryResult<bool> {
        match key {
            "fuzziness" => self.fuzziness = parse_fuzziness(value)?,
            "prefix_length" => {
                self.prefix_length = value
                    .as_u64()
                    .and_then(|length| usize::try_from(length).ok())
                    .ok_or_else(|| {
                        QueryError::parsing(format!(
                            "[prefix_length] must be a non-negative integer, found [{value}]"
                        ))
                    })?;
            }
            "transpositions" | "fuzzy_transpositions" => {
                self.transpositions = value.as_bool().ok_or_else(|| {
                    QueryError::parsing(format!("[{key}] must be a boolean, found [{value}]"))
                })?;
            }
            // tantivy's automaton visits every matching term; there is nothing to cap.
            "max_expansions" | "fuzzy_max_expansions" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The settings, for queries that apply them to several fields.
    pub(crate) fn settings(self) -> FuzzySettings {
        FuzzySettings {
            fuzziness: self.fuzziness,
            prefix_length: self.prefix_length,
            transpositions: self.transpositions,
        }
    }

    /// The query for `text` on `field`.
    pub(crate) fn query(
        self,
        field: &str,
        value: String,
        analyzed: bool,
        operator_and: bool,
    ) -> QueryAst {
        QueryAst::Fuzzy {
            field: field.to_owned(),
            value,
            fuzziness: self.fuzziness,
            prefix_length: self.prefix_length,
            transpositions: self.transpositions,
            analyzed,
            operator_and,
        }
    }
}

/// `0`, `1`, `2`, `"AUTO"` or `"AUTO:low,high"`.
pub(crate) fn parse_fuzziness(value: &Value) -> QueryResult<Fuzziness> {
    let invalid = || {
        QueryError::parsing(format!(
            "failed to parse [fuzziness]: expected 0, 1, 2 or AUTO[:low,high], found [{value}]"
        ))
    };
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return Err(invalid()),
    };
    let upper = text.to_ascii_uppercase();
    if upper == "AUTO" {
        return Ok(Fuzziness::AUTO);
    }
    if let Some(bounds) = upper.strip_prefix("AUTO:") {
        let (low, high) = bounds.split_once(',').ok_or_else(invalid)?;
        let low: usize = low.trim().parse().map_err(|_| invalid())?;
        let high: usize = high.trim().parse().map_err(|_| invalid())?;
        if low > high {
            return Err(invalid());
        }
        return Ok(Fuzziness::Auto { low, high });
    }
    // Elasticsearch takes `1.0` for 1 and caps edits at 2.
    let edits: f64 = text.parse().map_err(|_| invalid())?;
    if !(0.0..=2.0).contains(&edits) || edits.fract() != 0.0 {
        return Err(QueryError::parsing(format!(
            "Valid edit distances are [0, 1, 2] but was [{text}]"
        )));
    }
    Ok(Fuzziness::Edits(edits as u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::parse_query;
    use serde_json::json;

    #[test]
    fn fuzziness_spellings() {
        assert_eq!(parse_fuzziness(&json!("AUTO")).unwrap(), Fuzziness::AUTO);
        assert_eq!(
            parse_fuzziness(&json!("auto:2,4")).unwrap(),
            Fuzziness::Auto { low: 2, high: 4 }
        );
        assert_eq!(parse_fuzziness(&json!(1)).unwrap(), Fuzziness::Edits(1));
        assert_eq!(parse_fuzziness(&json!("2")).unwrap(), Fuzziness::Edits(2));
        assert!(parse_fuzziness(&json!(3)).is_err());
        assert!(parse_fuzziness(&json!("AUTO:5,2")).is_err());
        assert_eq!(Fuzziness::AUTO.edits_for("ab"), 0);
        assert_eq!(Fuzziness::AUTO.edits_for("abc"), 1);
        assert_eq!(Fuzziness::AUTO.edits_for("abcdef"), 2);
    }

    #[test]
    fn fuzzy_queries_parse() {
        let QueryAst::Fuzzy {
            field,
            value,
            fuzziness,
            prefix_length,
            ..
        } = parse_query(&json!({"fuzzy": {"user_name": {"value": "alcie", "fuzziness": 2, "prefix_length": 1}}}))
            .unwrap()
        else {
            panic!("not a fuzzy query")
        };
        assert_eq!(
            (field.as_str(), value.as_str(), fuzziness, prefix_length),
            ("user_name", "alcie", Fuzziness::Edits(2), 1)
        );
        assert!(parse_query(&json!({"fuzzy": {"user_name": {"value": "a", "bogus": 1}}})).is_err());
        assert!(parse_query(&json!({"fuzzy": {"user_name": {"fuzziness": 1}}})).is_err());
    }
}
