//! `uri_parts`: a URI split into the ECS `url.*` fields (`scheme`, `domain`, `port`, `path`,
//! `extension`, `query`, `fragment`, `username`, `password`, `user_info`, `original`).
//!
//! As in Elasticsearch, which reads the text as a `java.net.URI` first, the path, query,
//! fragment and user info come out percent-decoded (`?opts=%7B%7D` gives the query `opts={}`).
//! Text that is not a valid URI (a `{` or `|` left unescaped, a `%` not followed by two hex
//! digits) is read as a `java.net.URL` instead, whose parts are not decoded, and which needs a
//! scheme: a relative reference that is not a valid URI cannot be split.

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
    let decoding = is_java_uri(uri);
    if !decoding && scheme.is_none() {
        return Err(invalid());
    }
    let component = |raw: &str| {
        if decoding {
            JsonValue::from(percent_decode(raw))
        } else {
            text(raw)
        }
    };
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
            let user_info = component(user_info);
            let decoded = user_info.as_str().unwrap_or_default().to_owned();
            parts.insert("user_info", user_info);
            let (username, password) = match decoded.split_once(':') {
                Some((username, password)) => (username, Some(password)),
                None => (decoded.as_str(), None),
            };
            parts.insert("username", text(username));
            if let Some(password) = password {
                parts.insert("password", text(password));
            }
        }
    }
    if !path.is_empty() {
        let path = component(path);
        let last = path
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if let Some((_, extension)) = last.rsplit_once('.')
            && !extension.is_empty()
        {
            parts.insert("extension", text(extension));
        }
        parts.insert("path", path);
    }
    if let Some(query) = query {
        parts.insert("query", component(query));
    }
    if let Some(fragment) = fragment {
        parts.insert("fragment", component(fragment));
    }
    Ok(parts)
}

/// Whether `java.net.URI` accepts `text`: only the characters RFC 2396 allows (non-ASCII
/// ones included, as Java does), and every `%` followed by two hex digits.
fn is_java_uri(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let escape = bytes.get(index + 1..index + 3);
            if !escape.is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
            continue;
        }
        let allowed = !byte.is_ascii()
            || byte.is_ascii_alphanumeric()
            || b"-_.!~*'();/?:@&=+$,[]#".contains(&byte);
        if !allowed {
            return false;
        }
        index += 1;
    }
    true
}

/// `%XX` escapes decoded as UTF-8, as `java.net.URI` decodes its components: a sequence that
/// is not UTF-8 becomes U+FFFD; `+` stays a plus (this is not form decoding).
fn percent_decode(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| raw.get(index + 1..index + 3))
            .flatten()
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
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

    #[test]
    fn components_are_percent_decoded_as_java_net_uri_does() {
        // Filebeat's Apache sample: the query comes out decoded, `&amp;` and all.
        let out = run(
            json!({"uri_parts": {"field": "u", "keep_original": false}}),
            json!({"u": "/appl/ajax%20helper.php?cmd=x&amp;opts=%7B%22func%22%3A%22f%22%7D#a%2Fb"}),
        );
        assert_eq!(
            out["url"],
            json!({"path": "/appl/ajax helper.php", "extension": "php",
                   "query": "cmd=x&amp;opts={\"func\":\"f\"}", "fragment": "a/b"})
        );
        let out = run(
            json!({"uri_parts": {"field": "u"}}),
            json!({"u": "https://ann%40corp:p%3Ass@example.com/caf%C3%A9?q=a+b%FF"}),
        );
        assert_eq!(out["url"]["user_info"], "ann@corp:p:ss");
        assert_eq!(out["url"]["username"], "ann@corp");
        assert_eq!(out["url"]["password"], "p:ss");
        assert_eq!(out["url"]["path"], "/café");
        assert_eq!(out["url"]["query"], "q=a+b\u{fffd}");
        // Not a valid URI: read as a URL, whose parts stay as written.
        let out = run(
            json!({"uri_parts": {"field": "u"}}),
            json!({"u": "http://example.com/a%7Cb|c?x=%zz"}),
        );
        assert_eq!(out["url"]["path"], "/a%7Cb|c");
        assert_eq!(out["url"]["query"], "x=%zz");
        // A relative reference must be a valid URI.
        assert_eq!(
            run_error(json!({"uri_parts": {"field": "u"}}), json!({"u": "/a{b}"})),
            "unable to parse URI [/a{b}]"
        );
    }
}
