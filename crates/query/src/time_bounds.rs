//! The `@timestamp` interval a query requires, used to skip partitions outside it.
//!
//! Only constraints every match must satisfy count: ranges in `must`/`filter` clauses
//! (recursively), never `should` or `must_not`. The result may be wider than the query (that
//! only costs a partition searched for nothing), never narrower.

use crate::ast::QueryAst;
use jiff::tz::TimeZone;

use logfleet_time::calendar::parse_time_zone;
use logfleet_time::date_math::parse_date_bound;

/// `[low, high]` in epoch milliseconds (inclusive), or `None` when the query does not
/// restrict `@timestamp`.
pub fn timestamp_bounds(query: &QueryAst, now_millis: i64) -> Option<(i64, i64)> {
    match query {
        QueryAst::Range {
            field,
            lower,
            upper,
            format,
            time_zone,
        } if crate::search::is_timestamp(field) => {
            let offset = time_zone
                .as_deref()
                .map_or(Ok(TimeZone::UTC), parse_time_zone)
                .ok()?;
            let bound = |bound: &crate::ast::RangeBound, is_lower: bool| {
                let round_up = is_lower != bound.inclusive;
                match &bound.value {
                    serde_json::Value::String(text) => {
                        parse_date_bound(text, now_millis, round_up, &offset, format.as_deref())
                            .ok()
                    }
                    other => other.as_i64(),
                }
            };
            let low = match lower {
                Some(lower) => bound(lower, true)?,
                None => i64::MIN,
            };
            let high = match upper {
                Some(upper) => bound(upper, false)?,
                None => i64::MAX,
            };
            Some((low, high))
        }
        QueryAst::Bool { must, filter, .. } => must
            .iter()
            .chain(filter)
            .filter_map(|clause| timestamp_bounds(clause, now_millis))
            .reduce(|(low_a, high_a), (low_b, high_b)| (low_a.max(low_b), high_a.min(high_b))),
        QueryAst::Boost { query, .. }
        | QueryAst::ConstantScore { query, .. }
        | QueryAst::Lenient(query) => timestamp_bounds(query, now_millis),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::parse_query;
    use serde_json::json;

    #[test]
    fn intersects_required_ranges() {
        let query = parse_query(&json!({"bool": {
            "must": [{"range": {"@timestamp": {"gte": 1000}}}],
            "filter": {"range": {"@timestamp": {"lt": 5000}}},
            "should": [{"range": {"@timestamp": {"gte": 4000}}}],
        }}))
        .unwrap();
        assert_eq!(timestamp_bounds(&query, 0), Some((1000, 5000)));
    }

    #[test]
    fn ignores_optional_and_other_fields() {
        let query =
            parse_query(&json!({"bool": {"should": [{"range": {"@timestamp": {"gte": 1}}}]}}))
                .unwrap();
        assert_eq!(timestamp_bounds(&query, 0), None);
        let query = parse_query(&json!({"range": {"other": {"gte": 1}}})).unwrap();
        assert_eq!(timestamp_bounds(&query, 0), None);
        let query = parse_query(&json!({"range": {"@timestamp": {"gte": "now-1h"}}})).unwrap();
        assert_eq!(
            timestamp_bounds(&query, 7_200_000),
            Some((3_600_000, i64::MAX))
        );
    }
}
