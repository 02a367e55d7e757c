//! JSON responses, and the layer that gives every response Elasticsearch's headers.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Serialize;
use serde_json::Value;

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

/// Adds `X-Elastic-Product`, answers in the media type the client asked for (the official
/// clients send `application/vnd.elasticsearch+json; compatible-with=8`), and honours
/// `?pretty`.
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
    let mut response = next.run(request).await;
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|content_type| content_type.as_bytes().starts_with(b"text/plain"));
    if response.status().is_client_error() && plain_text {
        response = rejection_as_error(response).await;
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
        if pretty {
            return prettify(response).await;
        }
    }
    response
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

async fn prettify(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = collected.to_bytes();
    let pretty = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|value| serde_json::to_vec_pretty(&value).ok())
        .map(|mut pretty| {
            pretty.push(b'\n');
            pretty
        })
        .unwrap_or_else(|| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(pretty))
}
