//! [`QueryAst`] → tantivy queries, for one target's mapping. [`crate::columns`] says where a
//! field's terms and column are.

use std::borrow::Cow;
use std::net::IpAddr;
use std::ops::Bound;

use logfleet_store::{FieldType, Fields, GeneratedIdQuery, IdCodec, Mapping, encode_ip};
use logfleet_time::parse_date_value;
use serde_json::Value;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, ExistsQuery, FuzzyTermQuery,
    Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DateTime, Term};

use crate::ast::{FuzzySettings, MatchKind, QueryAst, RangeBound};
use jiff::tz::TimeZone;

use crate::columns::{analyze, column_field, column_path};
use crate::dsl::{escape_regex, resolve_minimum_should_match};
use crate::error::{QueryError, QueryResult};
use logfleet_model::fields::TIMESTAMP;
use logfleet_time::calendar::parse_time_zone;
use logfleet_time::date_math::parse_date_bound;

/// What a query is built against.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// The target's mapping.
    pub mapping: &'a Mapping,
    /// The schema's fields.
    pub fields: &'a Fields,
    /// The store's generated ids, which queries on `_id` also look for.
    pub ids: IdCodec,
    /// "now" for date math, fixed once per request.
    pub now_millis: i64,
}

/// Where a queried field lives.
enum Located {
    Timestamp,
    Id,
    Exact { path: String, field_type: FieldType },
    Text { path: String },
    Object { path: String },
    Unmapped,
}

fn locate(context: &BuildContext<'_>, name: &str) -> Located {
    if name == "_id" {
        return Located::Id;
    }
    match context.mapping.resolve(name) {
        Some(field) if name == TIMESTAMP && field.field_type == FieldType::Date => {
            Located::Timestamp
        }
        Some(field) if field.field_type == FieldType::Text => Located::Text { path: field.path },
        Some(field) if field.field_type == FieldType::Object => {
            Located::Object { path: field.path }
        }
        Some(field) if matches!(field.field_type, FieldType::GeoPoint | FieldType::Unindexed) => {
            Located::Unmapped
        }
        Some(field) => Located::Exact {
            path: field.path,
            field_type: field.field_type,
        },
        None => Located::Unmapped,
    }
}

