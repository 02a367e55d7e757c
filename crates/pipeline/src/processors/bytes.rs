//! `bytes`: a human-readable size (`1kb`, `2.5 GB`) as a number of bytes, in powers of 1024.

use logfleet_model::json::JsonValue;
use serde_json::Number;

use super::strings::StringField;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Converts sizes to bytes.
#[derive(Debug)]
pub struct Bytes {
    field: StringField,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Bytes, ConfigError> {
    let field = StringField::read(&mut config)?;
    config.finish()?;
    Ok(Bytes { field })
}

/// `text` in bytes, as Elasticsearch's `ByteSizeValue` reads it.
pub fn parse(text: &str) -> Result<i64, PipelineError> {
    let failed = || {
        PipelineError::new(
            "parse_exception",
            format!(
                "failed to parse setting [Ingest Field] with value [{text}] as a size in bytes: unit is missing or unrecognized"
            ),
        )
    };
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|character: char| {
            !(character.is_ascii_digit() || character == '.' || character == '-')
        })
        .ok_or_else(failed)?;
    let (number, unit) = lower.split_at(split);
    let multiplier: i64 = match unit.trim() {
        "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        "t" | "tb" => 1 << 40,
        "p" | "pb" => 1 << 50,
        _ => return Err(failed()),
    };
    let value: f64 = number.parse().map_err(|_| failed())?;
    Ok((value * multiplier as f64) as i64)
}

impl Processor for Bytes {
    fn kind(&self) -> &'static str {
        "bytes"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        self.field.apply_value(document, "bytes", |text| {
            Ok(JsonValue::Number(Number::from(parse(text)?)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn converts_sizes() {
        assert_eq!(parse("1kb").unwrap(), 1024);
        assert_eq!(parse("1.5 MB").unwrap(), 1_572_864);
        assert_eq!(parse("12b").unwrap(), 12);
        let out = run(
            json!({"bytes": {"field": "s", "target_field": "n"}}),
            json!({"s": "2gb"}),
        );
        assert_eq!(out["n"], 2_147_483_648_i64);
        assert!(
            run_error(json!({"bytes": {"field": "s"}}), json!({"s": "12"}))
                .contains("unit is missing")
        );
    }
}
