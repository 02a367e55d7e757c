//! JSON responses, and the layer that gives every response Elasticsearch's headers.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::Value;
use tracing::Level;

use crate::filter_path::FilterPath;

/// Marks a response as coming from Elasticsearch; the official clients refuse servers
/// without it.
pub const PRODUCT_HEADER: &str = "x-elastic-product";

/// A compact JSON response.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

/// A 200 JSON response.
pub fn ok(body: &impl Serialize) -> Response {
    json_response(StatusCode::OK, body)
}

/// The value of query parameter `name`, decoded.
fn query_parameter(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// Adds `X-Elastic-Product`, answers in the media type the client asked for (the official
/// clients send `application/vnd.elasticsearch+json; compatible-with=8`), honours `?pretty`
/// and `?filter_path`, and logs (at `debug`) each request answered with an error.
pub async fn elasticsearch_headers(request: Request, next: Next) -> Response {
    let compatible_with = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .filter(|accept| accept.contains("vnd.elasticsearch+json"))
        .map(|accept| {
            accept
                .split(';')
                .find_map(|parameter| parameter.trim().strip_prefix("compatible-with="))
                .unwrap_or("8")
                .trim()
                .to_owned()
        });
    let pretty = request.uri().query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair == "pretty" || pair == "pretty=true" || pair == "pretty=")
    });
    let filter = query_parameter(request.uri(), "filter_path")
        .as_deref()
        .and_then(FilterPath::parse);
    let request_line =
        tracing::enabled!(Level::DEBUG).then(|| format!("{} {}", request.method(), request.uri()));
    let mut response = next.run(request).await;
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|content_type| content_type.as_bytes().starts_with(b"text/plain"));
    if response.status().is_client_error() && plain_text {
        response = rejection_as_error(response).await;
    }
    if let Some(request_line) = request_line
        && (response.status().is_client_error() || response.status().is_server_error())
    {
        response = log_failure(&request_line, response).await;
    }
    response
        .headers_mut()
        .insert(PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|content_type| content_type.as_bytes().starts_with(b"application/json"));
    if is_json {
        if let Some(version) =
            compatible_with.filter(|version| version.chars().all(|c| c.is_ascii_digit()))
            && let Ok(value) = HeaderValue::from_str(&format!(
                "application/vnd.elasticsearch+json;compatible-with={version}"
            ))
        {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        if pretty || filter.is_some() {
            return reshape(response, filter.as_ref(), pretty).await;
        }
    }
    response
}

/// Logs a request answered with an error: its request line, status, and the error's type and
/// reason, so that a user can see why a tool fails.
async fn log_failure(request_line: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let error = serde_json::from_slice::<Value>(&bytes).ok();
    let error = error.as_ref().map(|body| &body["error"]);
    let (kind, reason) = match error {
        Some(Value::Object(error)) => (
            error.get("type").and_then(Value::as_str).unwrap_or(""),
            error.get("reason").and_then(Value::as_str).unwrap_or(""),
        ),
        Some(Value::String(reason)) => ("", reason.as_str()),
        _ => ("", ""),
    };
    tracing::debug!(
        request = request_line,
        status = parts.status.as_u16(),
        r#type = kind,
        reason,
        "request failed"
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// The router's own rejections (a path segment that is not UTF-8, a query string that does
/// not decode) are plain text; clients expect Elasticsearch's error body.
async fn rejection_as_error(response: Response) -> Response {
    let status = response.status();
    let text = match response.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let reason = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_owned()
    } else {
        text
    };
    crate::error::ApiError::new(status, "illegal_argument_exception", reason).into_response()
}

/// A JSON response filtered by `filter` and pretty-printed if asked.
async fn reshape(response: Response, filter: Option<&FilterPath>, pretty: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = collected.to_bytes();
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(filter) = filter {
        value = filter.apply(value);
    }
    let written = if pretty {
        serde_json::to_vec_pretty(&value).map(|mut pretty| {
            pretty.push(b'\n');
            pretty
        })
    } else {
        serde_json::to_vec(&value)
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        Body::from(written.unwrap_or_else(|_| bytes.to_vec())),
    )
}
