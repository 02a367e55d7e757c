//! `POST /{index}/_update/{id}`: a document changed where it is, by a partial `doc` or a
//! `script`, created from `upsert` (or the `doc`, with `doc_as_upsert`) when it is missing.
//!
//! An update reads the document, computes the new source and writes it only if the
//! document is still the one it read (its sequence number, as `if_seq_no` does): two updates
//! at once never lose one another's change. The one that finds the document changed reads
//! it again, up to `retry_on_conflict` times, then fails with a version conflict.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use logfleet_model::json::JsonObject;
use logfleet_pipeline::IngestDocument;
use logfleet_pipeline::script::Script;
use logfleet_store::{
    DocumentOp, ItemFailure, PRIMARY_TERM, StoredDocument, WriteCondition, WriteOutcome,
    WriteRequest,
};
use serde_json::{Map, Value, json};

use super::documents::{validation, write_condition};
use super::write::{Prepared, apply_refresh, failure_to_error, prepare_document};
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::json_response;

const UPDATE_PARAMETERS: &[&str] = &[
    "refresh",
    "retry_on_conflict",
    "if_seq_no",
    "if_primary_term",
    "_source",
    "_source_includes",
    "_source_excludes",
    "routing",
    "wait_for_active_shards",
    "require_alias",
    "lang",
];

/// What an update asks for.
#[derive(Debug)]
pub(crate) struct UpdateRequest {
    doc: Option<Map<String, Value>>,
    upsert: Option<Map<String, Value>>,
    doc_as_upsert: bool,
    scripted_upsert: bool,
    detect_noop: bool,
    script: Option<UpdateScript>,
    source: Option<Value>,
}

/// A script that changes `ctx._source`, and may set `ctx.op` to `none` or `delete`.
#[derive(Debug)]
pub(crate) struct UpdateScript {
    script: Script,
    params: Map<String, Value>,
}

impl UpdateScript {
    /// Parses `script` (a string, or `{source, params, lang}`), compiling the Painless subset
    /// of the ingest pipelines.
    pub(crate) fn parse(value: &Value) -> Result<UpdateScript, ApiError> {
        let (source, params) = match value {
            Value::String(source) => (source.clone(), Map::new()),
            Value::Object(object) => {
                if let Some(id) = object.get("id") {
                    return Err(ApiError::illegal_argument(format!(
                        "stored scripts are not supported: [{id}]; give the script's [source]"
                    )));
                }
                if let Some(lang) = object.get("lang").and_then(Value::as_str)
                    && lang != "painless"
                {
                    return Err(ApiError::illegal_argument(format!(
                        "script_lang not supported [{lang}]"
                    )));
                }
                let source = object
                    .get("source")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::parsing("[script] must have a [source]"))?;
                let params = match object.get("params") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(params)) => params.clone(),
                    Some(_) => {
                        return Err(ApiError::parsing("[script] [params] must be an object"));
                    }
                };
                (source.to_owned(), params)
            }
            _ => return Err(ApiError::parsing("[script] must be a string or an object")),
        };
        let script = Script::compile(&source).map_err(|error| {
            ApiError::new(StatusCode::BAD_REQUEST, "script_exception", error.reason())
        })?;
        Ok(UpdateScript { script, params })
    }

    /// Runs the script over `source` (`ctx._source`, with `ctx.op` = `index`): the changed
    /// source and what to do with it.
    pub(crate) fn run(
        &self,
        index: &str,
        id: &str,
        source: Map<String, Value>,
    ) -> Result<(Map<String, Value>, ScriptOp), ApiError> {
        let mut context = Map::new();
        context.insert("_source".to_owned(), Value::Object(source));
        context.insert("op".to_owned(), json!("index"));
        context.insert("_id".to_owned(), json!(id));
        let mut document = IngestDocument::new(index, JsonObject::from_map(context));
        let params = JsonObject::from_map(self.params.clone());
        self.script
            .execute(&mut document, &params)
            .map_err(|error| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "script_exception",
                    error.to_string(),
                )
            })?;
        let mut context = document.source.to_map();
        let op = match context.get("op").and_then(Value::as_str) {
            Some("index" | "create") => ScriptOp::Index,
            Some("none" | "noop") => ScriptOp::None,
            Some("delete") => ScriptOp::Delete,
            other => {
                return Err(ApiError::illegal_argument(format!(
                    "Operation type [{}] not allowed, only [index, none, delete] are allowed",
                    other.unwrap_or("null")
                )));
            }
        };
        let source = match context.remove("_source") {
            Some(Value::Object(source)) => source,
            _ => {
                return Err(ApiError::illegal_argument(
                    "the script must leave [ctx._source] an object",
                ));
            }
        };
        Ok((source, op))
    }
}

