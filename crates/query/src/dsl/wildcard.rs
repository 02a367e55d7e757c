//! `wildcard` and `regexp`: both become the internal `Regex` query, a Rust `regex` pattern
//! matched against whole terms. Lucene's regular-expression syntax (what `regexp` takes) is
//! translated here: quoted literals, `\d`-style classes, `^` and `$` as plain characters,
//! and the optional operators `@` (any string), `<1-100>` (a numeric interval) and `#` (the
//! empty language). Complement (`~`) and intersection (`&`) have no counterpart in an
//! automaton built from a `regex` pattern and are refused by name.

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

/// Widest `<a-b>` interval expanded into an alternation.
const MAX_INTERVAL: u64 = 10_000;

/// Lucene's optional regular-expression operators (`flags`), all on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operators {
    any_string: bool,
    interval: bool,
    empty: bool,
    complement: bool,
    intersection: bool,
}

impl Operators {
    const ALL: Operators = Operators {
        any_string: true,
        interval: true,
        empty: true,
        complement: true,
        intersection: true,
    };

    fn parse(flags: &str) -> QueryResult<Operators> {
        let mut operators = Operators {
            any_string: false,
            interval: false,
            empty: false,
            complement: false,
            intersection: false,
        };
        for flag in flags.split('|').map(str::trim) {
            match flag.to_ascii_uppercase().as_str() {
                "ALL" => operators = Operators::ALL,
                "NONE" | "" => {}
                "ANYSTRING" => operators.any_string = true,
                "INTERVAL" => operators.interval = true,
                "EMPTY" => operators.empty = true,
                "COMPLEMENT" => operators.complement = true,
                "INTERSECTION" => operators.intersection = true,
                other => {
                    return Err(QueryError::parsing(format!(
                        "Unknown regexp flag [{other}]"
                    )));
                }
            }
        }
        Ok(operators)
    }
}

/// Translates a Lucene regular expression into a `regex` pattern for whole terms.
fn lucene_regex(pattern: &str, operators: Operators) -> QueryResult<String> {
    let unsupported = |operator: char, name: &str| {
        QueryError::illegal(format!(
            "the regexp {name} operator [{operator}] is not supported; turn it off with [flags] to match it literally"
        ))
    };
    let characters: Vec<char> = pattern.chars().collect();
    let mut regex = String::with_capacity(pattern.len() * 2);
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        index += 1;
        match character {
            '\\' => {
                let Some(&escaped) = characters.get(index) else {
                    return Err(QueryError::illegal(format!(
                        "invalid regexp [{pattern}]: a trailing backslash escapes nothing"
                    )));
                };
                index += 1;
                if "dDwWsS".contains(escaped) {
                    regex.push('\\');
                    regex.push(escaped);
                } else {
                    regex.push_str(&escape_regex(&escaped.to_string()));
                }
            }
            '"' => {
                let end = characters[index..]
                    .iter()
                    .position(|next| *next == '"')
                    .ok_or_else(|| {
                        QueryError::illegal(format!(
                            "invalid regexp [{pattern}]: unterminated quoted string"
                        ))
                    })?;
                let literal: String = characters[index..index + end].iter().collect();
                regex.push_str(&escape_regex(&literal));
                index += end + 1;
            }
            '[' => {
                // A class: copied, with what Rust's classes give meaning to (`[`, `&&`, `~~`)
                // made literal.
                regex.push('[');
                if characters.get(index) == Some(&'^') {
                    regex.push('^');
                    index += 1;
                }
                let mut first = true;
                loop {
                    let Some(&member) = characters.get(index) else {
                        return Err(QueryError::illegal(format!(
                            "invalid regexp [{pattern}]: unterminated character class"
                        )));
                    };
                    index += 1;
                    match member {
                        ']' if !first => break,
                        '\\' => {
                            regex.push('\\');
                            if let Some(&escaped) = characters.get(index) {
                                regex.push(escaped);
                                index += 1;
                            }
                        }
                        '[' | '&' | '~' | ']' => {
                            regex.push('\\');
                            regex.push(member);
                        }
                        other => regex.push(other),
                    }
                    first = false;
                }
                regex.push(']');
            }
            '.' | '?' | '+' | '*' | '|' | '(' | ')' | '{' | '}' => regex.push(character),
            '@' if operators.any_string => regex.push_str("(?s:.*)"),
            '#' if operators.empty => regex.push_str("[^\\s\\S]"),
            '~' if operators.complement => return Err(unsupported('~', "complement")),
            '&' if operators.intersection => return Err(unsupported('&', "intersection")),
            '<' if operators.interval => {
                let end = characters[index..]
                    .iter()
                    .position(|next| *next == '>')
                    .ok_or_else(|| {
                        QueryError::illegal(format!(
                            "invalid regexp [{pattern}]: unterminated interval"
                        ))
                    })?;
                let interval: String = characters[index..index + end].iter().collect();
                index += end + 1;
                regex.push_str(&interval_regex(&interval, pattern)?);
            }
            other => regex.push_str(&escape_regex(&other.to_string())),
        }
    }
    Ok(regex)
}

