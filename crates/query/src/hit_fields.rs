//! What a hit carries besides `_source`: `fields` / `docvalue_fields` (values of mapped fields,
//! always arrays, dates formatted) and `highlight` (the matched terms of text fields wrapped in
//! tags).

use std::collections::{BTreeMap, BTreeSet};

use logfleet_store::{FieldType, Mapping, wildcard_match};
use logfleet_time::{format_epoch_millis, parse_date_value};
use serde_json::{Map, Value, json};

use crate::ast::{MatchKind, QueryAst};
use crate::columns::analyze;
use crate::dsl::json_token;
use crate::error::{QueryError, QueryResult};

/// Parses `fields` or `docvalue_fields`: names or patterns, or `{"field": …}` objects.
pub fn parse_field_patterns(key: &str, value: &Value) -> QueryResult<Vec<String>> {
    let Value::Array(items) = value else {
        return Err(QueryError::parsing(format!(
            "[{key}] must be an array, found [{}]",
            json_token(value)
        )));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(pattern) => Ok(pattern.clone()),
            Value::Object(object) => object
                .get("field")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| QueryError::parsing(format!("[{key}] entries need a [field]"))),
            other => Err(QueryError::parsing(format!(
                "[{key}] entries must be strings or objects, found [{}]",
                json_token(other)
            ))),
        })
        .collect()
}

/// Leaf values of a source document by dotted path, arrays flattened.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Vec<Value>>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, child, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                flatten(prefix, item, out);
            }
        }
        Value::Null => {}
        leaf => out.entry(prefix.to_owned()).or_default().push(leaf.clone()),
    }
}

/// The `fields` of a hit: every mapped leaf matching a pattern, multi-fields included.
pub fn extract_fields(
    source: &Map<String, Value>,
    patterns: &[String],
    mapping: &Mapping,
) -> Map<String, Value> {
    let mut leaves = BTreeMap::new();
    for (key, value) in source {
        flatten(key, value, &mut leaves);
    }
    let mut fields = Map::new();
    for (path, field) in mapping.leaf_fields() {
        if !patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, &path))
        {
            continue;
        }
        // A multi-field (`title.keyword`) takes its parent's values.
        let source_path = if leaves.contains_key(&path) {
            path.clone()
        } else {
            match path.rsplit_once('.') {
                Some((parent, _))
                    if mapping
                        .fields
                        .get(parent)
                        .is_some_and(|parent| parent.field_type != FieldType::Object) =>
                {
                    parent.to_owned()
                }
                _ => continue,
            }
        };
        let Some(values) = leaves.get(&source_path) else {
            continue;
        };
        let rendered: Vec<Value> = values
            .iter()
            .map(|value| match field.field_type {
                FieldType::Date => parse_date_value(value).map_or_else(
                    || value.clone(),
                    |nanos| json!(format_epoch_millis(nanos.div_euclid(1_000_000))),
                ),
                _ => value.clone(),
            })
            .collect();
        fields.insert(path, Value::Array(rendered));
    }
    fields
}

/// A parsed `highlight` request.
#[derive(Debug, Clone, PartialEq)]
pub struct HighlightRequest {
    fields: Vec<String>,
    pre_tag: String,
    post_tag: String,
    fragment_size: usize,
    number_of_fragments: usize,
    html_encoder: bool,
}

