//! The one place store, query and request errors become HTTP statuses and Elasticsearch's
//! error body: `{"error": {"root_cause": […], "type", "reason", …}, "status"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use logfleet_ingest::{BulkError, IngestError};
use logfleet_pipeline::PipelineError;
use logfleet_query::QueryError;
use logfleet_store::{DocumentError, StoreError};
use serde_json::{Map, Value, json};

use crate::response::json_response;

/// An error as Elasticsearch reports it. Boxed: errors travel through every handler's
/// `Result`, which should stay small on the success path.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorDetails>);

/// The parts of an [`ApiError`].
#[derive(Debug, Clone)]
pub struct ErrorDetails {
    /// HTTP status.
    pub status: StatusCode,
    /// `type`.
    pub kind: String,
    /// `reason`.
    pub reason: String,
    /// `caused_by`.
    pub caused_by: Option<(String, String)>,
    /// Extra fields of the error object (`index`, `resource.id`…).
    pub extra: Map<String, Value>,
}

impl ApiError {
    /// An error with no extra fields.
    pub fn new(status: StatusCode, kind: &str, reason: impl Into<String>) -> ApiError {
        ApiError(Box::new(ErrorDetails {
            status,
            kind: kind.to_owned(),
            reason: reason.into(),
            caused_by: None,
            extra: Map::new(),
        }))
    }

    /// 400 `illegal_argument_exception`.
    pub fn illegal_argument(reason: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            reason,
        )
    }

    /// 400 `parsing_exception`.
    pub fn parsing(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "parsing_exception", reason)
    }

    /// 404 `index_not_found_exception` for `index`.
    pub fn index_not_found(index: &str) -> ApiError {
        let mut error = ApiError::new(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            format!("no such index [{index}]"),
        );
        error
            .extra
            .insert("resource.type".into(), json!("index_or_alias"));
        error.extra.insert("resource.id".into(), json!(index));
        error.extra.insert("index_uuid".into(), json!("_na_"));
        error.extra.insert("index".into(), json!(index));
        error
    }

    /// Adds an extra field.
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// The error object (what goes under `"error"`, and in bulk items).
    pub fn to_error_object(&self) -> Value {
        let mut cause = Map::new();
        cause.insert("type".into(), json!(self.kind));
        cause.insert("reason".into(), json!(self.reason));
        for (key, value) in &self.extra {
            cause.insert(key.clone(), value.clone());
        }
        let mut object = cause.clone();
        object.insert(
            "root_cause".into(),
            Value::Array(vec![Value::Object(cause)]),
        );
        if let Some((kind, reason)) = &self.caused_by {
            object.insert("caused_by".into(), json!({"type": kind, "reason": reason}));
        }
        // `root_cause` first, as Elasticsearch orders it.
        let mut ordered = Map::new();
        if let Some(root) = object.remove("root_cause") {
            ordered.insert("root_cause".into(), root);
        }
        ordered.extend(object);
        Value::Object(ordered)
    }

    /// The compact form used in `_bulk` items: no `root_cause`.
    pub fn to_item_error(&self) -> Value {
        let mut object = Map::new();
        object.insert("type".into(), json!(self.kind));
        object.insert("reason".into(), json!(self.reason));
        for (key, value) in &self.extra {
            object.insert(key.clone(), value.clone());
        }
        if let Some((kind, reason)) = &self.caused_by {
            object.insert("caused_by".into(), json!({"type": kind, "reason": reason}));
        }
        Value::Object(object)
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorDetails;

    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.to_error_object(), "status": self.status.as_u16()});
        json_response(self.status, &body)
    }
}

impl From<BulkError> for ApiError {
    fn from(error: BulkError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason)
    }
}