/// Builds the tantivy query for `ast`.
pub fn build_query(ast: &QueryAst, context: &BuildContext<'_>) -> QueryResult<Box<dyn Query>> {
    Ok(match ast {
        // A value that does not fit its field matches nothing, instead of failing the search.
        QueryAst::Lenient(query) => match build_query(query, context) {
            Err(QueryError::Conversion(_)) => Box::new(EmptyQuery),
            built => built?,
        },
        QueryAst::MatchAll => Box::new(AllQuery),
        QueryAst::MatchNone => Box::new(EmptyQuery),
        QueryAst::Term {
            field,
            value,
            case_insensitive,
        } => build_term(context, field, value, *case_insensitive)?,
        QueryAst::Terms { field, values } => {
            let mut clauses = Vec::with_capacity(values.len());
            let keyword_terms: Option<Vec<Term>> = match locate(context, field) {
                Located::Exact {
                    path,
                    field_type: FieldType::Keyword,
                } => Some(
                    values
                        .iter()
                        .map(|value| keyword_term(context, &path, &scalar_text(value)))
                        .collect(),
                ),
                Located::Id => return Ok(id_query(context, values.iter().map(scalar_text))),
                _ => None,
            };
            if let Some(terms) = keyword_terms {
                return Ok(Box::new(ConstScoreQuery::new(
                    Box::new(TermSetQuery::new(terms)),
                    1.0,
                )));
            }
            for value in values {
                clauses.push((Occur::Should, build_term(context, field, value, false)?));
            }
            Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(clauses)),
                1.0,
            ))
        }
        QueryAst::Range {
            field,
            lower,
            upper,
            format,
            time_zone,
        } => build_range(
            context,
            field,
            lower.as_ref(),
            upper.as_ref(),
            format.as_deref(),
            time_zone.as_deref(),
        )?,
        QueryAst::Exists { field } => build_exists(context, field),
        QueryAst::Ids { values } => id_query(context, values.iter().cloned()),
        QueryAst::Bool {
            must,
            filter,
            should,
            must_not,
            minimum_should_match,
        } => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for query in must {
                clauses.push((Occur::Must, build_query(query, context)?));
            }
            for query in filter {
                // Filters restrict without scoring, as in Elasticsearch.
                clauses.push((
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(build_query(query, context)?, 0.0)),
                ));
            }
            let has_required = !must.is_empty() || !filter.is_empty();
            let required_should =
                minimum_should_match.unwrap_or(usize::from(!has_required && !should.is_empty()));
            if required_should > should.len() {
                return Ok(Box::new(EmptyQuery));
            }
            let mut should_queries = Vec::with_capacity(should.len());
            for query in should {
                should_queries.push((Occur::Should, build_query(query, context)?));
            }
            if required_should > 1 {
                clauses.push((
                    Occur::Must,
                    Box::new(BooleanQuery::with_minimum_required_clauses(
                        should_queries,
                        required_should,
                    )),
                ));
            } else if required_should == 1 {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(should_queries))));
            } else {
                clauses.extend(should_queries);
            }
            for query in must_not {
                clauses.push((Occur::MustNot, build_query(query, context)?));
            }
            let only_negative = clauses.iter().all(|(occur, _)| *occur == Occur::MustNot);
            if only_negative {
                // A purely negative bool matches everything else, as in Elasticsearch; tantivy
                // needs the positive side spelled out.
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(clauses))
        }
        QueryAst::Match {
            field,
            query,
            operator_and,
            minimum_should_match,
            kind,
        } => build_match(
            context,
            field,
            query,
            *operator_and,
            minimum_should_match.as_ref(),
            *kind,
        )?,
        QueryAst::MultiMatch {
            fields,
            query,
            operator_and,
            kind,
            fuzzy,
        } => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for field in expand_field_patterns(context, fields) {
                let clause = match fuzzy {
                    Some(settings) => build_fuzzy(
                        context,
                        &field,
                        &scalar_text(query),
                        *settings,
                        true,
                        *operator_and,
                    )?,
                    None => build_match(context, &field, query, *operator_and, None, *kind)?,
                };
                clauses.push((Occur::Should, clause));
            }
            if clauses.is_empty() {
                Box::new(EmptyQuery)
            } else {
                Box::new(BooleanQuery::new(clauses))
            }
        }
        QueryAst::Prefix { field, value } => build_prefix(context, field, value)?,
        QueryAst::Fuzzy {
            field,
            value,
            fuzziness,
            prefix_length,
            transpositions,
            analyzed,
            operator_and,
        } => {
            let fuzzy = FuzzySettings {
                fuzziness: *fuzziness,
                prefix_length: *prefix_length,
                transpositions: *transpositions,
            };
            build_fuzzy(context, field, value, fuzzy, *analyzed, *operator_and)?
        }
        QueryAst::Regex {
            field,
            regex,
            case_insensitive,
        } => build_regex(context, field, regex, *case_insensitive)?,
        QueryAst::Boost { query, boost } => {
            Box::new(BoostQuery::new(build_query(query, context)?, *boost))
        }
        QueryAst::ConstantScore { query, score } => {
            Box::new(ConstScoreQuery::new(build_query(query, context)?, *score))
        }
    })
}

/// Field names a `multi_match` covers: its names, with `*` patterns expanded over the mapping's
/// text and keyword fields.
fn expand_field_patterns(context: &BuildContext<'_>, patterns: &[String]) -> Vec<String> {
    let mut fields = Vec::new();
    for pattern in patterns {
        if !pattern.contains('*') {
            fields.push(pattern.clone());
            continue;
        }
        for (path, mapping) in context.mapping.leaf_fields() {
            let searchable = matches!(mapping.field_type, FieldType::Text | FieldType::Keyword);
            if searchable
                && logfleet_store::wildcard_match(pattern, &path)
                && !fields.contains(&path)
            {
                fields.push(path);
            }
        }
    }
    fields
}

