//! Mustache templates in processor options, as Elasticsearch's ingest renders them:
//! `{{field.path}}` (JSON-escaped), `{{{field.path}}}` (as it is), `{{_ingest.timestamp}}`,
//! comments `{{! … }}`. A value without `{{` is a constant and costs nothing to render.
//!
//! Sections and partials are refused when the pipeline is stored: ingest pipelines do not
//! use them, and a template that silently rendered them wrong would corrupt documents.

use std::borrow::Cow;

use logfleet_model::json::JsonValue;

use crate::document::IngestDocument;

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A field, JSON-escaped (`{{…}}`) or raw (`{{{…}}}`).
    Field {
        path: String,
        escape: bool,
    },
}

impl Template {
    /// Compiles `source`; the error says what is not supported.
    pub fn compile(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start..];
            let (inner, escape, length) = if let Some(body) = after.strip_prefix("{{{") {
                let end = body
                    .find("}}}")
                    .ok_or_else(|| format!("unclosed tag in template [{source}]"))?;
                (&body[..end], false, end + 6)
            } else {
                let body = &after[2..];
                let end = body
                    .find("}}")
                    .ok_or_else(|| format!("unclosed tag in template [{source}]"))?;
                (&body[..end], true, end + 4)
            };
            let inner = inner.trim();
            match inner.chars().next() {
                Some('!') => {}
                Some('&') => parts.push(Part::Field {
                    path: inner[1..].trim().to_owned(),
                    escape: false,
                }),
                Some('#' | '^' | '/' | '>' | '=') => {
                    return Err(format!(
                        "mustache sections, partials and delimiters are not supported in \
                         ingest templates: [{{{{{inner}}}}}] in [{source}]"
                    ));
                }
                Some(_) => parts.push(Part::Field {
                    path: inner.to_owned(),
                    escape,
                }),
                None => return Err(format!("empty tag in template [{source}]")),
            }
            rest = &after[length..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// Whether the template has no fields: it always renders to the same text.
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|part| matches!(part, Part::Text(_)))
    }

    /// The text of a constant template.
    pub fn constant(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// Renders against `document`; a missing field renders as nothing, as in Mustache.
    pub fn render<'t>(&'t self, document: &IngestDocument<'_>) -> Cow<'t, str> {
        if let Some(constant) = self.constant() {
            return Cow::Borrowed(constant);
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field { path, escape } => {
                    let Ok(Some(value)) = document.get(path) else {
                        continue;
                    };
                    let text = display(&value);
                    if *escape {
                        escape_json(&text, &mut out);
                    } else {
                        out.push_str(&text);
                    }
                }
            }
        }
        Cow::Owned(out)
    }
}

/// A value as Mustache prints it in Elasticsearch: strings as they are, numbers and booleans
/// as text, lists and maps in Java's `toString` form.
pub fn display(value: &JsonValue<'_>) -> String {
    match value {
        JsonValue::Null => String::new(),
        JsonValue::Bool(flag) => flag.to_string(),
        JsonValue::Number(number) => number.to_string(),
        JsonValue::String(text) => text.as_ref().to_owned(),
        JsonValue::Array(items) => {
            let items: Vec<String> = items.iter().map(display).collect();
            format!("[{}]", items.join(", "))
        }
        JsonValue::Object(object) => {
            let members: Vec<String> = object
                .iter()
                .map(|(key, value)| format!("{key}={}", display(value)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
    }
}

fn escape_json(text: &str, out: &mut String) {
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", control as u32));
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logfleet_model::json::JsonObject;

    #[test]
    fn renders_fields_escaped_and_raw() {
        let source =
            JsonObject::from_slice(br#"{"user":{"name":"a\"b"},"n":3,"tags":["x","y"]}"#).unwrap();
        let mut document = IngestDocument::new("logs", source);
        document
            .set("_ingest.timestamp", JsonValue::from("2026-12-07T10:00:00Z"))
            .unwrap();
        let render = |source: &str| {
            Template::compile(source)
                .unwrap()
                .render(&document)
                .into_owned()
        };
        assert_eq!(render("{{user.name}}"), r#"a\"b"#);
        assert_eq!(render("{{{user.name}}}"), r#"a"b"#);
        assert_eq!(render("{{& user.name}}"), r#"a"b"#);
        assert_eq!(
            render("n={{n}} {{! note }}at {{_ingest.timestamp}}"),
            "n=3 at 2026-12-07T10:00:00Z"
        );
        assert_eq!(render("{{missing}}-"), "-");
        assert_eq!(render("{{tags}}"), "[x, y]");
        assert!(Template::compile("plain").unwrap().is_constant());
    }

    #[test]
    fn refuses_what_it_cannot_render() {
        assert!(Template::compile("{{#list}}x{{/list}}").is_err());
        assert!(Template::compile("{{open").is_err());
    }
}
