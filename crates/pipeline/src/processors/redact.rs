//! `redact`: what grok patterns match in a field replaced by the pattern's capture name, so
//! that `%{EMAILADDRESS:EMAIL}` turns `mail bob@example.com` into `mail <EMAIL>`. Secrets,
//! addresses and card numbers are removed before the document is stored.

use logfleet_model::json::JsonValue;

use super::grok::{Expression, read_patterns};
use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::resources::Resources;

/// Redacts what patterns match.
#[derive(Debug)]
pub struct Redact {
    field: String,
    expressions: Vec<Expression>,
    prefix: String,
    suffix: String,
    trace_redact: bool,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig, resources: &Resources) -> Result<Redact, ConfigError> {
    let field = config.string("field")?;
    let (patterns, definitions) = read_patterns(&mut config)?;
    let prefix = config
        .optional_string("prefix")?
        .unwrap_or_else(|| "<".to_owned());
    let suffix = config
        .optional_string("suffix")?
        .unwrap_or_else(|| ">".to_owned());
    let ignore_missing = config.boolean("ignore_missing", false)?;
    // Redaction is not a paid feature here: the option is accepted and changes nothing.
    config.boolean("skip_if_unlicensed", false)?;
    let trace_redact = config.boolean("trace_redact", false)?;
    let expressions = patterns
        .iter()
        .map(|pattern| {
            Expression::compile(pattern, &resources.grok_patterns, &definitions, false)
                .map_err(|reason| config.error("patterns", reason))
        })
        .collect::<Result<Vec<_>, _>>()?;
    config.finish()?;
    Ok(Redact {
        field,
        expressions,
        prefix,
        suffix,
        trace_redact,
        ignore_missing,
    })
}

impl Redact {
    /// `text` with every match replaced, or `None` when nothing matched.
    pub fn redact(&self, text: &str) -> Result<Option<String>, PipelineError> {
        let mut spans = Vec::new();
        for expression in &self.expressions {
            spans.extend(expression.capture_spans(text)?);
        }
        if spans.is_empty() {
            return Ok(None);
        }
        // Longest first at each start, then drop spans inside one already taken.
        spans.sort_by(|left, right| left.0.cmp(&right.0).then(right.1.cmp(&left.1)));
        let mut out = String::with_capacity(text.len());
        let mut position = 0;
        for (start, end, name) in spans {
            if start < position {
                continue;
            }
            out.push_str(&text[position..start]);
            out.push_str(&self.prefix);
            out.push_str(name);
            out.push_str(&self.suffix);
            position = end;
        }
        out.push_str(&text[position..]);
        Ok(Some(out))
    }
}

impl Processor for Redact {
    fn kind(&self) -> &'static str {
        "redact"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "redact")? else {
            return Ok(Flow::Continue);
        };
        let text = expect_string(&value, &self.field)?;
        let redacted = self.redact(text)?;
        let changed = redacted.is_some();
        if let Some(redacted) = redacted {
            document.set(&self.field, JsonValue::from(redacted))?;
        }
        if self.trace_redact {
            document.set("_ingest._redact._is_redacted", JsonValue::Bool(changed))?;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, try_run};
    use serde_json::json;

    #[test]
    fn replaces_matches_with_their_names() {
        let out = run(
            json!({"redact": {"field": "m", "patterns": ["%{EMAILADDRESS:EMAIL}", "%{IP:CLIENT}"]}}),
            json!({"m": "55.3.244.1 GET /index.html 15824 0.043 test@elastic.co"}),
        );
        assert_eq!(out["m"], "<CLIENT> GET /index.html 15824 0.043 <EMAIL>");
        let out = run(
            json!({"redact": {"field": "m", "patterns": ["%{CARD:CARD}"], "pattern_definitions": {"CARD": "\\b\\d{4}(?:[ -]?\\d{4}){3}\\b"}, "prefix": "[", "suffix": "]"}}),
            json!({"m": "paid with 4111 1111 1111 1111 today"}),
        );
        assert_eq!(out["m"], "paid with [CARD] today");
        let (_, document) = try_run(
            json!({"redact": {"field": "m", "patterns": ["%{IP:IP}"], "trace_redact": true}}),
            json!({"m": "nothing"}),
        )
        .unwrap();
        assert_eq!(
            document.ingest.get("_redact").unwrap().to_string(),
            r#"{"_is_redacted":false}"#
        );
    }
}
