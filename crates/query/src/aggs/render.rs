//! Rendering of tantivy's final results in Elasticsearch's shapes.

use logfleet_store::{FieldType, Mapping, decode_ip};
use logfleet_time::format_epoch_millis;

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use crate::columns::field_type_of;
use logfleet_time::calendar::format_date;

use super::request::{Aggregation, AggregationKind, CompositeSource, DateRangeBounds};
use super::{FiltersSpec, PercentileOrder, lenient_number, range_zone};

/// The ranges a `range` or `date_range` request asked for (milliseconds for dates), so that
/// the buckets tantivy adds to fill the gaps between them can be left out, as Elasticsearch
/// returns only the requested ones.
fn requested_ranges(
    body: &Value,
    date_bounds: Option<&[DateRangeBounds]>,
) -> Vec<(Option<f64>, Option<f64>)> {
    if let Some(bounds) = date_bounds {
        return bounds
            .iter()
            .map(|&(from, to)| (from.map(|from| from as f64), to.map(|to| to as f64)))
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
}

/// Renders tantivy's final results of typed aggregations in Elasticsearch's shapes.
pub(crate) fn render(aggregations: &[Aggregation], results: Value, mapping: &Mapping) -> Value {
    let Value::Object(results) = results else {
        return json!({});
    };
    render_level(aggregations, results, &RenderContext { mapping })
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

fn render_level(
    level: &[Aggregation],
    mut results: Map<String, Value>,
    context: &RenderContext<'_>,
) -> Value {
    let mut rendered = Map::new();
    for aggregation in level {
        let Aggregation {
            name,
            agg_type,
            body,
            sub: children,
            ..
        } = aggregation;
        if let AggregationKind::Filters(filters) = &aggregation.kind {
            rendered.insert(
                name.clone(),
                render_filters(name, filters, &mut results, children, context),
            );
            continue;
        }
        let result = match (results.remove(name), &aggregation.kind) {
            (Some(result), _) => result,
            // A histogram with no possible bucket was not sent to tantivy.
            (None, AggregationKind::DateHistogram(_)) => json!({"buckets": []}),
            // Filled in by `top_hits.rs` once every bucket is rendered.
            (None, AggregationKind::TopHits(_)) => {
                json!({"hits": {"total": {"value": 0, "relation": "eq"}, "max_score": null, "hits": []}})
            }
            (None, _) => continue,
        };
        let mut result = result;
        let field_type = body
            .get("field")
            .and_then(Value::as_str)
            .and_then(|field| field_type_of(context.mapping, field));
        if let AggregationKind::DateHistogram(histogram) = &aggregation.kind {
            histogram.render(&mut result, |bucket| {
                render_children(bucket, children, context)
            });
        } else {
            if let AggregationKind::Composite(sources) = &aggregation.kind {
                if let Some(Value::Array(buckets)) = result.get_mut("buckets") {
                    for bucket in buckets {
                        render_composite_key(bucket.get_mut("key"), sources, context.mapping);
                        render_children(bucket, children, context);
                    }
                }
                render_composite_key(result.get_mut("after_key"), sources, context.mapping);
            } else if let AggregationKind::DateRange(bounds) = &aggregation.kind {
                render_ranges(&mut result, body, Some(bounds));
            } else if agg_type == "range" {
                render_ranges(&mut result, body, None);
            }
            render_result(agg_type, field_type, &mut result, children, context);
        }
        if let AggregationKind::Terms(Some(order)) = &aggregation.kind {
            let size = body
                .get("size")
                .map(|size| lenient_number(size).as_u64().unwrap_or(10))
                .unwrap_or(10) as usize;
            apply_percentile_order(&mut result, order, size);
        }
        if let Some(meta) = &aggregation.meta
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
    children: &[Aggregation],
    context: &RenderContext<'_>,
) {
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
    filters: &FiltersSpec,
    results: &mut Map<String, Value>,
    children: &[Aggregation],
    context: &RenderContext<'_>,
) -> Value {
    let keys = filters
        .named
        .iter()
        .map(|(key, _)| key.clone())
        .chain(filters.other.clone());
    let mut buckets = Vec::new();
    for key in keys {
        let mut bucket = results
            .remove(&format!("{name}>{key}"))
            .unwrap_or_else(|| json!({"doc_count": 0}));
        render_children(&mut bucket, children, context);
        buckets.push((key, bucket));
    }
    if filters.keyed {
        json!({"buckets": buckets.into_iter().collect::<Map<String, Value>>()})
    } else {
        json!({"buckets": buckets.into_iter().map(|(_, bucket)| bucket).collect::<Vec<_>>()})
    }
}

/// Converts `date_range` bounds (`date_bounds`, resolved when the request was parsed) to
/// milliseconds with their strings, and drops the gap buckets tantivy adds between requested
/// ranges.
fn render_ranges(result: &mut Value, body: &Value, date_bounds: Option<&[DateRangeBounds]>) {
    let requested = requested_ranges(body, date_bounds);
    let is_date = date_bounds.is_some();
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

/// Composite keys: dates as epoch milliseconds, IPs and booleans as Elasticsearch prints
/// them, per source.
fn render_composite_key(key: Option<&mut Value>, sources: &[CompositeSource], mapping: &Mapping) {
    let Some(Value::Object(key)) = key else {
        return;
    };
    for CompositeSource { name, kind, field } in sources {
        let Some(value) = key.get_mut(name) else {
            continue;
        };
        let (kind, field_type) = (kind.as_str(), field_type_of(mapping, field));
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

fn render_children(bucket: &mut Value, children: &[Aggregation], context: &RenderContext<'_>) {
    if children.is_empty() {
        return;
    }
    let Value::Object(object) = bucket else {
        return;
    };
    let mut sub_results = Map::new();
    for child in children {
        if let Some(value) = object.remove(&child.name) {
            sub_results.insert(child.name.clone(), value);
        }
        // A `filters` child came back as one result per filter (see `translate.rs`).
        if let AggregationKind::Filters(filters) = &child.kind {
            let keys = filters
                .named
                .iter()
                .map(|(key, _)| key)
                .chain(&filters.other);
            for key in keys {
                let internal_name = format!("{}>{key}", child.name);
                if let Some(value) = object.remove(&internal_name) {
                    sub_results.insert(internal_name, value);
                }
            }
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
