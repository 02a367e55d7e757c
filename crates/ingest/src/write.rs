//! The one way in: every input — the HTTP API's `_bulk` and `_doc`, and the inputs that do
//! not speak HTTP — hands each document here, with the target and pipeline it names. This
//! decodes it, runs its ingest pipelines as Elasticsearch does, routes `logs` events to
//! their data stream, and prepares the store's write, so that every input gets the same
//! pipelines, routing and acknowledgement rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use logfleet_model::json::JsonValue;
use logfleet_model::redact::Redactor;
use logfleet_pipeline::{
    Flow, IngestDocument, NoPipelines, Pipeline, PipelineError, PipelineSource, Pipelines, Run,
    is_data_stream_write_target,
};
use logfleet_store::{DocumentOp, PreparedWrite, Store, StoreError, WriteRequest};
use thiserror::Error;

use crate::index_name::validate_index_name;

/// A document as an input received it.
#[derive(Debug, Clone)]
pub struct Document<'r> {
    /// The index, data stream or alias it is sent to (date math already resolved).
    pub index: &'r str,
    /// `index` or `create`.
    pub op: DocumentOp,
    /// Its `_id`, when the input gave one.
    pub id: Option<String>,
    /// Its source, as received: JSON text of one object.
    pub source: Bytes,
    /// The pipeline the request names: `None` for the target's default, `Some("_none")` for
    /// none.
    pub pipeline: Option<&'r str>,
}

/// A document after its pipelines.
#[derive(Debug)]
pub enum Prepared {
    /// Ready for the store.
    Write(PreparedWrite),
    /// Rejected by a processor or the mapping, and kept in its data stream's failure store
    /// instead: this writes the failure document there (Elasticsearch's
    /// `"failure_store": "used"`).
    FailureStore(PreparedWrite),
    /// Dropped by a `drop` processor: nothing is written.
    Dropped {
        /// The target it was sent to.
        index: String,
        /// Its id, if it had one.
        id: Option<String>,
    },
}

/// Why a document cannot be written.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The store refused it (mapping, index name, blocks…).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Its source is not one JSON object.
    #[error("{0}")]
    Parse(String),
    /// A processor failed on it.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The request, or a setting, names a pipeline that does not exist.
    #[error("pipeline with id [{0}] does not exist")]
    MissingPipeline(String),
    /// Pipelines sent the document back to a target it had been sent from.
    #[error("index cycle detected: {0}")]
    IndexCycle(String),
    /// A final pipeline changed the target.
    #[error("final pipeline [{pipeline}] can't change the target index (from [{from}] to [{to}])")]
    FinalPipelineChangedIndex {
        /// The final pipeline.
        pipeline: String,
        /// The target before it ran.
        from: String,
        /// The target it set.
        to: String,
    },
}

/// The write path shared by every input.
#[derive(Debug, Clone)]
pub struct Ingest {
    store: Store,
    pipelines: Arc<Pipelines>,
    routing: Arc<Pipeline>,
    /// Applied to the original documents kept in failure stores.
    redactor: Arc<Redactor>,
}

impl Ingest {
    /// The write path into `store`, running the pipelines of `pipelines`.
    pub fn new(store: Store, pipelines: Arc<Pipelines>) -> Ingest {
        Ingest {
            store,
            pipelines,
            routing: Arc::new(logfleet_pipeline::data_stream_routing()),
            redactor: Arc::new(Redactor::default()),
        }
    }

    /// The store it writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The stored pipelines.
    pub fn pipelines(&self) -> &Arc<Pipelines> {
        &self.pipelines
    }

    /// Decodes `document`, runs its pipelines and routing, and prepares its write. A
    /// document that a processor or the mapping rejects on its way to a data stream with a
    /// failure store is written there instead, with its error.
    pub fn prepare(&self, document: Document<'_>) -> Result<Prepared, IngestError> {
        let index = document.index;
        let id = document.id.clone();
        let original = document.source.clone();
        match self.prepare_document(document) {
            Ok(prepared) => Ok(prepared),
            Err(rejection) => self.keep_failure(index, id, &original, *rejection),
        }
    }

