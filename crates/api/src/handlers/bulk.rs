//! `_bulk`.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use logfleet_ingest::{BulkAction, parse_bulk};
use logfleet_store::{
    DocumentOp, ItemFailure, PreparedWrite, WriteCondition, WriteOutcome, WriteRequest,
};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use super::documents::condition_of;
use super::update::{UpdateOutcome, UpdateRequest, run_update};
use super::write::{
    Prepared, WriteResponse, apply_refresh, failure_to_error, outcome_status, pipeline_param,
    prepare_document,
};
use crate::AppState;
use crate::body::read_body;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

const PARAMETERS: &[&str] = &[
    "refresh",
    "pipeline",
    "routing",
    "wait_for_active_shards",
    "require_alias",
    "require_data_stream",
    "_source",
    "_source_includes",
    "_source_excludes",
    "list_executed_pipelines",
    "include_source_on_error",
];

/// `POST /_bulk`.
pub async fn bulk(
    state: State<AppState>,
    query: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_bulk(state, None, query, headers, body).await
}

/// `POST /{index}/_bulk`.
pub async fn bulk_index(
    state: State<AppState>,
    Path(index): Path<String>,
    query: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_bulk(state, Some(index), query, headers, body).await
}

/// Where an item stands before the store answers.
enum Slot {
    Failed {
        action: BulkAction,
        index: String,
        id: Option<String>,
        error: ApiError,
    },
    Prepared {
        action: BulkAction,
        id: Option<String>,
        position: usize,
        failure_store: bool,
    },
    Dropped {
        action: BulkAction,
        index: String,
        id: Option<String>,
    },
    /// An `update`, run in its place among the writes: after the `position` prepared writes
    /// before it, before the ones after it.
    Update {
        index: String,
        id: String,
        request: Box<UpdateRequest>,
        required: Option<WriteCondition>,
        retries: u32,
        position: usize,
    },
}

/// The answer to each `update` of a bulk request, by its slot.
type UpdateAnswers = Vec<Option<Result<UpdateOutcome, ApiError>>>;

/// Executes `prepared` in order, with the `update` slots run between them where they stand:
/// the outcomes of `prepared` (in order) and each update's answer (by slot).
async fn execute_in_order(
    state: &AppState,
    slots: &[Slot],
    prepared: Vec<PreparedWrite>,
) -> Result<(Vec<Result<WriteOutcome, ItemFailure>>, UpdateAnswers), ApiError> {
    let mut updates: UpdateAnswers = (0..slots.len()).map(|_| None).collect();
    if !slots.iter().any(|slot| matches!(slot, Slot::Update { .. })) {
        return Ok((state.store.execute(prepared).await?, updates));
    }
    let mut outcomes = Vec::with_capacity(prepared.len());
    let mut pending = prepared.into_iter();
    for (number, slot) in slots.iter().enumerate() {
        let Slot::Update {
            index,
            id,
            request,
            required,
            retries,
            position,
        } = slot
        else {
            continue;
        };
        let before: Vec<PreparedWrite> = pending.by_ref().take(position - outcomes.len()).collect();
        if !before.is_empty() {
            outcomes.extend(state.store.execute(before).await?);
        }
        updates[number] = Some(run_update(state, index, id, request, *required, *retries).await);
    }
    let rest: Vec<PreparedWrite> = pending.collect();
    if !rest.is_empty() {
        outcomes.extend(state.store.execute(rest).await?);
    }
    Ok((outcomes, updates))
}