/// `<1-100>`: the decimal numbers in the interval; with a leading zero in the lower bound,
/// padded to its width (`<01-10>`), as Lucene does.
fn interval_regex(interval: &str, pattern: &str) -> QueryResult<String> {
    let invalid = || {
        QueryError::illegal(format!(
            "invalid regexp [{pattern}]: interval <{interval}> must be two numbers, such as <1-100>"
        ))
    };
    let (low_text, high_text) = interval.split_once('-').ok_or_else(invalid)?;
    let low: u64 = low_text.parse().map_err(|_| invalid())?;
    let high: u64 = high_text.parse().map_err(|_| invalid())?;
    let (low, high) = (low.min(high), low.max(high));
    if high - low > MAX_INTERVAL {
        return Err(QueryError::illegal(format!(
            "invalid regexp [{pattern}]: interval <{interval}> spans more than {MAX_INTERVAL} numbers"
        )));
    }
    let width = if low_text.len() > 1 && low_text.starts_with('0') {
        low_text.len()
    } else {
        0
    };
    let numbers: Vec<String> = (low..=high)
        .map(|number| format!("{number:0width$}"))
        .collect();
    Ok(format!("(?:{})", numbers.join("|")))
}

fn parse(
    query_type: &str,
    body: &Map<String, Value>,
) -> QueryResult<(String, String, bool, Option<f32>, Operators)> {
    let (field, value, mut boost) = single_field(query_type, body)?;
    let mut case_insensitive = false;
    let mut operators = Operators::ALL;
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Object(parameters) => {
            let mut text = None;
            for (key, parameter) in parameters {
                match key.as_str() {
                    "value" | "wildcard" => text = parameter.as_str().map(str::to_owned),
                    "case_insensitive" => case_insensitive = parameter.as_bool().unwrap_or(false),
                    "boost" => boost = Some(parse_boost(query_type, parameter)?),
                    "flags" => {
                        operators = Operators::parse(parameter.as_str().unwrap_or("ALL"))?;
                    }
                    "rewrite" | "flags_value" | "max_determinized_states" | "_name" => {}
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
    Ok((field.to_owned(), text, case_insensitive, boost, operators))
}

pub(crate) fn parse_wildcard(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, pattern, case_insensitive, boost, _) = parse("wildcard", body)?;
    Ok(QueryAst::Regex {
        field,
        regex: wildcard_to_regex(&pattern),
        case_insensitive,
    }
    .boosted(boost))
}

pub(crate) fn parse_regexp(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let (field, pattern, case_insensitive, boost, operators) = parse("regexp", body)?;
    Ok(QueryAst::Regex {
        field,
        regex: lucene_regex(&pattern, operators)?,
        case_insensitive,
    }
    .boosted(boost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lucene_regular_expressions_translate() {
        let all = |pattern: &str| lucene_regex(pattern, Operators::ALL).unwrap();
        assert_eq!(all("log.*"), "log.*");
        assert_eq!(all("a@"), "a(?s:.*)");
        assert_eq!(all("v<1-3>"), "v(?:1|2|3)");
        assert_eq!(all("<08-10>"), "(?:08|09|10)");
        assert_eq!(all("\"a.b\"c"), "a\\.bc");
        assert_eq!(all("^x$"), "\\^x\\$", "no anchors in Lucene");
        assert_eq!(all("[a&b]"), "[a\\&b]");
        assert_eq!(all("\\d+"), "\\d+");
        assert!(
            lucene_regex("ab~c", Operators::ALL)
                .unwrap_err()
                .to_string()
                .contains("complement")
        );
        assert!(
            lucene_regex("a&b", Operators::ALL)
                .unwrap_err()
                .to_string()
                .contains("intersection")
        );
        let none = Operators::parse("NONE").unwrap();
        assert_eq!(lucene_regex("a&b~@", none).unwrap(), "a\\&b\\~\\@");
        assert!(lucene_regex("<1-100000>", Operators::ALL).is_err());
        assert!(lucene_regex("\"open", Operators::ALL).is_err());
        assert!(Operators::parse("BOGUS").is_err());
        assert_eq!(
            Operators::parse("INTERVAL|ANYSTRING").unwrap(),
            Operators {
                any_string: true,
                interval: true,
                empty: false,
                complement: false,
                intersection: false
            }
        );
    }

    #[test]
    fn wildcards_become_anchored_regexes() {
        assert_eq!(wildcard_to_regex("GET /api/*"), "GET /api/.*");
        assert_eq!(wildcard_to_regex("a?c"), "a.c");
        assert_eq!(wildcard_to_regex("1.2.3.*"), "1\\.2\\.3\\..*");
        assert_eq!(wildcard_to_regex("a\\*b"), "a\\*b");
    }
}