    fn prepare_document(&self, document: Document<'_>) -> Result<Prepared, Box<Rejection>> {
        let Document {
            index,
            op,
            id,
            source,
            pipeline,
        } = document;
        check_index_name(index).map_err(IngestError::from)?;
        let source_of_pipelines: &dyn PipelineSource = &*self.pipelines;
        let requested = requested_pipeline(pipeline, source_of_pipelines)?;
        // Decoded in place: the document's strings borrow from the request body.
        let parsed = JsonValue::from_slice(&source).map_err(|error| {
            IngestError::Parse(format!(
                "[{}:{}] failed to parse: {error}",
                error.line(),
                error.column()
            ))
        })?;
        let JsonValue::Object(parsed) = parsed else {
            return Err(IngestError::Parse(
                "[1:1] failed to parse: the document must be a JSON object".to_owned(),
            )
            .into());
        };
        let mut document = IngestDocument::new(index, parsed);
        if let Some(id) = &id {
            document
                .metadata
                .insert("_id", JsonValue::from(id.as_str()));
        }
        let mut executed = Vec::new();
        if self.run_pipelines(&mut document, requested, source_of_pipelines, &mut executed)?
            == Flow::Drop
        {
            return Ok(Prepared::Dropped {
                index: document.target,
                id,
            });
        }
        let routed = is_data_stream_write_target(&document.target)
            && !self.store.is_plain_index(&document.target);
        if routed {
            self.routing
                .execute(&mut document, &mut Run::new(&NoPipelines))
                .map_err(IngestError::from)?;
        }
        let id = match document.metadata.get("_id") {
            Some(JsonValue::String(id)) => Some(id.as_ref().to_owned()),
            Some(JsonValue::Number(number)) => Some(number.to_string()),
            _ => id,
        };
        let stored = if document.source_modified {
            serde_json::to_vec(&document.source).map_or_else(|_| source.clone(), Bytes::from)
        } else {
            source.clone()
        };
        let target = document.target;
        let request = WriteRequest::Document {
            target: target.clone(),
            op,
            id,
            source: stored.clone(),
            parsed: document.source,
        };
        self.store
            .prepare(request)
            .map(Prepared::Write)
            .map_err(|error| {
                Box::new(Rejection {
                    error: error.into(),
                    mapped: Some((target, stored)),
                })
            })
    }

    /// Writes a rejected document to the failure store of the data stream it was going to,
    /// when it has one; otherwise the rejection stands. A processor's failure keeps the
    /// document as it arrived, a mapping failure as the pipelines left it — both redacted,
    /// like any event.
    fn keep_failure(
        &self,
        index: &str,
        id: Option<String>,
        original: &Bytes,
        rejection: Rejection,
    ) -> Result<Prepared, IngestError> {
        let Rejection { error, mapped } = rejection;
        if !goes_to_failure_store(&error) {
            return Err(error);
        }
        let (target, source) = match mapped {
            Some(mapped) => mapped,
            None => (self.routed_target(index, original), original.clone()),
        };
        let Some(failures) = self.store.failure_store_for(&target) else {
            return Err(error);
        };
        let body = self.failure_document(&target, id.as_deref(), &source, &error);
        let Ok(JsonValue::Object(parsed)) = JsonValue::from_slice(&body) else {
            return Err(error);
        };
        let request = WriteRequest::Document {
            target: failures,
            op: DocumentOp::Create,
            id: None,
            source: body.clone(),
            parsed,
        };
        // A failure store that cannot take the document leaves the original error standing,
        // as Elasticsearch's `"failure_store": "failed"` does.
        self.store
            .prepare(request)
            .map(Prepared::FailureStore)
            .map_err(|_| error)
    }

    /// The data stream a document sent to `index` is routed to, for the failure store of a
    /// document the pipelines rejected before routing.
    fn routed_target(&self, index: &str, source: &Bytes) -> String {
        if !is_data_stream_write_target(index) || self.store.is_plain_index(index) {
            return index.to_owned();
        }
        let Ok(JsonValue::Object(parsed)) = JsonValue::from_slice(source) else {
            return index.to_owned();
        };
        let mut document = IngestDocument::new(index, parsed);
        match self
            .routing
            .execute(&mut document, &mut Run::new(&NoPipelines))
        {
            Ok(_) => document.target,
            Err(_) => index.to_owned(),
        }
    }

