//! Sorting hits by field values: Elasticsearch's `sort` (and `search_after`), read from the
//! columns of each partition by a collector that keeps the best `from + size` hits, then
//! merged across partitions with the same comparison.

use std::cmp::Ordering;

use logfleet_model::fields::TIMESTAMP;
use logfleet_store::{FieldType, Mapping, decode_ip};
use serde_json::{Value, json};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, DynamicColumn, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::columns::{column_path, fielddata_disabled};
use crate::dsl::json_token;
use crate::error::{QueryError, QueryResult};

/// Direction of one sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// What one sort key sorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortTarget {
    /// The relevance score.
    Score,
    /// Index order.
    Doc,
    /// A field's value.
    Field(String),
}

/// One key of a `sort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// What to sort by.
    pub target: SortTarget,
    /// Direction.
    pub order: SortOrder,
    /// Whether documents without a value come first (`_first`) rather than last.
    pub missing_first: bool,
    /// `unmapped_type`: sort targets without the field as if they had none, instead of failing.
    pub unmapped_ok: bool,
}

/// A sort value of one hit, as Elasticsearch returns it in `sort`.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    /// No value.
    Missing,
    /// Integers and dates (epoch milliseconds).
    Integer(i64),
    /// Floating-point numbers and scores.
    Float(f64),
    /// Keywords.
    Text(String),
    /// IP addresses, as the 128 bits of their IPv6 form so that they sort numerically.
    Ip(u128),
}

impl SortValue {
    /// The JSON of `sort` in a hit.
    pub fn to_json(&self) -> Value {
        match self {
            SortValue::Missing => Value::Null,
            SortValue::Integer(integer) => json!(integer),
            SortValue::Float(float) => json!(float),
            SortValue::Text(text) => json!(text),
            SortValue::Ip(bits) => {
                let v6 = std::net::Ipv6Addr::from(*bits);
                let ip = v6
                    .to_ipv4_mapped()
                    .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4);
                json!(ip.to_string())
            }
        }
    }

    fn from_json(value: &Value) -> SortValue {
        match value {
            Value::Null => SortValue::Missing,
            Value::Number(number) => match number.as_i64() {
                Some(integer) => SortValue::Integer(integer),
                None => SortValue::Float(number.as_f64().unwrap_or(0.0)),
            },
            Value::String(text) => SortValue::Text(text.clone()),
            Value::Bool(flag) => SortValue::Integer(i64::from(*flag)),
            other => SortValue::Text(other.to_string()),
        }
    }

    fn compare_present(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::Integer(left), SortValue::Integer(right)) => left.cmp(right),
            (SortValue::Text(left), SortValue::Text(right)) => left.cmp(right),
            (SortValue::Ip(left), SortValue::Ip(right)) => left.cmp(right),
            (SortValue::Ip(_), _) => Ordering::Greater,
            (_, SortValue::Ip(_)) => Ordering::Less,
            (SortValue::Text(_), _) => Ordering::Greater,
            (_, SortValue::Text(_)) => Ordering::Less,
            (left, right) => left.as_f64().total_cmp(&right.as_f64()),
        }
    }

    fn as_f64(&self) -> f64 {
        match self {
            SortValue::Integer(integer) => *integer as f64,
            SortValue::Float(float) => *float,
            SortValue::Missing | SortValue::Text(_) | SortValue::Ip(_) => 0.0,
        }
    }
}

/// Orders two key vectors by `keys`; `Less` means "comes first".
pub fn compare_keys(keys: &[SortKey], left: &[SortValue], right: &[SortValue]) -> Ordering {
    for (index, key) in keys.iter().enumerate() {
        let (Some(left), Some(right)) = (left.get(index), right.get(index)) else {
            break;
        };
        let ordering = match (left, right) {
            (SortValue::Missing, SortValue::Missing) => Ordering::Equal,
            (SortValue::Missing, _) => {
                if key.missing_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, SortValue::Missing) => {
                if key.missing_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (left, right) => {
                let natural = left.compare_present(right);
                if key.order == SortOrder::Desc {
                    natural.reverse()
                } else {
                    natural
                }
            }
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
    Ordering::Equal
}

/// Parses the body's `sort`: a string, an object, or an array of them.
pub fn parse_sort(value: &Value) -> QueryResult<Vec<SortKey>> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items.into_iter().map(parse_sort_item).collect()
}

/// Parses the URL's `sort=field:desc,other`.
pub fn parse_sort_parameter(text: &str) -> QueryResult<Vec<SortKey>> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (field, order) = part.trim().split_once(':').unwrap_or((part.trim(), ""));
            let mut key = default_key(field);
            if !order.is_empty() {
                key.order = parse_order(order)?;
            }
            Ok(key)
        })
        .collect()
}

