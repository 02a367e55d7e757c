//! Aggregations: Elasticsearch requests, validated here, translated to tantivy's aggregation
//! framework per target mapping (field names become column paths, `filter` queries become
//! Logfleet queries), collected per partition as intermediate results, merged, finalised
//! once, and rendered back in Elasticsearch's shapes (integer date keys with
//! `key_as_string`, IP and boolean keys as Elasticsearch prints them).

use std::collections::HashMap;

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use crate::dsl::{json_token, parse_query};
use crate::error::{QueryError, QueryResult};
use logfleet_time::calendar::parse_time_zone;
use logfleet_time::date_math::parse_date_bound;

mod render;
mod request;
pub(crate) mod top_hits;
mod translate;

pub(crate) use render::render;
pub(crate) use request::{Aggregation, fields_needing_data_bounds};
pub(crate) use translate::to_tantivy;

use top_hits::parse_top_hits;

const BUCKET_TYPES: &[&str] = &[
    "terms",
    "date_histogram",
    "histogram",
    "range",
    "date_range",
    "filter",
    "filters",
    "missing",
    "composite",
];
const METRIC_TYPES: &[&str] = &[
    "avg",
    "sum",
    "min",
    "max",
    "stats",
    "extended_stats",
    "value_count",
    "cardinality",
    "percentiles",
    "top_hits",
];
/// Elasticsearch aggregation types Logfleet recognises but does not run yet.
const NOT_YET: &[&str] = &[
    "significant_terms",
    "ip_range",
    "auto_date_histogram",
    "rare_terms",
    "multi_terms",
    "nested",
    "reverse_nested",
    "global",
    "sampler",
    "bucket_sort",
    "bucket_script",
    "bucket_selector",
    "derivative",
    "cumulative_sum",
    "moving_fn",
    "sum_bucket",
    "avg_bucket",
    "max_bucket",
    "min_bucket",
    "stats_bucket",
    "percentile_ranks",
    "median_absolute_deviation",
    "weighted_avg",
    "scripted_metric",
    "boxplot",
    "rate",
    "top_metrics",
    "string_stats",
    "geo_bounds",
    "geo_centroid",
    "geohash_grid",
    "geotile_grid",
    "variable_width_histogram",
    "adjacency_matrix",
    "random_sampler",
    "categorize_text",
    "frequent_item_sets",
    "time_series",
    "ip_prefix",
    "geo_distance",
];

/// A validated Elasticsearch `aggs` object.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregationsRequest {
    root: Map<String, Value>,
}

/// Validates an `aggs` object: names, exactly one type per aggregation, known types, no
/// sub-aggregations under metrics.
pub fn parse_aggregations(value: &Value) -> QueryResult<AggregationsRequest> {
    let Value::Object(root) = value else {
        return Err(QueryError::parsing(format!(
            "Expected [START_OBJECT] under [aggs], but got a [{}]",
            json_token(value)
        )));
    };
    validate_level(root)?;
    Ok(AggregationsRequest { root: root.clone() })
}

fn validate_level(level: &Map<String, Value>) -> QueryResult<()> {
    for (name, definition) in level {
        if name.is_empty() || name.contains(['[', ']', '>']) {
            return Err(QueryError::parsing(format!(
                "Invalid aggregation name [{name}]. Aggregation names can contain any character except '[', ']', and '>'"
            )));
        }
        let Value::Object(definition) = definition else {
            return Err(QueryError::parsing(format!(
                "Expected [START_OBJECT] under [{name}], but got a [{}] in [{name}]",
                json_token(definition)
            )));
        };
        if definition.contains_key("aggs") && definition.contains_key("aggregations") {
            return Err(QueryError::parsing(format!(
                "Found two sub aggregation definitions under [{name}]"
            )));
        }
        let mut agg_type = None;
        for (key, body) in definition {
            match key.as_str() {
                "aggs" | "aggregations" => {
                    let Value::Object(sub) = body else {
                        return Err(QueryError::parsing(format!(
                            "[{key}] of [{name}] must be an object"
                        )));
                    };
                    validate_level(sub)?;
                }
                "meta" => {}
                other => {
                    if let Some(first) = agg_type {
                        return Err(QueryError::parsing(format!(
                            "Found two aggregation type definitions in [{name}]: [{first}] and [{other}]"
                        )));
                    }
                    agg_type = Some(other);
                    if NOT_YET.contains(&other) {
                        return Err(QueryError::illegal(format!(
                            "[{other}] aggregations are not supported yet (aggregation [{name}])"
                        )));
                    }
                    if !BUCKET_TYPES.contains(&other) && !METRIC_TYPES.contains(&other) {
                        return Err(QueryError::parsing(format!(
                            "Unknown aggregation type [{other}]"
                        )));
                    }
                    if !body.is_object() {
                        return Err(QueryError::parsing(format!(
                            "Expected [START_OBJECT] under [{other}], but got a [{}] in [{name}]",
                            json_token(body)
                        )));
                    }
                    if other == "filter" {
                        parse_query(body)?;
                    }
                    if other == "top_hits" {
                        parse_top_hits(name, body)?;
                    }
                    if other == "filters" {
                        for (_, query) in filters_of(name, body)?.named {
                            parse_query(&query)?;
                        }
                    }
                }
            }
        }
        let Some(agg_type) = agg_type else {
            return Err(QueryError::parsing(format!(
                "Missing definition for aggregation [{name}]"
            )));
        };
        let has_children =
            definition.contains_key("aggs") || definition.contains_key("aggregations");
        if has_children && METRIC_TYPES.contains(&agg_type) {
            return Err(QueryError::illegal(format!(
                "Aggregator [{name}] of type [{agg_type}] cannot accept sub-aggregations"
            )));
        }
    }
    Ok(())
}