/// What an update script decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScriptOp {
    /// Write the changed source.
    Index,
    /// Leave the document alone (`ctx.op = 'none'`).
    None,
    /// Delete it.
    Delete,
}

fn object(value: &Value, key: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(object) => Ok(object.clone()),
        _ => Err(ApiError::parsing(format!("[{key}] must be an object"))),
    }
}

impl UpdateRequest {
    /// Parses an update's body (`doc`, `upsert`, `script`…).
    pub(crate) fn parse(body: &Value) -> Result<UpdateRequest, ApiError> {
        let Value::Object(body) = body else {
            return Err(ApiError::parsing("request body must be an object"));
        };
        let mut request = UpdateRequest {
            doc: None,
            upsert: None,
            doc_as_upsert: false,
            scripted_upsert: false,
            detect_noop: true,
            script: None,
            source: None,
        };
        let flag = |key: &str, value: &Value| {
            value
                .as_bool()
                .ok_or_else(|| ApiError::parsing(format!("[update] [{key}] must be a boolean")))
        };
        for (key, value) in body {
            match key.as_str() {
                "doc" => request.doc = Some(object(value, key)?),
                "upsert" => request.upsert = Some(object(value, key)?),
                "doc_as_upsert" => request.doc_as_upsert = flag(key, value)?,
                "scripted_upsert" => request.scripted_upsert = flag(key, value)?,
                "detect_noop" => request.detect_noop = flag(key, value)?,
                "script" => request.script = Some(UpdateScript::parse(value)?),
                "_source" => request.source = Some(value.clone()),
                other => {
                    return Err(ApiError::parsing(format!(
                        "[update] unknown field [{other}]"
                    )));
                }
            }
        }
        match (&request.doc, &request.script) {
            (None, None) => Err(validation(
                "Validation Failed: 1: script or doc is missing;",
            )),
            (Some(_), Some(_)) => Err(validation(
                "Validation Failed: 1: can't provide both script and doc;",
            )),
            _ => Ok(request),
        }
    }
}

/// `doc` merged into `source`: objects key by key, everything else replaced.
pub(crate) fn merge(source: &mut Map<String, Value>, doc: &Map<String, Value>) {
    for (key, value) in doc {
        match (source.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(partial)) => merge(existing, partial),
            _ => {
                source.insert(key.clone(), value.clone());
            }
        }
    }
}

/// What an update comes to for the document as it is (`None`: missing).
enum Decision {
    /// Write this source; `true` when it creates the document.
    Write(Map<String, Value>, bool),
    /// Nothing changes.
    Noop,
    /// Delete the document (a script's `ctx.op = 'delete'`).
    Delete,
}

