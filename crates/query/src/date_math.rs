//! Elasticsearch date math: `now-1h`, `now/d`, `2026-11-26||+1M/d`, with the rounding rules
//! that make `lte: now/d` include the whole day and `gt: now/d` exclude it.

use logfleet_store::parse_date_optional_time;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// Parses a date bound to epoch milliseconds.
///
/// `round_up` is true for `gt` and `lte` bounds: rounding (`/d`) then goes to the last
/// millisecond of the unit, and a date without a time part means its end.
pub fn parse_date_bound(
    expression: &str,
    now_millis: i64,
    round_up: bool,
    offset: UtcOffset,
    format: Option<&str>,
) -> Result<i64, String> {
    let expression = expression.trim();
    let (anchor_millis, math) = if let Some(math) = expression.strip_prefix("now") {
        (now_millis, math)
    } else if let Some((date, math)) = expression.split_once("||") {
        (parse_anchor(date, offset, format, false)?, math)
    } else {
        return parse_anchor(expression, offset, format, round_up);
    };
    apply_math(anchor_millis, math, round_up, offset)
        .ok_or_else(|| format!("failed to parse date field [{expression}]: invalid date math"))
}

/// Whether a time zone name means UTC (`UTC`, `utc` as Grafana sends it, `Z`, `+00:00`…).
pub fn is_utc(zone: &str) -> bool {
    matches!(
        zone.to_ascii_uppercase().as_str(),
        "Z" | "UTC" | "GMT" | "UCT" | "ETC/UTC" | "ETC/GMT" | "+00:00" | "-00:00" | "+0000" | "+00"
    )
}

/// Parses a time zone: `Z`, `UTC`, `GMT` or a fixed offset (`+01:00`, `-0530`, `+01`).
pub fn parse_time_zone(text: &str) -> Result<UtcOffset, String> {
    let unsupported =
        || format!("time_zone [{text}] is not supported: use UTC or an offset like +01:00");
    match text {
        zone if is_utc(zone) => return Ok(UtcOffset::UTC),
        _ => {}
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(unsupported()),
    };
    let digits: String = rest.chars().filter(|character| *character != ':').collect();
    if !digits.bytes().all(|byte| byte.is_ascii_digit())
        || !(digits.len() == 2 || digits.len() == 4)
    {
        return Err(unsupported());
    }
    let hours: i8 = digits[..2].parse().map_err(|_| unsupported())?;
    let minutes: i8 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| unsupported())?
    } else {
        0
    };
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| unsupported())
}

fn parse_anchor(
    text: &str,
    offset: UtcOffset,
    format: Option<&str>,
    round_up: bool,
) -> Result<i64, String> {
    let failed = || {
        format!(
            "failed to parse date field [{text}] with format [{}]",
            format.unwrap_or("strict_date_optional_time||epoch_millis")
        )
    };
    for single_format in format
        .unwrap_or("strict_date_optional_time||epoch_millis")
        .split("||")
    {
        let parsed = match single_format {
            "epoch_millis" => text.parse::<f64>().ok().map(|millis| millis as i64),
            "epoch_second" => text
                .parse::<f64>()
                .ok()
                .map(|seconds| (seconds * 1000.0) as i64),
            _ => parse_with_zone_and_rounding(text, offset, round_up),
        };
        if let Some(millis) = parsed {
            return Ok(millis);
        }
    }
    Err(failed())
}

fn parse_with_zone_and_rounding(text: &str, offset: UtcOffset, round_up: bool) -> Option<i64> {
    // Parse first: only a well-formed (ASCII) date reaches the zone check, whose slicing
    // would otherwise cut multi-byte characters.
    let nanos = parse_date_optional_time(text)?;
    let time_and_zone = text.get(10..).unwrap_or("");
    let has_zone = text.ends_with(['Z', 'z']) || time_and_zone.contains(['+', '-']);
    let mut millis = nanos.div_euclid(1_000_000);
    if !has_zone {
        millis -= i64::from(offset.whole_seconds()) * 1000;
    }
    if round_up {
        // A partial date stands for its whole extent; `lte` must include all of it.
        let date_part = text.split(['T', 't', ' ']).next().unwrap_or(text);
        let time_part = text.get(date_part.len() + 1..).unwrap_or("");
        let extent_end = match (date_part.len(), time_part.len()) {
            (4, 0) => add_months(millis, 12, offset).map(|end| end - 1),
            (7, 0) => add_months(millis, 1, offset).map(|end| end - 1),
            (10, 0) => Some(millis + 86_400_000 - 1),
            (_, 5) => Some(millis + 59_999),
            (_, 8) => Some(millis + 999),
            _ => Some(millis),
        };
        return extent_end;
    }
    Some(millis)
}

