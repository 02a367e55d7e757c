//! The `_bulk` NDJSON format.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::index_name::validate_index_name;

/// Elasticsearch refuses document ids longer than this many bytes.
const MAX_ID_BYTES: usize = 512;

/// What a bulk item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Add or replace a document.
    Index,
    /// Add a document; fail if its id exists.
    Create,
    /// Remove a document by id.
    Delete,
    /// Partially update a document.
    Update,
}

impl BulkAction {
    /// The action's name in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Index => "index",
            BulkAction::Create => "create",
            BulkAction::Delete => "delete",
            BulkAction::Update => "update",
        }
    }

    fn parse(name: &str) -> Option<BulkAction> {
        match name {
            "index" => Some(BulkAction::Index),
            "create" => Some(BulkAction::Create),
            "delete" => Some(BulkAction::Delete),
            "update" => Some(BulkAction::Update),
            _ => None,
        }
    }
}

/// A failure of the request as a whole: nothing in it is executed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct BulkError {
    /// Elasticsearch's error `type`.
    pub kind: &'static str,
    /// Elasticsearch's error `reason`.
    pub reason: String,
}

impl BulkError {
    fn illegal_argument(reason: String) -> BulkError {
        BulkError {
            kind: "illegal_argument_exception",
            reason,
        }
    }

    fn validation(reason: &str) -> BulkError {
        BulkError {
            kind: "action_request_validation_exception",
            reason: format!("Validation Failed: 1: {reason};"),
        }
    }
}

/// A failure of one item, reported in its slot of the response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct ItemError {
    /// Elasticsearch's error `type`.
    pub kind: &'static str,
    /// Elasticsearch's error `reason`.
    pub reason: String,
    /// The HTTP status of the item.
    pub status: u16,
}

/// One decoded item of a bulk request.
#[derive(Debug, Clone)]
pub struct BulkItem<'a> {
    /// The operation.
    pub action: BulkAction,
    /// Target index, data stream or alias, from the action line or the URL.
    pub index: String,
    /// The `_id` given by the client, if any.
    pub id: Option<String>,
    /// The source line, borrowed from the request body (absent for `delete`).
    pub source: Option<&'a [u8]>,
    /// An ingest pipeline named by the action line or the URL.
    pub pipeline: Option<String>,
    /// `if_seq_no` and `if_primary_term`: the write goes ahead only if the document is the
    /// one the client last read.
    pub if_seq_no: Option<u64>,
    /// See `if_seq_no`.
    pub if_primary_term: Option<u64>,
    /// For `update`: how many times to read the document again when it changed meanwhile.
    pub retry_on_conflict: Option<u64>,
    /// 1-based line number of the action line, for messages.
    pub line: usize,
    /// A problem found while decoding that fails this item only.
    pub error: Option<ItemError>,
}

/// Splits a `_bulk` body into items, validating its structure first.
///
/// `default_index` is the `{index}` of `/{index}/_bulk`; `default_pipeline` the `?pipeline=`.
pub fn parse_bulk<'a>(
    body: &'a [u8],
    default_index: Option<&str>,
    default_pipeline: Option<&str>,
) -> Result<Vec<BulkItem<'a>>, BulkError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BulkError::validation("no requests added"));
    }
    if body.last() != Some(&b'\n') {
        return Err(BulkError::illegal_argument(
            "The bulk request must be terminated by a newline [\\n]".to_owned(),
        ));
    }
    let mut lines = NdjsonLines::new(body);
    let mut items = Vec::with_capacity(body.len() / 256 + 1);
    while let Some((line_number, line)) = lines.next_non_empty() {
        let (action, metadata) = parse_action_line(line, line_number)?;
        let index = match metadata.index.or_else(|| default_index.map(str::to_owned)) {
            Some(index) => index,
            None => return Err(BulkError::validation("index is missing")),
        };
        let source = if action == BulkAction::Delete {
            None
        } else {
            match lines.next_line() {
                Some((_, source_line)) => Some(source_line),
                None => {
                    return Err(BulkError::illegal_argument(format!(
                        "action [{}] at line [{line_number}] is not followed by a source line",
                        action.as_str()
                    )));
                }
            }
        };
        let error = item_error(action, &index, metadata.id.as_deref(), source);
        items.push(BulkItem {
            action,
            index,
            id: metadata.id,
            source,
            pipeline: metadata
                .pipeline
                .or_else(|| default_pipeline.map(str::to_owned)),
            if_seq_no: metadata.if_seq_no,
            if_primary_term: metadata.if_primary_term,
            retry_on_conflict: metadata.retry_on_conflict,
            line: line_number,
            error,
        });
    }
    if items.is_empty() {
        return Err(BulkError::validation("no requests added"));
    }
    Ok(items)
}

