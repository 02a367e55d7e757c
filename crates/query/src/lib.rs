//! Search: the Elasticsearch Query DSL, translated in three steps.
//!
//! 1. [`dsl`] deserialises each query type (one file each) into the internal [`QueryAst`];
//! 2. [`build`] turns the AST into tantivy queries for one target's mapping, deciding per
//!    field type what a value means (`term` of `"42"` on a `long` compares numerically);
//! 3. [`search`] runs them over the partitions an index expression resolves to, skipping
//!    partitions whose time bucket lies outside the query's `@timestamp` range, and renders
//!    Elasticsearch's response JSON.
//!
//! Nothing here knows about HTTP; the API crate hands in parsed JSON and gets JSON back.

mod aggs;
mod ast;
mod build;
mod columns;
mod date_histogram;
mod dsl;
mod error;
mod hit_fields;
mod request;
mod request_cache;
mod scroll;
mod search;
mod sort;
mod source_filter;
mod time_bounds;

pub use aggs::{AggregationsRequest, parse_aggregations};
pub use ast::{Fuzziness, FuzzySettings, QueryAst, RangeBound};
pub use build::{BuildContext, build_query};
pub use dsl::{QueryStringOptions, parse_lucene, parse_query};
pub use error::{QueryError, QueryResult};
pub use request::{
    MAX_RESULT_WINDOW, PointInTime, SearchRequest, SearchUrlParameters, TrackTotalHits,
    parse_count_body, parse_uri_query,
};
pub use request_cache::RequestCache;
pub use scroll::Scroll;
pub use search::{SearchContext, count, matching_documents, search};
pub use sort::{SortKey, SortOrder, SortTarget, SortValue};
pub use source_filter::SourceFilter;
pub use time_bounds::timestamp_bounds;
