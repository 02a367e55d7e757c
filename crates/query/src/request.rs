//! The `_search` and `_count` request bodies and URL parameters.

use serde_json::{Map, Value};

use crate::aggs::{AggregationsRequest, parse_aggregations};
use crate::ast::QueryAst;
use crate::dsl::{QueryStringOptions, json_token, parse_lucene, parse_query};
use crate::error::{QueryError, QueryResult};
use crate::hit_fields::{HighlightRequest, parse_field_patterns, parse_highlight};
use crate::sort::{
    SortKey, SortTarget, SortValue, parse_search_after, parse_sort, parse_sort_parameter,
    shard_doc_key,
};
use crate::source_filter::SourceFilter;

/// Elasticsearch's `index.max_result_window`.
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// Hits are counted exactly up to this many unless `track_total_hits` says otherwise.
pub const DEFAULT_TRACK_TOTAL_HITS: u64 = 10_000;

/// How `hits.total` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackTotalHits {
    /// Not reported.
    Disabled,
    /// Exact up to this many, then `gte`.
    UpTo(u64),
    /// Always exact.
    Exact,
}

/// A parsed search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query.
    pub query: QueryAst,
    /// Hits to skip.
    pub from: usize,
    /// Hits to return.
    pub size: usize,
    /// `_source` filtering.
    pub source: SourceFilter,
    /// `hits.total` behaviour.
    pub track_total_hits: TrackTotalHits,
    /// Stop collecting after this many hits per partition.
    pub terminate_after: Option<u64>,
    /// Whether `_version` is returned with hits.
    pub version: bool,
    /// Whether `_seq_no` and `_primary_term` are returned with hits.
    pub seq_no_primary_term: bool,
    /// Aggregations.
    pub aggregations: Option<AggregationsRequest>,
    /// Sort keys (`None`: by score).
    pub sort: Option<Vec<SortKey>>,
    /// `search_after` values, matching `sort`.
    pub search_after: Option<Vec<SortValue>>,
    /// Compute scores even when sorting by fields.
    pub track_scores: bool,
    /// `fields` and `docvalue_fields` patterns.
    pub fields: Vec<String>,
    /// `highlight`.
    pub highlight: Option<HighlightRequest>,
    /// `pit`: search a point in time opened with `_pit` instead of an index.
    pub pit: Option<PointInTime>,
}

/// The `pit` of a search body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointInTime {
    /// The id `_pit` returned.
    pub id: String,
    /// How much longer to keep it (`1m`), when given.
    pub keep_alive: Option<String>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: QueryAst::MatchAll,
            from: 0,
            size: 10,
            source: SourceFilter::default(),
            track_total_hits: TrackTotalHits::UpTo(DEFAULT_TRACK_TOTAL_HITS),
            terminate_after: None,
            version: false,
            seq_no_primary_term: false,
            aggregations: None,
            sort: None,
            search_after: None,
            track_scores: false,
            fields: Vec::new(),
            highlight: None,
            pit: None,
        }
    }
}

/// URL parameters of `_search` that shape the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchUrlParameters {
    /// `from`.
    pub from: Option<String>,
    /// `size`.
    pub size: Option<String>,
    /// `_source`.
    pub source: Option<String>,
    /// `_source_includes`.
    pub source_includes: Option<String>,
    /// `_source_excludes`.
    pub source_excludes: Option<String>,
    /// `track_total_hits`.
    pub track_total_hits: Option<String>,
    /// `terminate_after`.
    pub terminate_after: Option<String>,
    /// `q`.
    pub q: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `sort` (`field:desc,other`).
    pub sort: Option<String>,
    /// `df`: the default field of `q`.
    pub default_field: Option<String>,
    /// `default_operator` of `q`.
    pub default_operator: Option<String>,
}

/// Parses a URI search's `q` (Lucene syntax) with its `df` and `default_operator`.
pub fn parse_uri_query(
    text: &str,
    default_field: Option<&str>,
    default_operator: Option<&str>,
) -> QueryResult<QueryAst> {
    let mut options = QueryStringOptions::default();
    if let Some(field) = default_field {
        options.default_fields = vec![field.to_owned()];
    }
    match default_operator.map(str::to_ascii_uppercase).as_deref() {
        None | Some("OR") => {}
        Some("AND") => options.default_operator_and = true,
        Some(other) => {
            return Err(QueryError::illegal(format!(
                "[default_operator] must be AND or OR, found [{other}]"
            )));
        }
    }
    parse_lucene(text, &options)
}

