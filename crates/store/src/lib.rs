//! The embedded store: durable, searchable log storage on local disk.
//!
//! Data flows through it in one direction:
//!
//! 1. [`Store::prepare`] resolves the target (auto-creating indexes and data streams from
//!    templates), validates the document against the target's [`Mapping`] — extending it by
//!    dynamic mapping and persisting the extension — and converts it to a tantivy document.
//! 2. [`Store::execute`] hands prepared writes to a single writer thread that appends them to
//!    the write-ahead log ([`wal`]) and fsyncs once per group of concurrent requests (group
//!    commit), then applies them to partition writers and acknowledges.
//! 3. A refresh task commits partitions every refresh interval (1 s by default), recording in
//!    each commit the last log sequence number it covers, and trims the log behind it. On
//!    start-up the log is replayed past those sequence numbers, so every acknowledged write
//!    survives a crash exactly once.
//!
//! Data streams are split into daily partitions, one tantivy index each, so that retention
//! deletes whole directories and time-range searches skip partitions outside their range.
//! All partitions share one schema (see [`schema`]): dynamic fields live in two JSON fields
//! typed by the mapping, so a new field never forces a new index.

mod alias;
mod cluster_settings;
mod component_template;
mod disk;
mod document;
mod dynamic_template;
mod error;
mod expression;
mod failpoint;
mod failure_store;
pub mod faults;
mod ids;
mod legacy_template;
mod lifecycle;
mod lock;
mod mapping;
pub mod normalizer;
mod objects;
mod partition;
mod persist;
mod rollover;
pub mod schema;
mod seq_query;
mod settings;
pub mod skeleton;
mod store;
mod sync;
mod tail;
mod target;
mod template;
mod time_value;
pub mod wal;

pub use alias::{AliasAction, AliasProperties, AliasTable};
pub use cluster_settings::{AutoCreate, ClusterSettings};
pub use component_template::ComponentTemplate;
pub use disk::{DiskSpace, FloodStage, WriteBlock};
pub use document::{Conversion, ConvertedDocument, convert_document, decode_ip, encode_ip};
pub use error::{DocumentError, MappingError, StoreError, StoreResult};
pub use expression::{Expression, Part, wildcard_match};
pub use failpoint::FAILPOINT_VARIABLE;
pub use failure_store::{
    DATA_SELECTOR, FAILURES_SELECTOR, failure_store_name, failure_store_parent, has_selector,
};
pub use ids::{IdCodec, new_document_id};
pub use legacy_template::LegacyTemplate;
pub use lifecycle::LifecyclePolicy;
pub use mapping::{Dynamic, DynamicStyle, FieldMapping, FieldType, Mapping, ResolvedField};
pub use partition::{directory_size, source_bytes};
pub use rollover::{IndexMeasures, RolloverConditions, next_index_name};
pub use schema::Fields;
pub use seq_query::GeneratedIdQuery;
pub use store::{
    AliasResult, DataStreamInfo, DocumentOp, IndexLifecycle, IndexStats, ItemFailure,
    ManagedLifecycle, PRIMARY_TERM, PolicyUsage, PreparedWrite, ResolvedTarget, RetentionRule,
    RolloverOutcome, RolloverRequest, SearchShard, Store, StoreConfig, StoredDocument,
    VersionConflict, WriteCondition, WriteOutcome, WriteRequest, WriteResult, format_duration,
};
pub use tail::{Tail, TailEvent};
pub use target::{IngestPipelineSettings, TargetKind, new_uuid, now_millis};
pub use template::{IndexTemplate, flatten_settings, parse_aliases, render_settings};
pub use time_value::{format_byte_size, parse_byte_size_value, parse_time_value};
