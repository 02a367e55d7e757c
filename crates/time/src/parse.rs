//! Dates as Elasticsearch reads them: `strict_date_optional_time` strings and epoch
//! milliseconds.
//!
//! Parsing is hand-written rather than delegated to a format-description engine because it is
//! on the ingest hot path (every `@timestamp`) and because Elasticsearch's format is looser
//! than RFC 3339 (a bare date, no seconds, no zone, 1 to 9 fraction digits).

/// Nanoseconds since the Unix epoch, the precision dates are parsed at.
pub type EpochNanos = i64;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;

/// Parses `strict_date_optional_time` (`yyyy[-MM[-dd[THH:mm[:ss[.fffffffff]]]]]` with an
/// optional `Z` or `±HH:mm` zone; no zone means UTC).
pub fn parse_date_optional_time(text: &str) -> Option<EpochNanos> {
    let bytes = text.as_bytes();
    let mut cursor = Cursor { bytes, position: 0 };
    let year = cursor.digits(4)? as i32;
    let (mut month, mut day) = (1, 1);
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0i64);
    let mut offset_seconds = 0i64;
    if cursor.eat(b'-') {
        month = cursor.digits(2)?;
        if cursor.eat(b'-') {
            day = cursor.digits(2)?;
            if cursor.eat(b'T') || cursor.eat(b't') || cursor.eat(b' ') {
                hour = cursor.digits(2)?;
                if !cursor.eat(b':') {
                    return None;
                }
                minute = cursor.digits(2)?;
                if cursor.eat(b':') {
                    second = cursor.digits(2)?;
                    if cursor.eat(b'.') || cursor.eat(b',') {
                        nanos = cursor.fraction_nanos()?;
                    }
                }
                offset_seconds = cursor.zone()?;
            }
        }
    }
    if !cursor.at_end() {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let time_of_day = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    let local_seconds = date.with_time(time_of_day).assume_utc().unix_timestamp();
    (local_seconds - offset_seconds)
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(nanos)
}

/// Whether dynamic mapping should take `text` for a date: a full calendar date at least, as
/// Elasticsearch's date detection does not map `"2015"` to a date.
pub fn looks_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && parse_date_optional_time(text).is_some()
}

/// Parses a date field value: a date string, or epoch milliseconds as a number or a string
/// of digits (`strict_date_optional_time||epoch_millis`, Elasticsearch's default).
pub fn parse_date_value(value: &serde_json::Value) -> Option<EpochNanos> {
    match value {
        serde_json::Value::String(text) => parse_date_text(text),
        serde_json::Value::Number(number) => millis_to_nanos(number.as_f64()?),
        _ => None,
    }
}

/// A date string, or epoch milliseconds spelt as a number.
pub fn parse_date_text(text: &str) -> Option<EpochNanos> {
    parse_date_optional_time(text).or_else(|| {
        let millis: f64 = text.parse().ok()?;
        millis_to_nanos(millis)
    })
}

/// Epoch milliseconds, fractions included, as nanoseconds; `None` when out of range.
pub fn millis_to_nanos(millis: f64) -> Option<EpochNanos> {
    let nanos = millis * NANOS_PER_MILLI as f64;
    (nanos.is_finite() && nanos.abs() < i64::MAX as f64).then_some(nanos as i64)
}

