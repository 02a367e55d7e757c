//! `query_string` and `simple_query_string`: Lucene's query syntax, parsed into the AST.
//!
//! Supported: `term`, `field:term`, `"a phrase"`, `field:"a phrase"~2`, `field:(a OR b)`,
//! grouping with `( )`, `AND`/`OR`/`NOT` and `&&`/`||`/`!`, `+required` and `-excluded`,
//! ranges `[a TO b]`, `{a TO b}` (mixed brackets, `*` open ends), `field:>=10` and friends,
//! `*`/`?` wildcards, `term~` and `term~1` fuzzy terms, `_exists_:field`, `*` / `*:*`, and `\` escapes. `AND` binds tighter
//! than `OR`; juxtaposed clauses use `default_operator` (`OR` unless set).

use serde_json::{Map, Value, json};

use super::{FuzzyOptions, wildcard_to_regex};
use crate::ast::{Fuzziness, MatchKind, QueryAst, RangeBound};
use crate::error::{QueryError, QueryResult};

/// Parameters of a `query_string` query.
#[derive(Debug, Clone)]
pub struct QueryStringOptions {
    /// Fields searched by clauses without a field (`*`: every text and keyword field).
    pub default_fields: Vec<String>,
    /// `AND` makes juxtaposed clauses all required.
    pub default_operator_and: bool,
}

impl Default for QueryStringOptions {
    fn default() -> Self {
        QueryStringOptions {
            default_fields: vec!["*".to_owned()],
            default_operator_and: false,
        }
    }
}

pub(crate) fn parse_query_string_query(
    query_type: &str,
    body: &Map<String, Value>,
) -> QueryResult<QueryAst> {
    let mut text = None;
    let mut options = QueryStringOptions::default();
    let mut boost = None;
    let mut lenient = false;
    for (key, value) in body {
        match key.as_str() {
            "query" => text = value.as_str().map(str::to_owned),
            "default_field" => {
                options.default_fields = vec![value.as_str().unwrap_or("*").to_owned()]
            }
            "fields" => {
                options.default_fields = value
                    .as_array()
                    .map(|fields| {
                        fields
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|field| field.split('^').next().unwrap_or(field).to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "default_operator" => {
                options.default_operator_and = match value
                    .as_str()
                    .map(str::to_ascii_uppercase)
                    .as_deref()
                {
                    Some("AND") => true,
                    Some("OR") => false,
                    _ => {
                        return Err(QueryError::parsing(format!(
                            "[{query_type}] [default_operator] must be AND or OR, found [{value}]"
                        )));
                    }
                };
            }
            "boost" => boost = Some(super::parse_boost(query_type, value)?),
            "lenient" => {
                lenient = value.as_bool().ok_or_else(|| {
                    QueryError::parsing(format!("[{query_type}] [lenient] must be a boolean"))
                })?;
            }
            "analyze_wildcard"
            | "allow_leading_wildcard"
            | "analyzer"
            | "quote_analyzer"
            | "fuzziness"
            | "phrase_slop"
            | "minimum_should_match"
            | "flags"
            | "auto_generate_synonyms_phrase_query"
            | "_name"
            | "time_zone"
            | "escape"
            | "max_determinized_states"
            | "enable_position_increments"
            | "tie_breaker"
            | "rewrite"
            | "type"
            | "fuzzy_max_expansions"
            | "fuzzy_prefix_length"
            | "fuzzy_transpositions"
            | "quote_field_suffix" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[{query_type}] query does not support [{other}]"
                )));
            }
        }
    }
    let text = text.ok_or_else(|| {
        QueryError::parsing(format!("[{query_type}] must be provided with a [query]"))
    })?;
    if options.default_fields.is_empty() {
        options.default_fields.push("*".to_owned());
    }
    let query = parse_lucene(&text, &options)?;
    let query = if lenient { query.lenient() } else { query };
    Ok(query.boosted(boost))
}

