//! `term` and `terms`.

use serde_json::{Map, Value};

use super::{json_token, parse_boost, single_field};
use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

pub(crate) fn parse_term(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, value, mut boost) = single_field("term", body)?;
    let mut case_insensitive = false;
    let value = match value {
        Value::Object(parameters) => {
            let mut term_value = None;
            for (key, parameter) in parameters {
                match key.as_str() {
                    "value" => term_value = Some(parameter.clone()),
                    "boost" => boost = Some(parse_boost("term", parameter)?),
                    "case_insensitive" => {
                        case_insensitive = parameter.as_bool().ok_or_else(|| {
                            QueryError::parsing("[term] [case_insensitive] must be a boolean")
                        })?;
                    }
                    "_name" => {}
                    other => {
                        return Err(QueryError::parsing(format!(
                            "[term] query does not support [{other}]"
                        )));
                    }
                }
            }
            term_value.ok_or_else(|| {
                QueryError::parsing(format!(
                    "[term] query malformed, no value for field [{field}]"
                ))
            })?
        }
        Value::Array(_) | Value::Null => {
            return Err(QueryError::parsing(format!(
                "[term] query does not support array of values, found [{}]",
                json_token(value)
            )));
        }
        scalar => scalar.clone(),
    };
    if !is_scalar(&value) {
        return Err(QueryError::parsing(format!(
            "[term] query does not support [{}] as a value",
            json_token(&value)
        )));
    }
    Ok(QueryAst::Term {
        field: field.to_owned(),
        value,
        case_insensitive,
    }
    .boosted(boost))
}

pub(crate) fn parse_terms(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, values, boost) = single_field("terms", body)?;
    let Value::Array(values) = values else {
        return Err(QueryError::parsing(format!(
            "[terms] query does not support [{field}] with a value of type [{}]; terms lookup is not supported",
            json_token(values)
        )));
    };
    if let Some(bad) = values.iter().find(|value| !is_scalar(value)) {
        return Err(QueryError::parsing(format!(
            "[terms] query does not support [{}] as a value",
            json_token(bad)
        )));
    }
    Ok(QueryAst::Terms {
        field: field.to_owned(),
        values: values.clone(),
    }
    .boosted(boost))
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

#[cfg(test)]
mod tests {
    use super::super::parse_query;
    use super::*;
    use serde_json::json;

    #[test]
    fn short_and_long_forms() {
        let expected = QueryAst::Term {
            field: "a".into(),
            value: json!("x"),
            case_insensitive: false,
        };
        assert_eq!(parse_query(&json!({"term": {"a": "x"}})).unwrap(), expected);
        assert_eq!(
            parse_query(&json!({"term": {"a": {"value": "x"}}})).unwrap(),
            expected
        );
        let terms = parse_query(&json!({"terms": {"a": [1, 2]}})).unwrap();
        assert_eq!(
            terms,
            QueryAst::Terms {
                field: "a".into(),
                values: vec![json!(1), json!(2)]
            }
        );
    }

    #[test]
    fn malformed() {
        assert!(parse_query(&json!({"term": {"a": ["x"]}})).is_err());
        assert!(parse_query(&json!({"term": {"a": {"nope": 1}}})).is_err());
        assert!(parse_query(&json!({"term": {"a": 1, "b": 2}})).is_err());
        assert!(parse_query(&json!({"term": {}})).is_err());
        assert!(parse_query(&json!({"terms": {"a": "x"}})).is_err());
    }
}