/// The `[from, to)` bounds of a `date_range` aggregation in epoch milliseconds, date math
/// resolved.
fn date_ranges_millis(
    name: &str,
    body: &Value,
    now_millis: i64,
) -> QueryResult<Vec<(Option<i64>, Option<i64>)>> {
    let ranges = body
        .get("ranges")
        .and_then(Value::as_array)
        .ok_or_else(|| QueryError::parsing(format!("[date_range] of [{name}] needs [ranges]")))?;
    let zone = range_zone(body)?;
    let format = body.get("format").and_then(Value::as_str);
    let bound = |value: Option<&Value>| -> QueryResult<Option<i64>> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => parse_date_bound(text, now_millis, false, &zone, format)
                .map(Some)
                .map_err(QueryError::illegal),
            Some(other) => other.as_i64().map(Some).ok_or_else(|| {
                QueryError::illegal(format!(
                    "[date_range] bound [{other}] of [{name}] is not a date"
                ))
            }),
        }
    };
    ranges
        .iter()
        .map(|range| Ok((bound(range.get("from"))?, bound(range.get("to"))?)))
        .collect()
}

/// The `time_zone` of a `date_range`, UTC when absent.
fn range_zone(body: &Value) -> QueryResult<TimeZone> {
    match body.get("time_zone").and_then(Value::as_str) {
        Some(zone) => parse_time_zone(zone).map_err(QueryError::illegal),
        None => Ok(TimeZone::UTC),
    }
}

/// A `filters` aggregation's definition.
#[derive(Debug)]
pub(crate) struct FiltersSpec {
    /// The filters by key (indexes for the anonymous, array form).
    pub(crate) named: Vec<(String, Value)>,
    /// Whether buckets are keyed (object form) or a list (array form).
    pub(crate) keyed: bool,
    /// The key of the `other` bucket, when one is asked for.
    pub(crate) other: Option<String>,
}

/// The type of a validated aggregation definition (`terms`…): its one key that is not
/// `aggs` or `meta`.
pub(crate) fn aggregation_type(definition: &Map<String, Value>) -> &str {
    definition
        .keys()
        .find(|key| !matches!(key.as_str(), "aggs" | "aggregations" | "meta"))
        .map_or("", String::as_str)
}

/// The sub-aggregations of a definition.
pub(crate) fn children_of(definition: &Map<String, Value>) -> Option<&Map<String, Value>> {
    definition
        .get("aggs")
        .or_else(|| definition.get("aggregations"))
        .and_then(Value::as_object)
}

pub(crate) fn filters_of(name: &str, body: &Value) -> QueryResult<FiltersSpec> {
    let filters = body
        .get("filters")
        .ok_or_else(|| QueryError::parsing(format!("[filters] of [{name}] needs [filters]")))?;
    let (named, keyed) = match filters {
        Value::Object(named) => (
            named
                .iter()
                .map(|(key, query)| (key.clone(), query.clone()))
                .collect(),
            true,
        ),
        Value::Array(anonymous) => (
            anonymous
                .iter()
                .enumerate()
                .map(|(index, query)| (index.to_string(), query.clone()))
                .collect(),
            false,
        ),
        other => {
            return Err(QueryError::parsing(format!(
                "[filters] of [{name}] must be an object or an array, found [{}]",
                json_token(other)
            )));
        }
    };
    let other_key = body
        .get("other_bucket_key")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let other_wanted = body
        .get("other_bucket")
        .and_then(Value::as_bool)
        .unwrap_or(other_key.is_some());
    let other = other_wanted.then(|| other_key.unwrap_or_else(|| "_other_".to_owned()));
    Ok(FiltersSpec {
        named,
        keyed,
        other,
    })
}

