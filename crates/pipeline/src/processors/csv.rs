//! `csv`: one line of CSV split into fields (RFC 4180 quoting, a configurable separator and
//! quote).

use logfleet_model::json::JsonValue;

use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Splits CSV.
#[derive(Debug)]
pub struct Csv {
    field: String,
    target_fields: Vec<String>,
    separator: char,
    quote: char,
    trim: bool,
    empty_value: Option<JsonValue<'static>>,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Csv, ConfigError> {
    let field = config.string("field")?;
    let target_fields = config.strings("target_fields", true)?;
    if target_fields.is_empty() {
        return Err(config.error("target_fields", "target fields list can't be empty"));
    }
    let mut single = |name: &str, default: char| -> Result<char, ConfigError> {
        match config.optional_string(name)? {
            None => Ok(default),
            Some(text) if text.chars().count() == 1 => Ok(text.chars().next().unwrap_or(default)),
            Some(_) => Err(config.error(
                name,
                format!("{name} has to be single character like \" or '"),
            )),
        }
    };
    let separator = single("separator", ',')?;
    let quote = single("quote", '"')?;
    let trim = config.boolean("trim", false)?;
    let empty_value = config.take("empty_value").map(JsonValue::from_value);
    let ignore_missing = config.boolean("ignore_missing", false)?;
    config.finish()?;
    Ok(Csv {
        field,
        target_fields,
        separator,
        quote,
        trim,
        empty_value,
        ignore_missing,
    })
}

/// The cells of `line`, or why it is not valid CSV.
fn split(line: &str, separator: char, quote: char, trim: bool) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut characters = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(character) = characters.next() {
        if quoted {
            if character == quote {
                if characters.peek() == Some(&quote) {
                    cell.push(quote);
                    characters.next();
                } else {
                    quoted = false;
                }
            } else {
                cell.push(character);
            }
        } else if character == quote && (cell.is_empty() || (trim && cell.trim().is_empty())) {
            cell.clear();
            quoted = true;
            was_quoted = true;
        } else if character == separator {
            cells.push(finish(std::mem::take(&mut cell), trim, was_quoted));
            was_quoted = false;
        } else if was_quoted {
            // Only whitespace may follow a closing quote, and only when trimming, which
            // drops it: the quotes delimit the value.
            if !(trim && character.is_whitespace()) {
                return Err(format!("Illegal character after closing quote in [{line}]"));
            }
        } else {
            cell.push(character);
        }
    }
    if quoted {
        return Err(format!("Unmatched quote in [{line}]"));
    }
    cells.push(finish(cell, trim, was_quoted));
    Ok(cells)
}

fn finish(cell: String, trim: bool, quoted: bool) -> String {
    if trim && !quoted {
        cell.trim().to_owned()
    } else {
        cell
    }
}

impl Processor for Csv {
    fn kind(&self) -> &'static str {
        "csv"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "csv")? else {
            return Ok(Flow::Continue);
        };
        let line = expect_string(&value, &self.field)?;
        let cells = split(line, self.separator, self.quote, self.trim)
            .map_err(PipelineError::illegal_argument)?;
        for (target, cell) in self.target_fields.iter().zip(cells) {
            if cell.is_empty() {
                if let Some(empty) = &self.empty_value {
                    document.set(target, empty.clone())?;
                }
                continue;
            }
            document.set(target, JsonValue::from(cell))?;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn splits_lines() {
        let out = run(
            json!({"csv": {"field": "line", "target_fields": ["a", "b.c", "d", "e"], "empty_value": "none"}}),
            json!({"line": "x,\"y, \"\"quoted\"\"\",,z"}),
        );
        assert_eq!(out["a"], "x");
        assert_eq!(out["b"]["c"], "y, \"quoted\"");
        assert_eq!(out["d"], "none");
        assert_eq!(out["e"], "z");
        let out = run(
            json!({"csv": {"field": "line", "target_fields": ["a", "b"], "separator": ";", "trim": true}}),
            json!({"line": " 1 ; 2 ;3"}),
        );
        assert_eq!(out["a"], "1");
        assert_eq!(out["b"], "2");
        assert!(
            run_error(
                json!({"csv": {"field": "line", "target_fields": ["a"]}}),
                json!({"line": "\"open"})
            )
            .contains("Unmatched quote")
        );
    }

    #[test]
    fn trimming_drops_whitespace_after_a_closing_quote() {
        let out = run(
            json!({"csv": {"field": "line", "target_fields": ["a", "b"], "trim": true}}),
            json!({"line": "\"two, three\"  , 4"}),
        );
        assert_eq!(out["a"], "two, three");
        assert_eq!(out["b"], "4");
        assert!(
            run_error(
                json!({"csv": {"field": "line", "target_fields": ["a", "b"]}}),
                json!({"line": "\"two\" ,4"}),
            )
            .contains("Illegal character after closing quote"),
            "without trim, nothing may follow the quote"
        );
    }
}
