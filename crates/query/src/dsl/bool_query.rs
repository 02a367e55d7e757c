//! `bool` and `constant_score`.

use serde_json::{Map, Value};

use super::{json_token, parse_boost, parse_query};
use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

pub(crate) fn parse_bool(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let mut must = Vec::new();
    let mut filter = Vec::new();
    let mut should = Vec::new();
    let mut must_not = Vec::new();
    let mut minimum_should_match = None;
    let mut boost = None;
    for (key, value) in body {
        let clauses = match key.as_str() {
            "must" => &mut must,
            "filter" => &mut filter,
            "should" => &mut should,
            "must_not" | "mustNot" => &mut must_not,
            "minimum_should_match" | "minimumShouldMatch" => {
                minimum_should_match = Some(value.clone());
                continue;
            }
            "boost" => {
                boost = Some(parse_boost("bool", value)?);
                continue;
            }
            "_name" | "adjust_pure_negative" => continue,
            other => {
                return Err(QueryError::parsing(format!(
                    "[bool] query does not support [{other}]"
                )));
            }
        };
        match value {
            Value::Array(items) => {
                for item in items {
                    clauses.push(parse_query(item)?);
                }
            }
            Value::Object(_) => clauses.push(parse_query(value)?),
            other => {
                return Err(QueryError::parsing(format!(
                    "[bool] query does not support [{key}] of type [{}]",
                    json_token(other)
                )));
            }
        }
    }
    let minimum_should_match = match minimum_should_match {
        Some(value) => Some(resolve_minimum_should_match(&value, should.len())?),
        None => None,
    };
    Ok(QueryAst::Bool {
        must,
        filter,
        should,
        must_not,
        minimum_should_match,
    }
    .boosted(boost))
}

/// Elasticsearch's `minimum_should_match`: an integer, a negative integer (all but N), or a
/// percentage (`75%`, `-25%`) of the optional clauses, rounded down.
pub(crate) fn resolve_minimum_should_match(
    value: &Value,
    optional_clauses: usize,
) -> QueryResult<usize> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.trim().to_owned(),
        other => {
            return Err(QueryError::parsing(format!(
                "[minimum_should_match] must be a number or a string, found [{}]",
                json_token(other)
            )));
        }
    };
    let total = optional_clauses as i64;
    let invalid = || QueryError::illegal(format!("Invalid minimum_should_match value [{text}]"));
    let required = if let Some(percent) = text.strip_suffix('%') {
        let percent: i64 = percent.parse().map_err(|_| invalid())?;
        let count = total * percent.abs() / 100;
        if percent < 0 { total - count } else { count }
    } else {
        let count: i64 = text.parse().map_err(|_| invalid())?;
        if count < 0 { total + count } else { count }
    };
    Ok(required.clamp(0, i64::MAX) as usize)
}

pub(crate) fn parse_constant_score(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let mut inner = None;
    let mut boost = 1.0;
    for (key, value) in body {
        match key.as_str() {
            "filter" => inner = Some(parse_query(value)?),
            "boost" => boost = parse_boost("constant_score", value)?,
            "_name" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[constant_score] query does not support [{other}]"
                )));
            }
        }
    }
    let query =
        inner.ok_or_else(|| QueryError::parsing("[constant_score] requires a 'filter' element"))?;
    Ok(QueryAst::ConstantScore {
        query: Box::new(query),
        score: boost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clauses_as_object_or_array() {
        let parsed = parse_query(&json!({"bool": {
            "must": {"term": {"a": 1}},
            "filter": [{"term": {"b": 2}}, {"exists": {"field": "c"}}],
            "must_not": [],
        }}))
        .unwrap();
        let QueryAst::Bool {
            must,
            filter,
            should,
            must_not,
            ..
        } = parsed
        else {
            panic!()
        };
        assert_eq!(
            (must.len(), filter.len(), should.len(), must_not.len()),
            (1, 2, 0, 0)
        );
    }

    #[test]
    fn minimum_should_match_forms() {
        assert_eq!(resolve_minimum_should_match(&json!(2), 4).unwrap(), 2);
        assert_eq!(resolve_minimum_should_match(&json!("-1"), 4).unwrap(), 3);
        assert_eq!(resolve_minimum_should_match(&json!("75%"), 4).unwrap(), 3);
        assert_eq!(resolve_minimum_should_match(&json!("-25%"), 4).unwrap(), 3);
        assert_eq!(resolve_minimum_should_match(&json!("50%"), 3).unwrap(), 1);
        assert!(resolve_minimum_should_match(&json!("lots"), 3).is_err());
    }

    #[test]
    fn rejects_unknown_clause() {
        assert!(parse_query(&json!({"bool": {"maybe": []}})).is_err());
        assert!(parse_query(&json!({"bool": {"must": 3}})).is_err());
    }
}
