//! `date_histogram`: Elasticsearch's request, planned as whichever of tantivy's aggregations
//! computes it exactly.
//!
//! tantivy buckets dates by a fixed number of milliseconds from an offset. That is exact
//! whenever every bucket has the same length: fixed intervals and calendar units up to a
//! week, in UTC or a zone with a fixed offset, aligned by the offset. Months, quarters and
//! years are not the same length, and neither is a day in a zone with daylight saving time.
//! Those are planned as a `range` aggregation whose ranges are the calendar's buckets
//! between the first and the last matching date (found by a `min`/`max` pass over the same
//! query) and the `extended_bounds`; sub-aggregations nest under ranges unchanged.
//! Rendering turns either result into Elasticsearch's buckets: `key` in epoch milliseconds,
//! `key_as_string` in the request's zone and `format`, empty buckets filled between the
//! first and last non-empty one when `min_doc_count` is 0.

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use crate::error::{QueryError, QueryResult};
use logfleet_time::calendar::{
    CalendarUnit, format_date, local_to_utc, parse_time_zone, utc_to_local,
};
use logfleet_time::date_math::parse_date_bound;

/// Elasticsearch's `search.max_buckets`.
pub(crate) const MAX_BUCKETS: usize = 65_536;

const PARAMETERS: &[&str] = &[
    "field",
    "calendar_interval",
    "fixed_interval",
    "interval",
    "time_zone",
    "offset",
    "min_doc_count",
    "extended_bounds",
    "hard_bounds",
    "format",
    "keyed",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interval {
    /// A number of milliseconds (`fixed_interval`).
    Fixed(i64),
    /// A unit of the calendar (`calendar_interval`).
    Calendar(CalendarUnit),
}

/// `[min, max]` in epoch milliseconds, either side optional.
type Bounds = (Option<i64>, Option<i64>);

/// A parsed `date_histogram` request.
#[derive(Debug, Clone)]
pub(crate) struct DateHistogram {
    pub(crate) field: String,
    interval: Interval,
    zone: TimeZone,
    /// Elasticsearch's `offset`: buckets start this many milliseconds after the unit.
    offset: i64,
    min_doc_count: u64,
    extended_bounds: Option<Bounds>,
    hard_bounds: Option<Bounds>,
    format: Option<String>,
    keyed: bool,
}

impl DateHistogram {
    /// Parses and validates the body of a `date_histogram` named `name`.
    pub(crate) fn parse(name: &str, body: &Value, now_millis: i64) -> QueryResult<DateHistogram> {
        let Some(parameters) = body.as_object() else {
            return Err(QueryError::parsing(format!(
                "[date_histogram] of [{name}] must be an object"
            )));
        };
        if let Some(unknown) = parameters
            .keys()
            .find(|key| !PARAMETERS.contains(&key.as_str()))
        {
            return Err(QueryError::parsing(format!(
                "[date_histogram] unknown field [{unknown}]"
            )));
        }
        let text = |key: &str| -> QueryResult<Option<&str>> {
            match parameters.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text)),
                Some(_) => Err(QueryError::parsing(format!(
                    "[{key}] of [{name}] must be a string"
                ))),
            }
        };
        let field = text("field")?
            .ok_or_else(|| {
                QueryError::illegal(format!(
                    "Required one of fields [field, script] on [{name}]"
                ))
            })?
            .to_owned();
        let interval = match (
            text("calendar_interval")?,
            text("fixed_interval")?,
            text("interval")?,
        ) {
            (Some(_), Some(_), _) => {
                return Err(QueryError::illegal(
                    "Cannot use [fixed_interval] with [calendar_interval] configuration option.",
                ));
            }
            (Some(calendar), None, _) => {
                Interval::Calendar(CalendarUnit::from_interval(calendar).ok_or_else(|| {
                    QueryError::illegal(format!(
                        "The supplied interval [{calendar}] could not be parsed as a calendar interval."
                    ))
                })?)
            }
            (None, Some(fixed), _) => Interval::Fixed(parse_fixed_interval(fixed)?),
            // The deprecated `interval` is a calendar unit when it names one.
            (None, None, Some(legacy)) => match CalendarUnit::from_interval(legacy) {
                Some(unit) => Interval::Calendar(unit),
                None => Interval::Fixed(parse_fixed_interval(legacy)?),
            },
            (None, None, None) => {
                return Err(QueryError::illegal(format!(
                    "Required one of fields [fixed_interval, calendar_interval] on [{name}]"
                )));
            }
        };
        let zone = match text("time_zone")? {
            Some(zone) => parse_time_zone(zone).map_err(QueryError::illegal)?,
            None => TimeZone::UTC,
        };
        let offset = match parameters.get("offset") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(number)) => number.as_i64().unwrap_or(0),
            Some(Value::String(text)) => parse_offset(text)?,
            Some(_) => {
                return Err(QueryError::parsing(format!(
                    "[offset] of [{name}] must be a string"
                )));
            }
        };
        let min_doc_count = match parameters.get("min_doc_count") {
            None | Some(Value::Null) => 0,
            // Grafana sends numbers as strings (`"min_doc_count": "0"`); so does Elasticsearch
            // accept them.
            Some(value) => crate::aggs::lenient_number(value).as_u64().ok_or_else(|| {
                QueryError::illegal(format!(
                    "[min_doc_count] must be greater than or equal to 0. Found [{value}] in [{name}]"
                ))
            })?,
        };
        let bounds = |key: &str| -> QueryResult<Option<Bounds>> {
            let Some(value) = parameters.get(key) else {
                return Ok(None);
            };
            let object = value.as_object().ok_or_else(|| {
                QueryError::parsing(format!("[{key}] of [{name}] must be an object"))
            })?;
            let side = |side: &str| -> QueryResult<Option<i64>> {
                match object.get(side) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(text)) => {
                        parse_date_bound(text, now_millis, side == "max", &zone, None)
                            .map(Some)
                            .map_err(QueryError::illegal)
                    }
                    Some(other) => other.as_i64().map(Some).ok_or_else(|| {
                        QueryError::illegal(format!("[{key}.{side}] of [{name}] must be a date"))
                    }),
                }
            };
            Ok(Some((side("min")?, side("max")?)))
        };
        let extended_bounds = bounds("extended_bounds")?;
        let hard_bounds = bounds("hard_bounds")?;
        if let Some((Some(min), Some(max))) = extended_bounds
            && min > max
        {
            return Err(QueryError::illegal(format!(
                "[extended_bounds.min][{min}] cannot be greater than [extended_bounds.max][{max}] for histogram aggregation [{name}]"
            )));
        }
        Ok(DateHistogram {
            field,
            interval,
            zone,
            offset,
            min_doc_count,
            extended_bounds,
            hard_bounds,
            format: text("format")?.map(str::to_owned),
            keyed: parameters
                .get("keyed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The bucket length when every bucket has the same one, so tantivy's histogram can
    /// compute it.
    fn uniform_length(&self) -> Option<i64> {
        self.zone.to_fixed_offset().ok()?;
        // tantivy's bounds need both sides.
        let one_sided = |bounds: Option<Bounds>| {
            bounds.is_some_and(|(min, max)| min.is_none() || max.is_none())
        };
        if one_sided(self.extended_bounds) || one_sided(self.hard_bounds) {
            return None;
        }
        match self.interval {
            Interval::Fixed(length) => Some(length),
            Interval::Calendar(unit) => unit.fixed_millis(),
        }
    }

    /// Whether planning needs the first and last matching dates (see the module header).
    pub(crate) fn needs_data_bounds(&self) -> bool {
        self.uniform_length().is_none()
    }

    /// The tantivy request: `("date_histogram", body)` or `("range", body)` over `column`,
    /// or `None` when there can be no bucket at all. `data_bounds` are the first and last
    /// matching dates when [`Self::needs_data_bounds`].
    pub(crate) fn plan(
        &self,
        name: &str,
        column: &str,
        data_bounds: Option<(i64, i64)>,
    ) -> QueryResult<Option<(&'static str, Value)>> {
        if let Some(length) = self.uniform_length() {
            let zone_offset = utc_to_local(0, &self.zone).unwrap_or(0);
            let alignment = match self.interval {
                Interval::Calendar(CalendarUnit::Week) => CalendarUnit::Week
                    .truncate(0)
                    .map_or(0, |monday| monday.rem_euclid(length)),
                _ => 0,
            };
            let offset = (alignment - zone_offset + self.offset).rem_euclid(length);
            let mut body = Map::new();
            body.insert("field".into(), json!(column));
            body.insert("fixed_interval".into(), json!(format!("{length}ms")));
            body.insert("offset".into(), json!(format!("{offset}ms")));
            body.insert("min_doc_count".into(), json!(self.min_doc_count));
            for (key, bounds) in [
                ("extended_bounds", self.extended_bounds),
                ("hard_bounds", self.hard_bounds),
            ] {
                if let Some((Some(min), Some(max))) = bounds {
                    body.insert(key.into(), json!({"min": min, "max": max}));
                }
            }
            return Ok(Some(("date_histogram", Value::Object(body))));
        }
        let starts = self.bucket_starts(name, data_bounds)?;
        if starts.len() < 2 {
            return Ok(None);
        }
        // tantivy's date columns count nanoseconds.
        let ranges: Vec<Value> = starts
            .windows(2)
            .map(|pair| json!({"from": pair[0] as f64 * 1e6, "to": pair[1] as f64 * 1e6}))
            .collect();
        Ok(Some((
            "range",
            json!({"field": column, "ranges": ranges, "keyed": false}),
        )))
    }

    /// The starts of the buckets covering the data and the extended bounds, plus the end of
    /// the last one.
    fn bucket_starts(&self, name: &str, data_bounds: Option<(i64, i64)>) -> QueryResult<Vec<i64>> {
        let (extended_min, extended_max) = self.extended_bounds.unwrap_or((None, None));
        let low = [data_bounds.map(|(min, _)| min), extended_min]
            .into_iter()
            .flatten()
            .min();
        let high = [data_bounds.map(|(_, max)| max), extended_max]
            .into_iter()
            .flatten()
            .max();
        let (Some(mut low), Some(mut high)) = (low, high) else {
            return Ok(Vec::new());
        };
        if let Some((hard_min, hard_max)) = self.hard_bounds {
            low = low.max(hard_min.unwrap_or(i64::MIN));
            high = high.min(hard_max.unwrap_or(i64::MAX));
        }
        if low > high {
            return Ok(Vec::new());
        }
        let invalid = || QueryError::illegal(format!("dates of [{name}] are out of range"));
        let mut reading = self
            .truncate(utc_to_local(low, &self.zone).ok_or_else(invalid)? - self.offset)
            .ok_or_else(invalid)?;
        let mut starts: Vec<i64> = Vec::new();
        loop {
            let start = local_to_utc(reading + self.offset, &self.zone).ok_or_else(invalid)?;
            // A wall-clock time repeated by a daylight-saving change starts no new bucket.
            if starts.last().is_none_or(|last| start > *last) {
                if starts.len() > MAX_BUCKETS {
                    return Err(QueryError::illegal(format!(
                        "Trying to create too many buckets. Must be less than or equal to: [{MAX_BUCKETS}] but this number of buckets was exceeded. This limit can be set by changing the [search.max_buckets] cluster level setting."
                    )));
                }
                starts.push(start);
            }
            if start > high {
                break;
            }
            reading = self.advance(reading).ok_or_else(invalid)?;
        }
        Ok(starts)
    }

    /// The end (exclusive) of the bucket starting at `start`.
    pub(crate) fn bucket_end(&self, start: i64) -> Option<i64> {
        let reading = utc_to_local(start, &self.zone)? - self.offset;
        local_to_utc(self.advance(reading)? + self.offset, &self.zone)
    }

    fn truncate(&self, reading: i64) -> Option<i64> {
        match self.interval {
            Interval::Fixed(length) => Some(reading.div_euclid(length) * length),
            Interval::Calendar(unit) => unit.truncate(reading),
        }
    }

    fn advance(&self, reading: i64) -> Option<i64> {
        match self.interval {
            Interval::Fixed(length) => reading.checked_add(length),
            Interval::Calendar(unit) => unit.advance(reading, 1),
        }
    }

    /// Reshapes tantivy's result into Elasticsearch's buckets; `render_bucket` renders each
    /// bucket's sub-aggregations.
    pub(crate) fn render(&self, result: &mut Value, mut render_bucket: impl FnMut(&mut Value)) {
        let uniform = self.uniform_length().is_some();
        let buckets = match result.get_mut("buckets").map(Value::take) {
            Some(Value::Array(buckets)) => buckets,
            Some(Value::Object(keyed)) => keyed.into_iter().map(|(_, bucket)| bucket).collect(),
            _ => Vec::new(),
        };
        let mut rendered: Vec<Value> = Vec::with_capacity(buckets.len());
        for bucket in buckets {
            let Value::Object(mut object) = bucket else {
                continue;
            };
            let key = if uniform {
                object.remove("key").and_then(|key| key.as_f64())
            } else {
                // Ranges: the open-ended buckets tantivy adds around them are not buckets.
                match (object.remove("from"), object.remove("to")) {
                    (Some(from), Some(_)) => from.as_f64().map(|nanos| nanos / 1e6),
                    _ => None,
                }
            };
            let Some(key) = key else { continue };
            let key = key.round() as i64;
            for tantivy_only in ["key", "key_as_string", "from_as_string", "to_as_string"] {
                object.remove(tantivy_only);
            }
            let mut bucket = Map::new();
            bucket.insert("key_as_string".into(), json!(self.format_key(key)));
            bucket.insert("key".into(), json!(key));
            bucket.insert(
                "doc_count".into(),
                object.remove("doc_count").unwrap_or(json!(0)),
            );
            bucket.extend(object);
            let mut bucket = Value::Object(bucket);
            render_bucket(&mut bucket);
            rendered.push(bucket);
        }
        if !uniform {
            self.trim(&mut rendered);
        }
        *result = if self.keyed {
            let keyed: Map<String, Value> = rendered
                .into_iter()
                .map(|bucket| {
                    let key = bucket["key_as_string"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    (key, bucket)
                })
                .collect();
            json!({"buckets": keyed})
        } else {
            json!({"buckets": rendered})
        };
    }

    /// Ranges cover every matching date of the whole query; Elasticsearch's buckets start at
    /// the first non-empty one (or the extended bounds) and end at the last.
    fn trim(&self, buckets: &mut Vec<Value>) {
        let count = |bucket: &Value| bucket["doc_count"].as_u64().unwrap_or(0);
        if self.min_doc_count > 0 {
            buckets.retain(|bucket| count(bucket) >= self.min_doc_count);
            return;
        }
        let key = |bucket: &Value| bucket["key"].as_i64().unwrap_or(0);
        let (extended_min, extended_max) = self.extended_bounds.unwrap_or((None, None));
        let last_key_at_or_before = |moment: i64| {
            buckets
                .iter()
                .rposition(|bucket| key(bucket) <= moment)
                .unwrap_or(0)
        };
        let first_non_empty = buckets.iter().position(|bucket| count(bucket) > 0);
        let last_non_empty = buckets.iter().rposition(|bucket| count(bucket) > 0);
        let first = [first_non_empty, extended_min.map(last_key_at_or_before)]
            .into_iter()
            .flatten()
            .min();
        let last = [last_non_empty, extended_max.map(last_key_at_or_before)]
            .into_iter()
            .flatten()
            .max();
        match (first, last) {
            (Some(first), Some(last)) if first <= last => {
                buckets.truncate(last + 1);
                buckets.drain(..first);
            }
            _ => buckets.clear(),
        }
    }

    fn format_key(&self, millis: i64) -> String {
        format_date(millis, &self.zone, self.format.as_deref())
    }
}

/// `30s`, `5m`, `12h`, `2d`, `500ms`: the units a fixed interval may use.
fn parse_fixed_interval(text: &str) -> QueryResult<i64> {
    let invalid = || {
        QueryError::illegal(format!(
            "failed to parse setting [date_histogram.fixedInterval] with value [{text}] as a time value: unit is missing or unrecognized"
        ))
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let amount: i64 = text[..digits].parse().map_err(|_| invalid())?;
    let unit = match &text[digits..] {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(invalid()),
    };
    match amount.checked_mul(unit) {
        Some(length) if length > 0 => Ok(length),
        _ => Err(QueryError::illegal(format!(
            "[fixed_interval] must be positive, got [{text}]"
        ))),
    }
}

/// `+6h`, `-1d`, `30m`.
fn parse_offset(text: &str) -> QueryResult<i64> {
    let (sign, magnitude) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    parse_fixed_interval(magnitude)
        .map(|length| sign * length)
        .map_err(|_| QueryError::illegal(format!("failed to parse [offset] value [{text}]")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        logfleet_time::parse_date_optional_time(text).unwrap() / 1_000_000
    }

    fn histogram(body: Value) -> DateHistogram {
        DateHistogram::parse("h", &body, 0).unwrap()
    }

    #[test]
    fn uniform_buckets_go_to_tantivy_aligned_by_the_zone() {
        let plan = histogram(
            json!({"field": "@timestamp", "calendar_interval": "day", "time_zone": "+01:00"}),
        )
        .plan("h", "@timestamp", None)
        .unwrap()
        .unwrap();
        assert_eq!(plan.0, "date_histogram");
        // Local midnight at +01:00 is 23:00 UTC.
        assert_eq!(plan.1["offset"], json!("82800000ms"));
        let weeks = histogram(json!({"field": "@timestamp", "calendar_interval": "week"}))
            .plan("h", "@timestamp", None)
            .unwrap()
            .unwrap();
        assert_eq!(weeks.1["offset"], json!("345600000ms"), "Mondays");
    }

    #[test]
    fn calendar_months_in_a_named_zone_become_ranges() {
        let months = histogram(
            json!({"field": "@timestamp", "calendar_interval": "month", "time_zone": "Europe/Paris"}),
        );
        assert!(months.needs_data_bounds());
        let starts = months
            .bucket_starts("h", Some((utc("2026-01-15"), utc("2026-04-02"))))
            .unwrap();
        assert_eq!(
            starts,
            vec![
                utc("2025-12-31T23:00:00Z"),
                utc("2026-01-31T23:00:00Z"),
                utc("2026-02-28T23:00:00Z"),
                utc("2026-03-31T22:00:00Z"),
                utc("2026-04-30T22:00:00Z"),
            ]
        );
        let quarters = histogram(json!({"field": "@timestamp", "calendar_interval": "1q"}));
        let starts = quarters
            .bucket_starts("h", Some((utc("2026-02-01"), utc("2026-02-02"))))
            .unwrap();
        assert_eq!(starts, vec![utc("2026-01-01"), utc("2026-04-01")]);
    }

    #[test]
    fn days_across_a_daylight_saving_change_have_their_local_length() {
        let days = histogram(
            json!({"field": "@timestamp", "calendar_interval": "day", "time_zone": "Europe/Paris"}),
        );
        let starts = days
            .bucket_starts(
                "h",
                Some((utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z"))),
            )
            .unwrap();
        assert_eq!(
            starts,
            vec![
                utc("2026-03-27T23:00:00Z"),
                utc("2026-03-28T23:00:00Z"),
                utc("2026-03-29T22:00:00Z"),
            ]
        );
    }

    #[test]
    fn empty_edges_are_trimmed_and_extended_bounds_kept() {
        let days = histogram(
            json!({"field": "f", "calendar_interval": "month", "extended_bounds": {"min": "2026-01-01", "max": "2026-03-01"}}),
        );
        let bucket = |key: &str, count: u64| json!({"key": utc(key), "doc_count": count});
        let mut buckets = vec![
            bucket("2025-12-01", 0),
            bucket("2026-01-01", 0),
            bucket("2026-02-01", 3),
            bucket("2026-03-01", 0),
            bucket("2026-04-01", 0),
        ];
        days.trim(&mut buckets);
        let keys: Vec<i64> = buckets.iter().map(|b| b["key"].as_i64().unwrap()).collect();
        assert_eq!(
            keys,
            vec![utc("2026-01-01"), utc("2026-02-01"), utc("2026-03-01")]
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let error = |body: Value| DateHistogram::parse("h", &body, 0).unwrap_err().to_string();
        assert!(
            error(json!({"field": "f", "calendar_interval": "2d"})).contains("calendar interval")
        );
        assert!(error(json!({"field": "f", "fixed_interval": "1M"})).contains("fixedInterval"));
        assert!(error(json!({"field": "f"})).contains("fixed_interval, calendar_interval"));
        assert!(
            error(json!({"field": "f", "fixed_interval": "1h", "time_zone": "Nowhere/Land"}))
                .contains("Unknown time-zone")
        );
        assert!(error(json!({"field": "f", "fixed_interval": "1h", "bogus": 1})).contains("bogus"));
        let too_many =
            histogram(json!({"field": "f", "fixed_interval": "1s", "time_zone": "Europe/Paris"}))
                .bucket_starts("h", Some((0, 86_400_000 * 2)))
                .unwrap_err();
        assert!(too_many.to_string().contains("too many buckets"));
    }
}
