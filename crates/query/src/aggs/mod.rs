//! Aggregations: Elasticsearch requests, validated here, translated to tantivy's aggregation
//! framework per target mapping (field names become column paths, `filter` queries become
//! Logfleet queries), collected per partition as intermediate results, merged, finalised
//! once, and rendered back in Elasticsearch's shapes (integer date keys with
//! `key_as_string`, IP and boolean keys as Elasticsearch prints them).

use logfleet_model::fields::TIMESTAMP;
use logfleet_store::schema::{KEYWORD_FIELD, NUMBER_FIELD};
use logfleet_store::{FieldType, Fields, IdCodec, Mapping, decode_ip, format_epoch_millis};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::bucket::QueryBuilder;
use tantivy::query::Query;
use tantivy::schema::Schema;
use tantivy::tokenizer::TokenizerManager;

use crate::build::{BuildContext, build_query};
use crate::calendar::{CalendarUnit, format_date, is_utc, parse_time_zone};
use crate::date_histogram::DateHistogram;
use crate::date_math::parse_date_bound;
use crate::dsl::{json_token, parse_query};
use crate::error::{QueryError, QueryResult};
use crate::top_hits::parse_top_hits;

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

/// A `composite` aggregation: each source's field becomes its column; calendar intervals
/// become tantivy's calendar units or fixed durations.
fn translate_composite(name: &str, body: &Value, mapping: &Mapping) -> QueryResult<Value> {
    let mut translated = body.clone();
    if translated.get("size").is_none() {
        translated["size"] = json!(10);
    }
    if let Some(after) = body.get("after").and_then(Value::as_object) {
        translated["after"] =
            Value::Object(composite_after_to_tantivy(name, after, body, mapping)?);
    }
    let Some(sources) = translated.get_mut("sources").and_then(Value::as_array_mut) else {
        return Err(QueryError::parsing(format!(
            "[composite] of [{name}] needs [sources]"
        )));
    };
    for source in sources {
        let Some(object) = source.as_object_mut() else {
            return Err(QueryError::parsing(format!(
                "[composite] sources of [{name}] must be objects"
            )));
        };
        for (_, kinds) in object.iter_mut() {
            let Some(kinds) = kinds.as_object_mut() else {
                continue;
            };
            for (kind, definition) in kinds.iter_mut() {
                let Some(definition) = definition.as_object_mut() else {
                    continue;
                };
                if let Some(field) = definition
                    .get("field")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                {
                    let (column, _) = column_for(mapping, &field)?;
                    definition.insert("field".into(), json!(column));
                }
                if kind == "date_histogram" {
                    translate_composite_date_source(name, definition)?;
                }
            }
        }
    }
    Ok(translated)
}

/// A composite `date_histogram` source in tantivy's terms: weeks, months and years are its
/// calendar units, smaller units fixed durations. Its buckets are UTC ones.
fn translate_composite_date_source(
    name: &str,
    definition: &mut Map<String, Value>,
) -> QueryResult<()> {
    if let Some(zone) = definition.remove("time_zone") {
        let zone = zone.as_str().unwrap_or_default();
        if !is_utc(zone) {
            return Err(QueryError::illegal(format!(
                "time_zone [{zone}] of a date_histogram source of composite [{name}] is not supported: composite sources bucket in UTC"
            )));
        }
    }
    definition.remove("format");
    let Some(interval) = definition.remove("calendar_interval") else {
        return Ok(());
    };
    let interval = interval.as_str().unwrap_or_default();
    let unsupported = || {
        QueryError::illegal(format!(
            "calendar_interval [{interval}] is not supported in composite [{name}]"
        ))
    };
    let unit = CalendarUnit::from_interval(interval).ok_or_else(unsupported)?;
    let translated = match unit {
        CalendarUnit::Week => ("calendar_interval", json!("week")),
        CalendarUnit::Month => ("calendar_interval", json!("month")),
        CalendarUnit::Year => ("calendar_interval", json!("year")),
        CalendarUnit::Quarter => return Err(unsupported()),
        fixed => (
            "fixed_interval",
            json!(format!("{}ms", fixed.fixed_millis().unwrap_or(1000))),
        ),
    };
    definition.insert(translated.0.into(), translated.1);
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

/// The ranges a `range` or `date_range` request asked for (milliseconds for dates), so that
/// the buckets tantivy adds to fill the gaps between them can be left out, as Elasticsearch
/// returns only the requested ones.
fn requested_ranges(
    agg_type: &str,
    body: &Value,
    now_millis: i64,
) -> Vec<(Option<f64>, Option<f64>)> {
    if agg_type == "date_range" {
        return date_ranges_millis("", body, now_millis)
            .unwrap_or_default()
            .into_iter()
            .map(|(from, to)| (from.map(|from| from as f64), to.map(|to| to as f64)))
            .collect();
    }
    body.get("ranges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|range| {
            (
                range.get("from").and_then(Value::as_f64),
                range.get("to").and_then(Value::as_f64),
            )
        })
        .collect()
}