fn decide(
    request: &UpdateRequest,
    index: &str,
    id: &str,
    current: Option<&StoredDocument>,
) -> Result<Decision, ApiError> {
    let Some(current) = current else {
        if let Some(upsert) = &request.upsert {
            if request.scripted_upsert
                && let Some(script) = &request.script
            {
                let (source, op) = script.run(index, id, upsert.clone())?;
                return Ok(match op {
                    ScriptOp::Index => Decision::Write(source, true),
                    ScriptOp::None | ScriptOp::Delete => Decision::Noop,
                });
            }
            return Ok(Decision::Write(upsert.clone(), true));
        }
        if request.doc_as_upsert
            && let Some(doc) = &request.doc
        {
            return Ok(Decision::Write(doc.clone(), true));
        }
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "document_missing_exception",
            format!("[{id}]: document missing"),
        )
        .with("index_uuid", json!("_na_"))
        .with("shard", json!("0"))
        .with("index", json!(index)));
    };
    let source: Map<String, Value> = serde_json::from_slice(&current.source).unwrap_or_default();
    if let Some(doc) = &request.doc {
        let mut merged = source.clone();
        merge(&mut merged, doc);
        if request.detect_noop && merged == source {
            return Ok(Decision::Noop);
        }
        return Ok(Decision::Write(merged, false));
    }
    let Some(script) = &request.script else {
        return Ok(Decision::Noop);
    };
    let (changed, op) = script.run(&current.index, id, source)?;
    Ok(match op {
        ScriptOp::Index => Decision::Write(changed, false),
        ScriptOp::None => Decision::Noop,
        ScriptOp::Delete => Decision::Delete,
    })
}

/// `POST /{index}/_update/{id}`.
pub async fn update_document(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{index}/_update/{id}"),
        UPDATE_PARAMETERS,
    )?;
    let refresh = params::refresh(&params)?;
    let required = write_condition(&params)?;
    let retries: u32 = match params.get("retry_on_conflict") {
        None => 0,
        Some(value) => value.parse().map_err(|_| {
            ApiError::illegal_argument(format!(
                "Failed to parse int parameter [retry_on_conflict] with value [{value}]"
            ))
        })?,
    };
    if required.is_some() && retries > 0 {
        return Err(validation(
            "Validation Failed: 1: compare and write operations can not be retried;",
        ));
    }
    let bytes = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&bytes, "parsing_exception")?
        .ok_or_else(|| validation("Validation Failed: 1: script or doc is missing;"))?;
    let request = UpdateRequest::parse(&body)?;
    let source_filter = match &request.source {
        Some(source) => Some(logfleet_query::SourceFilter::parse(source)?),
        None => logfleet_query::SourceFilter::from_url(
            params.get("_source").map(String::as_str),
            params.get("_source_includes").map(String::as_str),
            params.get("_source_excludes").map(String::as_str),
        ),
    };
    let outcome = run_update(&state, &index, &id, &request, required, retries).await?;
    let (status, mut body, written) = match outcome {
        UpdateOutcome::Written { outcome, source } => {
            let forced = apply_refresh(&state, refresh, Some(outcome.seq)).await?
                && refresh == params::Refresh::Immediate;
            let body = serde_json::to_value(super::write::WriteResponse::new(&outcome, forced))
                .unwrap_or_default();
            (
                super::write::outcome_status(&outcome),
                body,
                source.map(|source| (outcome.seq, source)),
            )
        }
        UpdateOutcome::Noop(current) => {
            let source: Map<String, Value> =
                serde_json::from_slice(&current.source).unwrap_or_default();
            (
                StatusCode::OK,
                noop_body(&id, &current),
                Some((current.seq, source)),
            )
        }
        UpdateOutcome::Dropped { index, id } => {
            return Ok(json_response(
                StatusCode::OK,
                &super::write::dropped_response(&index, id.as_deref()),
            ));
        }
    };
    if let (Some(filter), Some((seq, source))) = (&source_filter, written) {
        body["get"] = get_section(seq, filter, source);
    }
    Ok(json_response(status, &body))
}

