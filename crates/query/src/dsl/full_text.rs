//! `match`, `match_phrase`, `match_phrase_prefix`, `match_bool_prefix`, `multi_match` and
//! `prefix`.

use serde_json::{Map, Value};

use super::{json_token, parse_boost, single_field};
use crate::ast::{MatchKind, QueryAst};
use crate::dsl::FuzzyOptions;
use crate::error::{QueryError, QueryResult};

fn default_kind(query_type: &str) -> MatchKind {
    match query_type {
        "match_phrase" => MatchKind::Phrase { slop: 0 },
        "match_phrase_prefix" => MatchKind::PhrasePrefix { max_expansions: 50 },
        "match_bool_prefix" => MatchKind::BoolPrefix { max_expansions: 50 },
        _ => MatchKind::Terms,
    }
}

fn parse_operator(query_type: &str, value: &Value) -> QueryResult<bool> {
    match value.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("and") => Ok(true),
        Some("or") => Ok(false),
        _ => Err(QueryError::parsing(format!(
            "[{query_type}] [operator] must be [and] or [or], found [{value}]"
        ))),
    }
}

fn parse_u32(query_type: &str, key: &str, value: &Value) -> QueryResult<u32> {
    value
        .as_u64()
        .and_then(|number| u32::try_from(number).ok())
        .ok_or_else(|| {
            QueryError::parsing(format!(
                "[{query_type}] [{key}] must be a non-negative integer"
            ))
        })
}

/// `match`, `match_phrase` and `match_phrase_prefix`: `{"field": "text"}` or
/// `{"field": {"query": "text", …}}`.
pub(crate) fn parse_match(query_type: &str, body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, value, mut boost) = single_field(query_type, body)?;
    let mut kind = default_kind(query_type);
    let mut operator_and = false;
    let mut minimum_should_match = None;
    let mut fuzzy = FuzzyOptions::default();
    let mut fuzzy_requested = false;
    let mut lenient = false;
    let query = match value {
        Value::Object(parameters) => {
            let mut query = None;
            for (key, parameter) in parameters {
                match key.as_str() {
                    "query" => query = Some(parameter.clone()),
                    "fuzziness" | "prefix_length" | "fuzzy_transpositions" => {
                        fuzzy.apply(key, parameter)?;
                        fuzzy_requested |= key == "fuzziness";
                    }
                    "operator" => operator_and = parse_operator(query_type, parameter)?,
                    "minimum_should_match" => minimum_should_match = Some(parameter.clone()),
                    "boost" => boost = Some(parse_boost(query_type, parameter)?),
                    "slop" => {
                        if let MatchKind::Phrase { slop } = &mut kind {
                            *slop = parse_u32(query_type, key, parameter)?;
                        }
                    }
                    "max_expansions" => {
                        if let MatchKind::PhrasePrefix { max_expansions }
                        | MatchKind::BoolPrefix { max_expansions } = &mut kind
                        {
                            *max_expansions = parse_u32(query_type, key, parameter)?;
                        }
                    }
                    "lenient" => {
                        lenient = parameter.as_bool().ok_or_else(|| {
                            QueryError::parsing(format!(
                                "[{query_type}] [lenient] must be a boolean"
                            ))
                        })?;
                    }
                    "analyzer"
                    | "zero_terms_query"
                    | "auto_generate_synonyms_phrase_query"
                    | "cutoff_frequency"
                    | "_name"
                    | "fuzzy_rewrite" => {}
                    other => {
                        return Err(QueryError::parsing(format!(
                            "[{query_type}] query does not support [{other}]"
                        )));
                    }
                }
            }
            query.ok_or_else(|| {
                QueryError::parsing(format!(
                    "[{query_type}] query malformed, no [query] for field [{field}]"
                ))
            })?
        }
        Value::Array(_) | Value::Null => {
            return Err(QueryError::parsing(format!(
                "[{query_type}] unknown token [{}] after [{field}]",
                json_token(value)
            )));
        }
        scalar => scalar.clone(),
    };
    // Fuzziness applies to the terms of a `match`; phrases ignore it, as in Elasticsearch.
    if fuzzy_requested && kind == MatchKind::Terms {
        let text = match &query {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        return Ok(fuzzy.query(field, text, true, operator_and).boosted(boost));
    }
    let query = QueryAst::Match {
        field: field.to_owned(),
        query,
        operator_and,
        minimum_should_match,
        kind,
    };
    let query = if lenient { query.lenient() } else { query };
    Ok(query.boosted(boost))
}

