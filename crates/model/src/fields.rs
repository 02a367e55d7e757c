//! The field names of the canonical event schema, one constant each.
//!
//! The names are the seed's, verbatim, because its dashboard queries must run unchanged; code
//! everywhere (SDKs, pipeline, query, dashboards) refers to these constants instead of string
//! literals so a typo is a compile error. Their types are in
//! [`CANONICAL_FIELDS`](crate::CANONICAL_FIELDS).

// Every event.

/// When the event happened: UTC, RFC 3339 with millisecond precision (`date`).
pub const TIMESTAMP: &str = "@timestamp";
/// Which kind of event this is, see [`LogCategory`](crate::LogCategory) (`keyword`).
pub const LOG_CATEGORY: &str = "log_category";
/// Severity, see [`Level`](crate::Level) (`keyword`).
pub const LEVEL: &str = "level";
/// The human-readable line (`text`, full-text searchable).
pub const MESSAGE: &str = "message";
/// The emitting service, e.g. `user_service` or `auth` (`keyword`).
pub const APP_NAME: &str = "app_name";
/// The role of the service, e.g. `data_manager` or `proxy_service` (`keyword`).
pub const SERVICE_TYPE: &str = "service_type";
/// Deployment environment, e.g. `production` (`keyword`).
pub const ENVIRONMENT: &str = "environment";
/// The machine or container the service runs on (`keyword`).
pub const HOST: &str = "host";
/// The version of the emitting service (`keyword`).
pub const SERVICE_VERSION: &str = "service_version";
/// The request's id, propagated across services in `X-Request-ID` (`keyword`).
pub const REQUEST_ID: &str = "request_id";
/// The W3C trace id, propagated in `traceparent` (`keyword`).
pub const TRACE_ID: &str = "trace_id";
/// The W3C span id of the operation that emitted the event (`keyword`).
pub const SPAN_ID: &str = "span_id";

// api_request (several are shared with other categories).

/// The business action of the request, e.g. `USER_SIGNUP` (`keyword`).
pub const ACTION_TYPE: &str = "action_type";
/// The HTTP method, e.g. `POST`; api_request and inter_service (`keyword`).
pub const HTTP_METHOD: &str = "http_method";
/// The concrete request path, e.g. `/users/42/` (`keyword`).
pub const PATH: &str = "path";
/// Method and route template, e.g. `GET /users/{id}/`, for grouping by endpoint (`keyword`).
pub const ENDPOINT_SIGNATURE: &str = "endpoint_signature";
/// The HTTP status code; api_request and inter_service (`long`).
pub const STATUS_CODE: &str = "status_code";
/// The status code's class, see [`ResponseCategory`](crate::ResponseCategory) (`keyword`).
pub const RESPONSE_CATEGORY: &str = "response_category";
/// How long the operation took, in milliseconds; api_request, database and inter_service
/// (`double`).
pub const DURATION_MS: &str = "duration_ms";
/// Request body size in bytes (`long`).
pub const REQUEST_SIZE: &str = "request_size";
/// Response body size in bytes (`long`).
pub const RESPONSE_SIZE: &str = "response_size";
/// The client's address; the source of the `geo.*` fields (`ip`).
pub const CLIENT_IP: &str = "client_ip";
/// The client's `User-Agent` header; the source of the `ua.*` fields (`keyword`).
pub const USER_AGENT: &str = "user_agent";
/// The authenticated user's id; api_request and audit (`keyword`).
pub const USER_ID: &str = "user_id";
/// The authenticated user's display name; api_request and audit (`keyword`).
pub const USER_NAME: &str = "user_name";
/// The class of failure, e.g. an exception name or `timeout` (`keyword`).
pub const ERROR_TYPE: &str = "error_type";
/// The failure's message (`keyword`).
pub const ERROR_MESSAGE: &str = "error_message";

// database