/// Parses the body's `highlight`.
pub fn parse_highlight(value: &Value) -> QueryResult<HighlightRequest> {
    let Value::Object(object) = value else {
        return Err(QueryError::parsing("[highlight] must be an object"));
    };
    let mut request = HighlightRequest {
        fields: Vec::new(),
        pre_tag: "<em>".into(),
        post_tag: "</em>".into(),
        fragment_size: 100,
        number_of_fragments: 5,
        html_encoder: false,
    };
    let first_tag = |value: &Value| {
        value
            .as_array()
            .and_then(|tags| tags.first())
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    for (key, value) in object {
        match key.as_str() {
            "fields" => {
                request.fields = match value {
                    Value::Object(fields) => fields.keys().cloned().collect(),
                    Value::Array(items) => items
                        .iter()
                        .filter_map(Value::as_object)
                        .flat_map(|object| object.keys().cloned())
                        .collect(),
                    _ => {
                        return Err(QueryError::parsing(
                            "[highlight] [fields] must be an object or an array",
                        ));
                    }
                };
            }
            "pre_tags" => request.pre_tag = first_tag(value).unwrap_or(request.pre_tag),
            "post_tags" => request.post_tag = first_tag(value).unwrap_or(request.post_tag),
            "fragment_size" => request.fragment_size = value.as_u64().unwrap_or(100) as usize,
            "number_of_fragments" => {
                request.number_of_fragments = value.as_u64().unwrap_or(5) as usize
            }
            "encoder" => request.html_encoder = value.as_str() == Some("html"),
            "require_field_match"
            | "type"
            | "order"
            | "boundary_scanner"
            | "boundary_chars"
            | "boundary_max_scan"
            | "fragmenter"
            | "no_match_size"
            | "phrase_limit"
            | "highlight_query"
            | "tags_schema"
            | "max_analyzed_offset" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[highlight] unknown field [{other}]"
                )));
            }
        }
    }
    Ok(request)
}

/// Terms each text field was queried with, for highlighting.
pub fn query_terms(query: &QueryAst, mapping: &Mapping) -> BTreeMap<String, BTreeSet<String>> {
    let mut terms = BTreeMap::new();
    collect_terms(query, mapping, &mut terms);
    terms
}

fn text_fields(mapping: &Mapping, pattern: &str) -> Vec<String> {
    mapping
        .leaf_fields()
        .into_iter()
        .filter(|(path, field)| {
            field.field_type == FieldType::Text && wildcard_match(pattern, path)
        })
        .map(|(path, _)| path)
        .collect()
}