/// Parses Lucene syntax into the AST.
pub fn parse_lucene(text: &str, options: &QueryStringOptions) -> QueryResult<QueryAst> {
    let (tokens, starts) = tokenize(text)?;
    let mut parser = Parser {
        text,
        tokens,
        starts,
        position: 0,
        options,
        depth: 0,
    };
    let query = parser.parse_or(None)?;
    if let Some(token) = parser.tokens.get(parser.position) {
        parser.position += 1;
        return Err(parser.error(&format!("unexpected [{}]", token.describe())));
    }
    Ok(query)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Phrase(String, u32),
    Colon,
    Open,
    Close,
    And,
    Or,
    Not,
    Plus,
    Minus,
    RangeStart(bool),
    RangeEnd(bool),
    To,
    Comparison(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => word.clone(),
            Token::Phrase(phrase, _) => format!("\"{phrase}\""),
            Token::Colon => ":".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::And => "AND".into(),
            Token::Or => "OR".into(),
            Token::Not => "NOT".into(),
            Token::Plus => "+".into(),
            Token::Minus => "-".into(),
            Token::RangeStart(inclusive) => {
                if *inclusive {
                    "[".into()
                } else {
                    "{".into()
                }
            }
            Token::RangeEnd(inclusive) => {
                if *inclusive {
                    "]".into()
                } else {
                    "}".into()
                }
            }
            Token::To => "TO".into(),
            Token::Comparison(operator) => (*operator).into(),
        }
    }
}

/// The tokens of `text`, with the character index each one starts at.
fn tokenize(text: &str) -> QueryResult<(Vec<Token>, Vec<usize>)> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    let at_clause_start = |tokens: &Vec<Token>| {
        matches!(
            tokens.last(),
            None | Some(
                Token::Open
                    | Token::And
                    | Token::Or
                    | Token::Not
                    | Token::Colon
                    | Token::Plus
                    | Token::Minus
            )
        ) || matches!(
            tokens.last(),
            Some(Token::Word(_) | Token::Phrase(..) | Token::Close | Token::RangeEnd(_))
        )
    };
    let mut starts = Vec::new();
    while index < chars.len() {
        let character = chars[index];
        let (start, count) = (index, tokens.len());
        match character {
            whitespace if whitespace.is_whitespace() => index += 1,
            '(' => {
                tokens.push(Token::Open);
                index += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                index += 1;
            }
            ':' => {
                tokens.push(Token::Colon);
                index += 1;
            }
            '[' => {
                tokens.push(Token::RangeStart(true));
                index += 1;
            }
            '{' => {
                tokens.push(Token::RangeStart(false));
                index += 1;
            }
            ']' => {
                tokens.push(Token::RangeEnd(true));
                index += 1;
            }
            '}' => {
                tokens.push(Token::RangeEnd(false));
                index += 1;
            }
            '+' if at_clause_start(&tokens) => {
                tokens.push(Token::Plus);
                index += 1;
            }
            '-' if at_clause_start(&tokens) => {
                tokens.push(Token::Minus);
                index += 1;
            }
            '!' => {
                tokens.push(Token::Not);
                index += 1;
            }
            '&' if chars.get(index + 1) == Some(&'&') => {
                tokens.push(Token::And);
                index += 2;
            }
            '|' if chars.get(index + 1) == Some(&'|') => {
                tokens.push(Token::Or);
                index += 2;
            }
            '>' | '<' if matches!(tokens.last(), Some(Token::Colon)) => {
                let with_equals = chars.get(index + 1) == Some(&'=');
                tokens.push(Token::Comparison(match (character, with_equals) {
                    ('>', true) => ">=",
                    ('>', false) => ">",
                    ('<', true) => "<=",
                    _ => "<",
                }));
                index += if with_equals { 2 } else { 1 };
            }
            '"' => {
                let mut phrase = String::new();
                index += 1;
                loop {
                    match chars.get(index) {
                        None => {
                            return Err(QueryError::parsing(format!(
                                "Failed to parse query [{text}]: unterminated phrase at {}",
                                location(text, start)
                            )));
                        }
                        Some('\\') => {
                            if let Some(escaped) = chars.get(index + 1) {
                                phrase.push(*escaped);
                            }
                            index += 2;
                        }
                        Some('"') => {
                            index += 1;
                            break;
                        }
                        Some(other) => {
                            phrase.push(*other);
                            index += 1;
                        }
                    }
                }
                let mut slop = 0;
                if chars.get(index) == Some(&'~') {
                    index += 1;
                    let start = index;
                    while chars.get(index).is_some_and(char::is_ascii_digit) {
                        index += 1;
                    }
                    slop = chars[start..index]
                        .iter()
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0);
                }
                tokens.push(Token::Phrase(phrase, slop));
            }
            _ => {
                let mut word = String::new();
                while let Some(&current) = chars.get(index) {
                    if current == '\\' {
                        if let Some(escaped) = chars.get(index + 1) {
                            word.push(*escaped);
                        }
                        index += 2;
                        continue;
                    }
                    if current.is_whitespace() || "():[]{}\"".contains(current) {
                        break;
                    }
                    word.push(current);
                    index += 1;
                }
                if word.is_empty() {
                    return Err(QueryError::parsing(format!(
                        "Failed to parse query [{text}]: unexpected [{character}] at {}",
                        location(text, index)
                    )));
                }
                tokens.push(match word.as_str() {
                    "AND" => Token::And,
                    "OR" => Token::Or,
                    "NOT" => Token::Not,
                    "TO" => Token::To,
                    _ => Token::Word(word),
                });
            }
        }
        if tokens.len() > count {
            starts.push(start);
        }
    }
    Ok((tokens, starts))
}

