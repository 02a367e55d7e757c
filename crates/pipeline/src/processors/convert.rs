//! `convert`: a field's value converted to another type, as Elasticsearch converts it.

use logfleet_model::json::JsonValue;
use serde_json::Number;

use super::{field_options, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

const TYPES: [&str; 8] = [
    "integer", "long", "float", "double", "string", "boolean", "ip", "auto",
];

/// Converts a field.
#[derive(Debug)]
pub struct Convert {
    field: String,
    target_field: String,
    ignore_missing: bool,
    to: Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Integer,
    Long,
    Float,
    Double,
    String,
    Boolean,
    Ip,
    Auto,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Convert, ConfigError> {
    let (field, target_field, ignore_missing) = field_options(&mut config)?;
    let to = config.string("type")?;
    let to = match to.to_lowercase().as_str() {
        "integer" => Type::Integer,
        "long" => Type::Long,
        "float" => Type::Float,
        "double" => Type::Double,
        "string" => Type::String,
        "boolean" => Type::Boolean,
        "ip" => Type::Ip,
        "auto" => Type::Auto,
        _ => {
            return Err(config.error(
                "type",
                format!(
                    "type [{to}] not supported, cannot convert field. Supported types are [{}]",
                    TYPES.join(", ")
                ),
            ));
        }
    };
    config.finish()?;
    Ok(Convert {
        field,
        target_field,
        ignore_missing,
        to,
    })
}

impl Processor for Convert {
    fn kind(&self) -> &'static str {
        "convert"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "convert")? else {
            return Ok(Flow::Continue);
        };
        let converted = match value.as_ref() {
            JsonValue::Array(items) => JsonValue::Array(
                items
                    .iter()
                    .map(|item| convert(item, self.to))
                    .collect::<Result<_, _>>()?,
            ),
            single => convert(single, self.to)?,
        };
        document.set(&self.target_field, converted.into_owned())?;
        Ok(Flow::Continue)
    }
}

fn convert<'a>(value: &JsonValue<'a>, to: Type) -> Result<JsonValue<'a>, PipelineError> {
    let text = match value {
        JsonValue::String(text) => text.as_ref().to_owned(),
        JsonValue::Number(number) => number.to_string(),
        JsonValue::Bool(flag) => flag.to_string(),
        other => other.to_string(),
    };
    let unable = |name: &str| {
        PipelineError::illegal_argument(format!("unable to convert [{text}] to {name}"))
    };
    Ok(match to {
        Type::Integer => match value {
            JsonValue::Number(number) if number.is_i64() => JsonValue::Number(number.clone()),
            JsonValue::Number(number) => {
                JsonValue::Number(Number::from(number.as_f64().unwrap_or_default() as i32))
            }
            _ => JsonValue::Number(Number::from(
                parse_integer(&text)
                    .filter(|number| i32::try_from(*number).is_ok())
                    .ok_or_else(|| unable("integer"))?,
            )),
        },
        Type::Long => match value {
            JsonValue::Number(number) if number.is_i64() => JsonValue::Number(number.clone()),
            JsonValue::Number(number) => {
                JsonValue::Number(Number::from(number.as_f64().unwrap_or_default() as i64))
            }
            _ => JsonValue::Number(Number::from(
                parse_integer(&text).ok_or_else(|| unable("long"))?,
            )),
        },
        Type::Float => {
            let parsed: f32 = text.trim().parse().map_err(|_| unable("float"))?;
            // Java prints a float by its shortest decimal form: 1.1, not 1.100000023841858.
            let shortest = parsed.to_string().parse().unwrap_or(f64::from(parsed));
            float(shortest, &unable("float"))?
        }
        Type::Double => float(
            text.trim().parse().map_err(|_| unable("double"))?,
            &unable("double"),
        )?,
        Type::String => JsonValue::from(text),
        Type::Boolean => match value {
            JsonValue::Bool(flag) => JsonValue::Bool(*flag),
            _ if text.eq_ignore_ascii_case("true") => JsonValue::Bool(true),
            _ if text.eq_ignore_ascii_case("false") => JsonValue::Bool(false),
            _ => {
                return Err(PipelineError::illegal_argument(format!(
                    "[{text}] is not a boolean value, cannot convert to boolean"
                )));
            }
        },
        Type::Ip => {
            if text.parse::<std::net::IpAddr>().is_err() {
                return Err(PipelineError::illegal_argument(format!(
                    "'{text}' is not an IP string literal."
                )));
            }
            JsonValue::from(text)
        }
        Type::Auto => {
            let JsonValue::String(_) = value else {
                return Ok(value.clone());
            };
            [
                Type::Boolean,
                Type::Integer,
                Type::Long,
                Type::Float,
                Type::Double,
            ]
            .into_iter()
            .find_map(|to| convert(value, to).ok())
            .unwrap_or_else(|| value.clone())
        }
    })
}

/// A Java `Integer.decode`/`Long.decode` style integer: decimal, `0x` hex, signed.
fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .or_else(|| digits.strip_prefix('#'))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if digits.bytes().all(|byte| byte.is_ascii_digit()) && !digits.is_empty() => {
            digits.parse().ok()?
        }
        None => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn float(number: f64, unable: &PipelineError) -> Result<JsonValue<'static>, PipelineError> {
    Number::from_f64(number)
        .map(JsonValue::Number)
        .ok_or_else(|| unable.clone())
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::json;

    fn convert(to: &str, value: serde_json::Value) -> serde_json::Value {
        run(
            json!({"convert": {"field": "v", "type": to}}),
            json!({"v": value}),
        )["v"]
            .clone()
    }

    #[test]
    fn converts_as_elasticsearch_does() {
        assert_eq!(convert("integer", json!("42")), json!(42));
        assert_eq!(convert("integer", json!("0x1F")), json!(31));
        assert_eq!(
            convert("long", json!("-9000000000")),
            json!(-9_000_000_000_i64)
        );
        assert_eq!(convert("float", json!("1.1")), json!(1.1));
        assert_eq!(convert("double", json!("2.5e3")), json!(2500.0));
        assert_eq!(convert("string", json!(12)), json!("12"));
        assert_eq!(convert("boolean", json!("TRUE")), json!(true));
        assert_eq!(convert("ip", json!("::1")), json!("::1"));
        assert_eq!(convert("auto", json!("12")), json!(12));
        assert_eq!(convert("auto", json!("false")), json!(false));
        assert_eq!(convert("auto", json!("1.5")), json!(1.5));
        assert_eq!(convert("auto", json!("text")), json!("text"));
        assert_eq!(convert("integer", json!(["1", "2"])), json!([1, 2]));
    }

    #[test]
    fn failures() {
        let error = run_error(
            json!({"convert": {"field": "v", "type": "integer"}}),
            json!({"v": "12a"}),
        );
        assert_eq!(error, "unable to convert [12a] to integer");
        let error = run_error(
            json!({"convert": {"field": "v", "type": "ip"}}),
            json!({"v": "1.2.3"}),
        );
        assert_eq!(error, "'1.2.3' is not an IP string literal.");
        let error = run_error(
            json!({"convert": {"field": "v", "type": "boolean"}}),
            json!({"v": "yes"}),
        );
        assert_eq!(
            error,
            "[yes] is not a boolean value, cannot convert to boolean"
        );
        assert!(
            build_error(json!({"convert": {"field": "v", "type": "date"}}))
                .contains("type [date] not supported")
        );
    }
}
