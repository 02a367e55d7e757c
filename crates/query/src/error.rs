//! Search errors, in Elasticsearch's vocabulary.

use logfleet_store::StoreError;
use thiserror::Error;

/// Why a search request was refused or failed.
#[derive(Debug, Error)]
pub enum QueryError {
    /// The request body does not parse as the DSL (`parsing_exception`).
    #[error("{0}")]
    Parsing(String),
    /// A value is not acceptable (`illegal_argument_exception`).
    #[error("{0}")]
    IllegalArgument(String),
    /// A query value that does not convert to its field's type, e.g. a word for a number
    /// (`illegal_argument_exception`); a `lenient` query matches nothing there instead.
    #[error("{0}")]
    Conversion(String),
    /// A valid request that fails when run against the data, e.g. a result window that is
    /// too large (`search_phase_execution_exception` caused by `illegal_argument_exception`).
    #[error("all shards failed: {0}")]
    SearchPhase(String),
    /// A store problem (missing index…).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A tantivy failure while searching.
    #[error("search failed: {0}")]
    Engine(#[from] tantivy::TantivyError),
}

impl QueryError {
    pub(crate) fn parsing(reason: impl Into<String>) -> QueryError {
        QueryError::Parsing(reason.into())
    }

    pub(crate) fn illegal(reason: impl Into<String>) -> QueryError {
        QueryError::IllegalArgument(reason.into())
    }

    pub(crate) fn conversion(reason: impl Into<String>) -> QueryError {
        QueryError::Conversion(reason.into())
    }
}

/// Shorthand for query results.
pub type QueryResult<T> = Result<T, QueryError>;
