//! Translation of a validated request to tantivy's aggregation framework, per target mapping.

use logfleet_store::{FieldType, Fields, IdCodec, Mapping};
use serde::{Deserialize, Serialize};

use serde_json::{Map, Value, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::bucket::QueryBuilder;
use tantivy::query::Query;
use tantivy::schema::Schema;
use tantivy::tokenizer::TokenizerManager;

use crate::build::{BuildContext, build_query};
use crate::columns::aggregation_column;
use crate::dsl::parse_query;
use crate::error::{QueryError, QueryResult};
use logfleet_time::calendar::{CalendarUnit, is_utc};

use super::request::{Aggregation, AggregationKind, CompositeSource};
use super::{DataBounds, FiltersSpec, lenient_number};
use crate::columns::field_type_of;

/// A `composite` aggregation: each source's field becomes its column; calendar intervals
/// become tantivy's calendar units or fixed durations.
fn translate_composite(
    name: &str,
    body: &Value,
    sources: &[CompositeSource],
    mapping: &Mapping,
) -> QueryResult<Value> {
    let mut translated = body.clone();
    if translated.get("size").is_none() {
        translated["size"] = json!(10);
    }
    if let Some(after) = body.get("after").and_then(Value::as_object) {
        translated["after"] =
            Value::Object(composite_after_to_tantivy(name, after, sources, mapping)?);
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
                    let (column, _) = aggregation_column(mapping, &field)?;
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

/// What translating a request needs besides the request.
struct Translation<'a> {
    mapping: &'a Mapping,
    ids: IdCodec,
    now_millis: i64,
    data_bounds: &'a DataBounds,
}

/// Translates typed aggregations for one target's mapping.
pub(crate) fn to_tantivy(
    aggregations: &[Aggregation],
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
    let translated = translate_level(aggregations, &translation)?;
    serde_json::from_value(Value::Object(translated))
        .map_err(|error| QueryError::illegal(format!("invalid aggregation: {error}")))
}

fn translate_level(
    level: &[Aggregation],
    translation: &Translation<'_>,
) -> QueryResult<Map<String, Value>> {
    let Translation {
        mapping,
        data_bounds,
        ..
    } = *translation;
    let mut translated = Map::new();
    for aggregation in level {
        let Aggregation { name, body, .. } = aggregation;
        let mut out = Map::new();
        match &aggregation.kind {
            // Run per bucket once the buckets are known (see `top_hits.rs`).
            AggregationKind::TopHits(_) => continue,
            AggregationKind::Filters(FiltersSpec {
                named: filters,
                other,
                ..
            }) => {
                // One tantivy filter aggregation per named filter, under names users cannot
                // write (`>` is not allowed in aggregation names); reassembled in `render`.
                let sub = translate_sub(aggregation, translation)?;
                let mut queries: Vec<(String, Value)> = filters.clone();
                if let Some(other_key) = other {
                    let all: Vec<Value> = filters.iter().map(|(_, query)| query.clone()).collect();
                    queries.push((other_key.clone(), json!({"bool": {"must_not": all}})));
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
                continue;
            }
            AggregationKind::DateHistogram(histogram) => {
                let (column, _) = aggregation_column(mapping, &histogram.field)?;
                let bounds = data_bounds.get(&histogram.field).copied();
                let Some((agg_type, planned)) = histogram.plan(name, &column, bounds)? else {
                    // No bucket can exist: nothing to collect, `render` answers empty.
                    continue;
                };
                out.insert(agg_type.into(), planned);
            }
            AggregationKind::Terms(Some(_)) => {
                // tantivy cannot order by a percentile: every term is collected and ordered
                // when the result is rendered.
                let mut all_terms = body.clone();
                all_terms["order"] = json!({"_count": "desc"});
                all_terms["size"] = json!(PERCENTILE_ORDER_MAX_TERMS);
                if let Value::Object(object) = &mut all_terms {
                    object.remove("shard_size");
                }
                let body = translate_body(name, "terms", &all_terms, translation)?;
                out.insert("terms".to_owned(), body);
            }
            AggregationKind::Missing { field } => {
                let query = json!({"bool": {"must_not": {"exists": {"field": field}}}});
                out.insert(
                    "filter".into(),
                    translate_body(name, "filter", &query, translation)?,
                );
            }
            AggregationKind::Composite(sources) => {
                out.insert(
                    "composite".into(),
                    translate_composite(name, body, sources, mapping)?,
                );
            }
            AggregationKind::DateRange(bounds) => {
                let mut range = translate_body(name, "date_range", body, translation)?;
                let ranges = bounds
                    .iter()
                    .zip(
                        body.get("ranges")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten(),
                    )
                    .map(|(&(from, to), original)| {
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
            AggregationKind::Terms(None) | AggregationKind::Native => {
                let agg_type = aggregation.agg_type.as_str();
                let body = translate_body(name, agg_type, body, translation)?;
                out.insert(agg_type.to_owned(), body);
            }
        }
        if let Some(sub) = translate_sub(aggregation, translation)? {
            out.insert("aggs".into(), sub);
        }
        translated.insert(name.clone(), Value::Object(out));
    }
    Ok(translated)
}

/// The translated sub-aggregations of `aggregation`, if it has any.
fn translate_sub(
    aggregation: &Aggregation,
    translation: &Translation<'_>,
) -> QueryResult<Option<Value>> {
    if aggregation.sub.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::Object(translate_level(
        &aggregation.sub,
        translation,
    )?)))
}

/// How many terms a `terms` aggregation ordered by a percentile considers at most.
const PERCENTILE_ORDER_MAX_TERMS: u64 = 65_536;

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
                let (column, resolved_type) = aggregation_column(mapping, field)?;
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

/// Elasticsearch's `after` (plain values) in tantivy's tagged form (`str:…`, `dt:<nanos>`).
fn composite_after_to_tantivy(
    name: &str,
    after: &Map<String, Value>,
    sources: &[CompositeSource],
    mapping: &Mapping,
) -> QueryResult<Map<String, Value>> {
    let mut tagged = Map::new();
    for CompositeSource {
        name: source,
        kind,
        field,
    } in sources
    {
        let Some(value) = after.get(source) else {
            continue;
        };
        let text = match (value, kind.as_str(), field_type_of(mapping, field)) {
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
