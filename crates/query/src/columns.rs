//! How a field is laid out in a partition (see `logfleet_store::schema`): the one place that
//! knows which column holds a field's values and which terms its text is indexed as.
//!
//! Numbers and dates live in the columnar-only `_num` field, every other exact value in
//! `_kw`, both under the field's resolved path, so an alias reads the column of the field it
//! names; `@timestamp` has a column of its own. Text is indexed in `_text` by the schema's
//! tokenizer and has no column: aggregating or sorting on it is refused with Elasticsearch's
//! message.

use logfleet_model::fields::TIMESTAMP;
use logfleet_store::schema::{KEYWORD_FIELD, NUMBER_FIELD, TEXT_TOKENIZER};
use logfleet_store::{FieldType, Fields, Mapping};
use tantivy::schema::Field;
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer, TokenizerManager};

use crate::error::{QueryError, QueryResult};

/// Whether values of `field_type` live in the `_num` column (numbers and dates) rather than
/// in `_kw`.
pub(crate) fn is_numeric(field_type: FieldType) -> bool {
    matches!(
        field_type,
        FieldType::Long | FieldType::Double | FieldType::Date
    )
}

/// The name of the schema field whose columns hold values of `field_type`.
pub(crate) fn column_root(field_type: FieldType) -> &'static str {
    if is_numeric(field_type) {
        NUMBER_FIELD
    } else {
        KEYWORD_FIELD
    }
}

/// The schema field whose columns hold values of `field_type`.
pub(crate) fn column_field(fields: &Fields, field_type: FieldType) -> Field {
    if is_numeric(field_type) {
        fields.numbers
    } else {
        fields.keyword
    }
}

/// The column path (`_num.<path>`, `_kw.<path>`) of the field at the resolved `path`.
pub(crate) fn column_path(path: &str, field_type: FieldType) -> String {
    format!("{}.{path}", column_root(field_type))
}

/// The type of a field a request names (`@timestamp` is always a date).
pub(crate) fn field_type_of(mapping: &Mapping, field: &str) -> Option<FieldType> {
    if field == TIMESTAMP {
        Some(FieldType::Date)
    } else {
        mapping.resolve(field).map(|resolved| resolved.field_type)
    }
}

/// Elasticsearch's refusal to aggregate or sort on a text `field`, which has no column.
pub(crate) fn fielddata_disabled(field: &str) -> QueryError {
    QueryError::illegal(format!(
        "Fielddata is disabled on [{field}]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead."
    ))
}

/// The column an aggregation reads for `field` and the field's type, or an error for text,
/// which has no column.
pub(crate) fn aggregation_column(
    mapping: &Mapping,
    field: &str,
) -> QueryResult<(String, Option<FieldType>)> {
    if field == TIMESTAMP {
        return Ok((TIMESTAMP.to_owned(), Some(FieldType::Date)));
    }
    match mapping.resolve(field) {
        Some(resolved) if resolved.field_type == FieldType::Text => Err(fielddata_disabled(field)),
        Some(resolved) => Ok((
            column_path(&resolved.path, resolved.field_type),
            Some(resolved.field_type),
        )),
        // An unmapped field has no column: the aggregation is empty, as in Elasticsearch.
        None => Ok((format!("{KEYWORD_FIELD}.{field}"), None)),
    }
}

/// One term of analysed text, as indexed in `_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextToken {
    /// Its position among the text's terms, for phrases.
    pub(crate) position: usize,
    /// Its byte range in the text, for highlighting.
    pub(crate) offset_from: usize,
    pub(crate) offset_to: usize,
    pub(crate) text: String,
}

/// The terms Elasticsearch's `standard` analyzer would produce, as indexed in `_text`: the
/// same tokenizer the schema registers.
pub(crate) fn analyze(text: &str) -> Vec<TextToken> {
    // The schema's tokenizer is one tantivy registers by default, so the fallback is never
    // taken; it keeps a missing registration from turning into a panic.
    let mut analyzer = TokenizerManager::default()
        .get(TEXT_TOKENIZER)
        .unwrap_or_else(|| TextAnalyzer::from(SimpleTokenizer::default()));
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while let Some(token) = stream.next() {
        tokens.push(TextToken {
            position: token.position,
            offset_from: token.offset_from,
            offset_to: token.offset_to,
            text: token.text.clone(),
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_have_number_columns() {
        assert_eq!(column_path("a.b", FieldType::Long), "_num.a.b");
        assert_eq!(column_path("a.b", FieldType::Date), "_num.a.b");
        assert_eq!(column_path("a.b", FieldType::Keyword), "_kw.a.b");
        assert_eq!(column_path("a.b", FieldType::Ip), "_kw.a.b");
        assert_eq!(column_path("a.b", FieldType::Boolean), "_kw.a.b");
    }

    #[test]
    fn text_is_lowercased_terms_with_positions_and_offsets() {
        let tokens = analyze("Hello, World");
        let terms: Vec<_> = tokens
            .iter()
            .map(|token| {
                (
                    token.position,
                    token.offset_from,
                    token.offset_to,
                    token.text.as_str(),
                )
            })
            .collect();
        assert_eq!(terms, [(0, 0, 5, "hello"), (1, 7, 12, "world")]);
    }
}