fn same_bound(left: Option<f64>, right: Option<f64>) -> bool {
    match (left, right) {
        (None, None) => true,
        (Some(left), Some(right)) => (left - right).abs() <= 1e-9 * left.abs().max(1.0),
        _ => false,
    }
}

/// A double as Java's `Double.toString` prints the common cases (`250.0`, `0.5`).
fn java_double(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e7 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}

/// What rendering needs besides the results.
struct RenderContext<'a> {
    mapping: &'a Mapping,
    /// The same "now" the request was translated with, to resolve relative date bounds.
    now_millis: i64,
}

/// A `filters` aggregation's definition.
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

/// A `filter` aggregation's query, rebuilt inside tantivy's aggregation framework with
/// Logfleet's query builder.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogfleetFilter {
    query: Value,
    mapping: Mapping,
    ids: IdCodec,
    now_millis: i64,
}

const FILTER_BUILDER_TAG: &str = "logfleet_filter";

#[typetag::serde(name = "logfleet_filter")]
impl QueryBuilder for LogfleetFilter {
    fn build_query(
        &self,
        schema: &Schema,
        _tokenizers: &TokenizerManager,
    ) -> tantivy::Result<Box<dyn Query>> {
        let fields = Fields::from_schema(schema)
            .ok_or_else(|| tantivy::TantivyError::SchemaError("not a Logfleet partition".into()))?;
        let ast = parse_query(&self.query)
            .map_err(|error| tantivy::TantivyError::InvalidArgument(error.to_string()))?;
        let context = BuildContext {
            mapping: &self.mapping,
            fields: &fields,
            ids: self.ids,
            now_millis: self.now_millis,
        };
        build_query(&ast, &context)
            .map_err(|error| tantivy::TantivyError::InvalidArgument(error.to_string()))
    }

    fn box_clone(&self) -> Box<dyn QueryBuilder> {
        Box::new(self.clone())
    }
}

/// The column an aggregation reads for `field`, or an error for fields without columns.
fn column_for(mapping: &Mapping, field: &str) -> QueryResult<(String, Option<FieldType>)> {
    if field == TIMESTAMP {
        return Ok((TIMESTAMP.to_owned(), Some(FieldType::Date)));
    }
    match mapping.resolve(field) {
        Some(resolved) => match resolved.field_type {
            FieldType::Text => Err(QueryError::illegal(format!(
                "Fielddata is disabled on [{field}]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead."
            ))),
            // The resolved path: an alias reads the column of the field it names.
            FieldType::Long | FieldType::Double | FieldType::Date => Ok((
                format!("{NUMBER_FIELD}.{}", resolved.path),
                Some(resolved.field_type),
            )),
            field_type => Ok((
                format!("{KEYWORD_FIELD}.{}", resolved.path),
                Some(field_type),
            )),
        },
        // An unmapped field has no column: the aggregation is empty, as in Elasticsearch.
        None => Ok((format!("{KEYWORD_FIELD}.{field}"), None)),
    }
}

/// The first and last matching date of each field a `date_histogram` needs them for, in
/// epoch milliseconds (see [`crate::date_histogram`]).
pub(crate) type DataBounds = HashMap<String, (i64, i64)>;

/// What translating a request needs besides the request.
struct Translation<'a> {
    mapping: &'a Mapping,
    ids: IdCodec,
    now_millis: i64,
    data_bounds: &'a DataBounds,
}

impl AggregationsRequest {
    /// The validated `aggs` object.
    pub(crate) fn root(&self) -> &Map<String, Value> {
        &self.root
    }

