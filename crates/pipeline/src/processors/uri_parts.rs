//! `uri_parts`: a URI split into the ECS `url.*` fields (`scheme`, `domain`, `port`, `path`,
//! `extension`, `query`, `fragment`, `username`, `password`, `user_info`, `original`).

use logfleet_model::json::{JsonObject, JsonValue};
use serde_json::Number;

use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Splits a URI.
#[derive(Debug)]
pub struct UriParts {
    field: String,
    target_field: String,
    keep_original: bool,
    remove_if_successful: bool,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<UriParts, ConfigError> {
    let field = config.string("field")?;
    let target_field = config
        .optional_string("target_field")?
        .unwrap_or_else(|| "url".to_owned());
    let keep_original = config.boolean("keep_original", true)?;
    let remove_if_successful = config.boolean("remove_if_successful", false)?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    config.finish()?;
    Ok(UriParts {
        field,
        target_field,
        keep_original,
        remove_if_successful,
        ignore_missing,
    })
}

/// The parts of `uri`, or why it is not one.
pub fn parse(uri: &str) -> Result<JsonObject<'static>, String> {
    let invalid = || format!("unable to parse URI [{uri}]");
    let mut parts = JsonObject::default();
    let text = |value: &str| JsonValue::from(value);
    let (rest, fragment) = match uri.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (uri, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme.chars().all(|character| {
                    character.is_ascii_alphanumeric() || "+-.".contains(character)
                }) =>
        {
            (Some(scheme), rest)
        }
        Some(_) => return Err(invalid()),
        None => (None, rest),
    };
    let (authority, path) = if scheme.is_some() {
        match rest.find('/') {
            Some(at) => (Some(&rest[..at]), &rest[at..]),
            None => (Some(rest), ""),
        }
    } else {
        (None, rest)
    };
    if path.chars().any(|character| character.is_whitespace()) {
        return Err(invalid());
    }
    if let Some(scheme) = scheme {
        parts.insert("scheme", text(scheme));
    }
    if let Some(authority) = authority {
        let (user_info, host_port) = match authority.rsplit_once('@') {
            Some((user_info, host_port)) => (Some(user_info), host_port),
            None => (None, authority),
        };
        let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
            let end = rest.find(']').ok_or_else(invalid)?;
            (&rest[..end], rest[end + 1..].strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(invalid());
        }
        parts.insert("domain", text(host));
        if let Some(port) = port.filter(|port| !port.is_empty()) {
            let port: u16 = port.parse().map_err(|_| invalid())?;
            parts.insert("port", JsonValue::Number(Number::from(port)));
        }
        if let Some(user_info) = user_info {
            parts.insert("user_info", text(user_info));
            let (username, password) = match user_info.split_once(':') {
                Some((username, password)) => (username, Some(password)),
                None => (user_info, None),
            };
            parts.insert("username", text(username));
            if let Some(password) = password {
                parts.insert("password", text(password));
            }
        }
    }
    if !path.is_empty() {
        parts.insert("path", text(path));
        let last = path.rsplit('/').next().unwrap_or_default();
        if let Some((_, extension)) = last.rsplit_once('.')
            && !extension.is_empty()
        {
            parts.insert("extension", text(extension));
        }
    }
    if let Some(query) = query {
        parts.insert("query", text(query));
    }
    if let Some(fragment) = fragment {
        parts.insert("fragment", text(fragment));
    }
    Ok(parts)
}

impl Processor for UriParts {
    fn kind(&self) -> &'static str {
        "uri_parts"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "uri_parts")?
        else {
            return Ok(Flow::Continue);
        };
        let uri = expect_string(&value, &self.field)?.to_owned();
        let mut parts = parse(&uri).map_err(PipelineError::illegal_argument)?;
        if self.keep_original {
            parts.insert("original", JsonValue::from(uri));
        }
        if self.remove_if_successful && self.field != self.target_field {
            document.remove(&self.field)?;
        }
        // Merged into an existing object at the target, as Elasticsearch does.
        for (key, value) in parts.iter() {
            document.set(&format!("{}.{key}", self.target_field), value.clone())?;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn splits_uris() {
        let out = run(
            json!({"uri_parts": {"field": "u"}}),
            json!({"u": "http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment"}),
        );
        assert_eq!(
            out["url"],
            json!({
                "scheme": "http", "domain": "www.example.com", "port": 80,
                "user_info": "myusername:mypassword", "username": "myusername", "password": "mypassword",
                "path": "/foo.gif", "extension": "gif", "query": "key1=val1&key2=val2",
                "fragment": "fragment",
                "original": "http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment"
            })
        );
        let out = run(
            json!({"uri_parts": {"field": "u", "keep_original": false, "remove_if_successful": true}}),
            json!({"u": "/api/users/?page=2"}),
        );
        assert_eq!(
            out,
            json!({"url": {"path": "/api/users/", "query": "page=2"}})
        );
        let out = run(
            json!({"uri_parts": {"field": "u"}}),
            json!({"u": "https://[::1]:8443/"}),
        );
        assert_eq!(out["url"]["domain"], "::1");
        assert_eq!(out["url"]["port"], 8443);
        assert!(
            run_error(
                json!({"uri_parts": {"field": "u"}}),
                json!({"u": "http://host:99999/"})
            )
            .contains("unable to parse URI")
        );
    }
}