fn item_error(
    action: BulkAction,
    index: &str,
    id: Option<&str>,
    source: Option<&[u8]>,
) -> Option<ItemError> {
    // A date math name (`<logs-{now/d}>`) is resolved, then validated, where the clock is.
    let date_math = index.starts_with('<') && index.ends_with('>');
    if !date_math && let Err(problem) = validate_index_name(index) {
        return Some(ItemError {
            kind: "invalid_index_name_exception",
            reason: format!("Invalid index name [{index}], {problem}"),
            status: 400,
        });
    }
    if let Some(id) = id {
        if id.is_empty() {
            return Some(ItemError {
                kind: "illegal_argument_exception",
                reason: "if _id is specified it must not be empty".to_owned(),
                status: 400,
            });
        }
        if id.len() > MAX_ID_BYTES {
            return Some(ItemError {
                kind: "illegal_argument_exception",
                reason: format!(
                    "id [{id}] is too long, must be no longer than 512 bytes but was: {}",
                    id.len()
                ),
                status: 400,
            });
        }
    } else if matches!(action, BulkAction::Delete | BulkAction::Update) {
        return Some(ItemError {
            kind: "action_request_validation_exception",
            reason: "Validation Failed: 1: id is missing;".to_owned(),
            status: 400,
        });
    }
    if source.is_some_and(|line| line.iter().all(u8::is_ascii_whitespace)) {
        return Some(ItemError {
            kind: "document_parsing_exception",
            reason: "failed to parse, document is empty".to_owned(),
            status: 400,
        });
    }
    None
}

#[derive(Debug, Default)]
struct ActionMetadata {
    index: Option<String>,
    id: Option<String>,
    pipeline: Option<String>,
    if_seq_no: Option<u64>,
    if_primary_term: Option<u64>,
    retry_on_conflict: Option<u64>,
}

fn parse_action_line(
    line: &[u8],
    line_number: usize,
) -> Result<(BulkAction, ActionMetadata), BulkError> {
    let value: Value = serde_json::from_slice(line).map_err(|error| BulkError {
        kind: "x_content_parse_exception",
        reason: format!("[{line_number}:{}] {error}", error.column()),
    })?;
    let malformed = |expected: &str, found: &str| {
        BulkError::illegal_argument(format!(
            "Malformed action/metadata line [{line_number}], expected {expected} but found [{found}]"
        ))
    };
    let Value::Object(object) = value else {
        return Err(malformed("START_OBJECT", token_name(&value)));
    };
    let mut entries = object.into_iter();
    let Some((action_name, parameters)) = entries.next() else {
        return Err(malformed("FIELD_NAME", "END_OBJECT"));
    };
    let Some(action) = BulkAction::parse(&action_name) else {
        return Err(malformed(
            "field [create], [delete], [index] or [update]",
            &action_name,
        ));
    };
    if let Some((extra, _)) = entries.next() {
        return Err(malformed("END_OBJECT", &format!("FIELD_NAME {extra}")));
    }
    let Value::Object(parameters) = parameters else {
        return Err(malformed("START_OBJECT", token_name(&parameters)));
    };
    Ok((action, parse_action_parameters(parameters, line_number)?))
}

fn parse_action_parameters(
    parameters: Map<String, Value>,
    line_number: usize,
) -> Result<ActionMetadata, BulkError> {
    let mut metadata = ActionMetadata::default();
    for (key, value) in parameters {
        match key.as_str() {
            "_index" => metadata.index = Some(scalar_string(&key, value, line_number)?),
            "_id" => metadata.id = Some(scalar_string(&key, value, line_number)?),
            "pipeline" => metadata.pipeline = Some(scalar_string(&key, value, line_number)?),
            "if_seq_no" => metadata.if_seq_no = Some(non_negative(&key, &value, line_number)?),
            "if_primary_term" => {
                metadata.if_primary_term = Some(non_negative(&key, &value, line_number)?);
            }
            "retry_on_conflict" => {
                metadata.retry_on_conflict = Some(non_negative(&key, &value, line_number)?);
            }
            // Accepted and without effect on a single node, as `_type` is for 7.x shippers.
            "_type"
            | "routing"
            | "require_alias"
            | "require_data_stream"
            | "version"
            | "version_type"
            | "dynamic_templates"
            | "list_executed_pipelines"
            | "_source" => {}
            _ => {
                return Err(BulkError::illegal_argument(format!(
                    "Action/metadata line [{line_number}] contains an unknown parameter [{key}]"
                )));
            }
        }
    }
    Ok(metadata)
}

