//! `range`.

use serde_json::{Map, Value};

use super::{parse_boost, single_field};
use crate::ast::{QueryAst, RangeBound};
use crate::error::{QueryError, QueryResult};

pub(crate) fn parse_range(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, parameters, mut boost) = single_field("range", body)?;
    let Value::Object(parameters) = parameters else {
        return Err(QueryError::parsing(format!(
            "[range] query malformed, no start_object after field [{field}]"
        )));
    };
    let mut lower = None;
    let mut upper = None;
    let mut format = None;
    let mut time_zone = None;
    // The legacy `from`/`to` form takes its inclusivity from `include_lower`/`include_upper`.
    let mut include_lower = true;
    let mut include_upper = true;
    let mut legacy_lower = None;
    let mut legacy_upper = None;
    for (key, value) in parameters {
        let bound = |inclusive| {
            (!value.is_null()).then(|| RangeBound {
                value: value.clone(),
                inclusive,
            })
        };
        match key.as_str() {
            "gt" => lower = bound(false),
            "gte" => lower = bound(true),
            "lt" => upper = bound(false),
            "lte" => upper = bound(true),
            "from" => legacy_lower = (!value.is_null()).then(|| value.clone()),
            "to" => legacy_upper = (!value.is_null()).then(|| value.clone()),
            "include_lower" => include_lower = value.as_bool().unwrap_or(true),
            "include_upper" => include_upper = value.as_bool().unwrap_or(true),
            "format" => format = value.as_str().map(str::to_owned),
            "time_zone" => time_zone = value.as_str().map(str::to_owned),
            "boost" => boost = Some(parse_boost("range", value)?),
            "relation" | "_name" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[range] query does not support [{other}]"
                )));
            }
        }
    }
    if let Some(value) = legacy_lower {
        lower = Some(RangeBound {
            value,
            inclusive: include_lower,
        });
    }
    if let Some(value) = legacy_upper {
        upper = Some(RangeBound {
            value,
            inclusive: include_upper,
        });
    }
    for bound in [&lower, &upper].into_iter().flatten() {
        if bound.value.is_object() || bound.value.is_array() {
            return Err(QueryError::parsing(format!(
                "[range] query malformed, bound of field [{field}] must be a value"
            )));
        }
    }
    Ok(QueryAst::Range {
        field: field.to_owned(),
        lower,
        upper,
        format,
        time_zone,
    }
    .boosted(boost))
}

#[cfg(test)]
mod tests {
    use super::super::parse_query;
    use super::*;
    use serde_json::json;

    fn bounds(query: serde_json::Value) -> (Option<RangeBound>, Option<RangeBound>) {
        let QueryAst::Range { lower, upper, .. } = parse_query(&query).unwrap() else {
            panic!("not a range: {query}")
        };
        (lower, upper)
    }

    #[test]
    fn bounds_and_inclusivity() {
        let (lower, upper) = bounds(json!({"range": {"n": {"gt": 1, "lte": 5}}}));
        assert_eq!(
            lower,
            Some(RangeBound {
                value: json!(1),
                inclusive: false
            })
        );
        assert_eq!(
            upper,
            Some(RangeBound {
                value: json!(5),
                inclusive: true
            })
        );
    }

    #[test]
    fn legacy_form() {
        let (lower, upper) =
            bounds(json!({"range": {"n": {"from": 1, "to": null, "include_lower": false}}}));
        assert_eq!(
            lower,
            Some(RangeBound {
                value: json!(1),
                inclusive: false
            })
        );
        assert_eq!(upper, None);
    }

    #[test]
    fn rejects_unknown_parameters() {
        assert!(parse_query(&json!({"range": {"n": {"above": 1}}})).is_err());
        assert!(parse_query(&json!({"range": {"n": 5}})).is_err());
    }
}