/// Where character `index` of `text` is, as `line L, column C` (both from 1), the way
/// Lucene's parser reports where it stopped.
fn location(text: &str, index: usize) -> String {
    let mut line = 1;
    let mut column = 1;
    for character in text.chars().take(index) {
        if character == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    format!("line {line}, column {column}")
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    /// Where each token starts in `text`, in characters.
    starts: Vec<usize>,
    position: usize,
    options: &'a QueryStringOptions,
    depth: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Modifier {
    None,
    Must,
    MustNot,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    /// A parse error at the token read last (or at the end of the text), located as
    /// Lucene locates it, which lets a UI point at the spot.
    fn error(&self, message: &str) -> QueryError {
        let index = self
            .starts
            .get(self.position.saturating_sub(1))
            .copied()
            .unwrap_or_else(|| self.text.chars().count());
        QueryError::parsing(format!(
            "Failed to parse query [{}]: {message} at {}",
            self.text,
            location(self.text, index)
        ))
    }

    /// An `OR`-separated list of `AND` groups; juxtaposition follows `default_operator`.
    fn parse_or(&mut self, field: Option<&str>) -> QueryResult<QueryAst> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("the query is nested too deeply"));
        }
        let mut groups: Vec<Vec<(Modifier, QueryAst)>> = vec![Vec::new()];
        loop {
            match self.peek() {
                None | Some(Token::Close) => break,
                Some(Token::Or) => {
                    self.position += 1;
                    groups.push(Vec::new());
                    continue;
                }
                Some(Token::And) => {
                    self.position += 1;
                    // An explicit AND makes both neighbours required.
                    if let Some(last) = groups.last_mut().and_then(|group| group.last_mut())
                        && last.0 == Modifier::None
                    {
                        last.0 = Modifier::Must;
                    }
                    let (modifier, clause) = self.parse_clause(field)?;
                    let modifier = if modifier == Modifier::None {
                        Modifier::Must
                    } else {
                        modifier
                    };
                    if let Some(group) = groups.last_mut() {
                        group.push((modifier, clause));
                    }
                    continue;
                }
                Some(_) => {}
            }
            let (modifier, clause) = self.parse_clause(field)?;
            let modifier = if modifier == Modifier::None && self.options.default_operator_and {
                Modifier::Must
            } else {
                modifier
            };
            if self.options.default_operator_and || groups.last().is_some_and(Vec::is_empty) {
                if let Some(group) = groups.last_mut() {
                    group.push((modifier, clause));
                }
            } else {
                // With OR as the default, juxtaposed clauses are alternatives — unless they
                // carry + or -, which Lucene keeps in the same boolean clause list.
                if modifier == Modifier::None {
                    groups.push(vec![(modifier, clause)]);
                } else {
                    if let Some(group) = groups.last_mut() {
                        group.push((modifier, clause));
                    }
                }
            }
        }
        self.depth -= 1;
        let mut alternatives: Vec<QueryAst> = groups
            .into_iter()
            .filter(|group| !group.is_empty())
            .map(group_query)
            .collect();
        match alternatives.len() {
            0 => Err(self.error("empty query")),
            1 => Ok(alternatives.remove(0)),
            _ => Ok(QueryAst::Bool {
                must: Vec::new(),
                filter: Vec::new(),
                should: alternatives,
                must_not: Vec::new(),
                minimum_should_match: Some(1),
            }),
        }
    }

    fn parse_clause(&mut self, field: Option<&str>) -> QueryResult<(Modifier, QueryAst)> {
        let modifier = match self.peek() {
            Some(Token::Plus) => {
                self.position += 1;
                Modifier::Must
            }
            Some(Token::Minus) | Some(Token::Not) => {
                self.position += 1;
                Modifier::MustNot
            }
            _ => Modifier::None,
        };
        Ok((modifier, self.parse_primary(field)?))
    }

    fn parse_primary(&mut self, field: Option<&str>) -> QueryResult<QueryAst> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.parse_or(field)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(self.error("missing )")),
                }
            }
            Some(Token::Word(word)) if field.is_none() && self.peek() == Some(&Token::Colon) => {
                self.position += 1;
                if word == "_exists_" {
                    return match self.next() {
                        Some(Token::Word(target)) => Ok(QueryAst::Exists { field: target }),
                        _ => Err(self.error("_exists_ needs a field name")),
                    };
                }
                self.parse_value(&word)
            }
            Some(Token::Word(word)) => Ok(self.value_query(field, Value::String(word), false)),
            Some(Token::Phrase(phrase, slop)) => Ok(self.phrase_query(field, phrase, slop)),
            Some(Token::RangeStart(inclusive)) if field.is_some() => {
                self.parse_range(field.unwrap_or_default(), inclusive)
            }
            Some(other) => Err(self.error(&format!("unexpected [{}]", other.describe()))),
            None => Err(self.error("unexpected end of query")),
        }
    }

    /// What follows `field:`.
    fn parse_value(&mut self, field: &str) -> QueryResult<QueryAst> {
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.position += 1;
                let inner = self.parse_or(Some(field))?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(self.error("missing )")),
                }
            }
            Some(Token::RangeStart(inclusive)) => {
                self.position += 1;
                self.parse_range(field, inclusive)
            }
            Some(Token::Comparison(operator)) => {
                self.position += 1;
                let Some(Token::Word(value)) = self.next() else {
                    return Err(self.error(&format!("{operator} needs a value")));
                };
                let bound = RangeBound {
                    value: Value::String(value),
                    inclusive: operator.ends_with('='),
                };
                let (lower, upper) = if operator.starts_with('>') {
                    (Some(bound), None)
                } else {
                    (None, Some(bound))
                };
                Ok(QueryAst::Range {
                    field: field.to_owned(),
                    lower,
                    upper,
                    format: None,
                    time_zone: None,
                })
            }
            Some(Token::Phrase(phrase, slop)) => {
                self.position += 1;
                Ok(self.phrase_query(Some(field), phrase, slop))
            }
            Some(Token::Word(word)) => {
                self.position += 1;
                Ok(self.value_query(Some(field), Value::String(word), true))
            }
            _ => Err(self.error(&format!("no value after [{field}:]"))),
        }
    }

    fn parse_range(&mut self, field: &str, lower_inclusive: bool) -> QueryResult<QueryAst> {
        let Some(Token::Word(low)) = self.next() else {
            return Err(self.error("range needs a lower bound"));
        };
        if self.next() != Some(Token::To) {
            return Err(self.error("range needs TO"));
        }
        let Some(Token::Word(high)) = self.next() else {
            return Err(self.error("range needs an upper bound"));
        };
        let Some(Token::RangeEnd(upper_inclusive)) = self.next() else {
            return Err(self.error("range needs ] or }"));
        };
        let bound = |value: String, inclusive: bool| {
            (value != "*").then(|| RangeBound {
                value: Value::String(value),
                inclusive,
            })
        };
        Ok(QueryAst::Range {
            field: field.to_owned(),
            lower: bound(low, lower_inclusive),
            upper: bound(high, upper_inclusive),
            format: None,
            time_zone: None,
        })
    }

    fn fields_for(&self, field: Option<&str>) -> Vec<String> {
        match field {
            Some(field) => vec![field.to_owned()],
            None => self.options.default_fields.clone(),
        }
    }

    fn value_query(&self, field: Option<&str>, value: Value, _explicit_field: bool) -> QueryAst {
        let text = value.as_str().unwrap_or_default().to_owned();
        if text == "*" {
            return match field {
                Some(field) if field != "*" => QueryAst::Exists {
                    field: field.to_owned(),
                },
                _ => QueryAst::MatchAll,
            };
        }
        let fields = self.fields_for(field);
        if let Some(prefix) = text
            .strip_suffix('*')
            .filter(|prefix| !prefix.contains(['*', '?']) && !prefix.is_empty())
        {
            let clauses: Vec<QueryAst> = fields
                .iter()
                .map(|field| QueryAst::Prefix {
                    field: field.clone(),
                    value: prefix.to_owned(),
                })
                .collect();
            return any_of(clauses);
        }
        let concrete: Vec<&String> = fields.iter().filter(|field| !field.contains('*')).collect();
        // `quikc~` and `quikc~1`: a fuzzy term, within the default or the given edits.
        if let Some((term, edits)) = text.rsplit_once('~')
            && !term.is_empty()
            && edits.bytes().all(|byte| byte.is_ascii_digit())
            && concrete.len() == fields.len()
        {
            let mut options = FuzzyOptions::default();
            if !edits.is_empty() {
                // Lucene caps the distance at 2.
                let edits = edits.parse::<u8>().unwrap_or(2).min(2);
                options.fuzziness = Fuzziness::Edits(edits);
            }
            let clauses = concrete
                .into_iter()
                .map(|field| options.query(field, term.to_owned(), true, false))
                .collect();
            return any_of(clauses);
        }
        if text.contains(['*', '?']) && concrete.len() == fields.len() {
            let regex = wildcard_to_regex(&text);
            let clauses = concrete
                .into_iter()
                .map(|field| QueryAst::Regex {
                    field: field.clone(),
                    regex: regex.clone(),
                    case_insensitive: false,
                })
                .collect();
            return any_of(clauses);
        }
        if fields.len() == 1 && !fields[0].contains('*') {
            return QueryAst::Match {
                field: fields[0].clone(),
                query: json!(text),
                operator_and: false,
                minimum_should_match: None,
                kind: MatchKind::Terms,
            };
        }
        QueryAst::MultiMatch {
            fields,
            query: json!(text),
            operator_and: false,
            kind: MatchKind::Terms,
            fuzzy: None,
        }
    }

    fn phrase_query(&self, field: Option<&str>, phrase: String, slop: u32) -> QueryAst {
        let fields = self.fields_for(field);
        let kind = MatchKind::Phrase { slop };
        if fields.len() == 1 && !fields[0].contains('*') {
            return QueryAst::Match {
                field: fields[0].clone(),
                query: json!(phrase),
                operator_and: false,
                minimum_should_match: None,
                kind,
            };
        }
        QueryAst::MultiMatch {
            fields,
            query: json!(phrase),
            operator_and: false,
            kind,
            fuzzy: None,
        }
    }
}