impl SearchRequest {
    /// Parses a body (`None` for an empty body) and applies URL parameters over it, as
    /// Elasticsearch does.
    pub fn parse(
        body: Option<&Value>,
        parameters: &SearchUrlParameters,
    ) -> QueryResult<SearchRequest> {
        let mut request = SearchRequest::default();
        if let Some(body) = body {
            let Value::Object(object) = body else {
                return Err(QueryError::parsing(format!(
                    "Unknown key for a {} in [_na].",
                    json_token(body)
                )));
            };
            request.apply_body(object)?;
        }
        if let Some(from) = &parameters.from {
            request.from = parse_count("from", &Value::String(from.clone()))?;
        }
        if let Some(size) = &parameters.size {
            request.size = parse_count("size", &Value::String(size.clone()))?;
        }
        if let Some(filter) = SourceFilter::from_url(
            parameters.source.as_deref(),
            parameters.source_includes.as_deref(),
            parameters.source_excludes.as_deref(),
        ) {
            request.source = filter;
        }
        if let Some(track) = &parameters.track_total_hits {
            request.track_total_hits = parse_track_total_hits(&Value::String(track.clone()))?;
        }
        if let Some(terminate_after) = &parameters.terminate_after {
            request.terminate_after = Some(parse_count(
                "terminate_after",
                &Value::String(terminate_after.clone()),
            )? as u64);
        }
        if let Some(sort) = &parameters.sort {
            request.sort = Some(parse_sort_parameter(sort)?);
        }
        // A point-in-time search breaks ties by `_shard_doc`, which clients then send back
        // in `search_after`, as Elasticsearch does.
        if request.pit.is_some() {
            let mut keys = request
                .sort
                .take()
                .unwrap_or_else(|| vec![default_score_key()]);
            if keys.last().is_none_or(|key| key.target != SortTarget::Doc) {
                keys.push(shard_doc_key());
            }
            request.sort = Some(keys);
        }
        if let Some(after) = body.and_then(|body| body.get("search_after")) {
            let Some(keys) = &request.sort else {
                return Err(QueryError::illegal("[search_after] requires a [sort]"));
            };
            request.search_after = Some(parse_search_after(after, keys)?);
        }
        if let Some(version) = &parameters.version {
            request.version = version != "false";
        }
        if let Some(text) = &parameters.q {
            request.query = parse_uri_query(
                text,
                parameters.default_field.as_deref(),
                parameters.default_operator.as_deref(),
            )?;
        }
        Ok(request)
    }

