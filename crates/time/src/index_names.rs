//! Date math in index names: `<logs-{now/d}>` is today's `logs-2026.12.04`, as Elasticsearch
//! resolves it in every API that takes an index name.
//!
//! An expression is `<`, static text and `{math}` or `{math{format|time_zone}}` parts, then
//! `>`. The math is date math on `now` (`now/d`, `now-1M/M`) or on a date written in the
//! part's format (`2016.04.25||/M`, as the `date_index_name` processor writes it), the format
//! a Java date pattern (default `uuuu.MM.dd`), the zone an offset or IANA name (default UTC). `\` escapes the
//! next character, so `{` and `}` can appear in the static text as `\{` and `\}`.

use crate::calendar::{format_date, parse_time_zone};
use crate::date_math::parse_date_bound;

const DEFAULT_FORMAT: &str = "uuuu.MM.dd";

/// Resolves a date math index name against `now_millis`; any other name is returned as it
/// is. The error is Elasticsearch's `parse_exception` reason.
pub fn resolve_index_date_math(name: &str, now_millis: i64) -> Result<String, String> {
    let Some(expression) = name
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
    else {
        return Ok(name.to_owned());
    };
    let invalid = |position: usize, problem: &str| {
        format!(
            "invalid dynamic name expression [{expression}]. {problem} at position [{position}]"
        )
    };
    let characters: Vec<char> = expression.chars().collect();
    let mut resolved = String::with_capacity(expression.len());
    let mut index = 0;
    while index < characters.len() {
        match characters[index] {
            '\\' => {
                let Some(escaped) = characters.get(index + 1) else {
                    return Err(invalid(index, "missing escaped character"));
                };
                resolved.push(*escaped);
                index += 2;
            }
            '}' => {
                return Err(invalid(
                    index,
                    "invalid character; `{` and `}` are reserved characters and should be escaped \
                     when used as part of the index name using `\\` (e.g. `\\{text\\}`)",
                ));
            }
            '{' => {
                let (part, next) = date_math_part(&characters, index + 1)
                    .ok_or_else(|| invalid(index, "date math placeholder is open ended"))?;
                resolved.push_str(&evaluate(&part, now_millis).map_err(|problem| {
                    format!("invalid dynamic name expression [{expression}]. {problem}")
                })?);
                index = next;
            }
            character => {
                resolved.push(character);
                index += 1;
            }
        }
    }
    Ok(resolved)
}

/// A `{…}` part, from just after its opening brace: the math, the optional format and zone,
/// and the index after its closing brace.
struct DateMathPart {
    math: String,
    format: Option<String>,
    time_zone: Option<String>,
}

fn date_math_part(characters: &[char], start: usize) -> Option<(DateMathPart, usize)> {
    let mut math = String::new();
    let mut index = start;
    while index < characters.len() {
        match characters[index] {
            '\\' => {
                math.push(*characters.get(index + 1)?);
                index += 2;
            }
            '}' => {
                let part = DateMathPart {
                    math,
                    format: None,
                    time_zone: None,
                };
                return Some((part, index + 1));
            }
            '{' => {
                let close = characters[index + 1..]
                    .iter()
                    .position(|character| *character == '}')?
                    + index
                    + 1;
                if characters.get(close + 1) != Some(&'}') {
                    return None;
                }
                let inner: String = characters[index + 1..close].iter().collect();
                let (format, time_zone) = match inner.split_once('|') {
                    Some((format, zone)) => (format.to_owned(), Some(zone.to_owned())),
                    None => (inner, None),
                };
                let part = DateMathPart {
                    math,
                    format: Some(format).filter(|format| !format.is_empty()),
                    time_zone,
                };
                return Some((part, close + 2));
            }
            character => {
                math.push(character);
                index += 1;
            }
        }
    }
    None
}

