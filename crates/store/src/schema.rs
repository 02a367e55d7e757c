//! The one tantivy schema every partition uses.
//!
//! Elasticsearch mappings grow as documents arrive, but a tantivy schema is fixed when an index
//! is created. Rather than cutting a new partition each time a field appears, every partition
//! shares this schema and dynamic fields live in two JSON fields, typed by Logfleet's own
//! [`Mapping`](crate::Mapping):
//!
//! * `_kw` holds string-like exact values — `keyword`, `ip`, `boolean` — raw (untokenised),
//!   indexed for term lookups and columnar (fast) for sorting, ranges and aggregations.
//! * `_num` holds numbers and dates, columnar only. Numeric and date queries are answered from
//!   the columns (a `term` on a number is a one-value range), so indexing them in the inverted
//!   index would only add a nearly-unique term per value (durations, sizes, timestamps) to the
//!   term dictionary — measured at about a third of its size and of indexing CPU.
//! * `_text` holds `text` fields, tokenised with positions for phrase queries.
//!
//! `@timestamp` has a field of its own, columnar only for the same reason as `_num`.
//! Partitions written before it lost its postings still have them; queries never read them.
//!
//! Because every partition has the same schema, a document is converted once, before the
//! write-ahead log, and the [`Fields`] handles are valid in every partition.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, JsonObjectOptions, Schema,
    TextFieldIndexing, TextOptions,
};

/// Name of the JSON field holding exact-value fields.
pub const KEYWORD_FIELD: &str = "_kw";
/// Name of the JSON field holding full-text fields.
pub const TEXT_FIELD: &str = "_text";
/// Name of the JSON field holding numbers and dates.
pub const NUMBER_FIELD: &str = "_num";
/// Name of the column holding the sequence number of auto-id documents.
pub const SEQ_FIELD: &str = "_seq";
/// The tokenizer of `_text`: lowercased words, like Elasticsearch's `standard` analyzer.
pub const TEXT_TOKENIZER: &str = "default";

/// Handles to the fields of the shared schema.
#[derive(Debug, Clone)]
pub struct Fields {
    /// `_id` of documents whose id the client chose: indexed raw and stored. Generated ids
    /// are not kept here but derived from `seq`.
    pub id: Field,
    /// `_seq`: for documents with a generated id, the write-ahead log sequence number that
    /// wrote them (columnar only; see [`crate::IdCodec`]).
    pub seq: Field,
    /// `_source`: the original document or its [skeleton](crate::skeleton), as text in the
    /// compressed doc store.
    pub source: Field,
    /// `_version`: columnar, read when a document is replaced.
    pub version: Field,
    /// `@timestamp`: columnar only, like `_num`; used for partition choice, ranges and sorting.
    pub timestamp: Field,
    /// `_kw`: exact-value fields.
    pub keyword: Field,
    /// `_text`: full-text fields.
    pub text: Field,
    /// `_num`: numbers and dates, columnar only.
    pub numbers: Field,
    /// `_field_names`: the paths of `text` fields a document has, for `exists` queries on
    /// fields that have no column.
    pub field_names: Field,
}

impl Fields {
    /// The handles of a schema built by [`build_schema`], found by name (for code that is
    /// handed a tantivy `Schema`, such as aggregation filters).
    pub fn from_schema(schema: &Schema) -> Option<Fields> {
        Some(Fields {
            id: schema.get_field("_id").ok()?,
            seq: schema.get_field(SEQ_FIELD).ok()?,
            source: schema.get_field("_source").ok()?,
            version: schema.get_field("_version").ok()?,
            timestamp: schema.get_field("@timestamp").ok()?,
            keyword: schema.get_field(KEYWORD_FIELD).ok()?,
            text: schema.get_field(TEXT_FIELD).ok()?,
            numbers: schema.get_field(NUMBER_FIELD).ok()?,
            field_names: schema.get_field("_field_names").ok()?,
        })
    }
}

/// Builds the schema and its field handles.
pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Exact-match fields score nothing, so they keep no field norms.
    let raw_without_norms = TextFieldIndexing::default()
        .set_tokenizer("raw")
        .set_index_option(IndexRecordOption::Basic)
        .set_fieldnorms(false);
    let id = builder.add_text_field(
        "_id",
        TextOptions::default()
            .set_indexing_options(raw_without_norms.clone())
            .set_stored(),
    );
    let seq = builder.add_u64_field(SEQ_FIELD, tantivy::schema::FAST);
    // Stored as text, which the doc store writes in one copy (bytes are written one at a
    // time); partitions from before keep a bytes field, and readers accept both.
    let source = builder.add_text_field("_source", TextOptions::default().set_stored());
    let version = builder.add_u64_field("_version", tantivy::schema::FAST);
    let timestamp = builder.add_date_field(
        "@timestamp",
        DateOptions::default()
            .set_fast()
            .set_precision(DateTimePrecision::Milliseconds),
    );
    let keyword = builder.add_json_field(
        KEYWORD_FIELD,
        JsonObjectOptions::default()
            .set_indexing_options(raw_without_norms.clone())
            .set_fast("raw")
            .set_expand_dots_enabled(),
    );
    let numbers = builder.add_json_field(
        NUMBER_FIELD,
        JsonObjectOptions::default()
            .set_fast("raw")
            .set_expand_dots_enabled(),
    );
    let text = builder.add_json_field(
        TEXT_FIELD,
        JsonObjectOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TEXT_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_expand_dots_enabled(),
    );
    let field_names = builder.add_text_field(
        "_field_names",
        TextOptions::default().set_indexing_options(raw_without_norms),
    );
    let fields = Fields {
        id,
        seq,
        source,
        version,
        timestamp,
        keyword,
        text,
        numbers,
        field_names,
    };
    (builder.build(), fields)
}