fn build_match(
    context: &BuildContext<'_>,
    field: &str,
    query: &Value,
    operator_and: bool,
    minimum_should_match: Option<&Value>,
    kind: MatchKind,
) -> QueryResult<Box<dyn Query>> {
    let Located::Text { path } = locate(context, field) else {
        // On exact-value fields a match is a term query on the whole value; a
        // `match_bool_prefix`, whose one term is its last, a prefix of it.
        if let (
            MatchKind::BoolPrefix { .. },
            Located::Exact {
                field_type: FieldType::Keyword,
                ..
            },
        ) = (kind, locate(context, field))
        {
            return build_prefix(context, field, &scalar_text(query));
        }
        return build_term(context, field, query, false);
    };
    let tokens: Vec<(usize, String)> = analyze(&scalar_text(query))
        .into_iter()
        .map(|token| (token.position, token.text))
        .collect();
    let term_for = |text: &str| {
        let mut term = Term::from_field_json_path(context.fields.text, &path, true);
        term.append_type_and_str(text);
        term
    };
    if tokens.is_empty() {
        return Ok(Box::new(EmptyQuery));
    }
    Ok(match kind {
        MatchKind::Terms | MatchKind::BoolPrefix { .. } => {
            let occur = if operator_and {
                Occur::Must
            } else {
                Occur::Should
            };
            let clauses: Vec<(Occur, Box<dyn Query>)> = tokens
                .iter()
                .enumerate()
                .map(|(position, (_, text))| {
                    let query: Box<dyn Query> = match kind {
                        // `match_bool_prefix`: the last term is a prefix of a word.
                        MatchKind::BoolPrefix { max_expansions }
                            if position + 1 == tokens.len() =>
                        {
                            let mut prefix = PhrasePrefixQuery::new(vec![term_for(text)]);
                            prefix.set_max_expansions(max_expansions);
                            Box::new(ConstScoreQuery::new(Box::new(prefix), 1.0))
                        }
                        _ => Box::new(TermQuery::new(term_for(text), IndexRecordOption::WithFreqs)),
                    };
                    (occur, query)
                })
                .collect();
            match minimum_should_match {
                Some(value) if !operator_and => {
                    let required = resolve_minimum_should_match(value, clauses.len())?.max(1);
                    if required > clauses.len() {
                        return Ok(Box::new(EmptyQuery));
                    }
                    Box::new(BooleanQuery::with_minimum_required_clauses(
                        clauses, required,
                    ))
                }
                _ => Box::new(BooleanQuery::new(clauses)),
            }
        }
        MatchKind::Phrase { .. } if tokens.len() == 1 => Box::new(TermQuery::new(
            term_for(&tokens[0].1),
            IndexRecordOption::WithFreqs,
        )),
        MatchKind::Phrase { slop } => {
            let terms = tokens
                .iter()
                .map(|(position, text)| (*position, term_for(text)))
                .collect();
            Box::new(PhraseQuery::new_with_offset_and_slop(terms, slop))
        }
        MatchKind::PhrasePrefix { max_expansions } => {
            let terms = tokens
                .iter()
                .map(|(position, text)| (*position, term_for(text)))
                .collect();
            let mut query = PhrasePrefixQuery::new_with_offset(terms);
            query.set_max_expansions(max_expansions);
            Box::new(query)
        }
    })
}

/// A regular expression over the term dictionary: terms of JSON fields start with their path,
/// so the expression is anchored behind it (`path \0 s value`).
fn build_regex(
    context: &BuildContext<'_>,
    field: &str,
    regex: &str,
    case_insensitive: bool,
) -> QueryResult<Box<dyn Query>> {
    let (json_field, path, value_regex) = match locate(context, field) {
        Located::Exact {
            path,
            field_type: FieldType::Keyword,
        } => (context.fields.keyword, path, regex.to_owned()),
        // Text is indexed lowercased.
        Located::Text { path } => (
            context.fields.text,
            path,
            if case_insensitive {
                regex.to_owned()
            } else {
                regex.to_lowercase()
            },
        ),
        Located::Unmapped | Located::Object { .. } => return Ok(Box::new(EmptyQuery)),
        _ => {
            return Err(QueryError::illegal(format!(
                "Can only use wildcard and regexp queries on keyword and text fields - not on [{field}]"
            )));
        }
    };
    let escaped_path: Vec<String> = path.split('.').map(escape_regex).collect();
    let flags = if case_insensitive { "(?i)" } else { "" };
    let pattern = format!(
        "{}\\x00s{flags}(?:{value_regex})",
        escaped_path.join("\\x01")
    );
    // tantivy refuses expressions whose automaton grows too large (10 MB), as Elasticsearch
    // refuses those over `max_determinized_states`.
    let query = RegexQuery::from_pattern(&pattern, json_field).map_err(|error| {
        QueryError::illegal(format!(
            "failed to compile the expression [{regex}] of field [{field}]: {error}"
        ))
    })?;
    Ok(Box::new(ConstScoreQuery::new(Box::new(query), 1.0)))
}