fn evaluate(part: &DateMathPart, now_millis: i64) -> Result<String, String> {
    let anchored = part.math.starts_with("now") || part.math.contains("||");
    if !anchored {
        return Err(format!(
            "date math expression [{}] must start with [now] or a date followed by [||]",
            part.math
        ));
    }
    let zone = match &part.time_zone {
        Some(zone) => parse_time_zone(zone)?,
        None => jiff::tz::TimeZone::UTC,
    };
    let format = part.format.as_deref().unwrap_or(DEFAULT_FORMAT);
    // A date anchor is read with the part's own format, as Elasticsearch's date math
    // parser does: `date_index_name` writes `{2016.04||/M{yyyy.MM|UTC}}`.
    let millis = parse_date_bound(&part.math, now_millis, false, &zone, Some(format))?;
    Ok(format_date(millis, &zone, Some(format)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04T20:46:26.123Z.
    const NOW: i64 = 1_796_417_186_123;

    fn resolve(name: &str) -> Result<String, String> {
        resolve_index_date_math(name, NOW)
    }

    #[test]
    fn plain_names_are_left_alone() {
        assert_eq!(resolve("logs").unwrap(), "logs");
        assert_eq!(resolve("<logs").unwrap(), "<logs");
    }

    #[test]
    fn the_examples_of_the_elasticsearch_reference() {
        for (name, resolved) in [
            ("<logstash-{now/d}>", "logstash-2026.12.04"),
            ("<logstash-{now/M}>", "logstash-2026.12.01"),
            ("<logstash-{now/M{yyyy.MM}}>", "logstash-2026.12"),
            ("<logstash-{now/M-1M{yyyy.MM}}>", "logstash-2026.11"),
            (
                "<logstash-{now/d{yyyy.MM.dd|+12:00}}>",
                "logstash-2026.12.05",
            ),
            ("<logstash-{now/d}-000001>", "logstash-2026.12.04-000001"),
            ("<elastic\\{ON\\}-{now/M}>", "elastic{ON}-2026.12.01"),
            ("<logs-{now/d{yyyy-MM-dd|Asia/Tokyo}}>", "logs-2026-12-05"),
        ] {
            assert_eq!(resolve(name).unwrap(), resolved, "{name}");
        }
    }

    #[test]
    fn a_date_anchor_is_read_with_the_parts_format() {
        // What the date_index_name processor writes.
        assert_eq!(
            resolve("<my-index-{2016-04-25||/M{yyyy-MM-dd|UTC}}>").unwrap(),
            "my-index-2016-04-01"
        );
        assert_eq!(
            resolve("<events-{20160425||/w{yyyyMMdd|UTC}}>").unwrap(),
            "events-20160425",
            "the 25th of April 2016 is a Monday"
        );
        assert_eq!(
            resolve("<events-{2016.04||/M{yyyy.MM|UTC}}>").unwrap(),
            "events-2016.04"
        );
        assert_eq!(
            resolve("<x-{04/26/2016||/d{MM/dd/yyyy|Europe/Paris}}>").unwrap(),
            "x-04/26/2016"
        );
        assert_eq!(
            resolve("<x-{2016-04-25T23:30:00.000+0000||/h{yyyy-MM-dd'T'HH:mm:ss.SSSZ|UTC}}>")
                .unwrap(),
            "x-2016-04-25T23:00:00.000+0000"
        );
        assert_eq!(
            resolve("<x-{2016.04.25||+1d{yyyy.MM.dd}}>").unwrap(),
            "x-2016.04.26"
        );
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for name in [
            "<logs-{now/d>",
            "<logs-}>",
            "<logs-{now/d{yyyy}>",
            "<logs-{yesterday}>",
            "<logs-{now/d{yyyy|Mars/Olympus}}>",
            "<logs-\\>",
        ] {
            let error = resolve(name).unwrap_err();
            assert!(
                error.starts_with("invalid dynamic name expression"),
                "{name}: {error}"
            );
        }
    }
}
