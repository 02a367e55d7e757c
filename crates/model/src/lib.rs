//! The canonical Logfleet event schema: the shared vocabulary of the server and the SDKs.
//!
//! Every stage of Logfleet — the SDKs that emit events, ingest, the pipeline that enriches
//! and redacts them, the store that maps them and the query layer that runs the seed's
//! dashboards over them — agrees on the same field names, types and values through this
//! crate. It therefore has no I/O and depends only on `serde`, `serde_json` and `time`, so
//! the SDKs can depend on it without pulling in anything of the server.
//!
//! - [`fields`]: one constant per field name (`fields::TIMESTAMP` is `"@timestamp"`), so a
//!   misspelt field is a compile error rather than an empty dashboard.
//! - [`CANONICAL_FIELDS`] and [`canonical_kind`]: each field's [`FieldKind`], named like an
//!   Elasticsearch mapping type, the single source for tantivy schemas and index templates.
//! - The closed vocabularies [`LogCategory`], [`Level`], [`ResponseCategory`] and
//!   [`DbAction`]: written in one canonical lowercase spelling, parsed leniently (any ASCII
//!   case, `warn` for `warning`) because values arrive from producers we do not control.
//! - [`Event`]: an owned event as an insertion-ordered map of field name → JSON value, with a
//!   builder. A map rather than a struct because services add fields of their own and
//!   `_source` must come back as it was sent.
//! - [`json`]: events decoded in place ([`json::JsonObject`]), strings borrowed from the
//!   request body, for the ingest path that reads each event once.
//! - [`format_timestamp`] and [`parse_timestamp`]: `@timestamp` is always written as UTC
//!   RFC 3339 with exactly three fractional digits (`2026-11-26T16:17:00.123Z`).
//!
//! ```
//! use logfleet_model::{Event, Level, LogCategory, fields};
//!
//! let mut line = Vec::new();
//! Event::new(LogCategory::Audit, Level::Info, "login succeeded")
//!     .with(fields::USER_ACTION, "LOGIN_SUCCESS")
//!     .with(fields::SUCCESS, true)
//!     .write_json(&mut line);
//! line.push(b'\n');
//! ```

mod category;
mod event;
pub mod fields;
pub mod json;
mod keyword;
pub mod redact;
mod schema;
mod timestamp;

pub use category::{DbAction, Level, LogCategory, ResponseCategory};
pub use event::Event;
pub use keyword::ParseKeywordError;
pub use schema::{CANONICAL_FIELDS, DEFAULT_SLOW_QUERY_THRESHOLD_MS, FieldKind, canonical_kind};
pub use timestamp::{format_timestamp, parse_timestamp};