/// Formats epoch milliseconds as Elasticsearch prints dates: `2026-11-26T16:17:00.123Z`.
pub fn format_epoch_millis(millis: i64) -> String {
    let nanos = i128::from(millis) * i128::from(NANOS_PER_MILLI);
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(date_time) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            date_time.year(),
            u8::from(date_time.month()),
            date_time.day(),
            date_time.hour(),
            date_time.minute(),
            date_time.second(),
            date_time.millisecond()
        ),
        Err(_) => millis.to_string(),
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<u32> {
        let digits = self.bytes.get(self.position..self.position + count)?;
        let mut value = 0u32;
        for digit in digits {
            if !digit.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(digit - b'0');
        }
        self.position += count;
        Some(value)
    }

    fn eat(&mut self, expected: u8) -> bool {
        if self.bytes.get(self.position) == Some(&expected) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn fraction_nanos(&mut self) -> Option<i64> {
        let start = self.position;
        let mut nanos = 0i64;
        while let Some(digit) = self
            .bytes
            .get(self.position)
            .filter(|byte| byte.is_ascii_digit())
        {
            if self.position - start < 9 {
                nanos = nanos * 10 + i64::from(digit - b'0');
            }
            self.position += 1;
        }
        let count = self.position - start;
        if count == 0 {
            return None;
        }
        for _ in count..9 {
            nanos *= 10;
        }
        Some(nanos)
    }

    fn zone(&mut self) -> Option<i64> {
        if self.eat(b'Z') || self.eat(b'z') || self.at_end() {
            return Some(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = i64::from(self.digits(2)?);
        self.eat(b':');
        let minutes = if self.at_end() {
            0
        } else {
            i64::from(self.digits(2)?)
        };
        if hours > 18 || minutes > 59 {
            return None;
        }
        Some(sign * (hours * 3600 + minutes * 60))
    }

    fn at_end(&self) -> bool {
        self.position == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = NANOS_PER_MILLI;

    #[test]
    fn parses_the_common_shapes() {
        assert_eq!(parse_date_optional_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_date_optional_time("1970-01-01T00:00:01.5Z"),
            Some(1500 * MS)
        );
        assert_eq!(
            parse_date_optional_time("1970-01-01T00:00:00.000000001Z"),
            Some(1)
        );
        assert_eq!(parse_date_optional_time("1970-01-01"), Some(0));
        assert_eq!(parse_date_optional_time("1970-01"), Some(0));
        assert_eq!(parse_date_optional_time("1970"), Some(0));
        assert_eq!(
            parse_date_optional_time("1970-01-01T01:00"),
            Some(3_600_000 * MS)
        );
        assert_eq!(
            parse_date_optional_time("1970-01-01T01:00:00+01:00"),
            Some(0)
        );
        assert_eq!(
            parse_date_optional_time("1970-01-01T00:00:00-0130"),
            Some(5_400_000 * MS)
        );
        assert_eq!(
            parse_date_optional_time("2026-11-26T16:17:00.123Z"),
            Some(1_795_709_820_123 * MS)
        );
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for text in [
            "",
            "x",
            "2026-13-01",
            "2026-02-30",
            "2026-11-26T25:00",
            "2026-11-26T10",
            "2026-11-26T10:00:00.",
            "2026-11-26T10:00:00Zjunk",
            "20261126",
            "2026-11-26T10:00+99:00",
        ] {
            assert_eq!(parse_date_optional_time(text), None, "{text}");
        }
    }

    #[test]
    fn detection_needs_a_full_date() {
        assert!(looks_like_date("2026-11-26"));
        assert!(looks_like_date("2026-11-26T16:17:00Z"));
        assert!(!looks_like_date("2026"));
        assert!(!looks_like_date("2026-11"));
        assert!(!looks_like_date("GET /api/users/"));
    }

    #[test]
    fn epoch_millis_values() {
        assert_eq!(parse_date_value(&serde_json::json!(1500)), Some(1500 * MS));
        assert_eq!(
            parse_date_value(&serde_json::json!("1500")),
            Some(1500 * MS)
        );
        assert_eq!(parse_date_value(&serde_json::json!(true)), None);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn formatting_and_parsing_round_trip(millis in -9_000_000_000_000i64..9_000_000_000_000) {
                let text = format_epoch_millis(millis);
                prop_assert_eq!(parse_date_optional_time(&text), Some(millis * NANOS_PER_MILLI));
            }

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
                let _ = parse_date_optional_time(&text);
                let _ = looks_like_date(&text);
            }
        }
    }

    #[test]
    fn formats_like_elasticsearch() {
        assert_eq!(
            format_epoch_millis(1_795_709_820_123),
            "2026-11-26T16:17:00.123Z"
        );
        assert_eq!(format_epoch_millis(0), "1970-01-01T00:00:00.000Z");
    }
}