fn apply_math(mut millis: i64, math: &str, round_up: bool, offset: UtcOffset) -> Option<i64> {
    let bytes = math.as_bytes();
    let mut position = 0;
    while position < bytes.len() {
        let operator = bytes[position];
        position += 1;
        match operator {
            b'+' | b'-' => {
                let start = position;
                while position < bytes.len() && bytes[position].is_ascii_digit() {
                    position += 1;
                }
                let amount: i64 = if start == position {
                    1
                } else {
                    math[start..position].parse().ok()?
                };
                let amount = if operator == b'-' { -amount } else { amount };
                let unit = *bytes.get(position)?;
                position += 1;
                millis = match unit {
                    b'y' => add_months(millis, amount.checked_mul(12)?, offset)?,
                    b'M' => add_months(millis, amount, offset)?,
                    b'w' => millis.checked_add(amount.checked_mul(7 * 86_400_000)?)?,
                    b'd' => millis.checked_add(amount.checked_mul(86_400_000)?)?,
                    b'h' | b'H' => millis.checked_add(amount.checked_mul(3_600_000)?)?,
                    b'm' => millis.checked_add(amount.checked_mul(60_000)?)?,
                    b's' => millis.checked_add(amount.checked_mul(1000)?)?,
                    _ => return None,
                };
            }
            b'/' => {
                let unit = *bytes.get(position)?;
                position += 1;
                millis = round(millis, unit, round_up, offset)?;
            }
            _ => return None,
        }
    }
    Some(millis)
}

fn to_local(millis: i64, offset: UtcOffset) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .map(|moment| moment.to_offset(offset))
}

fn to_millis(moment: OffsetDateTime) -> i64 {
    (moment.unix_timestamp_nanos() / 1_000_000) as i64
}