async fn run_bulk(
    State(state): State<AppState>,
    default_index: Option<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    params::check(&params, "/_bulk", PARAMETERS)?;
    let refresh = params::refresh(&params)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let pipeline = pipeline_param(&params).map(str::to_owned);
    // Decoding and mapping are CPU work proportional to the body: keep them off the
    // threads that serve connections.
    let prepare_state = state.clone();
    let (slots, prepared) = super::run_blocking("bulk preparation", move || {
        prepare_items(
            &prepare_state,
            &body,
            default_index.as_deref(),
            pipeline.as_deref(),
        )
    })
    .await??;
    let (outcomes, mut updates) = execute_in_order(&state, &slots, prepared).await?;
    let updated_seq = updates.iter().flatten().filter_map(|answer| match answer {
        Ok(UpdateOutcome::Written { outcome, .. }) => Some(outcome.seq),
        _ => None,
    });
    let max_seq = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok())
        .map(|outcome| outcome.seq)
        .chain(updated_seq)
        .max();
    let forced_refresh =
        apply_refresh(&state, refresh, max_seq).await? && refresh == params::Refresh::Immediate;
    let mut outcomes: Vec<Option<_>> = outcomes.into_iter().map(Some).collect();
    let mut items = Vec::with_capacity(slots.len());
    for (number, slot) in slots.into_iter().enumerate() {
        let item = match slot {
            Slot::Update { index, id, .. } => match updates[number].take() {
                Some(Ok(UpdateOutcome::Written { outcome, .. })) => BulkItem::Written {
                    action: BulkAction::Update,
                    outcome,
                    forced_refresh,
                    failure_store: false,
                },
                Some(Ok(UpdateOutcome::Noop(current))) => BulkItem::Noop {
                    body: super::update::noop_body(&id, &current),
                },
                Some(Ok(UpdateOutcome::Dropped { index, id })) => BulkItem::Dropped {
                    action: BulkAction::Update,
                    index,
                    id,
                },
                Some(Err(error)) => BulkItem::failed(BulkAction::Update, index, Some(id), &error),
                None => {
                    let error = ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "exception",
                        "missing outcome",
                    );
                    BulkItem::failed(BulkAction::Update, index, Some(id), &error)
                }
            },
            Slot::Failed {
                action,
                index,
                id,
                error,
            } => BulkItem::failed(action, index, id, &error),
            Slot::Dropped { action, index, id } => BulkItem::Dropped { action, index, id },
            Slot::Prepared {
                action,
                id,
                position,
                failure_store,
            } => match outcomes.get_mut(position).and_then(Option::take) {
                Some(Ok(outcome)) => BulkItem::Written {
                    action,
                    outcome,
                    forced_refresh,
                    failure_store,
                },
                Some(Err(failure)) => {
                    let error = failure_to_error(failure);
                    let index = error
                        .extra
                        .get("index")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    BulkItem::failed(action, index, id, &error)
                }
                None => {
                    let error = ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "exception",
                        "missing outcome",
                    );
                    BulkItem::failed(action, String::new(), None, &error)
                }
            },
        };
        items.push(item);
    }
    Ok(ok(&BulkResponse {
        took: started.elapsed().as_millis() as u64,
        errors: items
            .iter()
            .any(|item| matches!(item, BulkItem::Failed { .. })),
        items,
    }))
}

/// The `_bulk` response, serialised straight into the body: it has one item per action, and
/// building a `serde_json::Value` tree for thousands of them cost more than writing them.
#[derive(Serialize)]
struct BulkResponse {
    took: u64,
    errors: bool,
    items: Vec<BulkItem>,
}

/// One action's answer, `{"<action>": {…}}`.
enum BulkItem {
    Written {
        action: BulkAction,
        outcome: WriteOutcome,
        forced_refresh: bool,
        /// The document was rejected and kept in its data stream's failure store.
        failure_store: bool,
    },
    Failed {
        action: BulkAction,
        body: FailedItem,
    },
    /// A pipeline dropped the document.
    Dropped {
        action: BulkAction,
        index: String,
        id: Option<String>,
    },
    /// An `update` that changed nothing.
    Noop { body: Value },
}

#[derive(Serialize)]
struct FailedItem {
    #[serde(rename = "_index")]
    index: String,
    #[serde(rename = "_id")]
    id: Option<String>,
    status: u16,
    error: Value,
}

impl BulkItem {
    fn failed(action: BulkAction, index: String, id: Option<String>, error: &ApiError) -> Self {
        BulkItem::Failed {
            action,
            body: FailedItem {
                index,
                id,
                status: error.status.as_u16(),
                error: error.to_item_error(),
            },
        }
    }
}

impl Serialize for BulkItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            BulkItem::Written {
                action,
                outcome,
                forced_refresh,
                failure_store,
            } => map.serialize_entry(
                action.as_str(),
                &WriteResponse::new(outcome, *forced_refresh)
                    .with_status(outcome_status(outcome))
                    .with_failure_store(*failure_store),
            )?,
            BulkItem::Failed { action, body } => map.serialize_entry(action.as_str(), body)?,
            BulkItem::Dropped { action, index, id } => map.serialize_entry(
                action.as_str(),
                &super::write::dropped_response(index, id.as_deref()),
            )?,
            BulkItem::Noop { body } => {
                let mut body = body.clone();
                body["status"] = serde_json::json!(200);
                map.serialize_entry(BulkAction::Update.as_str(), &body)?;
            }
        }
        map.end()
    }
}