fn build_fuzzy(
    context: &BuildContext<'_>,
    field: &str,
    value: &str,
    fuzzy: FuzzySettings,
    analyzed: bool,
    operator_and: bool,
) -> QueryResult<Box<dyn Query>> {
    let (json_field, path, terms) = match locate(context, field) {
        Located::Exact {
            path,
            field_type: FieldType::Keyword,
        } => (context.fields.keyword, path, vec![value.to_owned()]),
        // Text is indexed lowercased, one term per token.
        Located::Text { path } => {
            let terms = if analyzed {
                analyze(value).into_iter().map(|token| token.text).collect()
            } else {
                vec![value.to_lowercase()]
            };
            (context.fields.text, path, terms)
        }
        Located::Unmapped | Located::Object { .. } => return Ok(Box::new(EmptyQuery)),
        _ => {
            return Err(QueryError::illegal(format!(
                "Can only use fuzzy queries on keyword and text fields - not on [{field}]"
            )));
        }
    };
    let occur = if operator_and {
        Occur::Must
    } else {
        Occur::Should
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(terms.len());
    for text in terms {
        let mut term = Term::from_field_json_path(json_field, &path, true);
        term.append_type_and_str(&text);
        let edits = fuzzy.fuzziness.edits_for(&text);
        let mut query: Box<dyn Query> =
            Box::new(FuzzyTermQuery::new(term, edits, fuzzy.transpositions));
        if fuzzy.prefix_length > 0 {
            // Sharing the first characters exactly leaves the edits to the rest, which is
            // what `prefix_length` means.
            let prefix: String = text.chars().take(fuzzy.prefix_length).collect();
            let prefix_query = build_prefix(context, field, &prefix)?;
            query = Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (Occur::Must, prefix_query),
            ]));
        }
        clauses.push((occur, query));
    }
    Ok(match clauses.len() {
        0 => Box::new(EmptyQuery),
        1 => clauses.remove(0).1,
        _ => Box::new(BooleanQuery::new(clauses)),
    })
}

fn build_prefix(
    context: &BuildContext<'_>,
    field: &str,
    prefix: &str,
) -> QueryResult<Box<dyn Query>> {
    Ok(match locate(context, field) {
        Located::Exact {
            path,
            field_type: FieldType::Keyword,
        } => {
            // Every string that starts with `prefix` sorts between it and it followed by the
            // largest character, which makes a prefix a range over the column.
            let prefix = normalized(context, &path, prefix);
            let mut lower = column_term(context, &path, FieldType::Keyword);
            lower.append_type_and_str(&prefix);
            let mut upper = column_term(context, &path, FieldType::Keyword);
            upper.append_type_and_str(&format!("{prefix}{}", char::MAX));
            Box::new(ConstScoreQuery::new(
                Box::new(RangeQuery::new(
                    Bound::Included(lower),
                    Bound::Included(upper),
                )),
                1.0,
            ))
        }
        Located::Text { path } => {
            let mut term = Term::from_field_json_path(context.fields.text, &path, true);
            term.append_type_and_str(&prefix.to_lowercase());
            let mut query = PhrasePrefixQuery::new(vec![term]);
            query.set_max_expansions(u32::MAX);
            Box::new(ConstScoreQuery::new(Box::new(query), 1.0))
        }
        Located::Unmapped | Located::Object { .. } => Box::new(EmptyQuery),
        _ => {
            return Err(QueryError::illegal(format!(
                "[prefix] queries are only supported on keyword and text fields, not on [{field}]"
            )));
        }
    })
}

fn keyword_term(context: &BuildContext<'_>, path: &str, value: &str) -> Term {
    let mut term = Term::from_field_json_path(context.fields.keyword, path, true);
    term.append_type_and_str(&normalized(context, path, value));
    term
}

/// `value` as the keyword `path` indexes it: through its normalizer, if it has one.
fn normalized<'v>(context: &BuildContext<'_>, path: &str, value: &'v str) -> Cow<'v, str> {
    match context.mapping.resolve(path) {
        Some(field) if !field.normalizer.is_empty() => {
            Cow::Owned(logfleet_store::normalizer::normalize(&field.normalizer, value).into_owned())
        }
        _ => Cow::Borrowed(value),
    }
}

