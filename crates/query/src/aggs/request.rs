//! A validated `aggs` object parsed into types once per search, for the passes that plan,
//! translate, render and fill in its aggregations (tantivy's `agg_req.rs` is the model).
//!
//! Parsing waits for the search because a `date_histogram`'s bounds may be date math
//! (`now-1d`), resolved against the search's "now".

use serde_json::{Map, Value};

use crate::date_histogram::DateHistogram;
use crate::error::{QueryError, QueryResult};
use crate::request::SearchRequest;

use super::top_hits::parse_top_hits;
use super::{
    AggregationsRequest, FiltersSpec, PercentileOrder, aggregation_type, children_of,
    date_ranges_millis, filters_of, percentile_order,
};

/// One aggregation of a request.
#[derive(Debug)]
pub(crate) struct Aggregation {
    pub(crate) name: String,
    pub(crate) kind: AggregationKind,
    /// Its type (`terms`, `date_histogram`…), as the request spells it.
    pub(crate) agg_type: String,
    /// The body of its type, as sent.
    pub(crate) body: Value,
    /// Its sub-aggregations, in the request's order.
    pub(crate) sub: Vec<Aggregation>,
    pub(crate) meta: Option<Value>,
}

/// One source of a `composite` aggregation, in the request's order.
#[derive(Debug)]
pub(crate) struct CompositeSource {
    /// The key it fills in each bucket.
    pub(crate) name: String,
    /// `terms`, `histogram` or `date_histogram`.
    pub(crate) kind: String,
    /// Its field, as the request names it.
    pub(crate) field: String,
}