/// An `update` item, to run where it stands (`position` prepared writes before it).
fn update_slot(item: &logfleet_ingest::BulkItem<'_>, position: usize) -> Result<Slot, ApiError> {
    let index = crate::date_math::resolve_name(&item.index)?.into_owned();
    let id = item.id.clone().unwrap_or_default();
    let body: Value = serde_json::from_slice(item.source.unwrap_or_default())
        .map_err(|error| ApiError::parsing(format!("failed to parse the update: {error}")))?;
    let required = condition_of(item.if_seq_no, item.if_primary_term)?;
    let retries = u32::try_from(item.retry_on_conflict.unwrap_or(0)).unwrap_or(u32::MAX);
    Ok(Slot::Update {
        index,
        id,
        request: Box::new(UpdateRequest::parse(&body)?),
        required,
        retries,
        position,
    })
}

fn prepare_items(
    state: &AppState,
    body: &Bytes,
    default_index: Option<&str>,
    pipeline: Option<&str>,
) -> Result<(Vec<Slot>, Vec<PreparedWrite>), ApiError> {
    let items = parse_bulk(body, default_index, pipeline)?;
    let mut slots = Vec::with_capacity(items.len());
    let mut prepared = Vec::with_capacity(items.len());
    for item in items {
        let action = item.action;
        if let Some(error) = item.error {
            let error = ApiError::new(
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
                error.kind,
                error.reason,
            );
            slots.push(Slot::Failed {
                action,
                index: item.index,
                id: item.id,
                error,
            });
            continue;
        }
        let result = match action {
            BulkAction::Index | BulkAction::Create => {
                let op = if action == BulkAction::Create {
                    DocumentOp::Create
                } else {
                    DocumentOp::Index
                };
                let source = item
                    .source
                    .map_or_else(Bytes::new, |source| share(body, source));
                prepare_document(
                    state,
                    &item.index,
                    op,
                    item.id.clone(),
                    source,
                    item.pipeline.as_deref(),
                )
            }
            BulkAction::Delete => {
                let id = item.id.clone().unwrap_or_default();
                crate::date_math::resolve_name(&item.index).and_then(|target| {
                    state
                        .store
                        .prepare(WriteRequest::Delete {
                            target: target.into_owned(),
                            id,
                        })
                        .map(Prepared::Write)
                        .map_err(ApiError::from)
                })
            }
            BulkAction::Update => {
                match update_slot(&item, prepared.len()) {
                    Ok(slot) => slots.push(slot),
                    Err(error) => slots.push(Slot::Failed {
                        action,
                        index: item.index,
                        id: item.id,
                        error,
                    }),
                }
                continue;
            }
        };
        let result = match (result, condition_of(item.if_seq_no, item.if_primary_term)) {
            (result, Ok(None)) => result,
            (Ok(_), Err(error)) => Err(error),
            (Ok(_), Ok(Some(_))) if action == BulkAction::Create => {
                Err(super::documents::validation(
                    "Validation Failed: 1: create operations do not support compare and set. use index instead;",
                ))
            }
            (Ok(Prepared::Write(mut write)), Ok(Some(condition))) => {
                write.require(condition);
                Ok(Prepared::Write(write))
            }
            (result, _) => result,
        };
        match result {
            Ok(Prepared::Write(write)) => {
                slots.push(Slot::Prepared {
                    action,
                    id: item.id,
                    position: prepared.len(),
                    failure_store: false,
                });
                prepared.push(write);
            }
            Ok(Prepared::FailureStore(write)) => {
                slots.push(Slot::Prepared {
                    action,
                    id: item.id,
                    position: prepared.len(),
                    failure_store: true,
                });
                prepared.push(write);
            }
            Ok(Prepared::Dropped { index, id }) => slots.push(Slot::Dropped { action, index, id }),
            Err(error) => slots.push(Slot::Failed {
                action,
                index: item.index,
                id: item.id,
                error,
            }),
        }
    }
    Ok((slots, prepared))
}

/// `part` of `body` as a `Bytes` sharing `body`'s buffer, so that a document's source reaches
/// the write-ahead log without a copy of its own (a copy if `part` lies elsewhere).
fn share(body: &Bytes, part: &[u8]) -> Bytes {
    let start = (part.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if start <= body.len() && end <= body.len() => body.slice(start..end),
        _ => Bytes::copy_from_slice(part),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_inside_the_body_shares_its_buffer() {
        let body = Bytes::from_static(b"{\"create\":{}}\n{\"a\":1}\n");
        let source = &body[14..21];
        let shared = share(&body, source);
        assert_eq!(&shared[..], b"{\"a\":1}");
        assert_eq!(shared.as_ptr(), source.as_ptr(), "no copy");
        let elsewhere = b"{\"b\":2}".to_vec();
        let copied = share(&body, &elsewhere);
        assert_eq!(&copied[..], b"{\"b\":2}");
        assert_ne!(copied.as_ptr(), elsewhere.as_ptr());
        assert!(share(&body, &body[22..]).is_empty());
    }
}
