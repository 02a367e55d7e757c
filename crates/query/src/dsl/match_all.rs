//! `match_all` and `match_none`.

use serde_json::{Map, Value};

use super::parse_boost;
use crate::ast::QueryAst;
use crate::error::{QueryError, QueryResult};

pub(crate) fn parse_match_all(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    let mut boost = None;
    for (key, value) in body {
        match key.as_str() {
            "boost" => boost = Some(parse_boost("match_all", value)?),
            "_name" => {}
            other => {
                return Err(QueryError::parsing(format!(
                    "[match_all] query does not support [{other}]"
                )));
            }
        }
    }
    Ok(QueryAst::MatchAll.boosted(boost))
}

pub(crate) fn parse_match_none(body: &Map<String, Value>) -> QueryResult<QueryAst> {
    for key in body.keys() {
        if key != "boost" && key != "_name" {
            return Err(QueryError::parsing(format!(
                "[match_none] query does not support [{key}]"
            )));
        }
    }
    Ok(QueryAst::MatchNone)
}

#[cfg(test)]
mod tests {
    use super::super::parse_query;
    use super::*;
    use serde_json::json;

    #[test]
    fn parses() {
        assert_eq!(
            parse_query(&json!({"match_all": {}})).unwrap(),
            QueryAst::MatchAll
        );
        assert_eq!(
            parse_query(&json!({"match_none": {}})).unwrap(),
            QueryAst::MatchNone
        );
        assert!(matches!(
            parse_query(&json!({"match_all": {"boost": 2}})).unwrap(),
            QueryAst::Boost { .. }
        ));
        assert!(parse_query(&json!({"match_all": {"x": 1}})).is_err());
    }
}
