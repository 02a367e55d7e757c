//! The store's errors. The API crate maps each variant once to an HTTP status and to
//! Elasticsearch's error body.

use thiserror::Error;

/// A mapping could not be parsed or merged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct MappingError {
    /// Elasticsearch's error `type`: `mapper_parsing_exception` or
    /// `illegal_argument_exception`.
    pub kind: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl MappingError {
    pub(crate) fn parse(reason: impl Into<String>) -> MappingError {
        MappingError {
            kind: "mapper_parsing_exception",
            reason: reason.into(),
        }
    }

    pub(crate) fn illegal(reason: impl Into<String>) -> MappingError {
        MappingError {
            kind: "illegal_argument_exception",
            reason: reason.into(),
        }
    }
}

/// One document was rejected; the others of its request are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct DocumentError {
    /// Elasticsearch's error `type`, e.g. `document_parsing_exception`.
    pub kind: &'static str,
    /// What is wrong, naming the field.
    pub reason: String,
    /// The underlying cause, Elasticsearch's `caused_by`.
    pub caused_by: Option<(&'static str, String)>,
}

impl DocumentError {
    pub(crate) fn parsing(reason: impl Into<String>) -> DocumentError {
        DocumentError {
            kind: "document_parsing_exception",
            reason: reason.into(),
            caused_by: None,
        }
    }

    pub(crate) fn caused_by(mut self, kind: &'static str, reason: impl Into<String>) -> Self {
        self.caused_by = Some((kind, reason.into()));
        self
    }
}

/// Everything else the store can fail with.
#[derive(Debug, Error)]
pub enum StoreError {
    /// No index, data stream or alias has this name.
    #[error("no such index [{0}]")]
    IndexNotFound(String),
    /// `PUT /{index}` for a name that exists.
    #[error("index [{0}] already exists")]
    AlreadyExists(String),
    /// The name breaks Elasticsearch's naming rules.
    #[error("Invalid index name [{name}], {reason}")]
    InvalidIndexName {
        /// The name.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The name breaks the naming rules for aliases, or is taken by an index.
    #[error("Invalid alias name [{name}]: {reason}")]
    InvalidAliasName {
        /// The name.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An index template cannot be used as given.
    #[error("index_template [{name}] invalid, cause [{cause}]")]
    InvalidIndexTemplate {
        /// The template.
        name: String,
        /// What is wrong.
        cause: String,
    },
    /// Aliases named by a request do not exist.
    #[error("aliases [{}] missing", .0.join(", "))]
    AliasesNotFound(Vec<String>),
    /// A request parameter or body value is not acceptable.
    #[error("{0}")]
    IllegalArgument(String),
    /// The request would leave the catalog in a state Elasticsearch forbids.
    #[error("{0}")]
    IllegalState(String),
    /// A mapping problem.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// A document problem.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The store is shutting down.
    #[error("the store is shutting down")]
    Closed,
    /// A tantivy failure.
    #[error("index engine failure: {0}")]
    Engine(#[from] tantivy::TantivyError),
    /// A file-system failure.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        source: std::io::Error,
    },
    /// Persisted metadata could not be read.
    #[error(
        "the data directory {data_dir} holds data in on-disk format {found}, and this version of \
         Logfleet reads format {expected} only; start it on a new data directory and send the \
         data again"
    )]
    IncompatibleFormat {
        /// The data directory.
        data_dir: String,
        /// The format found.
        found: u32,
        /// The format this build reads.
        expected: u32,
    },

    #[error("corrupt metadata in {path}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;
