//! Date math in index names (`<logs-{now/d}>`), resolved as Elasticsearch resolves it: for
//! the index expression of the path before routing, and by handlers for names given in
//! bodies (bulk items, alias actions, rollover targets).

use std::borrow::Cow;

use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use logfleet_store::now_millis;
use logfleet_time::resolve_index_date_math;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::error::ApiError;

/// What a resolved path segment must encode again: everything a path segment cannot hold
/// as it is.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The index expression of the path as the client sent it, when it was date math: index
/// creation keeps it so that rollover can derive the next name from it.
#[derive(Debug, Clone)]
pub struct ProvidedName(pub String);

/// Resolves one name; names that are not date math are borrowed back unchanged.
pub fn resolve_name(name: &str) -> Result<Cow<'_, str>, ApiError> {
    if !(name.starts_with('<') && name.ends_with('>')) {
        return Ok(Cow::Borrowed(name));
    }
    resolve_index_date_math(name, now_millis())
        .map(Cow::Owned)
        .map_err(|reason| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "parse_exception",
                reason,
            )
        })
}

/// Resolves each name of a comma-separated index expression.
pub fn resolve_expression(expression: &str) -> Result<Cow<'_, str>, ApiError> {
    if !expression.contains('<') {
        return Ok(Cow::Borrowed(expression));
    }
    let names = expression
        .split(',')
        .map(resolve_name)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Cow::Owned(names.join(",")))
}

/// Middleware around the router: rewrites a date math index expression in the first path
/// segment (`/%3Clogs-%7Bnow%2Fd%7D%3E/_search`) to the names it stands for.
pub async fn resolve_in_path(mut request: Request, next: Next) -> Response {
    let uri = request.uri().clone();
    let path = uri.path();
    let segment = path[1..].split('/').next().unwrap_or("");
    if !(segment.contains("%3C") || segment.contains("%3c") || segment.contains('<')) {
        return next.run(request).await;
    }
    let Ok(decoded) = percent_decode_str(segment).decode_utf8() else {
        return next.run(request).await;
    };
    let decoded = decoded.into_owned();
    let resolved = match resolve_expression(&decoded) {
        Ok(resolved) => resolved,
        Err(error) => return error.into_response(),
    };
    let encoded: String = utf8_percent_encode(&resolved, SEGMENT).collect();
    let rest = &path[1 + segment.len()..];
    let mut path_and_query = format!("/{encoded}{rest}");
    if let Some(query) = uri.query() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    match path_and_query.parse() {
        Ok(parsed) => parts.path_and_query = Some(parsed),
        Err(_) => return next.run(request).await,
    }
    if let Ok(rewritten) = Uri::from_parts(parts) {
        *request.uri_mut() = rewritten;
        let provided = ProvidedName(decoded);
        request.extensions_mut().insert(provided);
        return next.run(request).await;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_date_math_names_change() {
        assert!(matches!(
            resolve_name("logs").unwrap(),
            Cow::Borrowed("logs")
        ));
        let resolved = resolve_expression("logs,<logs-{now/d}>").unwrap();
        let (plain, dated) = resolved.split_once(',').unwrap();
        assert_eq!(plain, "logs");
        assert!(dated.starts_with("logs-20"), "{dated}");
        let error = resolve_name("<logs-{now/d>").unwrap_err();
        assert_eq!(error.kind, "parse_exception");
    }
}
