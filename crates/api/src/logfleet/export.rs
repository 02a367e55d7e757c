//! `POST /_logfleet/export`: a whole search result — not just a page — as CSV or NDJSON,
//! streamed while it is read.
//!
//! The body is `{"index", "query", "sort", "columns", "format", "limit"}`. The search runs as
//! a scroll over a point-in-time view of the partitions, a page at a time on the blocking
//! pool, each page written to the response as soon as it is rendered; a client that goes
//! away stops it. `X-Logfleet-Total` says up front how many rows will come, so that a UI can
//! show progress. CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
//! tab, carriage return first) are prefixed with `'`, as Kibana does.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use logfleet_query::{Scroll, SearchContext, SearchRequest, SearchUrlParameters};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;

/// Rows exported when the request names no limit.
const DEFAULT_LIMIT: u64 = 1_000_000;
/// The most rows one export sends.
const MAX_LIMIT: u64 = 10_000_000;
/// Hits read per page of the scroll.
const PAGE_SIZE: usize = 1_000;

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Ndjson,
}

/// A parsed export request.
#[derive(Debug)]
struct Export {
    index: String,
    search: SearchRequest,
    columns: Vec<String>,
    format: Format,
    limit: u64,
}

/// `POST /_logfleet/export`.
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&bytes, "parsing_exception")?;
    let export = parse(body)?;
    let shards = state.store.search_shards(&export.index, true).await?;
    let store = state.store.clone();
    let search = export.search;
    let (mut scroll, first_page) = crate::handlers::run_blocking("export", move || {
        let context = SearchContext {
            fields: store.fields(),
            now_millis: logfleet_store::now_millis(),
            request_cache: None,
        };
        let mut scroll = Scroll::start(shards, search, &context)?;
        let page = scroll.next_page(context.now_millis)?;
        Ok::<_, logfleet_query::QueryError>((scroll, page))
    })
    .await??;
    let matching = first_page
        .pointer("/hits/total/value")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let total = matching.min(export.limit);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let columns = export.columns;
    let format = export.format;
    let limit = export.limit;
    tokio::task::spawn_blocking(move || {
        let mut sent = 0u64;
        let mut chunk = String::new();
        if format == Format::Csv {
            let header: Vec<String> = columns.iter().map(|column| header_cell(column)).collect();
            chunk.push_str(&header.join(","));
            chunk.push_str("\r\n");
        }
        let mut page = first_page;
        loop {
            let hits = page
                .pointer("/hits/hits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if hits.is_empty() {
                break;
            }
            for hit in &hits {
                if sent == limit {
                    break;
                }
                render_row(&mut chunk, hit, &columns, format);
                sent += 1;
            }
            let chunk = Bytes::from(std::mem::take(&mut chunk));
            if sender.blocking_send(Ok(chunk)).is_err() {
                // The client went away: stop reading.
                return;
            }
            if sent == limit {
                break;
            }
            page = match scroll.next_page(logfleet_store::now_millis()) {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, sent, "an export stopped early");
                    let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
                    return;
                }
            };
        }
        if !chunk.is_empty() {
            let _ = sender.blocking_send(Ok(Bytes::from(chunk)));
        }
    });
    let stream = tokio_stream_from(receiver);
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let file_name = format!(
        "logfleet-export-{}.{extension}",
        logfleet_time::format_epoch_millis(logfleet_store::now_millis()).replace(':', "-")
    );
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        response_headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response_headers.insert("x-logfleet-total", HeaderValue::from(total));
    response_headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("x-logfleet-total"),
    );
    Ok(response)
}

/// The receiving end of a channel as a stream of body chunks.
fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |context| receiver.poll_recv(context))
}

fn parse(body: Option<Value>) -> Result<Export, ApiError> {
    let Some(Value::Object(mut body)) = body else {
        return Err(ApiError::parsing(
            "an export request is a JSON object: {\"index\", \"query\", \"sort\", \"columns\", \
             \"format\", \"limit\"}",
        ));
    };
    let index = match body.remove("index") {
        Some(Value::String(index)) if !index.is_empty() => index,
        None => "_all".to_owned(),
        Some(_) => return Err(ApiError::illegal_argument("[index] must be a string")),
    };
    let columns = match body.remove("columns") {
        None => Vec::new(),
        Some(Value::Array(columns)) => columns
            .into_iter()
            .map(|column| match column {
                Value::String(column) if !column.is_empty() => Ok(column),
                _ => Err(ApiError::illegal_argument(
                    "[columns] must be an array of field names",
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::illegal_argument(
                "[columns] must be an array of field names",
            ));
        }
    };
    let format = match body.remove("format").as_ref().and_then(Value::as_str) {
        None | Some("csv") => Format::Csv,
        Some("ndjson") => Format::Ndjson,
        Some(other) => {
            return Err(ApiError::illegal_argument(format!(
                "unknown export format [{other}]: use csv or ndjson"
            )));
        }
    };
    if format == Format::Csv && columns.is_empty() {
        return Err(ApiError::illegal_argument(
            "a CSV export needs [columns]: the fields to write, in order",
        ));
    }
    let limit = match body.remove("limit") {
        None => DEFAULT_LIMIT,
        Some(limit) => limit
            .as_u64()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                ApiError::illegal_argument(format!(
                    "[limit] must be a whole number between 1 and {MAX_LIMIT}"
                ))
            })?,
    };
    let mut search = Map::new();
    for key in ["query", "sort"] {
        if let Some(value) = body.remove(key) {
            search.insert(key.to_owned(), value);
        }
    }
    if let Some(unknown) = body.keys().next() {
        return Err(ApiError::illegal_argument(format!(
            "unknown field [{unknown}] in an export request"
        )));
    }
    search.insert("size".to_owned(), json!(PAGE_SIZE));
    search.insert("track_total_hits".to_owned(), json!(true));
    let search = SearchRequest::parse(
        Some(&Value::Object(search)),
        &SearchUrlParameters::default(),
    )?;
    Ok(Export {
        index,
        search,
        columns,
        format,
        limit,
    })
}