/// A term (without value) addressing the column that holds `path`.
fn column_term(context: &BuildContext<'_>, path: &str, field_type: FieldType) -> Term {
    Term::from_field_json_path(column_field(context.fields, field_type), path, true)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn exact(term: Term) -> Box<dyn Query> {
    let both = Bound::Included(term.clone());
    Box::new(RangeQuery::new(both, Bound::Included(term)))
}

/// Documents with any of `ids`: client-chosen ids by their `_id` term, and ids this store
/// generated by the sequence numbers they encode.
fn id_query(context: &BuildContext<'_>, ids: impl IntoIterator<Item = String>) -> Box<dyn Query> {
    let mut terms = Vec::new();
    let mut seqs = Vec::new();
    for id in ids {
        seqs.extend(context.ids.decode(&id));
        terms.push(Term::from_field_text(context.fields.id, &id));
    }
    let by_term: Box<dyn Query> = Box::new(TermSetQuery::new(terms));
    let query: Box<dyn Query> = if seqs.is_empty() {
        by_term
    } else {
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, by_term),
            (Occur::Should, Box::new(GeneratedIdQuery::new(seqs))),
        ]))
    };
    Box::new(ConstScoreQuery::new(query, 1.0))
}

fn build_term(
    context: &BuildContext<'_>,
    field: &str,
    value: &Value,
    case_insensitive: bool,
) -> QueryResult<Box<dyn Query>> {
    Ok(match locate(context, field) {
        Located::Unmapped | Located::Object { .. } => Box::new(EmptyQuery),
        Located::Id => id_query(context, [scalar_text(value)]),
        Located::Text { path } => {
            let mut term = Term::from_field_json_path(context.fields.text, &path, true);
            term.append_type_and_str(&scalar_text(value));
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
        }
        Located::Timestamp => {
            let millis = date_value(context, field, value, false, None, None)?;
            let term = Term::from_field_date(
                context.fields.timestamp,
                DateTime::from_timestamp_millis(millis),
            );
            exact(term)
        }
        Located::Exact { path, field_type } => match field_type {
            FieldType::Keyword if case_insensitive => {
                return Err(QueryError::illegal(format!(
                    "[term] case_insensitive matching is not supported on field [{field}]"
                )));
            }
            FieldType::Keyword => Box::new(TermQuery::new(
                keyword_term(context, &path, &scalar_text(value)),
                IndexRecordOption::Basic,
            )),
            FieldType::Long => match numeric(field, value)? {
                number if number.fract() == 0.0 && number.abs() < 9.2e18 => {
                    let mut term = column_term(context, &path, field_type);
                    term.append_type_and_fast_value(number as i64);
                    exact(term)
                }
                _ => Box::new(EmptyQuery),
            },
            FieldType::Double => {
                let mut term = column_term(context, &path, field_type);
                term.append_type_and_fast_value(numeric(field, value)?);
                exact(term)
            }
            FieldType::Date => {
                let millis = date_value(context, field, value, false, None, None)?;
                let mut term = column_term(context, &path, field_type);
                term.append_type_and_fast_value(DateTime::from_timestamp_millis(millis));
                exact(term)
            }
            FieldType::Boolean => {
                let flag = match value {
                    Value::Bool(flag) => *flag,
                    Value::String(text) if text == "true" => true,
                    Value::String(text) if text == "false" => false,
                    other => {
                        return Err(QueryError::conversion(format!(
                            "Can't parse boolean value [{}], expected [true] or [false]",
                            scalar_text(other)
                        )));
                    }
                };
                let mut term = column_term(context, &path, field_type);
                term.append_type_and_fast_value(flag);
                Box::new(TermQuery::new(term, IndexRecordOption::Basic))
            }
            FieldType::Ip => {
                let text = scalar_text(value);
                match parse_ip_or_cidr(&text) {
                    Some((low, high)) if low == high => Box::new(TermQuery::new(
                        keyword_term(context, &path, &encode_ip(low)),
                        IndexRecordOption::Basic,
                    )),
                    Some((low, high)) => {
                        let mut lower = column_term(context, &path, field_type);
                        lower.append_type_and_str(&encode_ip(low));
                        let mut upper = column_term(context, &path, field_type);
                        upper.append_type_and_str(&encode_ip(high));
                        Box::new(RangeQuery::new(
                            Bound::Included(lower),
                            Bound::Included(upper),
                        ))
                    }
                    None => {
                        return Err(QueryError::conversion(format!(
                            "'{text}' is not an IP string literal."
                        )));
                    }
                }
            }
            // `resolve` answers for aliases with their target and for flattened fields as
            // keywords; what is left is not indexed.
            FieldType::Text
            | FieldType::Object
            | FieldType::GeoPoint
            | FieldType::Alias
            | FieldType::Flattened
            | FieldType::Unindexed => Box::new(EmptyQuery),
        },
    })
}