/// A non-negative number, or a string of one, as the sequence number parameters take.
fn non_negative(key: &str, value: &Value, line_number: usize) -> Result<u64, BulkError> {
    let number = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    number.ok_or_else(|| {
        BulkError::illegal_argument(format!(
            "Action/metadata line [{line_number}] has an invalid [{key}]: [{value}]"
        ))
    })
}

/// Elasticsearch accepts numbers where it expects a string parameter (an `_id` of `1`).
fn scalar_string(key: &str, value: Value, line_number: usize) -> Result<String, BulkError> {
    match value {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(BulkError::illegal_argument(format!(
            "Malformed action/metadata line [{line_number}], expected a simple value for field [{key}] but found [{}]",
            token_name(&other)
        ))),
    }
}

fn token_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// Iterates over `\n`-separated lines with their 1-based numbers, dropping a trailing `\r`.
struct NdjsonLines<'a> {
    rest: &'a [u8],
    line_number: usize,
}

impl<'a> NdjsonLines<'a> {
    fn new(body: &'a [u8]) -> Self {
        NdjsonLines {
            rest: body,
            line_number: 0,
        }
    }

    fn next_line(&mut self) -> Option<(usize, &'a [u8])> {
        if self.rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', self.rest).unwrap_or(self.rest.len());
        let mut line = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        self.line_number += 1;
        Some((self.line_number, line))
    }