    fn apply_body(&mut self, object: &Map<String, Value>) -> QueryResult<()> {
        for (key, value) in object {
            match key.as_str() {
                "query" => self.query = parse_query(value)?,
                "aggs" | "aggregations" => self.aggregations = Some(parse_aggregations(value)?),
                "sort" => self.sort = Some(parse_sort(value)?),
                "track_scores" => self.track_scores = value.as_bool().unwrap_or(false),
                "search_after" => {}
                "from" => self.from = parse_count("from", value)?,
                "size" => self.size = parse_count("size", value)?,
                "_source" => self.source = SourceFilter::parse(value)?,
                "track_total_hits" => self.track_total_hits = parse_track_total_hits(value)?,
                "terminate_after" => {
                    self.terminate_after = Some(parse_count("terminate_after", value)? as u64)
                }
                "version" => self.version = value.as_bool().unwrap_or(false),
                "seq_no_primary_term" => {
                    self.seq_no_primary_term = value.as_bool().unwrap_or(false)
                }
                // Accepted with no effect on a single node.
                "timeout" | "stats" | "explain" | "min_score" | "profile" | "indices_boost"
                | "stored_fields" => {}
                "fields" | "docvalue_fields" => {
                    self.fields.extend(parse_field_patterns(key, value)?);
                }
                "highlight" => self.highlight = Some(parse_highlight(value)?),
                "pit" => self.pit = Some(parse_point_in_time(value)?),
                // Grafana's logs queries send an empty `script_fields` on every request.
                "script_fields" | "runtime_mappings"
                    if value.as_object().is_some_and(serde_json::Map::is_empty) => {}
                "collapse" | "suggest" | "rescore" | "script_fields" | "runtime_mappings"
                | "post_filter" | "knn" => {
                    return Err(QueryError::illegal(format!(
                        "[{key}] is not supported by this version of Logfleet"
                    )));
                }
                other => {
                    return Err(QueryError::parsing(format!(
                        "Unknown key for a {} in [{other}].",
                        json_token(value)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Checks `from + size` against the result window.
    pub fn validate_window(&self) -> QueryResult<()> {
        let window = self.from.saturating_add(self.size);
        if window > MAX_RESULT_WINDOW {
            return Err(QueryError::SearchPhase(format!(
                "Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{window}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."
            )));
        }
        Ok(())
    }
}

/// Parses the `_count` body: `{"query": …}` or nothing.
pub fn parse_count_body(body: Option<&Value>) -> QueryResult<QueryAst> {
    let Some(body) = body else {
        return Ok(QueryAst::MatchAll);
    };
    let Value::Object(object) = body else {
        return Err(QueryError::parsing("request body must be an object"));
    };
    let mut query = QueryAst::MatchAll;
    for (key, value) in object {
        match key.as_str() {
            "query" => query = parse_query(value)?,
            other => {
                return Err(QueryError::parsing(format!(
                    "request does not support [{other}]"
                )));
            }
        }
    }
    Ok(query)
}

fn parse_count(name: &str, value: &Value) -> QueryResult<usize> {
    let number = match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    match number {
        Some(number) if number >= 0 => Ok(number as usize),
        Some(number) if name == "from" => Err(QueryError::illegal(format!(
            "[from] parameter cannot be negative but was [{number}]"
        ))),
        Some(number) => Err(QueryError::illegal(format!(
            "[{name}] parameter cannot be negative, found [{number}]"
        ))),
        None => Err(QueryError::parsing(format!(
            "[{name}] must be a non-negative integer, found [{value}]"
        ))),
    }
}

fn parse_track_total_hits(value: &Value) -> QueryResult<TrackTotalHits> {
    match value {
        Value::Bool(true) => Ok(TrackTotalHits::Exact),
        Value::Bool(false) => Ok(TrackTotalHits::Disabled),
        Value::String(text) if text == "true" => Ok(TrackTotalHits::Exact),
        Value::String(text) if text == "false" => Ok(TrackTotalHits::Disabled),
        other => match other
            .as_i64()
            .or_else(|| other.as_str().and_then(|text| text.parse().ok()))
        {
            Some(-1) => Ok(TrackTotalHits::Exact),
            Some(limit) if limit >= 0 => Ok(TrackTotalHits::UpTo(limit as u64)),
            _ => Err(QueryError::illegal(format!(
                "[track_total_hits] must be a boolean or a non-negative integer, found [{other}]"
            ))),
        },
    }
}

/// `{"id": "…", "keep_alive": "1m"}`.
fn parse_point_in_time(value: &Value) -> QueryResult<PointInTime> {
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| QueryError::parsing("[pit] needs an [id]"))?;
    let keep_alive = match value.get("keep_alive") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            return Err(QueryError::parsing(format!(
                "[pit.keep_alive] must be a time value such as 1m, found [{other}]"
            )));
        }
    };
    Ok(PointInTime {
        id: id.to_owned(),
        keep_alive,
    })
}

fn default_score_key() -> SortKey {
    SortKey {
        target: SortTarget::Score,
        order: crate::sort::SortOrder::Desc,
        missing_first: false,
        unmapped_ok: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_and_url() {
        let body = json!({"query": {"match_all": {}}, "size": 5, "from": 2, "_source": false, "track_total_hits": true});
        let request = SearchRequest::parse(Some(&body), &SearchUrlParameters::default()).unwrap();
        assert_eq!((request.from, request.size), (2, 5));
        assert!(request.source.disabled);
        assert_eq!(request.track_total_hits, TrackTotalHits::Exact);
        let parameters = SearchUrlParameters {
            size: Some("7".into()),
            ..SearchUrlParameters::default()
        };
        assert_eq!(
            SearchRequest::parse(Some(&body), &parameters).unwrap().size,
            7
        );
    }

    #[test]
    fn bad_bodies() {
        let none = SearchUrlParameters::default();
        assert!(matches!(
            SearchRequest::parse(Some(&json!({"bogus": 1})), &none),
            Err(QueryError::Parsing(_))
        ));
        assert!(SearchRequest::parse(Some(&json!({"size": -1})), &none).is_err());
        assert!(SearchRequest::parse(Some(&json!([1])), &none).is_err());
        let window = SearchRequest::parse(Some(&json!({"from": 9995, "size": 10})), &none).unwrap();
        assert!(matches!(
            window.validate_window(),
            Err(QueryError::SearchPhase(_))
        ));
    }
}