/// An address, or a CIDR block as its first and last address.
fn parse_ip_or_cidr(text: &str) -> Option<(IpAddr, IpAddr)> {
    let Some((address, prefix)) = text.split_once('/') else {
        let ip: IpAddr = text.parse().ok()?;
        return Some((ip, ip));
    };
    let ip: IpAddr = address.parse().ok()?;
    let prefix: u32 = prefix.parse().ok()?;
    let (bits, width) = match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let host_bits = width.checked_sub(prefix)?;
    let hosts = u128::MAX.checked_shr(128 - host_bits).unwrap_or(0);
    let (first, last) = (bits & !hosts, bits | hosts);
    Some(match ip {
        IpAddr::V4(_) => (
            IpAddr::V4((first as u32).into()),
            IpAddr::V4((last as u32).into()),
        ),
        IpAddr::V6(_) => (IpAddr::V6(first.into()), IpAddr::V6(last.into())),
    })
}

fn numeric(field: &str, value: &Value) -> QueryResult<f64> {
    let number = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    number.filter(|number| number.is_finite()).ok_or_else(|| {
        QueryError::conversion(format!(
            "failed to create query: For input string: \"{}\" on field [{field}]",
            scalar_text(value)
        ))
    })
}

fn date_value(
    context: &BuildContext<'_>,
    field: &str,
    value: &Value,
    round_up: bool,
    format: Option<&str>,
    zone: Option<&TimeZone>,
) -> QueryResult<i64> {
    let utc = TimeZone::UTC;
    let zone = zone.unwrap_or(&utc);
    match value {
        Value::String(text) => parse_date_bound(text, context.now_millis, round_up, zone, format)
            .map_err(|reason| QueryError::conversion(format!("{reason} on field [{field}]"))),
        Value::Number(_) if format == Some("epoch_second") => Ok(value
            .as_f64()
            .map_or(0, |seconds| (seconds * 1000.0) as i64)),
        other => parse_date_value(other)
            .map(|nanos| nanos.div_euclid(1_000_000))
            .ok_or_else(|| {
                QueryError::conversion(format!(
                    "failed to parse date field [{}] on field [{field}]",
                    scalar_text(other)
                ))
            }),
    }
}

fn build_range(
    context: &BuildContext<'_>,
    field: &str,
    lower: Option<&RangeBound>,
    upper: Option<&RangeBound>,
    format: Option<&str>,
    time_zone: Option<&str>,
) -> QueryResult<Box<dyn Query>> {
    if lower.is_none() && upper.is_none() {
        return Ok(build_exists(context, field));
    }
    let zone = time_zone
        .map(parse_time_zone)
        .transpose()
        .map_err(QueryError::illegal)?;
    let located = locate(context, field);
    // Each bound becomes a term of the field's column type.
    let make_bound = |bound: Option<&RangeBound>, is_lower: bool| -> QueryResult<Bound<Term>> {
        let Some(bound) = bound else {
            return Ok(Bound::Unbounded);
        };
        // Elasticsearch rounds `gt` and `lte` date bounds up, `gte` and `lt` down.
        let round_up = is_lower != bound.inclusive;
        let date = || {
            date_value(
                context,
                field,
                &bound.value,
                round_up,
                format,
                zone.as_ref(),
            )
            .map(DateTime::from_timestamp_millis)
        };
        let term = match &located {
            Located::Timestamp => Term::from_field_date(context.fields.timestamp, date()?),
            Located::Exact { path, field_type } => {
                let mut term = column_term(context, path, *field_type);
                match field_type {
                    FieldType::Long => {
                        let number = numeric(field, &bound.value)?;
                        // A fractional bound on an integer field: `gte 1.5` means `gte 2`.
                        let rounded = if is_lower {
                            number.ceil()
                        } else {
                            number.floor()
                        };
                        let inclusive_adjusted = rounded != number;
                        term.append_type_and_fast_value(rounded as i64);
                        if inclusive_adjusted {
                            return Ok(Bound::Included(term));
                        }
                    }
                    FieldType::Double => {
                        term.append_type_and_fast_value(numeric(field, &bound.value)?)
                    }
                    FieldType::Date => term.append_type_and_fast_value(date()?),
                    FieldType::Keyword => term.append_type_and_str(&scalar_text(&bound.value)),
                    FieldType::Ip => {
                        let text = scalar_text(&bound.value);
                        let ip: IpAddr = text.parse().map_err(|_| {
                            QueryError::illegal(format!("'{text}' is not an IP string literal."))
                        })?;
                        term.append_type_and_str(&encode_ip(ip));
                    }
                    FieldType::Boolean => {
                        return Err(QueryError::illegal(format!(
                            "range queries are not supported on boolean field [{field}]"
                        )));
                    }
                    FieldType::Text
                    | FieldType::Object
                    | FieldType::GeoPoint
                    | FieldType::Alias
                    | FieldType::Flattened
                    | FieldType::Unindexed => {
                        return Err(range_unsupported(field));
                    }
                }
                term
            }
            Located::Text { .. } => {
                return Err(QueryError::illegal(format!(
                    "range queries on text field [{field}] are not supported; query a keyword field instead"
                )));
            }
            Located::Id | Located::Object { .. } | Located::Unmapped => {
                return Err(range_unsupported(field));
            }
        };
        Ok(if bound.inclusive {
            Bound::Included(term)
        } else {
            Bound::Excluded(term)
        })
    };
    if matches!(located, Located::Unmapped | Located::Object { .. }) {
        return Ok(Box::new(EmptyQuery));
    }
    if matches!(located, Located::Id) {
        return Err(QueryError::illegal(
            "range queries on [_id] are not supported",
        ));
    }
    let lower_bound = make_bound(lower, true)?;
    let upper_bound = make_bound(upper, false)?;
    Ok(Box::new(ConstScoreQuery::new(
        Box::new(RangeQuery::new(lower_bound, upper_bound)),
        1.0,
    )))
}

