//! The type of every canonical field, in Elasticsearch's vocabulary.
//!
//! One table drives the store's tantivy schema, the `_mapping` answers and the index
//! templates written to a real Elasticsearch cluster, so a field cannot be `long` in one place
//! and `keyword` in another. Fields not in the table are kept and mapped dynamically.

use crate::fields::*;
use crate::keyword::keyword_enum;

keyword_enum! {
    /// How a field is indexed; [`as_str`](Self::as_str) is the Elasticsearch mapping type name.
    pub enum FieldKind as "mapping type" {
        /// Exact value: term queries, `terms` aggregations, sorting.
        Keyword = "keyword",
        /// Analysed full text with positions, for match and phrase queries.
        Text = "text",
        /// 64-bit signed integer.
        Long = "long",
        /// 64-bit float.
        Double = "double",
        /// A point in time, stored with millisecond precision or better.
        Date = "date",
        /// An IPv4 or IPv6 address (range and CIDR queries).
        Ip = "ip",
        /// `true` or `false`.
        Boolean = "boolean",
        /// A latitude/longitude pair.
        GeoPoint = "geo_point",
    }
}

/// The default `slow_query` threshold: a database operation with `duration_ms` above this is
/// flagged as slow. Producers may configure another one.
pub const DEFAULT_SLOW_QUERY_THRESHOLD_MS: f64 = 1000.0;

/// Every field of the canonical schema with its type, each field once, in schema order
/// (common fields, then api_request, database, inter_service, performance, audit, ingest).
pub const CANONICAL_FIELDS: &[(&str, FieldKind)] = &[
    (TIMESTAMP, FieldKind::Date),
    (LOG_CATEGORY, FieldKind::Keyword),
    (LEVEL, FieldKind::Keyword),
    (MESSAGE, FieldKind::Text),
    (APP_NAME, FieldKind::Keyword),
    (SERVICE_TYPE, FieldKind::Keyword),
    (ENVIRONMENT, FieldKind::Keyword),
    (HOST, FieldKind::Keyword),
    (SERVICE_VERSION, FieldKind::Keyword),
    (REQUEST_ID, FieldKind::Keyword),
    (TRACE_ID, FieldKind::Keyword),
    (SPAN_ID, FieldKind::Keyword),
    (ACTION_TYPE, FieldKind::Keyword),
    (HTTP_METHOD, FieldKind::Keyword),
    (PATH, FieldKind::Keyword),
    (ENDPOINT_SIGNATURE, FieldKind::Keyword),
    (STATUS_CODE, FieldKind::Long),
    (RESPONSE_CATEGORY, FieldKind::Keyword),
    (DURATION_MS, FieldKind::Double),
    (REQUEST_SIZE, FieldKind::Long),
    (RESPONSE_SIZE, FieldKind::Long),
    (CLIENT_IP, FieldKind::Ip),
    (USER_AGENT, FieldKind::Keyword),
    (USER_ID, FieldKind::Keyword),
    (USER_NAME, FieldKind::Keyword),
    (ERROR_TYPE, FieldKind::Keyword),
    (ERROR_MESSAGE, FieldKind::Keyword),
    (DB_OPERATION, FieldKind::Keyword),
    (DB_ENTITY, FieldKind::Keyword),
    (DB_ACTION, FieldKind::Keyword),
    (ROWS_AFFECTED, FieldKind::Long),
    (SLOW_QUERY, FieldKind::Boolean),
    (DB_ERROR, FieldKind::Keyword),
    (USERNAME, FieldKind::Keyword),
    (TARGET_SERVICE, FieldKind::Keyword),
    (TARGET_URL, FieldKind::Keyword),
    (RETRY_COUNT, FieldKind::Long),
    (CPU_PERCENT, FieldKind::Double),
    (MEMORY_RSS_BYTES, FieldKind::Long),
    (REQUESTS_PER_MINUTE, FieldKind::Double),
    (DURATION_MS_P50, FieldKind::Double),
    (DURATION_MS_P95, FieldKind::Double),
    (DURATION_MS_P99, FieldKind::Double),
    (OPEN_CONNECTIONS, FieldKind::Long),
    (DB_POOL_IN_USE, FieldKind::Long),
    (USER_ACTION, FieldKind::Keyword),
    (SUCCESS, FieldKind::Boolean),
    (REASON, FieldKind::Keyword),
    (SESSION_ID, FieldKind::Keyword),
    (SESSION_DURATION_MS, FieldKind::Long),
    (TARGET_ENTITY, FieldKind::Keyword),
    (GEO_COUNTRY_ISO_CODE, FieldKind::Keyword),
    (GEO_COUNTRY_NAME, FieldKind::Keyword),
    (GEO_CITY_NAME, FieldKind::Keyword),
    (GEO_LOCATION, FieldKind::GeoPoint),
    (UA_NAME, FieldKind::Keyword),
    (UA_OS, FieldKind::Keyword),
    (UA_DEVICE, FieldKind::Keyword),
];

