//! Every way in: decoding what inputs send, and the one write path they share ([`Ingest`]),
//! which runs the ingest pipelines and hands the store prepared writes.
//!
//! Decoding of what clients send to the ingest API, before anything is written.
//!
//! The `_bulk` body is newline-delimited JSON: an action line, then (except for `delete`) a
//! source line. Elasticsearch validates the *structure* of the whole request before executing
//! any item — a malformed action line rejects the request as a whole, so that a half-understood
//! request never writes half its documents — while problems with one document (a bad source
//! line, an invalid index name) fail that item only. This crate reproduces that split: a
//! [`BulkError`] is a request-level failure, an [`ItemError`] is carried by one [`BulkItem`].
//!
//! Sources are borrowed from the request body, never copied: the store parses each one exactly
//! once, when it applies the mapping.

mod batch;
mod bulk;
mod index_name;
pub mod otlp;
mod write;

pub use batch::{BatchOutcome, Event, PreparedBatch, is_transient};
pub use bulk::{BulkAction, BulkError, BulkItem, ItemError, parse_bulk};
pub use index_name::{IndexNameError, validate_index_name};
pub use write::{
    Document, Ingest, IngestError, Prepared, Simulated, check_index_name, stamp_ingest,
};