fn any_of(mut clauses: Vec<QueryAst>) -> QueryAst {
    if clauses.len() == 1 {
        return clauses.remove(0);
    }
    QueryAst::Bool {
        must: Vec::new(),
        filter: Vec::new(),
        should: clauses,
        must_not: Vec::new(),
        minimum_should_match: Some(1),
    }
}

/// One `AND` group: required, excluded and optional clauses.
fn group_query(group: Vec<(Modifier, QueryAst)>) -> QueryAst {
    if group.len() == 1 && group[0].0 == Modifier::None {
        return group
            .into_iter()
            .next()
            .map(|(_, query)| query)
            .unwrap_or(QueryAst::MatchNone);
    }
    let mut must = Vec::new();
    let mut should = Vec::new();
    let mut must_not = Vec::new();
    for (modifier, query) in group {
        match modifier {
            Modifier::Must => must.push(query),
            Modifier::MustNot => must_not.push(query),
            Modifier::None => should.push(query),
        }
    }
    QueryAst::Bool {
        must,
        filter: Vec::new(),
        should,
        must_not,
        minimum_should_match: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_where_the_parser_stopped() {
        let options = QueryStringOptions::default();
        let error = |text: &str| parse_lucene(text, &options).unwrap_err().to_string();
        assert!(
            error("level:(error").ends_with("missing ) at line 1, column 13"),
            "{}",
            error("level:(error")
        );
        assert!(
            error("a AND ) b").contains("unexpected [)] at line 1, column 7"),
            "{}",
            error("a AND ) b")
        );
        assert!(error("msg:\"open").contains("unterminated phrase at line 1, column 5"));
        assert!(
            error("a AND\n  OR b").contains("at line 2, column 3"),
            "{}",
            error("a AND\n  OR b")
        );
    }

    fn parse(text: &str) -> QueryAst {
        parse_lucene(text, &QueryStringOptions::default())
            .unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn field_match(field: &str, text: &str) -> QueryAst {
        QueryAst::Match {
            field: field.into(),
            query: json!(text),
            operator_and: false,
            minimum_should_match: None,
            kind: MatchKind::Terms,
        }
    }

    #[test]
    fn fields_phrases_and_ranges() {
        assert_eq!(parse("level:error"), field_match("level", "error"));
        assert!(matches!(
            parse("message:\"disk full\"~2"),
            QueryAst::Match {
                kind: MatchKind::Phrase { slop: 2 },
                ..
            }
        ));
        let QueryAst::Range { lower, upper, .. } = parse("status_code:[500 TO *}") else {
            panic!()
        };
        assert_eq!(lower.unwrap().value, json!("500"));
        assert!(upper.is_none());
        let QueryAst::Range { lower, .. } = parse("duration_ms:>=1000") else {
            panic!()
        };
        assert!(lower.unwrap().inclusive);
        assert_eq!(
            parse("_exists_:user_id"),
            QueryAst::Exists {
                field: "user_id".into()
            }
        );
        assert_eq!(parse("*"), QueryAst::MatchAll);
        assert_eq!(parse("*:*"), QueryAst::MatchAll);
        assert_eq!(
            parse("path:\\/api\\/users*"),
            QueryAst::Prefix {
                field: "path".into(),
                value: "/api/users".into()
            }
        );
    }

    #[test]
    fn boolean_structure() {
        let QueryAst::Bool {
            must,
            must_not,
            should,
            ..
        } = parse("level:error AND NOT app_name:auth")
        else {
            panic!()
        };
        assert_eq!((must.len(), must_not.len(), should.len()), (1, 1, 0));
        let QueryAst::Bool {
            should,
            minimum_should_match,
            ..
        } = parse("a:1 OR b:2 OR c:3")
        else {
            panic!()
        };
        assert_eq!((should.len(), minimum_should_match), (3, Some(1)));
        let QueryAst::Bool { should, .. } = parse("a:1 b:2 AND c:3") else {
            panic!()
        };
        assert_eq!(should.len(), 2, "AND binds tighter than juxtaposition");
        let QueryAst::Bool { must, must_not, .. } = parse("+a:1 -b:2") else {
            panic!()
        };
        assert_eq!((must.len(), must_not.len()), (1, 1));
        let QueryAst::Bool { should, .. } = parse("level:(error OR critical)") else {
            panic!()
        };
        assert_eq!(
            should,
            [
                field_match("level", "error"),
                field_match("level", "critical")
            ]
        );
        let and_default = QueryStringOptions {
            default_operator_and: true,
            ..QueryStringOptions::default()
        };
        let QueryAst::Bool { must, .. } = parse_lucene("a:1 b:2", &and_default).unwrap() else {
            panic!()
        };
        assert_eq!(must.len(), 2);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Well-formed Lucene queries from a small grammar.
        fn lucene() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                ("[a-z]{1,8}", "[a-z0-9]{1,8}")
                    .prop_map(|(field, value)| format!("{field}:{value}")),
                "[a-z]{1,8}".prop_map(|word| word),
                ("[a-z]{1,8}", "[a-z ]{1,12}")
                    .prop_map(|(field, phrase)| format!("{field}:\"{phrase}\"")),
                ("[a-z]{1,8}", 0u32..100, 100u32..200)
                    .prop_map(|(field, low, high)| format!("{field}:[{low} TO {high}]")),
                ("[a-z]{1,8}", 0u32..100).prop_map(|(field, value)| format!("{field}:>={value}")),
                "[a-z]{1,8}".prop_map(|field| format!("_exists_:{field}")),
            ];
            leaf.prop_recursive(4, 24, 3, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone())
                        .prop_map(|(left, right)| format!("{left} AND {right}")),
                    (inner.clone(), inner.clone())
                        .prop_map(|(left, right)| format!("{left} OR {right}")),
                    (inner.clone(), inner.clone())
                        .prop_map(|(left, right)| format!("{left} {right}")),
                    inner.clone().prop_map(|query| format!("NOT ({query})")),
                    inner.clone().prop_map(|query| format!("-({query})")),
                    inner.prop_map(|query| format!("({query})")),
                ]
            })
        }

        proptest! {
            #[test]
            fn well_formed_queries_parse(text in lucene()) {
                prop_assert!(parse_lucene(&text, &QueryStringOptions::default()).is_ok(), "{}", text);
            }

            #[test]
            fn parsing_is_deterministic(text in lucene()) {
                let options = QueryStringOptions::default();
                prop_assert_eq!(parse_lucene(&text, &options).unwrap(), parse_lucene(&text, &options).unwrap());
            }

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
                let _ = parse_lucene(&text, &QueryStringOptions::default());
            }
        }
    }

    #[test]
    fn malformed_queries_are_errors_not_panics() {
        for bad in [
            "level:",
            "(a",
            "a:[1 TO",
            "a:[1 2]",
            "\"open",
            ")",
            "a AND",
            "_exists_:",
            "x:>",
        ] {
            assert!(
                parse_lucene(bad, &QueryStringOptions::default()).is_err(),
                "{bad}"
            );
        }
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_lucene(&deep, &QueryStringOptions::default()).is_err());
    }
}