/// The first and last matching date of each field a `date_histogram` needs them for, in
/// epoch milliseconds (see [`crate::date_histogram`]).
pub(crate) type DataBounds = HashMap<String, (i64, i64)>;

impl AggregationsRequest {
    /// The validated `aggs` object.
    pub(crate) fn root(&self) -> &Map<String, Value> {
        &self.root
    }

    /// A request for the `min` (`min0`, `min1`…) and `max` of each field.
    pub(crate) fn min_and_max(fields: &[String]) -> AggregationsRequest {
        let mut root = Map::new();
        for (index, field) in fields.iter().enumerate() {
            root.insert(format!("min{index}"), json!({"min": {"field": field}}));
            root.insert(format!("max{index}"), json!({"max": {"field": field}}));
        }
        AggregationsRequest { root }
    }
}

/// A `terms` order on one percentile of a `percentiles` sub-aggregation, as Grafana sends
/// it: `{"order": {"4.95": "desc"}}` or `{"order": {"4[95.0]": "asc"}}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PercentileOrder {
    aggregation: String,
    percent: f64,
    descending: bool,
}

fn percentile_order(definition: &Map<String, Value>) -> Option<PercentileOrder> {
    let order = definition.get("terms")?.get("order")?;
    let order = match order {
        Value::Array(orders) if orders.len() == 1 => orders[0].as_object()?,
        Value::Object(order) => order,
        _ => return None,
    };
    let (path, direction) = order.iter().next().filter(|_| order.len() == 1)?;
    let (aggregation, percent) = match path.split_once('[') {
        Some((aggregation, rest)) => (aggregation, rest.strip_suffix(']')?),
        None => path.split_once('.')?,
    };
    let percent: f64 = percent.parse().ok()?;
    let children = children_of(definition)?;
    let child = children.get(aggregation)?.as_object()?;
    if aggregation_type(child) != "percentiles" {
        return None;
    }
    Some(PercentileOrder {
        aggregation: aggregation.to_owned(),
        percent,
        descending: direction.as_str() != Some("asc"),
    })
}

/// A number written as a string (`"10"`, `"95"`) as the number it spells, as Elasticsearch's
/// parsers take it; anything else as it is.
pub(crate) fn lenient_number(value: &Value) -> std::borrow::Cow<'_, Value> {
    let Value::String(text) = value else {
        return std::borrow::Cow::Borrowed(value);
    };
    let text = text.trim();
    if let Ok(integer) = text.parse::<i64>() {
        return std::borrow::Cow::Owned(json!(integer));
    }
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() => std::borrow::Cow::Owned(json!(number)),
        _ => std::borrow::Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors() {
        let unknown = parse_aggregations(&json!({"a": {"bogus": {}}})).unwrap_err();
        assert!(matches!(unknown, QueryError::Parsing(_)));
        assert_eq!(unknown.to_string(), "Unknown aggregation type [bogus]");
        assert!(matches!(
            parse_aggregations(&json!({"a": {"significant_terms": {}}})),
            Err(QueryError::IllegalArgument(_))
        ));
        assert!(
            parse_aggregations(&json!({"a": {"avg": {"field": "x"}, "sum": {"field": "x"}}}))
                .is_err()
        );
        assert!(
            parse_aggregations(
                &json!({"a": {"avg": {"field": "x"}, "aggs": {"b": {"max": {"field": "x"}}}}})
            )
            .is_err()
        );
        assert!(parse_aggregations(&json!({"a>b": {"avg": {"field": "x"}}})).is_err());
        assert!(parse_aggregations(&json!({"a": {}})).is_err());
        assert!(parse_aggregations(&json!({"a": {"filter": {"nope": {}}}})).is_err());
        parse_aggregations(
            &json!({"a": {"terms": {"field": "x"}, "aggs": {"b": {"avg": {"field": "y"}}}}}),
        )
        .unwrap();
    }

    #[test]
    fn two_sub_aggregation_definitions_are_refused() {
        let error = parse_aggregations(&json!({"by_app": {
            "terms": {"field": "app_name"},
            "aggs": {"a": {"max": {"field": "duration_ms"}}},
            "aggregations": {"b": {"min": {"field": "duration_ms"}}},
        }}))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Found two sub aggregation definitions under [by_app]"
        );
    }
}