    /// Blank lines between items are tolerated, as Elasticsearch does.
    fn next_non_empty(&mut self) -> Option<(usize, &'a [u8])> {
        loop {
            let (number, line) = self.next_line()?;
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some((number, line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<BulkItem<'_>>, BulkError> {
        parse_bulk(body.as_bytes(), None, None)
    }

    #[test]
    fn decodes_every_action() {
        let body = concat!(
            "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n",
            "{\"create\":{\"_index\":\"b\"}}\n{\"x\":2}\n",
            "{\"delete\":{\"_index\":\"a\",\"_id\":1}}\n",
            "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"x\":3}}\n",
        );
        let items = parse(body).unwrap();
        let actions: Vec<_> = items.iter().map(|item| item.action).collect();
        assert_eq!(
            actions,
            [
                BulkAction::Index,
                BulkAction::Create,
                BulkAction::Delete,
                BulkAction::Update
            ]
        );
        assert_eq!(items[0].source, Some(&b"{\"x\":1}"[..]));
        assert_eq!(items[2].id.as_deref(), Some("1"));
        assert_eq!(items[2].source, None);
        assert_eq!(items[3].line, 6);
        assert!(items.iter().all(|item| item.error.is_none()));
    }

    #[test]
    fn url_index_is_the_default() {
        let items = parse_bulk(b"{\"index\":{}}\n{}\n", Some("logs"), Some("p")).unwrap();
        assert_eq!(items[0].index, "logs");
        assert_eq!(items[0].pipeline.as_deref(), Some("p"));
    }

    #[test]
    fn crlf_and_blank_lines_are_tolerated() {
        let items = parse("\n{\"index\":{\"_index\":\"a\"}}\r\n{\"x\":1}\r\n\n").unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].source, Some(&b"{\"x\":1}"[..]));
    }

    #[test]
    fn missing_trailing_newline_rejects_the_request() {
        let error = parse("{\"index\":{\"_index\":\"a\"}}\n{}").unwrap_err();
        assert_eq!(error.kind, "illegal_argument_exception");
        assert!(error.reason.contains("terminated by a newline"));
    }

    #[test]
    fn unknown_action_rejects_the_request() {
        let error = parse("{\"upsert\":{\"_index\":\"a\"}}\n{}\n").unwrap_err();
        assert_eq!(error.kind, "illegal_argument_exception");
        assert!(
            error.reason.contains("but found [upsert]"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn malformed_action_line_rejects_the_request() {
        let body = "{\"index\":{}}\n{}\n{\"index\": oops}\n{}\n";
        let error = parse_bulk(body.as_bytes(), Some("a"), None).unwrap_err();
        assert_eq!(error.kind, "x_content_parse_exception");
        assert!(error.reason.starts_with("[3:"), "{}", error.reason);
        let error = parse("\"index\"\n{}\n").unwrap_err();
        assert!(
            error
                .reason
                .contains("expected START_OBJECT but found [VALUE_STRING]")
        );
    }

    #[test]
    fn action_without_source_rejects_the_request() {
        let error = parse("{\"index\":{\"_index\":\"a\"}}\n").unwrap_err();
        assert!(
            error.reason.contains("not followed by a source line"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn missing_index_rejects_the_request() {
        let error = parse("{\"index\":{}}\n{}\n").unwrap_err();
        assert_eq!(error.kind, "action_request_validation_exception");
        assert_eq!(error.reason, "Validation Failed: 1: index is missing;");
    }

    #[test]
    fn empty_body_is_a_validation_error() {
        assert_eq!(
            parse("").unwrap_err().reason,
            "Validation Failed: 1: no requests added;"
        );
        assert_eq!(
            parse("\n\n").unwrap_err().kind,
            "action_request_validation_exception"
        );
    }

    #[test]
    fn unknown_metadata_parameter_rejects_the_request() {
        let error = parse("{\"index\":{\"_index\":\"a\",\"colour\":1}}\n{}\n").unwrap_err();
        assert!(error.reason.contains("unknown parameter [colour]"));
        parse("{\"index\":{\"_index\":\"a\",\"_type\":\"_doc\"}}\n{}\n").unwrap();
    }

    #[test]
    fn per_item_problems_fail_the_item_only() {
        let body = concat!(
            "{\"index\":{\"_index\":\"Bad\"}}\n{}\n",
            "{\"index\":{\"_index\":\"ok\"}}\n \n",
            "{\"delete\":{\"_index\":\"ok\"}}\n",
            "{\"index\":{\"_index\":\"ok\",\"_id\":\"\"}}\n{}\n",
            "{\"index\":{\"_index\":\"ok\"}}\n{\"fine\":true}\n",
        );
        let items = parse(body).unwrap();
        assert_eq!(
            items[0].error.as_ref().unwrap().kind,
            "invalid_index_name_exception"
        );
        assert_eq!(
            items[1].error.as_ref().unwrap().kind,
            "document_parsing_exception"
        );
        assert_eq!(
            items[2].error.as_ref().unwrap().reason,
            "Validation Failed: 1: id is missing;"
        );
        assert_eq!(
            items[3].error.as_ref().unwrap().kind,
            "illegal_argument_exception"
        );
        assert!(items[4].error.is_none());
    }

    #[test]
    fn overlong_id_fails_the_item() {
        let body = format!(
            "{{\"index\":{{\"_index\":\"a\",\"_id\":\"{}\"}}}}\n{{}}\n",
            "x".repeat(513)
        );
        let items = parse(&body).unwrap();
        assert!(items[0].error.as_ref().unwrap().reason.contains("too long"));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_bulk(&body, Some("default"), None);
            }

            #[test]
            fn well_formed_bodies_keep_every_item(sources in proptest::collection::vec("[a-z]{1,10}", 1..50)) {
                let mut body = String::new();
                for source in &sources {
                    body.push_str("{\"create\":{\"_index\":\"logs\"}}\n");
                    body.push_str(&format!("{{\"message\":\"{source}\"}}\n"));
                }
                let items = parse_bulk(body.as_bytes(), None, None).unwrap();
                prop_assert_eq!(items.len(), sources.len());
                for (item, source) in items.iter().zip(&sources) {
                    let expected = format!("{{\"message\":\"{source}\"}}");
                    prop_assert_eq!(item.source, Some(expected.as_bytes()));
                }
            }
        }
    }

    #[test]
    fn invalid_utf8_in_an_action_line_rejects_the_request() {
        let error = parse_bulk(b"{\"index\":{\"_index\":\"\xff\"}}\n{}\n", None, None).unwrap_err();
        assert_eq!(error.kind, "x_content_parse_exception");
    }
}
