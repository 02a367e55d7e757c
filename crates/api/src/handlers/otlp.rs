//! OTLP/HTTP logs: `POST /_otlp/v1/logs` here, and `POST /v1/logs` on the OTLP port when
//! `[inputs.otlp]` configures one. Protobuf or JSON, gzip or not; every record goes the one
//! way in (pipelines, routing, failure store) to `logs-<dataset>.otel-<namespace>`.
//!
//! Answers follow the OTLP/HTTP specification: `200` with an empty
//! `ExportLogsServiceResponse`, or a `partial_success` counting the records refused for good;
//! `503` (retryable) when the store refuses writes for now, so the exporter sends the request
//! again; `400`/`413`/`415` with a `google.rpc.Status` for requests that cannot be read.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use logfleet_ingest::otlp::{self, Encoding};

use crate::AppState;
use crate::body::read_body;

/// `google.rpc.Code` values.
const INVALID_ARGUMENT: i32 = 3;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

/// `POST /v1/logs`, `POST /_otlp/v1/logs`.
pub async fn logs(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let Some(encoding) = Encoding::from_content_type(content_type) else {
        return status(
            Encoding::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            INVALID_ARGUMENT,
            &format!(
                "unsupported content type [{content_type}]: send application/x-protobuf or application/json"
            ),
        );
    };
    let body = match read_body(&headers, body, state.config.max_content_length).await {
        Ok(body) => body,
        Err(error) => {
            let code = if error.status == StatusCode::PAYLOAD_TOO_LARGE {
                RESOURCE_EXHAUSTED
            } else {
                INVALID_ARGUMENT
            };
            return status(encoding, error.status, code, &error.reason);
        }
    };
    let ingest = state.ingest.clone();
    let prepared = super::run_blocking("OTLP decoding", move || {
        otlp::decode(&body, encoding).map(|request| {
            let events = otlp::events(&request);
            ingest.prepare_batch(events)
        })
    })
    .await;
    let batch = match prepared {
        Ok(Ok(batch)) => batch,
        Ok(Err(reason)) => {
            return status(encoding, StatusCode::BAD_REQUEST, INVALID_ARGUMENT, &reason);
        }
        Err(error) => return status(encoding, error.status, UNAVAILABLE, &error.reason),
    };
    let outcome = state.ingest.write_batch(batch).await;
    if outcome.retry > 0 {
        // Some records could not be written now: the exporter retries the whole request
        // (those stored already are stored again, as with any at-least-once shipper).
        let mut response = status(
            encoding,
            StatusCode::SERVICE_UNAVAILABLE,
            UNAVAILABLE,
            outcome.first_error.as_deref().unwrap_or("try again later"),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return response;
    }
    let message = outcome.first_error.unwrap_or_default();
    let body = otlp::encode_response(encoding, outcome.rejected as i64, &message);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response()
}

fn status(encoding: Encoding, http: StatusCode, code: i32, message: &str) -> Response {
    (
        http,
        [(header::CONTENT_TYPE, encoding.content_type())],
        otlp::encode_status(encoding, code, message),
    )
        .into_response()
}
