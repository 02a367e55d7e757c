//! `top_hits`: the best documents of each bucket, with their `_source`, sort values and
//! everything else a search hit carries.
//!
//! tantivy's own `top_hits` returns column values but not the documents, and its document
//! addresses mean nothing once results from several partitions are merged. Logfleet instead
//! runs each `top_hits` as a search of its own once the buckets are known: the request's
//! query, filtered by the conditions of every bucket above it (the term of a `terms` bucket,
//! the interval of a histogram bucket, the query of a `filter`…), with the `top_hits`' size,
//! sort and `_source`. That costs one top-N search per bucket shown, which for the usual
//! ten `terms` buckets is a handful of milliseconds, and it gives exactly Elasticsearch's
//! hits.

use serde_json::{Map, Value, json};

use crate::ast::QueryAst;
use crate::dsl::parse_query;
use crate::error::{QueryError, QueryResult};
use crate::request::{SearchRequest, SearchUrlParameters, TrackTotalHits};

use super::FiltersSpec;
use super::request::{Aggregation, AggregationKind};

/// Elasticsearch's `index.max_inner_result_window`.
const MAX_INNER_RESULT_WINDOW: usize = 100;

/// The keys a `top_hits` body may have: those of a search body that shape hits.
const PARAMETERS: &[&str] = &[
    "from",
    "size",
    "sort",
    "_source",
    "fields",
    "docvalue_fields",
    "version",
    "seq_no_primary_term",
    "highlight",
    "track_scores",
    "explain",
    "stored_fields",
];

/// Parses a `top_hits` body into the search each of its buckets runs (without the query).
pub(crate) fn parse_top_hits(name: &str, body: &Value) -> QueryResult<SearchRequest> {
    let Some(object) = body.as_object() else {
        return Err(QueryError::parsing(format!(
            "[top_hits] of [{name}] must be an object"
        )));
    };
    if let Some(unknown) = object
        .keys()
        .find(|key| !PARAMETERS.contains(&key.as_str()))
    {
        return Err(QueryError::parsing(format!(
            "[top_hits] unknown field [{unknown}]"
        )));
    }
    let mut search_body = object.clone();
    search_body.entry("size").or_insert_with(|| json!(3));
    search_body.insert("track_total_hits".into(), json!(false));
    let request = SearchRequest::parse(
        Some(&Value::Object(search_body)),
        &SearchUrlParameters::default(),
    )?;
    let window = request.from.saturating_add(request.size);
    if window > MAX_INNER_RESULT_WINDOW {
        return Err(QueryError::illegal(format!(
            "Top hits result window is too large, the top hits aggregator [{name}]'s from + size must be less than or equal to: [{MAX_INNER_RESULT_WINDOW}] but was [{window}]. This limit can be set by changing the [index.max_inner_result_window] index level setting."
        )));
    }
    Ok(request)
}

/// Runs one bucket's `top_hits` search: the request, its query, and the number of documents
/// in the bucket; returns Elasticsearch's `hits` object.
pub(crate) type RunTopHits<'a> = dyn FnMut(SearchRequest, u64) -> QueryResult<Value> + 'a;

/// Fills every `top_hits` of the rendered `aggregations` (a `top_hits` renders as nothing
/// until then). `query` is the search's query and `total` its number of matches.
pub(crate) fn fill_top_hits(
    aggregations: &[Aggregation],
    rendered: &mut Value,
    query: &QueryAst,
    total: u64,
    run: &mut RunTopHits<'_>,
) -> QueryResult<()> {
    let Value::Object(rendered) = rendered else {
        return Ok(());
    };
    let mut walk = Walk {
        query,
        clauses: Vec::new(),
        run,
    };
    walk.level(aggregations, rendered, total)
}

struct Walk<'a, 'r> {
    query: &'a QueryAst,
    /// The conditions of the buckets above the current level, as Query DSL.
    clauses: Vec<Value>,
    run: &'a mut RunTopHits<'r>,
}