    /// A failure store document, in Elasticsearch's shape.
    fn failure_document(
        &self,
        index: &str,
        id: Option<&str>,
        source: &Bytes,
        error: &IngestError,
    ) -> Bytes {
        let source = match JsonValue::from_slice(source) {
            Ok(mut source) => {
                self.redactor.redact_json(&mut source);
                source.to_value()
            }
            Err(_) => serde_json::Value::Object(serde_json::Map::new()),
        };
        let mut document = serde_json::Map::new();
        if let Some(id) = id {
            document.insert("id".into(), id.into());
        }
        document.insert("index".into(), index.into());
        document.insert("source".into(), source);
        let (kind, message) = error_kind_and_message(error);
        let mut details = serde_json::Map::new();
        details.insert("type".into(), kind.into());
        details.insert("message".into(), message.clone().into());
        details.insert("stack_trace".into(), format!("{kind}: {message}").into());
        if let IngestError::Pipeline(failure) = error {
            if !failure.pipeline_trace.is_empty() {
                details.insert(
                    "pipeline_trace".into(),
                    failure.pipeline_trace.to_vec().into(),
                );
            }
            if let Some(pipeline) = &failure.pipeline {
                details.insert("pipeline".into(), pipeline.clone().into());
            }
            if let Some(tag) = &failure.processor_tag {
                details.insert("processor_tag".into(), tag.clone().into());
            }
            if let Some(processor) = failure.processor_type {
                details.insert("processor_type".into(), processor.into());
            }
        }
        let now = logfleet_model::format_timestamp(time::OffsetDateTime::now_utc());
        let body = serde_json::json!({
            "@timestamp": now,
            "document": document,
            "error": details,
        });
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// Runs `document`'s pipelines as a write would, without writing it, for
    /// `POST /_ingest/_simulate`: `substitutions` stand in for stored pipelines of their ids
    /// (the calls of `pipeline` processors included).
    pub fn simulate(
        &self,
        document: &mut IngestDocument<'_>,
        pipeline: Option<&str>,
        substitutions: &BTreeMap<String, Arc<Pipeline>>,
    ) -> Simulated {
        let source = Substituted {
            substitutions,
            stored: &self.pipelines,
        };
        let mut executed = Vec::new();
        let outcome = requested_pipeline(pipeline, &source)
            .and_then(|requested| self.run_pipelines(document, requested, &source, &mut executed));
        Simulated { executed, outcome }
    }

    /// Runs a document's pipelines as Elasticsearch does: the one the request names (or,
    /// when it names none, the target's `index.default_pipeline`); when a pipeline sends
    /// the document to another target, that target's default pipeline next (a target seen
    /// twice is a cycle); last the final target's `index.final_pipeline`, which may not send
    /// it elsewhere.
    fn run_pipelines(
        &self,
        document: &mut IngestDocument<'_>,
        requested: Option<Option<Arc<Pipeline>>>,
        pipelines: &dyn PipelineSource,
        executed: &mut Vec<String>,
    ) -> Result<Flow, IngestError> {
        let settings = self.store.ingest_pipelines(&document.target);
        let mut next = match requested {
            Some(requested) => requested,
            None => setting(settings.default_pipeline.as_deref(), pipelines)?,
        };
        let mut final_pipeline = settings.final_pipeline;
        let mut visited = vec![document.target.clone()];
        while let Some(pipeline) = next.take() {
            let before = document.target.clone();
            executed.push(pipeline.id().to_owned());
            if execute(&pipeline, document, pipelines)? == Flow::Drop {
                return Ok(Flow::Drop);
            }
            if document.target != before {
                // `date_index_name` and scripts may name the target by date math.
                document.target = self.store.resolve_date_math(&document.target)?;
                check_index_name(&document.target)?;
                visited.push(document.target.clone());
                if visited[..visited.len() - 1].contains(&document.target) {
                    return Err(IngestError::IndexCycle(visited.join(" -> ")));
                }
                let settings = self.store.ingest_pipelines(&document.target);
                final_pipeline = settings.final_pipeline;
                next = setting(settings.default_pipeline.as_deref(), pipelines)?;
            }
        }
        if let Some(pipeline) = setting(final_pipeline.as_deref(), pipelines)? {
            let before = document.target.clone();
            executed.push(pipeline.id().to_owned());
            if execute(&pipeline, document, pipelines)? == Flow::Drop {
                return Ok(Flow::Drop);
            }
            if document.target != before {
                return Err(IngestError::FinalPipelineChangedIndex {
                    pipeline: pipeline.id().to_owned(),
                    from: before,
                    to: document.target.clone(),
                });
            }
        }
        Ok(Flow::Continue)
    }
}

/// A document that could not be prepared: why, and — when the store refused it — the
/// target and source the pipelines had given it.
struct Rejection {
    error: IngestError,
    mapped: Option<(String, Bytes)>,
}

impl From<IngestError> for Box<Rejection> {
    fn from(error: IngestError) -> Self {
        Box::new(Rejection {
            error,
            mapped: None,
        })
    }
}

/// Whether a failure store takes documents rejected this way: a processor's failure, or the
/// mapping's; never a malformed request, a missing pipeline or a store that cannot write.
fn goes_to_failure_store(error: &IngestError) -> bool {
    match error {
        IngestError::Pipeline(_)
        | IngestError::IndexCycle(_)
        | IngestError::FinalPipelineChangedIndex { .. } => true,
        IngestError::Store(error) => {
            matches!(error, StoreError::Mapping(_) | StoreError::Document(_))
        }
        IngestError::Parse(_) | IngestError::MissingPipeline(_) => false,
    }
}

/// Elasticsearch's error `type` and message of a rejection.
fn error_kind_and_message(error: &IngestError) -> (&'static str, String) {
    match error {
        IngestError::Pipeline(failure) => (failure.kind, failure.reason.clone()),
        IngestError::Store(StoreError::Mapping(failure)) => (failure.kind, failure.reason.clone()),
        IngestError::Store(StoreError::Document(failure)) => (failure.kind, failure.reason.clone()),
        IngestError::IndexCycle(_) | IngestError::FinalPipelineChangedIndex { .. } => {
            ("illegal_state_exception", error.to_string())
        }
        other => ("illegal_argument_exception", other.to_string()),
    }
}

/// What `Ingest::simulate` did to a document.
#[derive(Debug)]
pub struct Simulated {
    /// The ids of the pipelines that ran, in order.
    pub executed: Vec<String>,
    /// Whether the document would be written or dropped, or why it failed.
    pub outcome: Result<Flow, IngestError>,
}

/// Stored pipelines with some replaced, for `_simulate`.
struct Substituted<'s> {
    substitutions: &'s BTreeMap<String, Arc<Pipeline>>,
    stored: &'s Pipelines,
}