/// The answer to an update that changed nothing.
pub(crate) fn noop_body(id: &str, current: &StoredDocument) -> Value {
    json!({
        "_index": current.index,
        "_id": id,
        "_version": current.version,
        "result": "noop",
        "_shards": {"total": 0, "successful": 0, "failed": 0},
        "_seq_no": current.seq,
        "_primary_term": PRIMARY_TERM,
    })
}

/// What an update did.
pub(crate) enum UpdateOutcome {
    /// It wrote (or deleted) the document; `source` is what it wrote.
    Written {
        outcome: WriteOutcome,
        source: Option<Map<String, Value>>,
    },
    /// Nothing changed; the document as it is.
    Noop(StoredDocument),
    /// A pipeline dropped the new document.
    Dropped { index: String, id: Option<String> },
}

/// Runs `request` on document `id` of `index` (see the module documentation): read, decide,
/// write if the document is still the one read; on a conflict, again up to `retries` times.
pub(crate) async fn run_update(
    state: &AppState,
    index: &str,
    id: &str,
    request: &UpdateRequest,
    required: Option<WriteCondition>,
    retries: u32,
) -> Result<UpdateOutcome, ApiError> {
    let mut attempt = 0;
    loop {
        let current = state.store.get(index, id).await?;
        if let Some(required) = required
            && current.as_ref().map(|current| current.seq) != Some(required.if_seq_no)
        {
            let conflict = logfleet_store::VersionConflict {
                index: current
                    .as_ref()
                    .map_or_else(|| index.to_owned(), |current| current.index.clone()),
                id: id.to_owned(),
                current_version: 0,
                required: Some((required, current.as_ref().map(|current| current.seq))),
            };
            return Err(failure_to_error(ItemFailure::Conflict(conflict)));
        }
        let (written_source, mut prepared) = match decide(request, index, id, current.as_ref())? {
            Decision::Noop => {
                let current =
                    current.ok_or_else(|| ApiError::illegal_argument("nothing to update"))?;
                return Ok(UpdateOutcome::Noop(current));
            }
            Decision::Delete => {
                let prepared = state.store.prepare(WriteRequest::Delete {
                    target: index.to_owned(),
                    id: id.to_owned(),
                })?;
                (None, prepared)
            }
            Decision::Write(source, creates) => {
                let bytes = Bytes::from(serde_json::to_vec(&source).unwrap_or_default());
                let op = if creates {
                    DocumentOp::Create
                } else {
                    DocumentOp::Index
                };
                match prepare_document(state, index, op, Some(id.to_owned()), bytes, None)? {
                    Prepared::Write(prepared) | Prepared::FailureStore(prepared) => {
                        (Some(source), prepared)
                    }
                    Prepared::Dropped { index, id } => {
                        return Ok(UpdateOutcome::Dropped { index, id });
                    }
                }
            }
        };
        if let Some(current) = &current {
            prepared.require(WriteCondition {
                if_seq_no: current.seq,
                if_primary_term: PRIMARY_TERM,
            });
        }
        match state.store.execute(vec![prepared]).await?.pop() {
            Some(Ok(outcome)) => {
                return Ok(UpdateOutcome::Written {
                    outcome,
                    source: written_source,
                });
            }
            // Changed (or created) since it was read: read it again, if retries are left.
            Some(Err(ItemFailure::Conflict(conflict))) => {
                if attempt >= retries {
                    return Err(failure_to_error(ItemFailure::Conflict(conflict)));
                }
                attempt += 1;
            }
            Some(Err(failure)) => return Err(failure_to_error(failure)),
            None => return Err(ApiError::illegal_argument("the update was not executed")),
        }
    }
}

/// The `get` section of an update's response: the source written, filtered as asked.
fn get_section(
    seq: u64,
    filter: &logfleet_query::SourceFilter,
    source: Map<String, Value>,
) -> Value {
    let mut get = json!({"_seq_no": seq, "_primary_term": PRIMARY_TERM, "found": true});
    if let Some(filtered) = filter.apply(source) {
        get["_source"] = Value::Object(filtered);
    }
    get
}
