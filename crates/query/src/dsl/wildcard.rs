//! `wildcard` and `regexp`.

use serde_json::{Map, Value};

use super::{json_token, parse_boost, single_field};
use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

/// Escapes a literal for a regular expression.
pub(crate) fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if "\\.+*?()|[]{}^$#&-~\"@<>".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Turns a wildcard pattern (`*` any run, `?` any one character, `\` escapes) into a regular
/// expression matching the whole value.
pub(crate) fn wildcard_to_regex(pattern: &str) -> String {
    let mut regex = String::with_capacity(pattern.len() * 2);
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            '\\' => {
                if let Some(escaped) = characters.next() {
                    regex.push_str(&escape_regex(&escaped.to_string()));
                }
            }
            other => regex.push_str(&escape_regex(&other.to_string())),
        }
    }
    regex
}

fn parse(
    query_type: &str,
    body: &Map<String, Value>,
) -> QueryResult<(String, String, bool, Option<f32>)> {
    let (field, value, mut boost) = single_field(query_type, body)?;
    let mut case_insensitive = false;
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Object(parameters) => {
            let mut text = None;
            for (key, parameter) in parameters {
                match key.as_str() {
                    "value" | "wildcard" => text = parameter.as_str().map(str::to_owned),
                    "case_insensitive" => case_insensitive = parameter.as_bool().unwrap_or(false),
                    "boost" => boost = Some(parse_boost(query_type, parameter)?),
                    "rewrite" | "flags" | "max_determinized_states" | "_name" => {}
                    other => {
                        return Err(QueryError::parsing(format!(
                            "[{query_type}] query does not support [{other}]"
                        )));
                    }
                }
            }
            text.ok_or_else(|| {
                QueryError::parsing(format!(
                    "[{query_type}] query malformed, no value for field [{field}]"
                ))
            })?
        }
        other => {
            return Err(QueryError::parsing(format!(
                "[{query_type}] query does not support [{}] as a value",
                json_token(other)
            )));
        }
    };
    Ok((field.to_owned(), text, case_insensitive, boost))
}

pub(crate) fn parse_wildcard(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, pattern, case_insensitive, boost) = parse("wildcard", body)?;
    Ok(QueryAst::Regex {
        field,
        regex: wildcard_to_regex(&pattern),
        case_insensitive,
    }
    .boosted(boost))
}

pub(crate) fn parse_regexp(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, regex, case_insensitive, boost) = parse("regexp", body)?;
    Ok(QueryAst::Regex {
        field,
        regex,
        case_insensitive,
    }
    .boosted(boost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_anchored_regexes() {
        assert_eq!(wildcard_to_regex("GET /api/*"), "GET /api/.*");
        assert_eq!(wildcard_to_regex("a?c"), "a.c");
        assert_eq!(wildcard_to_regex("1.2.3.*"), "1\\.2\\.3\\..*");
        assert_eq!(wildcard_to_regex("a\\*b"), "a\\*b");
    }
}
