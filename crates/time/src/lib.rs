//! Dates as Elasticsearch reads them, below both the store and the query engine.
//!
//! - [`parse`]: `strict_date_optional_time` strings and epoch milliseconds, the ingest hot
//!   path, and Elasticsearch's printed form;
//! - [`calendar`]: time zones and calendar units (days, weeks, months… in a zone, across
//!   daylight saving changes);
//! - [`date_math`]: `now-1h`, `now/d`, `2026-11-26||+1M/d` with Elasticsearch's rounding;
//! - [`index_names`]: date math in index names, `<logs-{now/d}>`.
//!
//! The store resolves date math index names (rollover, `_index` set by a pipeline) and the
//! query engine resolves range bounds and buckets with the same code.

pub mod calendar;
pub mod date_math;
pub mod index_names;
pub mod parse;

pub use calendar::{CalendarUnit, is_utc, parse_time_zone};
pub use date_math::parse_date_bound;
pub use index_names::resolve_index_date_math;
pub use parse::{
    EpochNanos, format_epoch_millis, looks_like_date, parse_date_optional_time, parse_date_text,
    parse_date_value,
};