impl From<DocumentError> for ApiError {
    fn from(error: DocumentError) -> ApiError {
        let mut api_error = ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason);
        api_error.caused_by = error
            .caused_by
            .map(|(kind, reason)| (kind.to_owned(), reason));
        api_error
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::IndexNotFound(name) => ApiError::index_not_found(&name),
            StoreError::AutoCreateForbidden { index, reason } => {
                let mut error = ApiError::index_not_found(&index);
                error.reason = reason;
                error
            }
            StoreError::AlreadyExists(name) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "resource_already_exists_exception",
                format!("index [{name}] already exists"),
            )
            .with("index", json!(name)),
            StoreError::InvalidIndexName { name, reason } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_index_name_exception",
                format!("Invalid index name [{name}], {reason}"),
            )
            .with("index", json!(name))
            .with("index_uuid", json!("_na_")),
            StoreError::InvalidAliasName { name, reason } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_alias_name_exception",
                format!("Invalid alias name [{name}]: {reason}"),
            ),
            invalid @ StoreError::InvalidIndexTemplate { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_index_template_exception",
                invalid.to_string(),
            ),
            StoreError::AliasesNotFound(names) => {
                let reason = format!("aliases [{}] missing", names.join(", "));
                let id = match names.as_slice() {
                    [one] => json!(one),
                    _ => json!(names),
                };
                ApiError::new(StatusCode::NOT_FOUND, "aliases_not_found_exception", reason)
                    .with("resource.type", json!("aliases"))
                    .with("resource.id", id)
            }
            StoreError::IllegalArgument(reason) => ApiError::illegal_argument(reason),
            StoreError::IllegalState(reason) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "illegal_state_exception",
                reason,
            ),
            StoreError::Mapping(error) => {
                ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason)
            }
            StoreError::Document(error) => error.into(),
            StoreError::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "node_closed_exception",
                "node is shutting down",
            ),
            // Elasticsearch's flood-stage block, word for word (shippers and clients know
            // it, and retry a 429), followed by what the operator can do about it.
            StoreError::WritesBlocked { index, reason } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "cluster_block_exception",
                format!(
                    "index [{index}] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded \
                     flood-stage watermark, index has read-only-allow-delete block]; {reason}"
                ),
            ),
            StoreError::LogFailed { reason } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "translog_exception",
                reason,
            ),
            StoreError::PartitionUnavailable {
                partition,
                reason,
                disk_full,
            } => {
                let index = json!(partition);
                let unavailable = StoreError::PartitionUnavailable {
                    partition,
                    reason,
                    disk_full,
                };
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_shard_available_action_exception",
                    unavailable.to_string(),
                )
                .with("index", index)
                .with("shard", json!("0"))
            }
            failure @ (StoreError::Engine(_)
            | StoreError::Io { .. }
            | StoreError::Corrupt { .. }
            | StoreError::IncompatibleFormat { .. }
            | StoreError::DataDirInUse { .. }) => {
                // What failed is said (which file, which system error), so that the operator
                // can act on it; the server log has the same line.
                tracing::error!(error = %failure, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "exception",
                    format!("storage failure: {failure}"),
                )
            }
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> ApiError {
        match error {
            QueryError::Parsing(reason) => ApiError::parsing(reason),
            QueryError::IllegalArgument(reason) | QueryError::Conversion(reason) => {
                ApiError::illegal_argument(reason)
            }
            QueryError::SearchPhase(reason) => {
                let mut api_error = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "search_phase_execution_exception",
                    "all shards failed",
                );
                api_error.caused_by = Some(("illegal_argument_exception".into(), reason));
                api_error
                    .with("phase", json!("query"))
                    .with("grouped", json!(true))
            }
            QueryError::Store(error) => error.into(),
            QueryError::Engine(error) => {
                tracing::error!(%error, "search failed in the index engine");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "search_phase_execution_exception",
                    "search failed, see the server log",
                )
            }
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Store(error) => error.into(),
            IngestError::Parse(reason) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "document_parsing_exception",
                reason,
            ),
            IngestError::Pipeline(error) => error.into(),
            other @ (IngestError::MissingPipeline(_)
            | IngestError::IndexCycle(_)
            | IngestError::FinalPipelineChangedIndex { .. }) => {
                ApiError::illegal_argument(other.to_string())
            }
        }
    }
}

/// A processor's failure, with the processor's type and tag, as a bulk item or response
/// reports it.
impl From<PipelineError> for ApiError {
    fn from(error: PipelineError) -> Self {
        let mut api = ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.reason);
        if let Some(processor_type) = error.processor_type {
            api = api.with("processor_type", json!(processor_type));
        }
        if let Some(tag) = error.processor_tag {
            api = api.with("processor_tag", json!(tag));
        }
        api
    }
}
