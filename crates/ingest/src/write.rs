//! The one way in: every input — the HTTP API's `_bulk` and `_doc`, and the inputs that do
//! not speak HTTP — hands each document here, with the target and pipeline it names. This
//! decodes it, runs its ingest pipelines as Elasticsearch does, routes `logs` events to
//! their data stream, and prepares the store's write, so that every input gets the same
//! pipelines, routing and acknowledgement rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use logfleet_model::json::JsonValue;
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
}

impl Ingest {
    /// The write path into `store`, running the pipelines of `pipelines`.
    pub fn new(store: Store, pipelines: Arc<Pipelines>) -> Ingest {
        Ingest {
            store,
            pipelines,
            routing: Arc::new(logfleet_pipeline::data_stream_routing()),
        }
    }

    /// The stored pipelines.
    pub fn pipelines(&self) -> &Arc<Pipelines> {
        &self.pipelines
    }

    /// Decodes `document`, runs its pipelines and routing, and prepares its write.
    pub fn prepare(&self, document: Document<'_>) -> Result<Prepared, IngestError> {
        let Document {
            index,
            op,
            id,
            source,
            pipeline,
        } = document;
        check_index_name(index)?;
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
            ));
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
                .execute(&mut document, &mut Run::new(&NoPipelines))?;
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
        let request = WriteRequest::Document {
            target: document.target,
            op,
            id,
            source: stored,
            parsed: document.source,
        };
        Ok(Prepared::Write(self.store.prepare(request)?))
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