/// Appends one hit as a row.
fn render_row(out: &mut String, hit: &Value, columns: &[String], format: Format) {
    let source = &hit["_source"];
    match format {
        Format::Csv => {
            for (position, column) in columns.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                let cell = match field_value(hit, source, column) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(text)) => text.clone(),
                    Some(other) => other.to_string(),
                };
                out.push_str(&csv_cell(&cell));
            }
            out.push_str("\r\n");
        }
        Format::Ndjson => {
            let row = if columns.is_empty() {
                source.clone()
            } else {
                let mut row = Map::new();
                for column in columns {
                    if let Some(value) = field_value(hit, source, column) {
                        row.insert(column.clone(), value.clone());
                    }
                }
                Value::Object(row)
            };
            out.push_str(&row.to_string());
            out.push('\n');
        }
    }
}

/// A column's value: `_id` and `_index` from the hit, anything else from the source, where
/// `a.b` is a key `a.b` or the key `b` of an object `a`.
fn field_value<'v>(hit: &'v Value, source: &'v Value, column: &str) -> Option<&'v Value> {
    if matches!(column, "_id" | "_index") {
        return hit.get(column);
    }
    lookup(source, column)
}

fn lookup<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    let mut split = path.match_indices('.');
    split.find_map(|(at, _)| {
        let (head, rest) = (&path[..at], &path[at + 1..]);
        object.get(head).and_then(|inner| lookup(inner, rest))
    })
}

/// A column name in the header row: a plain field name (`@timestamp`, `geo.city_name`)
/// cannot be a formula, whatever its first character, and is written as it is.
fn header_cell(column: &str) -> String {
    let plain = column
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'@' | b'-'));
    if plain {
        column.to_owned()
    } else {
        csv_cell(column)
    }
}

/// One CSV cell: quoted when it must be (RFC 4180), and never a formula.
fn csv_cell(value: &str) -> String {
    let formula = value
        .chars()
        .next()
        .is_some_and(|first| matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r'));
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_when_needed_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-12"), "'-12");
        assert_eq!(header_cell("@timestamp"), "@timestamp");
        assert_eq!(header_cell("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn columns_reach_into_objects_and_dotted_keys() {
        let hit = json!({"_id": "i", "_index": "x", "_source": {
            "geo": {"country_name": "France"}, "http.method": "GET", "n": 4
        }});
        let source = &hit["_source"];
        assert_eq!(
            field_value(&hit, source, "geo.country_name"),
            Some(&json!("France"))
        );
        assert_eq!(
            field_value(&hit, source, "http.method"),
            Some(&json!("GET"))
        );
        assert_eq!(field_value(&hit, source, "_id"), Some(&json!("i")));
        assert_eq!(field_value(&hit, source, "missing.field"), None);
        let mut row = String::new();
        let columns = [
            "n".to_owned(),
            "geo.country_name".to_owned(),
            "gone".to_owned(),
        ];
        render_row(&mut row, &hit, &columns, Format::Csv);
        assert_eq!(row, "4,France,\r\n");
    }

    #[test]
    fn requests_are_checked() {
        assert!(parse(None).is_err());
        assert!(parse(Some(json!({"format": "xlsx", "columns": ["a"]}))).is_err());
        assert!(
            parse(Some(json!({"format": "csv"}))).is_err(),
            "CSV needs columns"
        );
        assert!(parse(Some(json!({"columns": ["a"], "limit": 0}))).is_err());
        assert!(parse(Some(json!({"columns": ["a"], "size": 5}))).is_err());
        let export = parse(Some(json!({"format": "ndjson", "index": "logs-*"}))).unwrap();
        assert_eq!(export.format, Format::Ndjson);
        assert_eq!(export.limit, DEFAULT_LIMIT);
    }
}
