//! The one textual form of `@timestamp`.
//!
//! Always UTC with exactly three fractional digits and a `Z`, so stored values sort and compare
//! as strings the same way they do as dates, and every producer writes the same bytes.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Formats a moment as `@timestamp` is written: UTC, RFC 3339, millisecond precision
/// (truncated), e.g. `2026-11-26T16:17:00.123Z`.
///
/// ```
/// use logfleet_model::format_timestamp;
/// use time::macros::datetime;
///
/// let moment = datetime!(2026-11-26 17:17:00.123456 +01:00);
/// assert_eq!(format_timestamp(moment), "2026-11-26T16:17:00.123Z");
/// ```
pub fn format_timestamp(moment: OffsetDateTime) -> String {
    // Written by hand rather than through a format description: it cannot fail, so callers get
    // a `String`, not a `Result` to unwrap.
    let utc = moment.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

/// Parses an RFC 3339 timestamp, with or without fractional seconds and in any offset,
/// returning it in UTC; `None` if the text is not RFC 3339.
///
/// ```
/// use logfleet_model::parse_timestamp;
/// use time::macros::datetime;
///
/// assert_eq!(
///     parse_timestamp("2026-11-26T17:17:00+01:00"),
///     Some(datetime!(2026-11-26 16:17:00 UTC))
/// );
/// assert_eq!(parse_timestamp("yesterday"), None);
/// ```
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|moment| moment.to_offset(UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_exactly_three_fraction_digits_in_utc() {
        let cases = [
            (
                datetime!(2026-11-26 16:17:00.123 UTC),
                "2026-11-26T16:17:00.123Z",
            ),
            (
                datetime!(2026-11-26 16:17:00 UTC),
                "2026-11-26T16:17:00.000Z",
            ),
            (
                datetime!(2026-01-02 03:04:05.006 UTC),
                "2026-01-02T03:04:05.006Z",
            ),
            (
                datetime!(2026-11-26 16:17:00.999999999 UTC),
                "2026-11-26T16:17:00.999Z",
            ),
            (
                datetime!(2027-01-01 00:30:00.5 +01:00),
                "2026-12-31T23:30:00.500Z",
            ),
            (
                datetime!(0042-03-04 05:06:07.08 UTC),
                "0042-03-04T05:06:07.080Z",
            ),
        ];
        for (moment, expected) in cases {
            assert_eq!(format_timestamp(moment), expected);
        }
    }

    #[test]
    fn parses_with_and_without_fraction_and_offsets() {
        let cases = [
            ("2026-11-26T16:17:00Z", datetime!(2026-11-26 16:17:00 UTC)),
            (
                "2026-11-26T16:17:00.123Z",
                datetime!(2026-11-26 16:17:00.123 UTC),
            ),
            (
                "2026-11-26T16:17:00.123456789Z",
                datetime!(2026-11-26 16:17:00.123456789 UTC),
            ),
            (
                "2026-11-26T18:17:00.1+02:00",
                datetime!(2026-11-26 16:17:00.1 UTC),
            ),
            ("2026-11-26t16:17:00z", datetime!(2026-11-26 16:17:00 UTC)),
            // RFC 3339 allows a space for readability, and so does `time`.
            ("2026-11-26 16:17:00Z", datetime!(2026-11-26 16:17:00 UTC)),
        ];
        for (text, expected) in cases {
            let parsed = parse_timestamp(text).unwrap_or_else(|| panic!("{text} should parse"));
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.offset(), UtcOffset::UTC, "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for text in ["", "2026-11-26", "2026-11-26T16:17:00", "1764173820"] {
            assert_eq!(parse_timestamp(text), None, "{text:?}");
        }
    }

    #[test]
    fn format_then_parse_round_trips_at_millisecond_precision() {
        let moment = datetime!(2026-11-26 16:17:00.123 UTC);
        assert_eq!(parse_timestamp(&format_timestamp(moment)), Some(moment));
    }
}
