//! `gsub`: every match of a regular expression replaced.

use regex::Regex;

use super::strings::StringField;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Replaces matches of a pattern.
#[derive(Debug)]
pub struct Gsub {
    field: StringField,
    pattern: Regex,
    replacement: String,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Gsub, ConfigError> {
    let field = StringField::read(&mut config)?;
    let pattern = config.string("pattern")?;
    let pattern = Regex::new(&pattern)
        .map_err(|error| config.error("pattern", format!("Invalid regex pattern. {error}")))?;
    let replacement = java_replacement(&config.string("replacement")?);
    config.finish()?;
    Ok(Gsub {
        field,
        pattern,
        replacement,
    })
}

/// Java's `$1` group references, written as the regex crate's `${1}`.
fn java_replacement(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len());
    let mut characters = replacement.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' => {
                if let Some(escaped) = characters.next() {
                    if escaped == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(escaped);
                    }
                }
            }
            '$' => {
                let mut digits = String::new();
                while let Some(digit) = characters.peek().filter(|next| next.is_ascii_digit()) {
                    digits.push(*digit);
                    characters.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl Processor for Gsub {
    fn kind(&self) -> &'static str {
        "gsub"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        self.field.apply(document, "gsub", |text| {
            Ok(self
                .pattern
                .replace_all(text, self.replacement.as_str())
                .into_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run};
    use serde_json::json;

    #[test]
    fn replaces_with_groups() {
        let out = run(
            json!({"gsub": {"field": "a", "pattern": "\\.", "replacement": "-"}}),
            json!({"a": "1.2.3"}),
        );
        assert_eq!(out["a"], "1-2-3");
        let out = run(
            json!({"gsub": {"field": "a", "pattern": "(\\w+)@(\\w+)", "replacement": "$2 at $1"}}),
            json!({"a": "me@host"}),
        );
        assert_eq!(out["a"], "host at me");
        assert!(
            build_error(json!({"gsub": {"field": "a", "pattern": "(", "replacement": ""}}))
                .starts_with("[pattern] Invalid regex pattern")
        );
    }
}
