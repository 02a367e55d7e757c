//! Elasticsearch time units (`500ms`, `30s`, `1m`, `7d`), used by retention, refresh intervals
//! and request timeouts.

use std::time::Duration;

/// Parses an Elasticsearch time value. `-1` (disabled) is not a duration and is rejected here;
/// callers that accept it check for it first.
pub fn parse_time_value(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits_end);
    let amount: f64 = number.parse().map_err(|_| invalid(text))?;
    let unit_seconds = match unit.trim() {
        "nanos" => 1e-9,
        "micros" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(invalid(text)),
    };
    let seconds = amount * unit_seconds;
    if !seconds.is_finite() || !(0.0..=1e12).contains(&seconds) {
        return Err(invalid(text));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses an Elasticsearch byte size: `100mb`, `512kb`, `50gb`, `4096b` or a plain number
/// of bytes.
pub fn parse_byte_size_value(text: &str) -> Result<u64, String> {
    let trimmed = text.trim().to_ascii_lowercase();
    let split = trimmed
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let amount: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 100mb"))?;
    let multiplier = match unit.trim() {
        "" | "b" => 1.0,
        "kb" | "k" => 1024.0,
        "mb" | "m" => 1024.0 * 1024.0,
        "gb" | "g" => 1024.0 * 1024.0 * 1024.0,
        "tb" | "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "pb" | "p" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {text:?}; use b, kb, mb, gb, tb or pb"
            ));
        }
    };
    let bytes = amount * multiplier;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large a size"));
    }
    Ok(bytes as u64)
}

/// Formats a byte count as Elasticsearch shows sizes to people: `512b`, `5.2kb`, `1gb`.
pub fn format_byte_size(bytes: u64) -> String {
    let units = [
        ("tb", 1u64 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
    ];
    for (name, size) in units {
        if bytes >= size {
            let value = format!("{:.1}", bytes as f64 / size as f64);
            let value = value.strip_suffix(".0").unwrap_or(&value);
            return format!("{value}{name}");
        }
    }
    format!("{bytes}b")
}

fn invalid(text: &str) -> String {
    format!(
        "failed to parse setting [{text}] with value [{text}] as a time value: unit is missing or unrecognized"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_time_value("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_time_value("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_time_value("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_time_value("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_time_value("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(parse_time_value("7").is_err());
        assert!(parse_time_value("d").is_err());
        assert!(parse_time_value("7w").is_err());
        assert!(parse_time_value("-1s").is_err());
    }

    #[test]
    fn sizes_read_as_elasticsearch_writes_them() {
        assert_eq!(format_byte_size(512), "512b");
        assert_eq!(format_byte_size(5324), "5.2kb");
        assert_eq!(format_byte_size(1 << 30), "1gb");
        assert_eq!(
            parse_byte_size_value(&format_byte_size(80 << 20)),
            Ok(80 << 20)
        );
    }
}