/// The business operation, e.g. `USER_CREATE` (`keyword`).
pub const DB_OPERATION: &str = "db_operation";
/// The entity operated on, e.g. `USER` (`keyword`).
pub const DB_ENTITY: &str = "db_entity";
/// The CRUD verb, see [`DbAction`](crate::DbAction) (`keyword`).
pub const DB_ACTION: &str = "db_action";
/// Rows inserted, read, updated or deleted (`long`).
pub const ROWS_AFFECTED: &str = "rows_affected";
/// Whether the operation exceeded the slow-query threshold (`boolean`), see
/// [`DEFAULT_SLOW_QUERY_THRESHOLD_MS`](crate::DEFAULT_SLOW_QUERY_THRESHOLD_MS).
pub const SLOW_QUERY: &str = "slow_query";
/// The database error, when the operation failed (`keyword`).
pub const DB_ERROR: &str = "db_error";
/// Context: the user name the operation concerns (`keyword`).
pub const USERNAME: &str = "username";

// inter_service

/// The called service, e.g. `user_service` (`keyword`).
pub const TARGET_SERVICE: &str = "target_service";
/// The called URL (`keyword`).
pub const TARGET_URL: &str = "target_url";
/// How many retries the call needed (`long`).
pub const RETRY_COUNT: &str = "retry_count";

// performance samples

/// Process CPU usage, percent of one core (`double`).
pub const CPU_PERCENT: &str = "cpu_percent";
/// Process resident memory in bytes (`long`).
pub const MEMORY_RSS_BYTES: &str = "memory_rss_bytes";
/// Throughput over the sampling window (`double`).
pub const REQUESTS_PER_MINUTE: &str = "requests_per_minute";
/// Median request duration over the sampling window, in milliseconds (`double`).
pub const DURATION_MS_P50: &str = "duration_ms_p50";
/// 95th percentile request duration over the sampling window, in milliseconds (`double`).
pub const DURATION_MS_P95: &str = "duration_ms_p95";
/// 99th percentile request duration over the sampling window, in milliseconds (`double`).
pub const DURATION_MS_P99: &str = "duration_ms_p99";
/// Open client connections (`long`).
pub const OPEN_CONNECTIONS: &str = "open_connections";
/// Database pool connections in use (`long`).
pub const DB_POOL_IN_USE: &str = "db_pool_in_use";

// audit

/// What the user did, e.g. `LOGIN_SUCCESS`, `LOGIN_FAILED`, `PASSWORD_CHANGED` (`keyword`).
pub const USER_ACTION: &str = "user_action";
/// Whether the audited action succeeded (`boolean`).
pub const SUCCESS: &str = "success";
/// Why the action failed or was allowed (`keyword`).
pub const REASON: &str = "reason";
/// The user's session id (`keyword`).
pub const SESSION_ID: &str = "session_id";
/// How long the session lasted, in milliseconds, on logout (`long`).
pub const SESSION_DURATION_MS: &str = "session_duration_ms";
/// The entity the action was performed on (`keyword`).
pub const TARGET_ENTITY: &str = "target_entity";

// Added at ingest, never sent by services.

/// Country of `client_ip`, ISO 3166-1 alpha-2 (`keyword`).
pub const GEO_COUNTRY_ISO_CODE: &str = "geo.country_iso_code";
/// Country name of `client_ip` (`keyword`).
pub const GEO_COUNTRY_NAME: &str = "geo.country_name";
/// City of `client_ip` (`keyword`).
pub const GEO_CITY_NAME: &str = "geo.city_name";
/// Approximate coordinates of `client_ip` (`geo_point`).
pub const GEO_LOCATION: &str = "geo.location";
/// Browser or client name parsed from `user_agent` (`keyword`).
pub const UA_NAME: &str = "ua.name";
/// Operating system parsed from `user_agent` (`keyword`).
pub const UA_OS: &str = "ua.os";
/// Device class parsed from `user_agent` (`keyword`).
pub const UA_DEVICE: &str = "ua.device";