/// `multi_match` with `fields` and `type` (`best_fields`, `most_fields`, `cross_fields` match
/// terms; `phrase`, `phrase_prefix` match phrases).
pub(crate) fn parse_multi_match(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let mut query = None;
    let mut fields = Vec::new();
    let mut kind = MatchKind::Terms;
    let mut operator_and = false;
    let mut boost = None;
    let mut slop = 0;
    let mut fuzzy = FuzzyOptions::default();
    let mut fuzzy_requested = false;
    for (key, value) in body {
        match key.as_str() {
            "query" => query = Some(value.clone()),
            "fuzziness" | "prefix_length" | "fuzzy_transpositions" => {
                fuzzy.apply(key, value)?;
                fuzzy_requested |= key == "fuzziness";
            }
            "fields" => {
                fields = match value {
                    Value::String(field) => vec![field.clone()],
                    Value::Array(items) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|field| field.split('^').next().unwrap_or(field).to_owned())
                        .collect(),
                    _ => {
                        return Err(QueryError::parsing(
                            "[multi_match] [fields] must be a string or an array",
                        ));
                    }
                };
            }
            "type" => {
                kind = match value.as_str() {
                    Some("best_fields" | "most_fields" | "cross_fields") => MatchKind::Terms,
                    Some("phrase") => MatchKind::Phrase { slop: 0 },
                    Some("phrase_prefix") => MatchKind::PhrasePrefix { max_expansions: 50 },
                    Some("bool_prefix") => MatchKind::BoolPrefix { max_expansions: 50 },
                    _ => {
                        return Err(QueryError::parsing(format!(
                            "[multi_match] unknown type [{value}]"
                        )));
                    }
                };
            }
            "operator" => operator_and = parse_operator("multi_match", value)?,
            "boost" => boost = Some(parse_boost("multi_match", value)?),
            "slop" => slop = parse_u32("multi_match", key, value)?,
            "analyzer"
            | "lenient"
            | "tie_breaker"
            | "minimum_should_match"
            | "zero_terms_query"
            | "_name"
            | "max_expansions" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[multi_match] query does not support [{other}]"
                )));
            }
        }
    }
    if let MatchKind::Phrase { slop: phrase_slop } = &mut kind {
        *phrase_slop = slop;
    }
    let query =
        query.ok_or_else(|| QueryError::parsing("No text specified for multi_match query"))?;
    if fields.is_empty() {
        fields.push("*".to_owned());
    }
    // As in `match`, fuzziness applies to terms, not phrases.
    let fuzzy = (fuzzy_requested && kind == MatchKind::Terms).then(|| fuzzy.settings());
    Ok(QueryAst::MultiMatch {
        fields,
        query,
        operator_and,
        kind,
        fuzzy,
    }
    .boosted(boost))
}

/// `prefix`: `{"field": "pre"}` or `{"field": {"value": "pre"}}`.
pub(crate) fn parse_prefix(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, value, mut boost) = single_field("prefix", body)?;
    let prefix = match value {
        Value::String(prefix) => prefix.clone(),
        Value::Object(parameters) => {
            let mut prefix = None;
            for (key, parameter) in parameters {
                match key.as_str() {
                    "value" | "prefix" => prefix = parameter.as_str().map(str::to_owned),
                    "boost" => boost = Some(parse_boost("prefix", parameter)?),
                    "rewrite" | "case_insensitive" | "_name" => {}
                    other => {
                        return Err(QueryError::parsing(format!(
                            "[prefix] query does not support [{other}]"
                        )));
                    }
                }
            }
            prefix.ok_or_else(|| {
                QueryError::parsing(format!(
                    "[prefix] query malformed, no value for field [{field}]"
                ))
            })?
        }
        other => other.to_string(),
    };
    Ok(QueryAst::Prefix {
        field: field.to_owned(),
        value: prefix,
    }
    .boosted(boost))
}

#[cfg(test)]
mod tests {
    use super::super::parse_query;
    use super::*;
    use serde_json::json;

    #[test]
    fn match_forms() {
        let QueryAst::Match {
            query,
            operator_and,
            kind,
            ..
        } = parse_query(&json!({"match": {"message": {"query": "disk full", "operator": "and"}}}))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (query, operator_and, kind),
            (json!("disk full"), true, MatchKind::Terms)
        );
        let QueryAst::Match { kind, .. } =
            parse_query(&json!({"match_phrase": {"message": {"query": "a b", "slop": 2}}}))
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(kind, MatchKind::Phrase { slop: 2 });
        assert!(
            parse_query(&json!({"match": {"message": {"operator": "xor", "query": "a"}}})).is_err()
        );
        assert!(parse_query(&json!({"match": {"message": {"oops": 1}}})).is_err());
    }

    #[test]
    fn multi_match_and_prefix() {
        let QueryAst::MultiMatch { fields, kind, .. } =
            parse_query(&json!({"multi_match": {"query": "x", "fields": ["message^2", "path"], "type": "phrase"}})).unwrap()
        else {
            panic!()
        };
        assert_eq!(fields, ["message", "path"]);
        assert_eq!(kind, MatchKind::Phrase { slop: 0 });
        assert_eq!(
            parse_query(&json!({"prefix": {"path": "/api"}})).unwrap(),
            QueryAst::Prefix {
                field: "path".into(),
                value: "/api".into()
            }
        );
    }
}