fn collect_terms(
    query: &QueryAst,
    mapping: &Mapping,
    terms: &mut BTreeMap<String, BTreeSet<String>>,
) {
    let mut add = |fields: Vec<String>, text: &str| {
        let analyzed: Vec<String> = analyze(text).into_iter().map(|token| token.text).collect();
        for field in fields {
            terms
                .entry(field)
                .or_default()
                .extend(analyzed.iter().cloned());
        }
    };
    match query {
        QueryAst::Match {
            field,
            query,
            kind:
                MatchKind::Terms
                | MatchKind::Phrase { .. }
                | MatchKind::PhrasePrefix { .. }
                | MatchKind::BoolPrefix { .. },
            ..
        } => {
            add(
                text_fields(mapping, field),
                query.as_str().unwrap_or_default(),
            );
        }
        QueryAst::MultiMatch { fields, query, .. } => {
            let expanded = fields
                .iter()
                .flat_map(|pattern| text_fields(mapping, pattern))
                .collect();
            add(expanded, query.as_str().unwrap_or_default());
        }
        QueryAst::Term { field, value, .. } => add(
            text_fields(mapping, field),
            value.as_str().unwrap_or_default(),
        ),
        QueryAst::Bool {
            must,
            filter,
            should,
            ..
        } => {
            for clause in must.iter().chain(filter).chain(should) {
                collect_terms(clause, mapping, terms);
            }
        }
        QueryAst::Boost { query, .. }
        | QueryAst::ConstantScore { query, .. }
        | QueryAst::Lenient(query) => collect_terms(query, mapping, terms),
        _ => {}
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The `highlight` of a hit: fragments of each requested text field with the query's terms
/// wrapped in the tags.
pub fn highlight(
    source: &Map<String, Value>,
    request: &HighlightRequest,
    terms: &BTreeMap<String, BTreeSet<String>>,
) -> Map<String, Value> {
    let mut leaves = BTreeMap::new();
    for (key, value) in source {
        flatten(key, value, &mut leaves);
    }
    let mut highlighted = Map::new();
    for (field, wanted) in terms {
        if wanted.is_empty()
            || !request
                .fields
                .iter()
                .any(|pattern| wildcard_match(pattern, field))
        {
            continue;
        }
        let mut fragments = Vec::new();
        for value in leaves.get(field).into_iter().flatten() {
            let Some(text) = value.as_str() else { continue };
            let matches: Vec<(usize, usize)> = analyze(text)
                .into_iter()
                .filter(|token| wanted.contains(&token.text))
                .map(|token| (token.offset_from, token.offset_to))
                .collect();
            if matches.is_empty() {
                continue;
            }
            fragments.extend(fragments_of(text, &matches, request));
        }
        if !fragments.is_empty() {
            if request.number_of_fragments > 0 {
                fragments.truncate(request.number_of_fragments);
            }
            highlighted.insert(field.clone(), json!(fragments));
        }
    }
    highlighted
}

fn fragments_of(text: &str, matches: &[(usize, usize)], request: &HighlightRequest) -> Vec<String> {
    let windows: Vec<(usize, usize)> =
        if request.number_of_fragments == 0 || text.len() <= request.fragment_size {
            vec![(0, text.len())]
        } else {
            let mut windows: Vec<(usize, usize)> = Vec::new();
            for (from, _) in matches {
                if windows.last().is_some_and(|(_, end)| from < end) {
                    continue;
                }
                let mut start = from.saturating_sub(request.fragment_size / 4);
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + request.fragment_size).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                windows.push((start, end));
            }
            windows
        };
    windows
        .into_iter()
        .map(|(start, end)| {
            let mut fragment = String::new();
            let mut cursor = start;
            for (from, to) in matches
                .iter()
                .filter(|(from, to)| *from >= start && *to <= end)
            {
                fragment.push_str(&encode(&text[cursor..*from], request));
                fragment.push_str(&request.pre_tag);
                fragment.push_str(&encode(&text[*from..*to], request));
                fragment.push_str(&request.post_tag);
                cursor = *to;
            }
            fragment.push_str(&encode(&text[cursor..end], request));
            fragment
        })
        .collect()
}

fn encode(text: &str, request: &HighlightRequest) -> String {
    if request.html_encoder {
        escape_html(text)
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfleet_store::DynamicStyle;

    fn mapping() -> Mapping {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping.merge_explicit(&json!({"properties": {"message": {"type": "text"}, "at": {"type": "date"}, "user": {"properties": {"name": {"type": "keyword"}}}}})).unwrap();
        mapping
    }

    #[test]
    fn fields_are_arrays_with_formatted_dates() {
        let source = json!({"message": "hi", "at": "2026-11-20T10:00:00Z", "user": {"name": ["a", "b"]}, "unmapped": 1});
        let Value::Object(source) = source else {
            unreachable!()
        };
        let fields = extract_fields(&source, &["*".into()], &mapping());
        assert_eq!(fields["at"], json!(["2026-11-20T10:00:00.000Z"]));
        assert_eq!(fields["user.name"], json!(["a", "b"]));
        assert_eq!(fields["message"], json!(["hi"]));
        assert!(!fields.contains_key("unmapped"));
        assert_eq!(
            extract_fields(&source, &["user.*".into()], &mapping()).len(),
            1
        );
    }

    #[test]
    fn highlights_queried_terms() {
        let source = json!({"message": "Disk <full> on /var, disk again"});
        let Value::Object(source) = source else {
            unreachable!()
        };
        let query = QueryAst::Match {
            field: "message".into(),
            query: json!("DISK"),
            operator_and: false,
            minimum_should_match: None,
            kind: MatchKind::Terms,
        };
        let terms = query_terms(&query, &mapping());
        let request = parse_highlight(&json!({"fields": {"message": {}}})).unwrap();
        let highlighted = highlight(&source, &request, &terms);
        assert_eq!(
            highlighted["message"],
            json!(["<em>Disk</em> <full> on /var, <em>disk</em> again"])
        );
        let escaped = parse_highlight(&json!({"fields": {"*": {}}, "encoder": "html"})).unwrap();
        assert_eq!(
            highlight(&source, &escaped, &terms)["message"],
            json!(["<em>Disk</em> &lt;full&gt; on /var, <em>disk</em> again"])
        );
    }
}