fn add_months(millis: i64, months: i64, offset: UtcOffset) -> Option<i64> {
    let local = to_local(millis, offset)?;
    let total = i64::from(local.year()) * 12 + i64::from(u8::from(local.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let last_day = time::util::days_in_month(month, year);
    let day = local.day().min(last_day);
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(to_millis(local.replace_date(date)))
}

fn round(millis: i64, unit: u8, round_up: bool, offset: UtcOffset) -> Option<i64> {
    let local = to_local(millis, offset)?;
    let start = match unit {
        b'y' => local
            .replace_date(Date::from_calendar_date(local.year(), Month::January, 1).ok()?)
            .replace_time(Time::MIDNIGHT),
        b'M' => local.replace_day(1).ok()?.replace_time(Time::MIDNIGHT),
        b'w' => {
            let days_from_monday = i64::from(local.weekday().number_days_from_monday());
            (local - Duration::days(days_from_monday)).replace_time(Time::MIDNIGHT)
        }
        b'd' => local.replace_time(Time::MIDNIGHT),
        b'h' | b'H' => local.replace_time(Time::from_hms(local.hour(), 0, 0).ok()?),
        b'm' => local.replace_time(Time::from_hms(local.hour(), local.minute(), 0).ok()?),
        b's' => {
            local.replace_time(Time::from_hms(local.hour(), local.minute(), local.second()).ok()?)
        }
        _ => return None,
    };
    let start_millis = to_millis(start);
    if !round_up {
        return Some(start_millis);
    }
    let next_start = match unit {
        b'y' => add_months(start_millis, 12, offset)?,
        b'M' => add_months(start_millis, 1, offset)?,
        b'w' => start_millis + 7 * 86_400_000,
        b'd' => start_millis + 86_400_000,
        b'h' | b'H' => start_millis + 3_600_000,
        b'm' => start_millis + 60_000,
        _ => start_millis + 1000,
    };
    Some(next_start - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-26T16:17:18.123Z
    const NOW: i64 = 1_795_709_838_123;
    const DAY: i64 = 86_400_000;

    fn bound(expression: &str, round_up: bool) -> i64 {
        parse_date_bound(expression, NOW, round_up, UtcOffset::UTC, None).unwrap()
    }

    #[test]
    fn relative_to_now() {
        assert_eq!(bound("now", false), NOW);
        assert_eq!(bound("now-1h", false), NOW - 3_600_000);
        assert_eq!(bound("now-5m", false), NOW - 300_000);
        assert_eq!(bound("now+1d", false), NOW + DAY);
        assert_eq!(bound("now-7d/d", false), NOW - NOW % DAY - 7 * DAY);
    }

    #[test]
    fn rounding_depends_on_the_bound() {
        let start_of_day = NOW - NOW % DAY;
        assert_eq!(bound("now/d", false), start_of_day);
        assert_eq!(bound("now/d", true), start_of_day + DAY - 1);
        assert_eq!(bound("now/h", false), NOW - NOW % 3_600_000);
    }

    #[test]
    fn anchored_math() {
        let start = parse_date_optional_time("2026-12-26T00:00:00Z").unwrap() / 1_000_000;
        assert_eq!(bound("2026-11-26||+1M/d", false), start);
        let end_of_january = parse_date_optional_time("2027-01-31T00:00:00Z").unwrap() / 1_000_000;
        assert_eq!(
            bound("2026-12-31||+1M", false),
            end_of_january,
            "clamped to the month's end"
        );
        let first_of_year = parse_date_optional_time("2026-01-01").unwrap() / 1_000_000;
        assert_eq!(bound("2026-11-26||/y", false), first_of_year);
    }

    #[test]
    fn partial_dates_round_up_to_their_end() {
        let day = parse_date_optional_time("2026-11-26").unwrap() / 1_000_000;
        assert_eq!(bound("2026-11-26", false), day);
        assert_eq!(bound("2026-11-26", true), day + DAY - 1);
        assert_eq!(
            bound("2026-11-26T10:00:00.500Z", true),
            day + 10 * 3_600_000 + 500
        );
    }

    #[test]
    fn time_zones_shift_dates_without_zone() {
        let offset = parse_time_zone("+01:00").unwrap();
        let utc = parse_date_optional_time("2026-11-26T00:00:00Z").unwrap() / 1_000_000;
        let local = parse_date_bound("2026-11-26T00:00:00", NOW, false, offset, None).unwrap();
        assert_eq!(local, utc - 3_600_000);
        let zoned = parse_date_bound("2026-11-26T00:00:00Z", NOW, false, offset, None).unwrap();
        assert_eq!(zoned, utc);
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert_eq!(
            parse_time_zone("utc").unwrap(),
            UtcOffset::UTC,
            "as Grafana sends it"
        );
        assert_eq!(parse_time_zone("-0530").unwrap().whole_minutes(), -330);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        const UNITS: &[(char, i64)] = &[
            ('s', 1000),
            ('m', 60_000),
            ('h', 3_600_000),
            ('d', 86_400_000),
            ('w', 604_800_000),
        ];

        proptest! {
            #[test]
            fn fixed_units_subtract_exactly(now in 0i64..4_000_000_000_000, amount in 0i64..10_000, unit in 0usize..5) {
                let (symbol, millis) = UNITS[unit];
                let parsed = parse_date_bound(&format!("now-{amount}{symbol}"), now, false, UtcOffset::UTC, None).unwrap();
                prop_assert_eq!(parsed, now - amount * millis);
            }

            #[test]
            fn rounding_brackets_the_instant(now in 0i64..4_000_000_000_000, unit in 0usize..4) {
                let (symbol, millis) = UNITS[unit];
                let down = parse_date_bound(&format!("now/{symbol}"), now, false, UtcOffset::UTC, None).unwrap();
                let up = parse_date_bound(&format!("now/{symbol}"), now, true, UtcOffset::UTC, None).unwrap();
                prop_assert!(down <= now && now <= up);
                prop_assert_eq!(up - down + 1, millis);
                prop_assert_eq!(down % millis, 0);
                let again = parse_date_bound(&format!("now/{symbol}"), down, false, UtcOffset::UTC, None).unwrap();
                prop_assert_eq!(again, down, "rounding is idempotent");
            }

            #[test]
            fn months_stay_in_calendar(now in 0i64..4_000_000_000_000, months in 0i64..240) {
                let later = parse_date_bound(&format!("now+{months}M/M"), now, false, UtcOffset::UTC, None).unwrap();
                let date = time::OffsetDateTime::from_unix_timestamp(later / 1000).unwrap();
                prop_assert_eq!((date.day(), date.hour(), later % 1000), (1, 0, 0));
            }

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,40}", now in 0i64..4_000_000_000_000) {
                let _ = parse_date_bound(&text, now, false, UtcOffset::UTC, None);
                let _ = parse_date_bound(&text, now, true, UtcOffset::UTC, Some("epoch_second||strict_date_optional_time"));
            }
        }
    }

    #[test]
    fn regression_multibyte_text_in_a_date_bound_does_not_panic() {
        assert!(parse_date_bound("2🃋ઐ敖𝒦-ਫ਼", NOW, true, UtcOffset::UTC, None).is_err());
    }

    #[test]
    fn formats_and_errors() {
        assert_eq!(
            bound("now-h", false),
            NOW - 3_600_000,
            "a missing amount means 1"
        );
        assert_eq!(
            parse_date_bound("1500", NOW, false, UtcOffset::UTC, None).unwrap(),
            1500
        );
        assert_eq!(
            parse_date_bound("2", NOW, false, UtcOffset::UTC, Some("epoch_second")).unwrap(),
            2000
        );
        for bad in [
            "now-1x",
            "now-",
            "yesterday",
            "now/q",
            "2026-13-01",
            "now+1d+",
        ] {
            assert!(
                parse_date_bound(bad, NOW, false, UtcOffset::UTC, None).is_err(),
                "{bad}"
            );
        }
    }
}