/// The tiebreaker a point-in-time search appends to its sort, as Elasticsearch's implicit
/// `_shard_doc`.
pub(crate) fn shard_doc_key() -> SortKey {
    default_key("_shard_doc")
}

fn default_key(field: &str) -> SortKey {
    let target = match field {
        "_score" => SortTarget::Score,
        // `_shard_doc` is index order across a point in time's shards; `_doc` values carry
        // the partition, so they are that here.
        "_doc" | "_shard_doc" => SortTarget::Doc,
        other => SortTarget::Field(other.to_owned()),
    };
    let order = if target == SortTarget::Score {
        SortOrder::Desc
    } else {
        SortOrder::Asc
    };
    SortKey {
        target,
        order,
        missing_first: false,
        unmapped_ok: false,
    }
}

fn parse_order(text: &str) -> QueryResult<SortOrder> {
    match text {
        "asc" | "ASC" => Ok(SortOrder::Asc),
        "desc" | "DESC" => Ok(SortOrder::Desc),
        other => Err(QueryError::parsing(format!(
            "Unknown sort order [{other}], expected [asc] or [desc]"
        ))),
    }
}

fn parse_sort_item(item: &Value) -> QueryResult<SortKey> {
    match item {
        Value::String(field) => Ok(default_key(field)),
        Value::Object(object) if object.len() == 1 => {
            let (field, options) = object
                .iter()
                .next()
                .ok_or_else(|| QueryError::parsing("empty sort"))?;
            let mut key = default_key(field);
            match options {
                Value::String(order) => key.order = parse_order(order)?,
                Value::Object(options) => {
                    for (option, value) in options {
                        match option.as_str() {
                            "order" => key.order = parse_order(value.as_str().unwrap_or_default())?,
                            "missing" => match value.as_str() {
                                Some("_first") => key.missing_first = true,
                                Some("_last") => key.missing_first = false,
                                _ => {
                                    return Err(QueryError::illegal(format!(
                                        "[missing] of sort on [{field}] must be _first or _last"
                                    )));
                                }
                            },
                            "unmapped_type" => key.unmapped_ok = true,
                            "format" | "mode" | "numeric_type" => {}
                            other => {
                                return Err(QueryError::parsing(format!(
                                    "[field_sort] unknown field [{other}]"
                                )));
                            }
                        }
                    }
                }
                other => {
                    return Err(QueryError::parsing(format!(
                        "[sort] of [{field}] must be a string or an object, found [{}]",
                        json_token(other)
                    )));
                }
            }
            Ok(key)
        }
        other => Err(QueryError::parsing(format!(
            "[sort] must be a field name or an object with one field, found [{}]",
            json_token(other)
        ))),
    }
}

/// Parses `search_after` against the sort it continues.
pub fn parse_search_after(value: &Value, keys: &[SortKey]) -> QueryResult<Vec<SortValue>> {
    let Value::Array(values) = value else {
        return Err(QueryError::parsing("[search_after] must be an array"));
    };
    if values.len() != keys.len() {
        return Err(QueryError::illegal(format!(
            "search_after has {} value(s) but sort has {}.",
            values.len(),
            keys.len()
        )));
    }
    Ok(values.iter().map(SortValue::from_json).collect())
}

/// A sort key resolved against one target's mapping.
#[derive(Debug, Clone)]
enum Source {
    Score,
    Doc,
    Timestamp,
    Number(String),
    Keyword(String),
    Ip(String),
    Boolean(String),
    Missing,
}

/// Resolves the keys for one target.
fn resolve(keys: &[SortKey], mapping: &Mapping) -> QueryResult<Vec<Source>> {
    keys.iter()
        .map(|key| {
            let SortTarget::Field(field) = &key.target else {
                return Ok(if key.target == SortTarget::Score {
                    Source::Score
                } else {
                    Source::Doc
                });
            };
            if field == TIMESTAMP {
                return Ok(Source::Timestamp);
            }
            // An alias sorts by the column of the field it names.
            let resolved = mapping.resolve(field);
            let column = resolved
                .as_ref()
                .map_or(field.as_str(), |resolved| resolved.path.as_str());
            match resolved.as_ref().map(|resolved| resolved.field_type) {
                Some(field_type @ (FieldType::Long | FieldType::Double | FieldType::Date)) => {
                    Ok(Source::Number(column_path(column, field_type)))
                }
                Some(FieldType::Keyword) => {
                    Ok(Source::Keyword(column_path(column, FieldType::Keyword)))
                }
                Some(FieldType::Ip) => Ok(Source::Ip(column_path(column, FieldType::Ip))),
                Some(FieldType::Boolean) => {
                    Ok(Source::Boolean(column_path(column, FieldType::Boolean)))
                }
                Some(FieldType::Text) => Err(fielddata_disabled(field)),
                Some(
                    FieldType::Object
                    | FieldType::GeoPoint
                    | FieldType::Alias
                    | FieldType::Flattened
                    | FieldType::Unindexed,
                ) => Err(QueryError::illegal(format!(
                    "can't sort on field [{field}]"
                ))),
                None if key.unmapped_ok => Ok(Source::Missing),
                None => Err(QueryError::illegal(format!(
                    "No mapping found for [{field}] in order to sort on"
                ))),
            }
        })
        .collect()
}

