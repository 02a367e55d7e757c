//! `dissect`: a string split by the delimiters of a pattern, without regular expressions.
//!
//! `%{key}` takes the text up to the next delimiter; `%{key->}` also skips repeats of the
//! delimiter after it; `%{+key}` appends to a key (`%{+key/2}` in an order); `%{?key}` and
//! `%{}` skip; `%{*name}` and `%{&name}` make a field named by one capture with the value of
//! another.

use logfleet_model::json::JsonValue;

use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Dissects a field.
#[derive(Debug)]
pub struct Dissect {
    field: String,
    pattern: String,
    prefix: String,
    keys: Vec<Key>,
    append_separator: String,
    ignore_missing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Modifier {
    None,
    Append(u32),
    Skip,
    NameOf,
    ValueOf,
}

#[derive(Debug, Clone)]
struct Key {
    name: String,
    modifier: Modifier,
    right_padding: bool,
    /// The text after the key, up to the next key; empty for a last key.
    delimiter: String,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Dissect, ConfigError> {
    let field = config.string("field")?;
    let pattern = config.string("pattern")?;
    let append_separator = config
        .optional_string("append_separator")?
        .unwrap_or_default();
    let ignore_missing = config.boolean("ignore_missing", false)?;
    let (prefix, keys) = parse(&pattern).map_err(|reason| config.error("pattern", reason))?;
    config.finish()?;
    Ok(Dissect {
        field,
        pattern,
        prefix,
        keys,
        append_separator,
        ignore_missing,
    })
}

fn parse(pattern: &str) -> Result<(String, Vec<Key>), String> {
    let Some(first) = pattern.find("%{") else {
        return Err(format!(
            "Unable to find any keys or delimiters for pattern [{pattern}]"
        ));
    };
    let prefix = pattern[..first].to_owned();
    let mut keys = Vec::new();
    let mut rest = &pattern[first..];
    while let Some(body) = rest.strip_prefix("%{") {
        let end = body
            .find('}')
            .ok_or_else(|| format!("Unable to parse pattern [{pattern}]: unclosed %{{"))?;
        let mut inner = &body[..end];
        rest = &body[end + 1..];
        let delimiter_end = rest.find("%{").unwrap_or(rest.len());
        let delimiter = rest[..delimiter_end].to_owned();
        rest = &rest[delimiter_end..];
        let right_padding = inner.ends_with("->");
        if right_padding {
            inner = &inner[..inner.len() - 2];
        }
        let (modifier, name) = match inner.chars().next() {
            Some('+') => {
                let body = &inner[1..];
                match body.split_once('/') {
                    Some((name, order)) => (
                        Modifier::Append(
                            order
                                .parse()
                                .map_err(|_| format!("invalid append order in [{pattern}]"))?,
                        ),
                        name,
                    ),
                    None => (Modifier::Append(0), body),
                }
            }
            Some('?') => (Modifier::Skip, &inner[1..]),
            Some('*') => (Modifier::NameOf, &inner[1..]),
            Some('&') => (Modifier::ValueOf, &inner[1..]),
            None => (Modifier::Skip, ""),
            Some(_) => (Modifier::None, inner),
        };
        keys.push(Key {
            name: name.to_owned(),
            modifier,
            right_padding,
            delimiter,
        });
    }
    if keys.iter().all(|key| key.modifier == Modifier::Skip) {
        return Err(format!("Unable to find any keys for pattern [{pattern}]"));
    }
    Ok((prefix, keys))
}

impl Dissect {
    fn dissect<'t>(&self, text: &'t str) -> Option<Vec<(&Key, &'t str)>> {
        let mut rest = text.strip_prefix(self.prefix.as_str())?;
        let mut values = Vec::with_capacity(self.keys.len());
        for (index, key) in self.keys.iter().enumerate() {
            let last = index + 1 == self.keys.len();
            if key.delimiter.is_empty() {
                if last {
                    values.push((key, rest));
                    rest = "";
                    continue;
                }
                // Two keys with nothing between them: the first takes nothing.
                values.push((key, ""));
                continue;
            }
            let at = rest.find(key.delimiter.as_str())?;
            values.push((key, &rest[..at]));
            rest = &rest[at + key.delimiter.len()..];
            if key.right_padding {
                while let Some(more) = rest.strip_prefix(key.delimiter.as_str()) {
                    rest = more;
                }
            }
        }
        // Text left after the last delimiter belongs to no key: Elasticsearch fails then too,
        // unless the pattern ends with a key.
        if !rest.is_empty() {
            return None;
        }
        Some(values)
    }
}

impl Processor for Dissect {
    fn kind(&self) -> &'static str {
        "dissect"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "dissect")? else {
            return Ok(Flow::Continue);
        };
        let text = expect_string(&value, &self.field)?.to_owned();
        let Some(values) = self.dissect(&text) else {
            return Err(PipelineError::new(
                "dissect_exception",
                format!(
                    "Unable to find match for dissect pattern: {} against source: {text}",
                    self.pattern
                ),
            ));
        };
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut appends: Vec<(&str, u32, usize, &str)> = Vec::new();
        let mut names: Vec<(&str, &str)> = Vec::new();
        let mut referenced: Vec<(&str, &str)> = Vec::new();
        for (position, (key, value)) in values.into_iter().enumerate() {
            match key.modifier {
                Modifier::None => fields.push((key.name.clone(), value.to_owned())),
                Modifier::Append(order) => appends.push((&key.name, order, position, value)),
                Modifier::Skip => {}
                Modifier::NameOf => names.push((&key.name, value)),
                Modifier::ValueOf => referenced.push((&key.name, value)),
            }
        }
        appends.sort_by_key(|(_, order, position, _)| (*order, *position));
        let mut appended: Vec<(String, Vec<&str>)> = Vec::new();
        for (name, _, _, value) in appends {
            match appended.iter_mut().find(|(existing, _)| existing == name) {
                Some((_, parts)) => parts.push(value),
                None => appended.push((name.to_owned(), vec![value])),
            }
        }
        for (name, parts) in appended {
            fields.push((name, parts.join(&self.append_separator)));
        }
        for (reference, field_name) in names {
            if let Some((_, value)) = referenced.iter().find(|(name, _)| *name == reference) {
                fields.push((field_name.to_owned(), (*value).to_owned()));
            }
        }
        for (field, value) in fields {
            document.set(&field, JsonValue::from(value))?;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::json;

    fn dissect(pattern: &str, text: &str) -> serde_json::Value {
        run(
            json!({"dissect": {"field": "m", "pattern": pattern, "append_separator": " "}}),
            json!({"m": text}),
        )
    }

    #[test]
    fn splits_by_delimiters() {
        let out = dissect(
            "%{clientip} %{ident} %{auth} [%{@timestamp}] \"%{verb} %{request} HTTP/%{httpversion}\" %{status} %{size}",
            "1.2.3.4 - - [30/Apr/1998:22:00:52 +0000] \"GET /english/venues/cities/images/montpellier/18.gif HTTP/1.0\" 200 3171",
        );
        assert_eq!(out["clientip"], "1.2.3.4");
        assert_eq!(out["@timestamp"], "30/Apr/1998:22:00:52 +0000");
        assert_eq!(
            out["request"],
            "/english/venues/cities/images/montpellier/18.gif"
        );
        assert_eq!(out["size"], "3171");
    }

    #[test]
    fn modifiers() {
        let out = dissect("%{ts->} %{level}", "1998-08-10T17:15:42,466          WARN");
        assert_eq!(out["ts"], "1998-08-10T17:15:42,466");
        assert_eq!(out["level"], "WARN");
        let out = dissect(
            "%{+name} %{+name} %{?skip} %{+name}",
            "john jacob x schmidt",
        );
        assert_eq!(out["name"], "john jacob schmidt");
        let out = dissect("%{+name/2} %{+name/1}", "b a");
        assert_eq!(out["name"], "a b");
        let out = dissect(
            "[%{ts}] [%{level}] %{*p1}:%{&p1}",
            "[2018-08-10] [ERROR] service:foo",
        );
        assert_eq!(out["service"], "foo");
        assert!(out.get("skip").is_none());
    }

    #[test]
    fn failures() {
        let error = run_error(
            json!({"dissect": {"field": "m", "pattern": "%{a} %{b}"}}),
            json!({"m": "nospace"}),
        );
        assert_eq!(
            error,
            "Unable to find match for dissect pattern: %{a} %{b} against source: nospace"
        );
        assert!(
            build_error(json!({"dissect": {"field": "m", "pattern": "no keys"}}))
                .contains("Unable to find any keys")
        );
    }
}
