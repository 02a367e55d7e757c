//! Elasticsearch Query DSL → [`QueryAst`], one file per query type.

mod bool_query;

pub(crate) use bool_query::resolve_minimum_should_match;
pub(crate) use fuzzy::FuzzyOptions;
pub use query_string::{QueryStringOptions, parse_lucene};
pub(crate) use wildcard::{escape_regex, wildcard_to_regex};
mod exists;
mod full_text;
mod fuzzy;
mod ids;
mod match_all;
mod query_string;
mod range;
mod term;
mod wildcard;

use serde_json::{Map, Value};

use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

/// Parses a query object such as `{"term": {"level": "error"}}`.
pub fn parse_query(value: &Value) -> QueryResult<QueryAst> {
    let Value::Object(object) = value else {
        return Err(QueryError::parsing(format!(
            "[_na] query malformed, must start with start_object, found [{}]",
            json_token(value)
        )));
    };
    let mut entries = object.iter();
    let Some((query_type, body)) = entries.next() else {
        // `{}` is accepted by Elasticsearch as "no query", i.e. match everything.
        return Ok(QueryAst::MatchAll);
    };
    if let Some((second, _)) = entries.next() {
        return Err(QueryError::parsing(format!(
            "[{query_type}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] ({second})"
        )));
    }
    let Value::Object(body) = body else {
        return Err(QueryError::parsing(format!(
            "[{query_type}] query malformed, no start_object after query name"
        )));
    };
    match query_type.as_str() {
        "match_all" => match_all::parse_match_all(body),
        "match_none" => match_all::parse_match_none(body),
        "term" => term::parse_term(body),
        "terms" => term::parse_terms(body),
        "range" => range::parse_range(body),
        "exists" => exists::parse_exists(body),
        "ids" => ids::parse_ids(body),
        "bool" => bool_query::parse_bool(body),
        "constant_score" => bool_query::parse_constant_score(body),
        "match" | "match_phrase" | "match_phrase_prefix" | "match_bool_prefix" => {
            full_text::parse_match(query_type, body)
        }
        "multi_match" => full_text::parse_multi_match(body),
        "prefix" => full_text::parse_prefix(body),
        "fuzzy" => fuzzy::parse_fuzzy(body),
        "wildcard" => wildcard::parse_wildcard(body),
        "regexp" => wildcard::parse_regexp(body),
        "query_string" | "simple_query_string" => {
            query_string::parse_query_string_query(query_type, body)
        }
        other => Err(QueryError::parsing(format!("unknown query [{other}]"))),
    }
}

/// The `boost` parameter common to every query.
pub(crate) fn parse_boost(query_type: &str, value: &Value) -> QueryResult<f32> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
        .map(|boost| boost as f32)
        .ok_or_else(|| QueryError::parsing(format!("[{query_type}] [boost] must be a number")))
}

/// Queries of the shape `{"<field>": <value or object>}` with optional top-level `boost` and
/// `_name`; returns the field and its value.
pub(crate) fn single_field<'a>(
    query_type: &str,
    body: &'a Map<String, Value>,
) -> QueryResult<(&'a str, &'a Value, Option<f32>)> {
    let mut field = None;
    let mut boost = None;
    for (key, value) in body {
        match key.as_str() {
            "boost" if !value.is_object() => boost = Some(parse_boost(query_type, value)?),
            "_name" if value.is_string() => {}
            _ => {
                if let Some((first, _)) = field {
                    return Err(QueryError::parsing(format!(
                        "[{query_type}] query doesn't support multiple fields, found [{first}] and [{key}]"
                    )));
                }
                field = Some((key.as_str(), value));
            }
        }
    }
    let (name, value) = field
        .ok_or_else(|| QueryError::parsing(format!("[{query_type}] query malformed, no field")))?;
    Ok((name, value, boost))
}

pub(crate) fn json_token(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_query_type_is_a_parsing_error() {
        let error = parse_query(&json!({"bogus": {}})).unwrap_err();
        assert_eq!(error.to_string(), "unknown query [bogus]");
        assert!(matches!(error, QueryError::Parsing(_)));
    }

    #[test]
    fn two_query_types_in_one_object_are_rejected() {
        assert!(parse_query(&json!({"match_all": {}, "term": {"a": 1}})).is_err());
    }

    #[test]
    fn empty_object_matches_everything() {
        assert_eq!(parse_query(&json!({})).unwrap(), QueryAst::MatchAll);
    }
}