    /// The date fields whose first and last matching dates must be known before the request
    /// can be translated, because a `date_histogram` over them has calendar-length buckets.
    pub(crate) fn fields_needing_data_bounds(&self, now_millis: i64) -> Vec<String> {
        fn walk(level: &Map<String, Value>, now_millis: i64, fields: &mut Vec<String>) {
            for (name, definition) in level {
                let Some(definition) = definition.as_object() else {
                    continue;
                };
                if let Some(body) = definition.get("date_histogram")
                    && let Ok(histogram) = DateHistogram::parse(name, body, now_millis)
                    && histogram.needs_data_bounds()
                    && !fields.contains(&histogram.field)
                {
                    fields.push(histogram.field);
                }
                for children in ["aggs", "aggregations"] {
                    if let Some(children) = definition.get(children).and_then(Value::as_object) {
                        walk(children, now_millis, fields);
                    }
                }
            }
        }
        let mut fields = Vec::new();
        walk(&self.root, now_millis, &mut fields);
        fields
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

    /// Translates the request for one target's mapping.
    pub(crate) fn to_tantivy(
        &self,
        mapping: &Mapping,
        ids: IdCodec,
        now_millis: i64,
        data_bounds: &DataBounds,
    ) -> QueryResult<Aggregations> {
        let translation = Translation {
            mapping,
            ids,
            now_millis,
            data_bounds,
        };
        let translated = translate_level(&self.root, &translation)?;
        serde_json::from_value(Value::Object(translated))
            .map_err(|error| QueryError::illegal(format!("invalid aggregation: {error}")))
    }

    /// Renders tantivy's final results in Elasticsearch's shapes.
    pub fn render(&self, results: Value, mapping: &Mapping, now_millis: i64) -> Value {
        let Value::Object(results) = results else {
            return json!({});
        };
        render_level(
            &self.root,
            results,
            &RenderContext {
                mapping,
                now_millis,
            },
        )
    }
}

fn translate_level(
    level: &Map<String, Value>,
    translation: &Translation<'_>,
) -> QueryResult<Map<String, Value>> {
    let Translation {
        mapping,
        now_millis,
        data_bounds,
        ..
    } = *translation;
    let mut translated = Map::new();
    for (name, definition) in level {
        let Some(definition) = definition.as_object() else {
            continue;
        };
        let mut out = Map::new();
        for (key, body) in definition {
            match key.as_str() {
                "aggs" | "aggregations" => {
                    let Some(sub) = body.as_object() else {
                        continue;
                    };
                    out.insert(
                        "aggs".into(),
                        Value::Object(translate_level(sub, translation)?),
                    );
                }
                "meta" => {}
                // Run per bucket once the buckets are known (see `top_hits.rs`).
                "top_hits" => {
                    out.clear();
                    break;
                }
                "filters" => {
                    // One tantivy filter aggregation per named filter, under names users cannot
                    // write (`>` is not allowed in aggregation names); reassembled in `render`.
                    let children = definition
                        .get("aggs")
                        .or_else(|| definition.get("aggregations"))
                        .and_then(Value::as_object);
                    let sub = match children {
                        Some(children) => {
                            Some(Value::Object(translate_level(children, translation)?))
                        }
                        None => None,
                    };
                    let FiltersSpec {
                        named: filters,
                        other,
                        ..
                    } = filters_of(name, body)?;
                    let mut queries: Vec<(String, Value)> = filters.clone();
                    if let Some(other_key) = other {
                        let all: Vec<Value> =
                            filters.iter().map(|(_, query)| query.clone()).collect();
                        queries.push((other_key, json!({"bool": {"must_not": all}})));
                    }
                    for (key, query) in queries {
                        let mut entry = Map::new();
                        entry.insert(
                            "filter".into(),
                            translate_body(name, "filter", &query, translation)?,
                        );
                        if let Some(sub) = &sub {
                            entry.insert("aggs".into(), sub.clone());
                        }
                        translated.insert(format!("{name}>{key}"), Value::Object(entry));
                    }
                    out.clear();
                    break;
                }
                "missing" => {
                    let field = body.get("field").and_then(Value::as_str).ok_or_else(|| {
                        QueryError::parsing(format!("[missing] of [{name}] needs a [field]"))
                    })?;
                    let query = json!({"bool": {"must_not": {"exists": {"field": field}}}});
                    out.insert(
                        "filter".into(),
                        translate_body(name, "filter", &query, translation)?,
                    );
                }
                "composite" => {
                    out.insert(
                        "composite".into(),
                        translate_composite(name, body, mapping)?,
                    );
                }
                "date_histogram" => {
                    let histogram = DateHistogram::parse(name, body, now_millis)?;
                    let (column, _) = column_for(mapping, &histogram.field)?;
                    let bounds = data_bounds.get(&histogram.field).copied();
                    if let Some((agg_type, planned)) = histogram.plan(name, &column, bounds)? {
                        out.insert(agg_type.into(), planned);
                    } else {
                        // No bucket can exist: nothing to collect, `render` answers empty.
                        out.clear();
                        break;
                    }
                }
                "date_range" => {
                    let mut range = translate_body(name, "date_range", body, translation)?;
                    let ranges = date_ranges_millis(name, body, now_millis)?
                        .into_iter()
                        .zip(
                            body.get("ranges")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten(),
                        )
                        .map(|((from, to), original)| {
                            // tantivy's date columns count nanoseconds.
                            let mut converted = Map::new();
                            if let Some(from) = from {
                                converted.insert("from".into(), json!(from as f64 * 1e6));
                            }
                            if let Some(to) = to {
                                converted.insert("to".into(), json!(to as f64 * 1e6));
                            }
                            if let Some(key) = original.get("key") {
                                converted.insert("key".into(), key.clone());
                            }
                            Value::Object(converted)
                        })
                        .collect::<Vec<_>>();
                    range["ranges"] = Value::Array(ranges);
                    if let Value::Object(object) = &mut range {
                        object.remove("time_zone");
                    }
                    out.insert("range".into(), range);
                }
                "terms" if percentile_order(definition).is_some() => {
                    // tantivy cannot order by a percentile: every term is collected and
                    // ordered when the result is rendered.
                    let mut all_terms = body.clone();
                    all_terms["order"] = json!({"_count": "desc"});
                    all_terms["size"] = json!(PERCENTILE_ORDER_MAX_TERMS);
                    if let Value::Object(object) = &mut all_terms {
                        object.remove("shard_size");
                    }
                    let body = translate_body(name, "terms", &all_terms, translation)?;
                    out.insert("terms".to_owned(), body);
                }
                agg_type => {
                    let body = translate_body(name, agg_type, body, translation)?;
                    out.insert(agg_type.to_owned(), body);
                }
            }
        }
        if !out.is_empty() {
            translated.insert(name.clone(), Value::Object(out));
        }
    }
    Ok(translated)
}

/// How many terms a `terms` aggregation ordered by a percentile considers at most.
const PERCENTILE_ORDER_MAX_TERMS: u64 = 65_536;

/// A `terms` order on one percentile of a `percentiles` sub-aggregation, as Grafana sends
/// it: `{"order": {"4.95": "desc"}}` or `{"order": {"4[95.0]": "asc"}}`.
#[derive(Debug, Clone, PartialEq)]
struct PercentileOrder {
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

/// Orders rendered `terms` buckets by a percentile and keeps the requested number, counting
/// the others in `sum_other_doc_count`, as Elasticsearch answers such an order.
fn apply_percentile_order(result: &mut Value, order: &PercentileOrder, size: usize) {
    let Some(Value::Array(buckets)) = result.get_mut("buckets") else {
        return;
    };
    let value_of = |bucket: &Value| -> Option<f64> {
        match bucket.get(&order.aggregation)?.get("values")? {
            Value::Object(keyed) => keyed
                .iter()
                .find(|(key, _)| key.parse::<f64>().ok() == Some(order.percent))
                .and_then(|(_, value)| value.as_f64()),
            Value::Array(entries) => entries
                .iter()
                .find(|entry| entry.get("key").and_then(Value::as_f64) == Some(order.percent))
                .and_then(|entry| entry.get("value")?.as_f64()),
            _ => None,
        }
    };
    // Buckets without a value (no numbers in the field) go last, as Elasticsearch puts them.
    buckets.sort_by(|left, right| match (value_of(left), value_of(right)) {
        (Some(left), Some(right)) if order.descending => right.total_cmp(&left),
        (Some(left), Some(right)) => left.total_cmp(&right),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let dropped: u64 = buckets
        .iter()
        .skip(size)
        .filter_map(|bucket| bucket.get("doc_count").and_then(Value::as_u64))
        .sum();
    buckets.truncate(size);
    if let Some(other) = result.get("sum_other_doc_count").and_then(Value::as_u64) {
        result["sum_other_doc_count"] = json!(other + dropped);
    }
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

/// Parameters that are numbers in every aggregation that has them.
const NUMERIC_PARAMETERS: [&str; 5] = [
    "size",
    "shard_size",
    "min_doc_count",
    "precision_threshold",
    "keyed_size",
];

fn translate_body(
    name: &str,
    agg_type: &str,
    body: &Value,
    translation: &Translation<'_>,
) -> QueryResult<Value> {
    let Translation {
        mapping,
        ids,
        now_millis,
        ..
    } = *translation;
    if agg_type == "filter" {
        let filter = LogfleetFilter {
            query: body.clone(),
            mapping: mapping.clone(),
            ids,
            now_millis,
        };
        // tantivy tags query builders internally (`"type": …`), as typetag is configured there.
        let mut tagged = serde_json::to_value(&filter)
            .map_err(|error| QueryError::illegal(error.to_string()))?;
        tagged["type"] = json!(FILTER_BUILDER_TAG);
        return Ok(tagged);
    }
    let Some(parameters) = body.as_object() else {
        return Err(QueryError::parsing(format!(
            "[{agg_type}] of [{name}] must be an object"
        )));
    };
    let mut out = Map::new();
    let mut field_type = None;
    for (key, value) in parameters {
        match (agg_type, key.as_str()) {
            (_, "field") => {
                let field = value.as_str().ok_or_else(|| {
                    QueryError::parsing(format!("[field] of [{name}] must be a string"))
                })?;
                let (column, resolved_type) = column_for(mapping, field)?;
                field_type = resolved_type;
                out.insert("field".into(), Value::String(column));
            }
            ("terms", "shard_size") => {
                out.insert("segment_size".into(), lenient_number(value).into_owned());
            }
            ("percentiles", "percents") => {
                let percents = match value {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|item| lenient_number(item).into_owned())
                            .collect(),
                    ),
                    other => other.clone(),
                };
                out.insert(key.clone(), percents);
            }
            (_, key) if NUMERIC_PARAMETERS.contains(&key) => {
                out.insert(key.to_owned(), lenient_number(value).into_owned());
            }
            ("terms", "execution_hint" | "collect_mode" | "value_type")
            | ("cardinality", "precision_threshold")
            | (_, "format" | "script") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let needs_numeric = matches!(
        agg_type,
        "avg"
            | "sum"
            | "min"
            | "max"
            | "stats"
            | "extended_stats"
            | "percentiles"
            | "histogram"
            | "range"
    );
    if needs_numeric
        && matches!(
            field_type,
            Some(FieldType::Keyword | FieldType::Ip | FieldType::Boolean)
        )
    {
        let field = parameters
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(QueryError::illegal(format!(
            "Field [{field}] of type [keyword] is not supported for aggregation [{agg_type}]"
        )));
    }
    Ok(Value::Object(out))
}

fn render_level(
    request: &Map<String, Value>,
    mut results: Map<String, Value>,
    context: &RenderContext<'_>,
) -> Value {
    let mut rendered = Map::new();
    for (name, definition) in request {
        let Some(definition) = definition.as_object() else {
            continue;
        };
        if let Some(body) = definition.get("filters") {
            let children = definition
                .get("aggs")
                .or_else(|| definition.get("aggregations"))
                .and_then(Value::as_object);
            rendered.insert(
                name.clone(),
                render_filters(name, body, &mut results, children, context),
            );
            continue;
        }
        let agg_type = aggregation_type(definition);
        let result = match results.remove(name) {
            Some(result) => Some(result),
            // A histogram with no possible bucket was not sent to tantivy.
            None if agg_type == "date_histogram" => Some(json!({"buckets": []})),
            // Filled in by `top_hits.rs` once every bucket is rendered.
            None if agg_type == "top_hits" => Some(
                json!({"hits": {"total": {"value": 0, "relation": "eq"}, "max_score": null, "hits": []}}),
            ),
            None => None,
        };
        let Some(mut result) = result else {
            continue;
        };
        let children = children_of(definition);
        let field_type = definition
            .get(agg_type)
            .and_then(|body| body.get("field"))
            .and_then(Value::as_str)
            .and_then(|field| field_type_of(context.mapping, field));
        let body = definition.get(agg_type).cloned().unwrap_or(Value::Null);
        if agg_type == "date_histogram"
            && let Ok(histogram) = DateHistogram::parse(name, &body, context.now_millis)
        {
            histogram.render(&mut result, |bucket| {
                render_children(bucket, children, context)
            });
        } else {
            render_result(agg_type, field_type, &mut result, children, context, &body);
        }
        if agg_type == "terms"
            && let Some(order) = percentile_order(definition)
        {
            let size = body
                .get("size")
                .map(|size| lenient_number(size).as_u64().unwrap_or(10))
                .unwrap_or(10) as usize;
            apply_percentile_order(&mut result, &order, size);
        }
        if let Some(meta) = definition.get("meta")
            && let Value::Object(object) = &mut result
        {
            object.insert("meta".into(), meta.clone());
        }
        rendered.insert(name.clone(), result);
    }
    Value::Object(rendered)
}

fn render_result(
    agg_type: &str,
    field_type: Option<FieldType>,
    result: &mut Value,
    children: Option<&Map<String, Value>>,
    context: &RenderContext<'_>,
    body: &Value,
) {
    if matches!(agg_type, "range" | "date_range") {
        render_ranges(agg_type, result, body, context.now_millis);
    }
    match agg_type {
        "terms" | "histogram" | "range" | "date_range" => {
            let buckets = match result.get_mut("buckets") {
                Some(Value::Array(buckets)) => buckets.iter_mut().collect::<Vec<_>>(),
                Some(Value::Object(keyed)) => keyed.values_mut().collect(),
                _ => Vec::new(),
            };
            for bucket in buckets {
                render_bucket_key(agg_type, field_type, bucket);
                render_children(bucket, children, context);
            }
            if let Value::Object(object) = result {
                // Elasticsearch's order: the error bounds, then the buckets.
                let mut ordered = Map::new();
                for key in ["doc_count_error_upper_bound", "sum_other_doc_count"] {
                    if let Some(value) = object.remove(key) {
                        ordered.insert(key.to_owned(), value);
                    }
                }
                ordered.extend(std::mem::take(object));
                *object = ordered;
            }
        }
        "filter" | "missing" => render_children(result, children, context),
        "composite" => {
            if let Some(Value::Array(buckets)) = result.get_mut("buckets") {
                for bucket in buckets {
                    render_composite_key(bucket.get_mut("key"), body, context.mapping);
                    render_children(bucket, children, context);
                }
            }
            render_composite_key(result.get_mut("after_key"), body, context.mapping);
        }
        // Counts are integers in Elasticsearch's responses.
        "value_count" | "cardinality" => {
            if let Some(count) = result.get("value").and_then(Value::as_f64) {
                result["value"] = json!(count as u64);
            }
        }
        "min" | "max" if field_type == Some(FieldType::Date) => {
            // tantivy reports date columns in nanoseconds; Elasticsearch in milliseconds.
            if let Some(nanos) = result.get("value").and_then(Value::as_f64) {
                let millis = (nanos / 1e6).round();
                result["value"] = json!(millis);
                result["value_as_string"] = json!(format_epoch_millis(millis as i64));
            }
        }
        _ => {}
    }
}

fn render_filters(
    name: &str,
    body: &Value,
    results: &mut Map<String, Value>,
    children: Option<&Map<String, Value>>,
    context: &RenderContext<'_>,
) -> Value {
    let Ok(FiltersSpec {
        named: filters,
        keyed,
        other,
    }) = filters_of(name, body)
    else {
        return json!({"buckets": []});
    };
    let keys = filters.into_iter().map(|(key, _)| key).chain(other);
    let mut buckets = Vec::new();
    for key in keys {
        let mut bucket = results
            .remove(&format!("{name}>{key}"))
            .unwrap_or_else(|| json!({"doc_count": 0}));
        render_children(&mut bucket, children, context);
        buckets.push((key, bucket));
    }
    if keyed {
        json!({"buckets": buckets.into_iter().collect::<Map<String, Value>>()})
    } else {
        json!({"buckets": buckets.into_iter().map(|(_, bucket)| bucket).collect::<Vec<_>>()})
    }
}

/// Converts `date_range` bounds to milliseconds with their strings, and drops the gap buckets
/// tantivy adds between requested ranges.
fn render_ranges(agg_type: &str, result: &mut Value, body: &Value, now_millis: i64) {
    let requested = requested_ranges(agg_type, body, now_millis);
    let is_date = agg_type == "date_range";
    let zone = range_zone(body).unwrap_or(TimeZone::UTC);
    let format = body.get("format").and_then(Value::as_str);
    let keep = |bucket: &mut Value| -> bool {
        let Value::Object(object) = bucket else {
            return false;
        };
        if is_date {
            for (bound, text) in [("from", "from_as_string"), ("to", "to_as_string")] {
                if let Some(nanos) = object.get(bound).and_then(Value::as_f64) {
                    let millis = (nanos / 1e6).round();
                    object.insert(bound.into(), json!(millis));
                    object.insert(
                        text.into(),
                        json!(format_date(millis as i64, &zone, format)),
                    );
                }
            }
            if !body
                .get("ranges")
                .and_then(Value::as_array)
                .is_some_and(|ranges| ranges.iter().any(|range| range.get("key").is_some()))
            {
                let side = |text: &str| {
                    object
                        .get(text)
                        .and_then(Value::as_str)
                        .unwrap_or("*")
                        .to_owned()
                };
                let key = format!("{}-{}", side("from_as_string"), side("to_as_string"));
                object.insert("key".into(), json!(key));
            }
        }
        let from = object.get("from").and_then(Value::as_f64);
        let to = object.get("to").and_then(Value::as_f64);
        let custom_keys = body
            .get("ranges")
            .and_then(Value::as_array)
            .is_some_and(|ranges| ranges.iter().any(|range| range.get("key").is_some()));
        if !is_date && !custom_keys {
            // Elasticsearch prints bounds as Java doubles: `*-250.0`.
            let side = |bound: Option<f64>| bound.map_or_else(|| "*".to_owned(), java_double);
            object.insert("key".into(), json!(format!("{}-{}", side(from), side(to))));
        }
        requested.iter().any(|(wanted_from, wanted_to)| {
            same_bound(from, *wanted_from) && same_bound(to, *wanted_to)
        })
    };
    match result.get_mut("buckets") {
        Some(Value::Array(buckets)) => buckets.retain_mut(keep),
        Some(Value::Object(keyed)) => keyed.retain(|_, bucket| keep(bucket)),
        _ => {}
    }
}

/// The type of a field an aggregation names (`@timestamp` is always a date).
fn field_type_of(mapping: &Mapping, field: &str) -> Option<FieldType> {
    if field == TIMESTAMP {
        Some(FieldType::Date)
    } else {
        mapping.resolve(field).map(|resolved| resolved.field_type)
    }
}

/// The sources of a composite request: name, kind (`terms`…), field type.
fn composite_sources<'a>(
    body: &'a Value,
    mapping: &Mapping,
) -> Vec<(&'a str, &'a str, Option<FieldType>)> {
    body.get("sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|source| {
            let (name, kinds) = source.as_object()?.iter().next()?;
            let (kind, definition) = kinds.as_object()?.iter().next()?;
            let field = definition
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some((name.as_str(), kind.as_str(), field_type_of(mapping, field)))
        })
        .collect()
}

/// Elasticsearch's `after` (plain values) in tantivy's tagged form (`str:…`, `dt:<nanos>`).
fn composite_after_to_tantivy(
    name: &str,
    after: &Map<String, Value>,
    body: &Value,
    mapping: &Mapping,
) -> QueryResult<Map<String, Value>> {
    let mut tagged = Map::new();
    for (source, kind, field_type) in composite_sources(body, mapping) {
        let Some(value) = after.get(source) else {
            continue;
        };
        let text = match (value, kind, field_type) {
            (Value::Null, _, _) => "null:".to_owned(),
            (value, "date_histogram", _) => {
                let millis = value.as_i64().ok_or_else(|| {
                    QueryError::illegal(format!(
                        "[after] of [{name}].{source} must be epoch milliseconds"
                    ))
                })?;
                format!("dt:{}", i128::from(millis) * 1_000_000)
            }
            (value, "histogram", _) | (value, "terms", Some(FieldType::Double)) => {
                format!("f64:{}", value.as_f64().unwrap_or(0.0))
            }
            (value, "terms", Some(FieldType::Long | FieldType::Date)) => {
                format!("i64:{}", value.as_i64().unwrap_or(0))
            }
            (value, "terms", Some(FieldType::Boolean)) => format!(
                "bool:{}",
                value.as_bool().unwrap_or(value.as_i64() == Some(1))
            ),
            (Value::String(text), "terms", Some(FieldType::Ip)) => {
                let ip: std::net::IpAddr = text.parse().map_err(|_| {
                    QueryError::illegal(format!("'{text}' is not an IP string literal."))
                })?;
                format!("str:{}", logfleet_store::encode_ip(ip))
            }
            (Value::String(text), _, _) => format!("str:{text}"),
            (other, _, _) => format!("str:{other}"),
        };
        tagged.insert(source.to_owned(), json!(text));
    }
    Ok(tagged)
}

/// Composite keys: dates as epoch milliseconds, IPs and booleans as Elasticsearch prints
/// them, per source.
fn render_composite_key(key: Option<&mut Value>, body: &Value, mapping: &Mapping) {
    let Some(Value::Object(key)) = key else {
        return;
    };
    for (name, kind, field_type) in composite_sources(body, mapping) {
        let Some(value) = key.get_mut(name) else {
            continue;
        };
        // `after_key` comes back in tantivy's tagged form.
        let tagged = value
            .as_str()
            .and_then(|text| text.split_once(':'))
            .map(|(tag, text)| (tag.to_owned(), text.to_owned()));
        if let Some((tag, text)) = tagged {
            *value = match tag.as_str() {
                "str" => json!(text),
                "i64" | "u64" => text
                    .parse::<i64>()
                    .map_or(json!(text), |number| json!(number)),
                "f64" => text
                    .parse::<f64>()
                    .map_or(json!(text), |number| json!(number)),
                "bool" => json!(text == "true"),
                "dt" => text
                    .parse::<i128>()
                    .map_or(json!(text), |nanos| json!((nanos / 1_000_000) as i64)),
                "null" => Value::Null,
                _ => value.clone(),
            };
        }
        match (kind, field_type) {
            ("date_histogram", _) => {
                if let Some(millis) = value.as_f64() {
                    *value = json!(millis as i64);
                }
            }
            ("terms", Some(FieldType::Ip)) => {
                if let Some(ip) = value.as_str().and_then(decode_ip) {
                    *value = json!(ip.to_string());
                }
            }
            ("terms", Some(FieldType::Long)) => {
                if let Some(number) = value.as_f64().filter(|number| number.fract() == 0.0) {
                    *value = json!(number as i64);
                }
            }
            _ => {}
        }
    }
}

fn render_children(
    bucket: &mut Value,
    children: Option<&Map<String, Value>>,
    context: &RenderContext<'_>,
) {
    let Some(children) = children else { return };
    let Value::Object(object) = bucket else {
        return;
    };
    let mut sub_results = Map::new();
    for name in children.keys() {
        if let Some(value) = object.remove(name) {
            sub_results.insert(name.clone(), value);
        }
    }
    if let Value::Object(rendered) = render_level(children, sub_results, context) {
        object.extend(rendered);
    }
}

fn render_bucket_key(agg_type: &str, field_type: Option<FieldType>, bucket: &mut Value) {
    let Value::Object(object) = bucket else {
        return;
    };
    match (agg_type, field_type) {
        ("terms", Some(FieldType::Date)) => {
            if let Some(millis) = object.get("key").and_then(Value::as_f64) {
                let millis = millis as i64;
                object.insert("key".into(), json!(millis));
                object.insert("key_as_string".into(), json!(format_epoch_millis(millis)));
            }
        }
        ("terms", Some(FieldType::Ip)) => {
            if let Some(ip) = object
                .get("key")
                .and_then(Value::as_str)
                .and_then(decode_ip)
            {
                object.insert("key".into(), json!(ip.to_string()));
            }
        }
        ("terms", Some(FieldType::Boolean)) => {
            let flag = match object.get("key") {
                Some(Value::Bool(flag)) => Some(*flag),
                Some(Value::Number(number)) => Some(number.as_f64() != Some(0.0)),
                Some(Value::String(text)) => Some(text == "true"),
                _ => None,
            };
            if let Some(flag) = flag {
                object.insert("key".into(), json!(u8::from(flag)));
                object.insert("key_as_string".into(), json!(flag.to_string()));
            }
        }
        ("terms", Some(FieldType::Long)) => {
            if let Some(number) = object
                .get("key")
                .and_then(Value::as_f64)
                .filter(|number| number.fract() == 0.0)
            {
                object.insert("key".into(), json!(number as i64));
            }
        }
        _ => {}
    }
    // Elasticsearch puts `key` (and `key_as_string`) first.
    let mut ordered = Map::new();
    for key in [
        "key",
        "key_as_string",
        "from",
        "from_as_string",
        "to",
        "to_as_string",
        "doc_count",
    ] {
        if let Some(value) = object.remove(key) {
            ordered.insert(key.to_owned(), value);
        }
    }
    ordered.extend(std::mem::take(object));
    *object = ordered;
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
}