impl Walk<'_, '_> {
    fn level(
        &mut self,
        level: &[Aggregation],
        rendered: &mut Map<String, Value>,
        doc_count: u64,
    ) -> QueryResult<()> {
        for aggregation in level {
            let (name, children) = (&aggregation.name, &aggregation.sub);
            if let AggregationKind::TopHits(request) = &aggregation.kind {
                let hits = self.search(request, doc_count)?;
                rendered.insert(name.clone(), hits);
                continue;
            }
            if !has_top_hits(children) {
                continue;
            }
            let Some(result) = rendered.get_mut(name) else {
                continue;
            };
            match (&aggregation.kind, aggregation.agg_type.as_str()) {
                (_, "filter") => self.bucket(children, result, aggregation.body.clone())?,
                (AggregationKind::Missing { field }, _) => {
                    let clause = json!({"bool": {"must_not": {"exists": {"field": field}}}});
                    self.bucket(children, result, clause)?;
                }
                (AggregationKind::Filters(FiltersSpec { named, other, .. }), _) => {
                    let buckets = buckets_of(result);
                    for (index, bucket) in buckets.into_iter().enumerate() {
                        let clause = match named.get(index) {
                            Some((_, query)) => query.clone(),
                            None if other.is_some() => {
                                let all: Vec<Value> =
                                    named.iter().map(|(_, query)| query.clone()).collect();
                                json!({"bool": {"must_not": all}})
                            }
                            None => continue,
                        };
                        self.bucket(children, bucket, clause)?;
                    }
                }
                _ => {
                    for bucket in buckets_of(result) {
                        let clause = self.bucket_clause(aggregation, bucket)?;
                        self.bucket(children, bucket, clause)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn bucket(
        &mut self,
        children: &[Aggregation],
        bucket: &mut Value,
        clause: Value,
    ) -> QueryResult<()> {
        let doc_count = bucket.get("doc_count").and_then(Value::as_u64).unwrap_or(0);
        let Value::Object(bucket) = bucket else {
            return Ok(());
        };
        self.clauses.push(clause);
        let filled = self.level(children, bucket, doc_count);
        self.clauses.pop();
        filled
    }

    /// The condition a document meets to be in `bucket` of a bucketing aggregation.
    fn bucket_clause(&self, aggregation: &Aggregation, bucket: &Value) -> QueryResult<Value> {
        let Aggregation {
            name,
            agg_type,
            body,
            ..
        } = aggregation;
        let field = body.get("field").cloned().unwrap_or(Value::Null);
        let field = field.as_str().unwrap_or_default();
        let key = bucket.get("key").cloned().unwrap_or(Value::Null);
        let range = |from: Option<Value>, to: Option<Value>, is_date: bool| {
            let mut bounds = Map::new();
            if let Some(from) = from.filter(|from| !from.is_null()) {
                bounds.insert("gte".into(), from);
            }
            if let Some(to) = to.filter(|to| !to.is_null()) {
                bounds.insert("lt".into(), to);
            }
            if is_date {
                bounds.insert("format".into(), json!("epoch_millis"));
            }
            json!({"range": {field: bounds}})
        };
        if let AggregationKind::DateHistogram(histogram) = &aggregation.kind {
            let end = key
                .as_i64()
                .and_then(|start| histogram.bucket_end(start))
                .map(|end| json!(end));
            return Ok(range(Some(key), end, true));
        }
        Ok(match agg_type.as_str() {
            // Booleans and dates match by their printed form (`true`, an ISO date).
            "terms" => {
                let value = bucket.get("key_as_string").cloned().unwrap_or(key);
                json!({"term": {field: value}})
            }
            "histogram" => {
                let interval = body.get("interval").and_then(Value::as_f64).unwrap_or(1.0);
                let to = key.as_f64().map(|start| json!(start + interval));
                range(Some(key), to, false)
            }
            "range" | "date_range" => range(
                bucket.get("from").cloned(),
                bucket.get("to").cloned(),
                agg_type == "date_range",
            ),
            "composite" => {
                let mut clauses = Vec::new();
                let sources = body.get("sources").and_then(Value::as_array);
                for source in sources.into_iter().flatten() {
                    let Some((source_name, kinds)) =
                        source.as_object().and_then(|object| object.iter().next())
                    else {
                        continue;
                    };
                    let Some(("terms", definition)) = kinds
                        .as_object()
                        .and_then(|kinds| kinds.iter().next())
                        .map(|(kind, definition)| (kind.as_str(), definition))
                    else {
                        return Err(QueryError::illegal(format!(
                            "[top_hits] under composite [{name}] needs terms sources only"
                        )));
                    };
                    let source_field = definition.get("field").cloned().unwrap_or(Value::Null);
                    let value = bucket
                        .get("key")
                        .and_then(|key| key.get(source_name))
                        .cloned()
                        .unwrap_or(Value::Null);
                    clauses
                        .push(json!({"term": {source_field.as_str().unwrap_or_default(): value}}));
                }
                json!({"bool": {"filter": clauses}})
            }
            other => {
                return Err(QueryError::illegal(format!(
                    "[top_hits] is not supported under a [{other}] aggregation"
                )));
            }
        })
    }

    fn search(&mut self, request: &SearchRequest, doc_count: u64) -> QueryResult<Value> {
        let mut request = request.clone();
        let mut filter = Vec::with_capacity(self.clauses.len());
        for clause in &self.clauses {
            filter.push(parse_query(clause)?);
        }
        request.query = QueryAst::Bool {
            must: vec![self.query.clone()],
            filter,
            should: Vec::new(),
            must_not: Vec::new(),
            minimum_should_match: None,
        };
        request.track_total_hits = TrackTotalHits::Disabled;
        (self.run)(request, doc_count)
    }
}

/// The buckets of a rendered bucketing aggregation, in order, whether listed or keyed.
fn buckets_of(result: &mut Value) -> Vec<&mut Value> {
    match result.get_mut("buckets") {
        Some(Value::Array(buckets)) => buckets.iter_mut().collect(),
        Some(Value::Object(keyed)) => keyed.values_mut().collect(),
        _ => Vec::new(),
    }
}

fn has_top_hits(level: &[Aggregation]) -> bool {
    level.iter().any(|aggregation| {
        matches!(aggregation.kind, AggregationKind::TopHits(_)) || has_top_hits(&aggregation.sub)
    })
}

/// Whether aggregations have a `top_hits` anywhere.
pub(crate) fn requests_top_hits(aggregations: &[Aggregation]) -> bool {
    has_top_hits(aggregations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_hits_bodies_are_validated_like_searches() {
        let request = parse_top_hits(
            "t",
            &json!({"sort": [{"@timestamp": "desc"}], "_source": ["message"]}),
        )
        .unwrap();
        assert_eq!(request.size, 3, "Elasticsearch's default");
        assert!(
            parse_top_hits("t", &json!({"size": 101}))
                .unwrap_err()
                .to_string()
                .contains("max_inner_result_window")
        );
        assert!(
            parse_top_hits("t", &json!({"query": {}}))
                .unwrap_err()
                .to_string()
                .contains("unknown field [query]")
        );
        assert!(parse_top_hits("t", &json!([])).is_err());
    }
}