/// A sorted hit of one partition.
#[derive(Debug, Clone)]
pub struct SortedHit {
    /// Its sort values.
    pub values: Vec<SortValue>,
    /// Its score.
    pub score: Score,
    /// Where it is.
    pub address: DocAddress,
}

/// Keeps the best `limit` hits of a partition by `keys`, after `search_after`.
pub struct SortCollector {
    keys: Vec<SortKey>,
    sources: Vec<Source>,
    limit: usize,
    after: Option<Vec<SortValue>>,
    shard: usize,
}

impl SortCollector {
    /// A collector for the partition at position `shard` of a search, over its target's
    /// `mapping`. The position makes `_doc` values unique across the search's partitions, so
    /// `_doc` breaks ties for `search_after` and sorted scrolls.
    pub fn new(
        keys: &[SortKey],
        mapping: &Mapping,
        limit: usize,
        after: Option<Vec<SortValue>>,
        shard: usize,
    ) -> QueryResult<SortCollector> {
        let sources = resolve(keys, mapping)?;
        // `search_after` carries addresses as clients saw them; compare them as addresses.
        let after = after.map(|values| {
            values
                .into_iter()
                .zip(&sources)
                .map(|(value, source)| match (value, source) {
                    (SortValue::Text(text), Source::Ip(_)) => {
                        text.parse().map_or(SortValue::Text(text), ip_value)
                    }
                    (value, _) => value,
                })
                .collect()
        });
        Ok(SortCollector {
            keys: keys.to_vec(),
            sources,
            limit,
            after,
            shard,
        })
    }
}

enum SegmentColumn {
    Score,
    /// The partition's position in the search, and the segment.
    Doc(usize, SegmentOrdinal),
    Date(Column<tantivy::DateTime>),
    Dynamic(Vec<DynamicColumn>),
    Strings(Option<StrColumn>, bool),
    Missing,
}

fn ip_value(ip: std::net::IpAddr) -> SortValue {
    let v6 = match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    };
    SortValue::Ip(u128::from(v6))
}

/// Per-segment part of [`SortCollector`].
pub struct SortSegmentCollector {
    keys: Vec<SortKey>,
    columns: Vec<SegmentColumn>,
    limit: usize,
    after: Option<Vec<SortValue>>,
    segment: SegmentOrdinal,
    hits: Vec<SortedHit>,
    text: String,
}

impl Collector for SortCollector {
    type Fruit = Vec<SortedHit>;
    type Child = SortSegmentCollector;