fn composite_sources(name: &str, body: &Value) -> QueryResult<Vec<CompositeSource>> {
    let Some(sources) = body.get("sources").and_then(Value::as_array) else {
        return Err(QueryError::parsing(format!(
            "[composite] of [{name}] needs [sources]"
        )));
    };
    sources
        .iter()
        .map(|source| {
            let (source_name, kinds) = source
                .as_object()
                .and_then(|source| source.iter().next())
                .ok_or_else(|| {
                QueryError::parsing(format!("[composite] sources of [{name}] must be objects"))
            })?;
            let (kind, definition) = kinds
                .as_object()
                .and_then(|kinds| kinds.iter().next())
                .ok_or_else(|| {
                    QueryError::parsing(format!(
                        "[composite] source [{source_name}] of [{name}] needs a type"
                    ))
                })?;
            Ok(CompositeSource {
                name: source_name.clone(),
                kind: kind.clone(),
                field: definition
                    .get("field")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect()
}

/// A `date_range` bucket's `from` and `to`, epoch milliseconds.
pub(crate) type DateRangeBounds = (Option<i64>, Option<i64>);

/// What an aggregation is, for the types Logfleet plans itself; the others go to tantivy
/// from their body.
#[derive(Debug)]
pub(crate) enum AggregationKind {
    DateHistogram(Box<DateHistogram>),
    Filters(FiltersSpec),
    TopHits(Box<SearchRequest>),
    /// A `terms`, with the percentile it is ordered by when it is one (Grafana's order).
    Terms(Option<PercentileOrder>),
    Composite(Vec<CompositeSource>),
    /// A `date_range`, its bounds resolved to epoch milliseconds, in the request's order.
    DateRange(Vec<DateRangeBounds>),
    /// A `missing`: documents without a value in `field`.
    Missing {
        field: String,
    },
    /// What tantivy runs from the body with its fields made columns: `range`, `histogram`,
    /// `filter` and the metrics.
    Native,
}

impl AggregationsRequest {
    /// The request's aggregations in types, dates resolved against `now_millis`.
    pub(crate) fn parse_typed(&self, now_millis: i64) -> QueryResult<Vec<Aggregation>> {
        parse_level(self.root(), now_millis)
    }
}

fn parse_level(level: &Map<String, Value>, now_millis: i64) -> QueryResult<Vec<Aggregation>> {
    let mut aggregations = Vec::with_capacity(level.len());
    for (name, definition) in level {
        // Validation made every definition an object.
        let Some(definition) = definition.as_object() else {
            continue;
        };
        let agg_type = aggregation_type(definition);
        let body = definition.get(agg_type).cloned().unwrap_or(Value::Null);
        let kind = match agg_type {
            "date_histogram" => AggregationKind::DateHistogram(Box::new(DateHistogram::parse(
                name, &body, now_millis,
            )?)),
            "filters" => AggregationKind::Filters(filters_of(name, &body)?),
            "top_hits" => AggregationKind::TopHits(Box::new(parse_top_hits(name, &body)?)),
            "terms" => AggregationKind::Terms(percentile_order(definition)),
            "composite" => AggregationKind::Composite(composite_sources(name, &body)?),
            "date_range" => {
                AggregationKind::DateRange(date_ranges_millis(name, &body, now_millis)?)
            }
            "missing" => AggregationKind::Missing {
                field: body
                    .get("field")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        QueryError::parsing(format!("[missing] of [{name}] needs a [field]"))
                    })?
                    .to_owned(),
            },
            _ => AggregationKind::Native,
        };
        let sub = match children_of(definition) {
            Some(children) => parse_level(children, now_millis)?,
            None => Vec::new(),
        };
        aggregations.push(Aggregation {
            name: name.clone(),
            kind,
            agg_type: agg_type.to_owned(),
            body,
            sub,
            meta: definition.get("meta").cloned(),
        });
    }
    Ok(aggregations)
}

/// The date fields whose first and last matching dates must be known before the request can
/// be translated, because a `date_histogram` over them has calendar-length buckets.
pub(crate) fn fields_needing_data_bounds(aggregations: &[Aggregation]) -> Vec<String> {
    fn walk(level: &[Aggregation], fields: &mut Vec<String>) {
        for aggregation in level {
            if let AggregationKind::DateHistogram(histogram) = &aggregation.kind
                && histogram.needs_data_bounds()
                && !fields.contains(&histogram.field)
            {
                fields.push(histogram.field.clone());
            }
            walk(&aggregation.sub, fields);
        }
    }
    let mut fields = Vec::new();
    walk(aggregations, &mut fields);
    fields
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::parse_aggregations;
    use super::*;

    #[test]
    fn parses_each_aggregation_once_into_its_type() {
        let request = parse_aggregations(&json!({
            "per_day": {
                "date_histogram": {"field": "@timestamp", "calendar_interval": "day"},
                "aggs": {
                    "levels": {"filters": {"filters": {"errors": {"term": {"level": "error"}}}}},
                    "latest": {"top_hits": {"size": 1}},
                },
                "meta": {"panel": 1},
            },
            "slowest": {"max": {"field": "duration_ms"}},
        }))
        .unwrap();
        let typed = request.parse_typed(0).unwrap();
        assert_eq!(typed.len(), 2);
        let per_day = &typed[0];
        assert!(matches!(per_day.kind, AggregationKind::DateHistogram(_)));
        assert_eq!(per_day.meta, Some(json!({"panel": 1})));
        assert!(matches!(per_day.sub[0].kind, AggregationKind::Filters(_)));
        assert!(matches!(per_day.sub[1].kind, AggregationKind::TopHits(_)));
        assert_eq!(typed[1].agg_type, "max");
        assert!(matches!(typed[1].kind, AggregationKind::Native));
    }

    #[test]
    fn date_histogram_errors_surface_when_typed() {
        let request =
            parse_aggregations(&json!({"h": {"date_histogram": {"field": "@timestamp"}}})).unwrap();
        assert_eq!(
            request.parse_typed(0).unwrap_err().to_string(),
            "Required one of fields [fixed_interval, calendar_interval] on [h]"
        );
    }
}