impl PipelineSource for Substituted<'_> {
    fn pipeline(&self, id: &str) -> Option<Arc<Pipeline>> {
        self.substitutions
            .get(id)
            .cloned()
            .or_else(|| self.stored.get(id))
    }
}

/// The pipeline a request names: `None` for the target's default, `Some(None)` for `_none`.
fn requested_pipeline(
    name: Option<&str>,
    pipelines: &dyn PipelineSource,
) -> Result<Option<Option<Arc<Pipeline>>>, IngestError> {
    Ok(match name {
        None => None,
        Some("_none") => Some(None),
        Some(name) => Some(Some(lookup(name, pipelines)?)),
    })
}

fn lookup(name: &str, pipelines: &dyn PipelineSource) -> Result<Arc<Pipeline>, IngestError> {
    pipelines
        .pipeline(name)
        .ok_or_else(|| IngestError::MissingPipeline(name.to_owned()))
}

/// The pipeline a setting names, unless it names none.
fn setting(
    name: Option<&str>,
    pipelines: &dyn PipelineSource,
) -> Result<Option<Arc<Pipeline>>, IngestError> {
    name.filter(|name| *name != "_none")
        .map(|name| lookup(name, pipelines))
        .transpose()
}

fn execute(
    pipeline: &Pipeline,
    document: &mut IngestDocument<'_>,
    pipelines: &dyn PipelineSource,
) -> Result<Flow, IngestError> {
    if document.ingest.get("timestamp").is_none() {
        stamp_ingest(document);
    }
    Ok(pipeline.execute(document, &mut Run::new(pipelines))?)
}

/// Sets `_ingest.timestamp`, as every pipeline run starts.
pub fn stamp_ingest(document: &mut IngestDocument<'_>) {
    let now = logfleet_model::format_timestamp(time::OffsetDateTime::now_utc());
    document.ingest.insert("timestamp", JsonValue::from(now));
}

/// Validates a write target's name as Elasticsearch does.
pub fn check_index_name(name: &str) -> Result<(), StoreError> {
    validate_index_name(name).map_err(|problem| StoreError::InvalidIndexName {
        name: name.to_owned(),
        reason: problem.to_string(),
    })
}