    fn for_segment(
        &self,
        segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SortSegmentCollector> {
        let fast_fields = segment.fast_fields();
        let mut columns = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            columns.push(match source {
                Source::Score => SegmentColumn::Score,
                Source::Doc => SegmentColumn::Doc(self.shard, segment_local_id),
                Source::Timestamp => SegmentColumn::Date(fast_fields.date(TIMESTAMP)?),
                Source::Number(name) | Source::Boolean(name) => {
                    let mut opened = Vec::new();
                    for handle in fast_fields.dynamic_column_handles(name)? {
                        opened.push(handle.open()?);
                    }
                    SegmentColumn::Dynamic(opened)
                }
                Source::Keyword(name) => SegmentColumn::Strings(fast_fields.str(name)?, false),
                Source::Ip(name) => SegmentColumn::Strings(fast_fields.str(name)?, true),
                Source::Missing => SegmentColumn::Missing,
            });
        }
        Ok(SortSegmentCollector {
            keys: self.keys.clone(),
            columns,
            limit: self.limit,
            after: self.after.clone(),
            segment: segment_local_id,
            hits: Vec::new(),
            text: String::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sources
            .iter()
            .any(|source| matches!(source, Source::Score))
    }

    fn merge_fruits(&self, fruits: Vec<Vec<SortedHit>>) -> tantivy::Result<Vec<SortedHit>> {
        let mut all: Vec<SortedHit> = fruits.into_iter().flatten().collect();
        sort_hits(&self.keys, &mut all);
        all.truncate(self.limit);
        Ok(all)
    }
}

/// Sorts hits by `keys`, ties by address.
pub fn sort_hits(keys: &[SortKey], hits: &mut [SortedHit]) {
    hits.sort_by(|left, right| {
        compare_keys(keys, &left.values, &right.values).then(left.address.cmp(&right.address))
    });
}

impl SortSegmentCollector {
    fn value(&mut self, index: usize, doc: DocId, score: Score) -> SortValue {
        match &self.columns[index] {
            SegmentColumn::Score => SortValue::Float(f64::from(score)),
            // Partition in the high bits, then segment, then document: index order across
            // the whole search.
            SegmentColumn::Doc(shard, segment) => SortValue::Integer(
                ((*shard as i64) << 48) | (i64::from(*segment) << 32) | i64::from(doc),
            ),
            SegmentColumn::Date(column) => column.first(doc).map_or(SortValue::Missing, |date| {
                SortValue::Integer(date.into_timestamp_millis())
            }),
            SegmentColumn::Dynamic(columns) => {
                for column in columns {
                    let value = match column {
                        DynamicColumn::I64(column) => column.first(doc).map(SortValue::Integer),
                        DynamicColumn::U64(column) => column
                            .first(doc)
                            .map(|value| SortValue::Integer(value as i64)),
                        DynamicColumn::F64(column) => column.first(doc).map(SortValue::Float),
                        DynamicColumn::DateTime(column) => column
                            .first(doc)
                            .map(|date| SortValue::Integer(date.into_timestamp_millis())),
                        DynamicColumn::Bool(column) => column
                            .first(doc)
                            .map(|flag| SortValue::Integer(i64::from(flag))),
                        _ => None,
                    };
                    if let Some(value) = value {
                        return value;
                    }
                }
                SortValue::Missing
            }
            SegmentColumn::Strings(Some(column), is_ip) => {
                let is_ip = *is_ip;
                let Some(ord) = column.term_ords(doc).next() else {
                    return SortValue::Missing;
                };
                self.text.clear();
                let Ok(true) = column.ord_to_str(ord, &mut self.text) else {
                    return SortValue::Missing;
                };
                if is_ip {
                    return decode_ip(&self.text).map_or(SortValue::Missing, ip_value);
                }
                SortValue::Text(self.text.clone())
            }
            SegmentColumn::Strings(None, _) | SegmentColumn::Missing => SortValue::Missing,
        }
    }
}

impl SegmentCollector for SortSegmentCollector {
    type Fruit = Vec<SortedHit>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let values: Vec<SortValue> = (0..self.columns.len())
            .map(|index| self.value(index, doc, score))
            .collect();
        if let Some(after) = &self.after
            && compare_keys(&self.keys, &values, after) != Ordering::Greater
        {
            return;
        }
        self.hits.push(SortedHit {
            values,
            score,
            address: DocAddress::new(self.segment, doc),
        });
        if self.hits.len() >= self.limit.max(1) * 2 {
            sort_hits(&self.keys, &mut self.hits);
            self.hits.truncate(self.limit);
        }
    }

    fn harvest(mut self) -> Vec<SortedHit> {
        sort_hits(&self.keys, &mut self.hits);
        self.hits.truncate(self.limit);
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let keys = parse_sort(&json!([{"@timestamp": {"order": "desc", "missing": "_first"}}, "_score", {"n": "asc"}, "_doc"])).unwrap();
        assert_eq!(keys[0].target, SortTarget::Field("@timestamp".into()));
        assert_eq!(
            (keys[0].order, keys[0].missing_first),
            (SortOrder::Desc, true)
        );
        assert_eq!(
            (keys[1].target.clone(), keys[1].order),
            (SortTarget::Score, SortOrder::Desc)
        );
        assert_eq!(keys[3].target, SortTarget::Doc);
        let keys = parse_sort_parameter("a:desc,b").unwrap();
        assert_eq!(
            (keys[0].order, keys[1].order),
            (SortOrder::Desc, SortOrder::Asc)
        );
        assert!(parse_sort(&json!({"a": "sideways"})).is_err());
        assert!(parse_sort(&json!(3)).is_err());
    }

    #[test]
    fn missing_values_go_last_unless_asked() {
        let keys = parse_sort(&json!({"n": "desc"})).unwrap();
        let mut values = [
            vec![SortValue::Missing],
            vec![SortValue::Integer(1)],
            vec![SortValue::Integer(5)],
        ];
        values.sort_by(|left, right| compare_keys(&keys, left, right));
        assert_eq!(values[0], [SortValue::Integer(5)]);
        assert_eq!(values[2], [SortValue::Missing]);
        let first = parse_sort(&json!({"n": {"order": "asc", "missing": "_first"}})).unwrap();
        values.sort_by(|left, right| compare_keys(&first, left, right));
        assert_eq!(values[0], [SortValue::Missing]);
    }

    #[test]
    fn search_after_must_match_the_sort() {
        let keys = parse_sort(&json!(["a", "b"])).unwrap();
        assert!(parse_search_after(&json!([1]), &keys).is_err());
        assert_eq!(
            parse_search_after(&json!([1, "x"]), &keys).unwrap(),
            [SortValue::Integer(1), SortValue::Text("x".into())]
        );
    }
}
