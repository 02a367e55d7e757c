//! `ids`.

use serde_json::{Map, Value};

use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

pub(crate) fn parse_ids(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let mut ids = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "values" => {
                let Value::Array(values) = value else {
                    return Err(QueryError::parsing("[ids] [values] must be an array"));
                };
                for value in values {
                    match value {
                        Value::String(id) => ids.push(id.clone()),
                        Value::Number(number) => ids.push(number.to_string()),
                        _ => {
                            return Err(QueryError::parsing("[ids] [values] must contain strings"));
                        }
                    }
                }
            }
            "boost" | "_name" | "type" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[ids] query does not support [{other}]"
                )));
            }
        }
    }
    Ok(QueryAst::Ids { values: ids })
}