fn range_unsupported(field: &str) -> QueryError {
    QueryError::illegal(format!("field [{field}] does not support range queries"))
}

fn build_exists(context: &BuildContext<'_>, field: &str) -> Box<dyn Query> {
    match locate(context, field) {
        Located::Id => Box::new(AllQuery),
        Located::Timestamp => Box::new(ExistsQuery::new(TIMESTAMP.to_owned(), false)),
        Located::Exact { path, field_type } => {
            Box::new(ExistsQuery::new(column_path(&path, field_type), false))
        }
        Located::Text { path } => Box::new(TermQuery::new(
            Term::from_field_text(context.fields.field_names, &path),
            IndexRecordOption::Basic,
        )),
        Located::Object { path } => {
            let prefix = format!("{path}.");
            let clauses: Vec<(Occur, Box<dyn Query>)> = context
                .mapping
                .leaf_fields()
                .into_iter()
                .filter(|(leaf, _)| leaf.starts_with(&prefix))
                .map(|(leaf, _)| (Occur::Should, build_exists(context, &leaf)))
                .collect();
            if clauses.is_empty() {
                Box::new(EmptyQuery)
            } else {
                Box::new(BooleanQuery::new(clauses))
            }
        }
        Located::Unmapped => Box::new(EmptyQuery),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let (low, high) = parse_ip_or_cidr("10.1.0.0/16").unwrap();
        assert_eq!(low.to_string(), "10.1.0.0");
        assert_eq!(high.to_string(), "10.1.255.255");
        let (low, high) = parse_ip_or_cidr("::1").unwrap();
        assert_eq!(low, high);
        assert!(parse_ip_or_cidr("10.0.0.0/33").is_none());
        assert!(parse_ip_or_cidr("nope").is_none());
        let every_v4 = parse_ip_or_cidr("10.9.8.7/0").unwrap();
        assert_eq!(
            (every_v4.0.to_string(), every_v4.1.to_string()),
            ("0.0.0.0".to_owned(), "255.255.255.255".to_owned())
        );
        let host = parse_ip_or_cidr("10.9.8.7/32").unwrap();
        assert_eq!(host.0, host.1);
        let block = parse_ip_or_cidr("2001:db8::1/32").unwrap();
        assert_eq!(
            (block.0.to_string(), block.1.to_string()),
            (
                "2001:db8::".to_owned(),
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".to_owned()
            )
        );
        let every_v6 = parse_ip_or_cidr("::/0").unwrap();
        assert_eq!(
            every_v6.1.to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        );
        assert!(parse_ip_or_cidr("::/129").is_none());
    }
}
