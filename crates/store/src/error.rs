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
    /// A write to a missing index that `action.auto_create_index` does not let it create.
    #[error("{reason}")]
    AutoCreateForbidden {
        /// The index.
        index: String,
        /// Why, as Elasticsearch says it.
        reason: String,
    },
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
    /// Writes are refused because the disk is (nearly) full: Elasticsearch's flood-stage
    /// `read_only_allow_delete` block. Retrying later succeeds once space is freed.
    #[error("index [{index}] blocked by: {reason}")]
    WritesBlocked {
        /// The index written to.
        index: String,
        /// Why, for the operator (see [`crate::WriteBlock`]).
        reason: String,
    },
    /// The write-ahead log, or a partition's segment or commit, could not be made durable
    /// (an I/O error from the device, not a full disk). Writes are refused until the process
    /// restarts and recovers from the log: retrying a write or fsync after it failed would
    /// report as durable data the kernel may have dropped.
    #[error("{reason}")]
    LogFailed {
        /// What failed, and what to do.
        reason: String,
    },
    /// A partition's writer failed (see `crate::partition`): it answers searches as last
    /// committed, and its writes since wait in the write-ahead log for a recovery.
    #[error(
        "[{partition}] cannot index or commit until it recovers from the write-ahead log \
         ({reason}); its acknowledged writes are kept in the log{}",
        if *disk_full { " and recovered as soon as the disk has room" } else { "" }
    )]
    PartitionUnavailable {
        /// The partition (index) name.
        partition: String,
        /// Why its writer failed.
        reason: String,
        /// Whether that was a full disk.
        disk_full: bool,
    },
    /// Another process has the data directory open.
    #[error(
        "the data directory {data_dir} is in use by another Logfleet process{}; stop that \
         process first, or give this one a different data directory",
        .pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    DataDirInUse {
        /// The data directory.
        data_dir: String,
        /// The holder's process id, as it wrote it in the lock file.
        pid: Option<u32>,
    },
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

    /// Whether the failure is a full file system (or a spent quota).
    pub fn is_disk_full(&self) -> bool {
        use tantivy::TantivyError;
        use tantivy::directory::error::OpenWriteError;
        match self {
            StoreError::Io { source, .. } => crate::disk::is_disk_full(source),
            StoreError::PartitionUnavailable { disk_full, .. } => *disk_full,
            StoreError::WritesBlocked { .. } => true,
            StoreError::Engine(TantivyError::IoError(source))
            | StoreError::Engine(TantivyError::OpenWriteError(OpenWriteError::IoError {
                io_error: source,
                ..
            })) => crate::disk::is_disk_full(source),
            // Some of tantivy's paths keep only the message of the I/O error they met.
            StoreError::Engine(other) => {
                let message = other.to_string();
                message.contains("No space left on device")
                    || message.contains("Disk quota exceeded")
            }
            _ => false,
        }
    }

    /// Whether the failure is the device's I/O error (`EIO`): the kernel may have dropped
    /// what it could not write, so nothing written since the last successful fsync can be
    /// trusted to be on disk.
    pub fn is_device_failure(&self) -> bool {
        use tantivy::TantivyError;
        use tantivy::directory::error::OpenWriteError;
        let is_eio = |error: &std::io::Error| error.raw_os_error() == Some(EIO);
        match self {
            StoreError::Io { source, .. } => is_eio(source),
            StoreError::Engine(TantivyError::IoError(source))
            | StoreError::Engine(TantivyError::OpenWriteError(OpenWriteError::IoError {
                io_error: source,
                ..
            })) if is_eio(source) => true,
            // tantivy's indexing and commit threads keep only the message of the error they
            // met, and a broken partition only its reason.
            StoreError::Engine(other) => other.to_string().contains(EIO_MESSAGE),
            StoreError::PartitionUnavailable { reason, .. } => reason.contains(EIO_MESSAGE),
            _ => false,
        }
    }

    /// The same refusal for a write to `index`: every item of a refused batch gets its own.
    pub(crate) fn for_index(&self, index: &str) -> StoreError {
        match self {
            StoreError::WritesBlocked { reason, .. } => StoreError::WritesBlocked {
                index: index.to_owned(),
                reason: reason.clone(),
            },
            StoreError::LogFailed { reason } => StoreError::LogFailed {
                reason: reason.clone(),
            },
            StoreError::Io { context, source } => StoreError::Io {
                context: context.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            other => StoreError::IllegalState(other.to_string()),
        }
    }
}

/// `EIO`, and how the standard library words it.
const EIO: i32 = rustix::io::Errno::IO.raw_os_error();
const EIO_MESSAGE: &str = "Input/output error";

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;