/// The type of a canonical field, or `None` for a field outside the schema (which is then
/// mapped dynamically).
///
/// A linear scan: the table is small and lookups happen when building mappings, not per event.
///
/// ```
/// use logfleet_model::{FieldKind, canonical_kind, fields};
///
/// assert_eq!(canonical_kind(fields::STATUS_CODE), Some(FieldKind::Long));
/// assert_eq!(canonical_kind("shopping_cart_id"), None);
/// ```
pub fn canonical_kind(name: &str) -> Option<FieldKind> {
    CANONICAL_FIELDS
        .iter()
        .find(|(field, _)| *field == name)
        .map(|&(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every constant of `fields`, by hand: a constant added there but forgotten in
    /// `CANONICAL_FIELDS` should fail here rather than be mapped dynamically by accident.
    const ALL_FIELD_CONSTANTS: &[&str] = &[
        TIMESTAMP,
        LOG_CATEGORY,
        LEVEL,
        MESSAGE,
        APP_NAME,
        SERVICE_TYPE,
        ENVIRONMENT,
        HOST,
        SERVICE_VERSION,
        REQUEST_ID,
        TRACE_ID,
        SPAN_ID,
        ACTION_TYPE,
        HTTP_METHOD,
        PATH,
        ENDPOINT_SIGNATURE,
        STATUS_CODE,
        RESPONSE_CATEGORY,
        DURATION_MS,
        REQUEST_SIZE,
        RESPONSE_SIZE,
        CLIENT_IP,
        USER_AGENT,
        USER_ID,
        USER_NAME,
        ERROR_TYPE,
        ERROR_MESSAGE,
        DB_OPERATION,
        DB_ENTITY,
        DB_ACTION,
        ROWS_AFFECTED,
        SLOW_QUERY,
        DB_ERROR,
        USERNAME,
        TARGET_SERVICE,
        TARGET_URL,
        RETRY_COUNT,
        CPU_PERCENT,
        MEMORY_RSS_BYTES,
        REQUESTS_PER_MINUTE,
        DURATION_MS_P50,
        DURATION_MS_P95,
        DURATION_MS_P99,
        OPEN_CONNECTIONS,
        DB_POOL_IN_USE,
        USER_ACTION,
        SUCCESS,
        REASON,
        SESSION_ID,
        SESSION_DURATION_MS,
        TARGET_ENTITY,
        GEO_COUNTRY_ISO_CODE,
        GEO_COUNTRY_NAME,
        GEO_CITY_NAME,
        GEO_LOCATION,
        UA_NAME,
        UA_OS,
        UA_DEVICE,
    ];

    #[test]
    fn every_field_constant_has_a_canonical_kind() {
        for name in ALL_FIELD_CONSTANTS {
            assert!(
                canonical_kind(name).is_some(),
                "{name} missing from CANONICAL_FIELDS"
            );
        }
        assert_eq!(ALL_FIELD_CONSTANTS.len(), CANONICAL_FIELDS.len());
    }

    #[test]
    fn canonical_fields_are_unique() {
        let unique: HashSet<&str> = CANONICAL_FIELDS.iter().map(|(name, _)| *name).collect();
        assert_eq!(unique.len(), CANONICAL_FIELDS.len());
    }

    #[test]
    fn non_keyword_fields_have_their_schema_types() {
        let expected = [
            (TIMESTAMP, FieldKind::Date),
            (MESSAGE, FieldKind::Text),
            (STATUS_CODE, FieldKind::Long),
            (DURATION_MS, FieldKind::Double),
            (REQUEST_SIZE, FieldKind::Long),
            (RESPONSE_SIZE, FieldKind::Long),
            (CLIENT_IP, FieldKind::Ip),
            (ROWS_AFFECTED, FieldKind::Long),
            (SLOW_QUERY, FieldKind::Boolean),
            (RETRY_COUNT, FieldKind::Long),
            (CPU_PERCENT, FieldKind::Double),
            (MEMORY_RSS_BYTES, FieldKind::Long),
            (REQUESTS_PER_MINUTE, FieldKind::Double),
            (DURATION_MS_P50, FieldKind::Double),
            (DURATION_MS_P95, FieldKind::Double),
            (DURATION_MS_P99, FieldKind::Double),
            (OPEN_CONNECTIONS, FieldKind::Long),
            (DB_POOL_IN_USE, FieldKind::Long),
            (SUCCESS, FieldKind::Boolean),
            (SESSION_DURATION_MS, FieldKind::Long),
            (GEO_LOCATION, FieldKind::GeoPoint),
        ];
        for (name, kind) in expected {
            assert_eq!(canonical_kind(name), Some(kind), "{name}");
        }
        let non_keyword = CANONICAL_FIELDS
            .iter()
            .filter(|(_, kind)| *kind != FieldKind::Keyword)
            .count();
        assert_eq!(
            non_keyword,
            expected.len(),
            "every other field is a keyword"
        );
    }

    #[test]
    fn field_kind_names_are_elasticsearch_mapping_types() {
        let names: Vec<&str> = FieldKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            names,
            [
                "keyword",
                "text",
                "long",
                "double",
                "date",
                "ip",
                "boolean",
                "geo_point"
            ]
        );
        assert_eq!("geo_point".parse::<FieldKind>(), Ok(FieldKind::GeoPoint));
    }
}
