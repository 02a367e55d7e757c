//! Reading request bodies: the size limit (Elasticsearch's `http.max_content_length`) is
//! enforced while reading, before and after decompression, so neither a huge body nor a gzip
//! bomb is ever held in memory.

use std::io::Read;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use crate::error::ApiError;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "content_too_long_exception",
        format!(
            "request body is too large, the limit is [{limit}] bytes (http.max_content_length)"
        ),
    )
}

/// Reads the body, decompressing `gzip` or `deflate` content encodings.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let collected = Limited::new(body, limit).collect().await.map_err(|error| {
        if error
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            too_large(limit)
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "illegal_state_exception",
                "failed to read the request body",
            )
        }
    })?;
    let raw = collected.to_bytes();
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|encoding| encoding.to_str().ok())
        .map(|encoding| encoding.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") | Some("") => Ok(raw),
        Some("gzip") | Some("x-gzip") => {
            decompress(flate2::read::MultiGzDecoder::new(&raw[..]), limit)
        }
        Some("deflate") => decompress(flate2::read::ZlibDecoder::new(&raw[..]), limit),
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "illegal_argument_exception",
            format!("unsupported content encoding [{other}], use gzip or deflate"),
        )),
    }
}

fn decompress(decoder: impl Read, limit: usize) -> Result<Bytes, ApiError> {
    let mut output = Vec::new();
    let read = decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut output)
        .map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                format!("invalid compressed request body: {error}"),
            )
        })?;
    if read > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(output))
}

/// Parses an optional JSON body (`None` when empty); malformed JSON is reported with
/// `error_type` (Elasticsearch uses different types per API).
pub fn parse_json(bytes: &[u8], error_type: &str) -> Result<Option<Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            error_type,
            format!(
                "[{}:{}] failed to parse request body: {error}",
                error.line(),
                error.column()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[tokio::test]
    async fn gzip_bodies_are_decompressed_within_the_limit() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        let body = read_body(&headers, Body::from(gzip(b"hello")), 100)
            .await
            .unwrap();
        assert_eq!(&body[..], b"hello");
        let bomb = gzip(&vec![b'a'; 10_000]);
        assert!(bomb.len() < 100);
        let error = read_body(&headers, Body::from(bomb), 100)
            .await
            .unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn oversize_bodies_are_refused() {
        let error = read_body(&HeaderMap::new(), Body::from(vec![0u8; 101]), 100)
            .await
            .unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error.kind, "content_too_long_exception");
    }

    #[test]
    fn json_errors_name_the_position() {
        let error = parse_json(b"{\"a\": }", "parsing_exception").unwrap_err();
        assert!(error.reason.starts_with("[1:7]"), "{}", error.reason);
        assert_eq!(parse_json(b"  ", "x").unwrap(), None);
        assert!(parse_json(b"\xff", "x").is_err());
    }
}
