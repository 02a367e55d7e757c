//! `exists`.

use serde_json::{Map, Value};

use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

pub(crate) fn parse_exists(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let mut field = None;
    for (key, value) in body {
        match key.as_str() {
            "field" => field = value.as_str().map(str::to_owned),
            "boost" | "_name" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[exists] query does not support [{other}]"
                )));
            }
        }
    }
    let field =
        field.ok_or_else(|| QueryError::parsing("[exists] must be provided with a [field]"))?;
    Ok(QueryAst::Exists { field })
}
