//! Elasticsearch date math: `now-1h`, `now/d`, `2026-11-26||+1M/d`, with the rounding rules
//! that make `lte: now/d` include the whole day and `gt: now/d` exclude it.

use jiff::tz::TimeZone;
use logfleet_store::parse_date_optional_time;

use crate::calendar::{CalendarUnit, local_to_utc, utc_to_local};

/// Parses a date bound to epoch milliseconds.
///
/// `round_up` is true for `gt` and `lte` bounds: rounding (`/d`) then goes to the last
/// millisecond of the unit, and a date without a time part means its end. `zone` places
/// dates written without an offset and decides where days, weeks, months and years begin.
pub fn parse_date_bound(
    expression: &str,
    now_millis: i64,
    round_up: bool,
    zone: &TimeZone,
    format: Option<&str>,
) -> Result<i64, String> {
    let expression = expression.trim();
    let (anchor_millis, math) = if let Some(math) = expression.strip_prefix("now") {
        (now_millis, math)
    } else if let Some((date, math)) = expression.split_once("||") {
        (parse_anchor(date, zone, format, false)?, math)
    } else {
        return parse_anchor(expression, zone, format, round_up);
    };
    apply_math(anchor_millis, math, round_up, zone)
        .ok_or_else(|| format!("failed to parse date field [{expression}]: invalid date math"))
}

fn parse_anchor(
    text: &str,
    zone: &TimeZone,
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
            _ => parse_with_zone_and_rounding(text, zone, round_up),
        };
        if let Some(millis) = parsed {
            return Ok(millis);
        }
    }
    Err(failed())
}

fn parse_with_zone_and_rounding(text: &str, zone: &TimeZone, round_up: bool) -> Option<i64> {
    // Parse first: only a well-formed (ASCII) date reaches the zone check, whose slicing
    // would otherwise cut multi-byte characters.
    let nanos = parse_date_optional_time(text)?;
    let time_and_zone = text.get(10..).unwrap_or("");
    let has_zone = text.ends_with(['Z', 'z']) || time_and_zone.contains(['+', '-']);
    // Without an offset the text is a wall-clock reading in `zone`.
    let reading = nanos.div_euclid(1_000_000);
    let to_instant = |reading: i64| {
        if has_zone {
            Some(reading)
        } else {
            local_to_utc(reading, zone)
        }
    };
    if !round_up {
        return to_instant(reading);
    }
    // A partial date stands for its whole extent; `lte` must include all of it.
    let date_part = text.split(['T', 't', ' ']).next().unwrap_or(text);
    let time_part = text.get(date_part.len() + 1..).unwrap_or("");
    let (unit, length) = match (date_part.len(), time_part.len()) {
        (4, 0) => (CalendarUnit::Year, 1),
        (7, 0) => (CalendarUnit::Month, 1),
        (10, 0) => (CalendarUnit::Day, 1),
        (_, 5) => (CalendarUnit::Minute, 1),
        (_, 8) => (CalendarUnit::Second, 1),
        _ => return to_instant(reading),
    };
    let extent_end = unit.advance(reading, length)?;
    to_instant(extent_end).map(|end| end - 1)
}

fn apply_math(mut millis: i64, math: &str, round_up: bool, zone: &TimeZone) -> Option<i64> {
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
                let unit = CalendarUnit::from_date_math(*bytes.get(position)?)?;
                position += 1;
                millis = match unit {
                    // Hours and smaller are durations; days and larger move the calendar,
                    // so `+1d` across a daylight-saving change keeps the wall-clock time.
                    CalendarUnit::Hour | CalendarUnit::Minute | CalendarUnit::Second => {
                        unit.advance(millis, amount)?
                    }
                    _ => local_to_utc(unit.advance(utc_to_local(millis, zone)?, amount)?, zone)?,
                };
            }
            b'/' => {
                let unit = CalendarUnit::from_date_math(*bytes.get(position)?)?;
                position += 1;
                millis = round(millis, unit, round_up, zone)?;
            }
            _ => return None,
        }
    }
    Some(millis)
}

fn round(millis: i64, unit: CalendarUnit, round_up: bool, zone: &TimeZone) -> Option<i64> {
    let start = unit.truncate(utc_to_local(millis, zone)?)?;
    if round_up {
        local_to_utc(unit.advance(start, 1)?, zone).map(|next| next - 1)
    } else {
        local_to_utc(start, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_time_zone;

    // 2026-11-26T16:17:18.123Z
    const NOW: i64 = 1_795_709_838_123;
    const DAY: i64 = 86_400_000;

    fn bound(expression: &str, round_up: bool) -> i64 {
        parse_date_bound(expression, NOW, round_up, &TimeZone::UTC, None).unwrap()
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
        let local = parse_date_bound("2026-11-26T00:00:00", NOW, false, &offset, None).unwrap();
        assert_eq!(local, utc - 3_600_000);
        let zoned = parse_date_bound("2026-11-26T00:00:00Z", NOW, false, &offset, None).unwrap();
        assert_eq!(zoned, utc);
    }

    #[test]
    fn named_zones_round_to_their_local_days() {
        let paris = parse_time_zone("Europe/Paris").unwrap();
        let at = |text: &str| parse_date_optional_time(text).unwrap() / 1_000_000;
        // 2026-03-29 has 23 hours in Paris: clocks go from 02:00 to 03:00.
        let moment = at("2026-03-29T12:00:00Z");
        let day_start = parse_date_bound("now/d", moment, false, &paris, None).unwrap();
        assert_eq!(day_start, at("2026-03-28T23:00:00Z"));
        let day_end = parse_date_bound("now/d", moment, true, &paris, None).unwrap();
        assert_eq!(day_end, at("2026-03-29T22:00:00Z") - 1);
        // A day earlier is the same wall-clock time, 23 hours before.
        let day_before = parse_date_bound("now-1d", moment, false, &paris, None).unwrap();
        assert_eq!(moment - day_before, 23 * 3_600_000);
        let before_change = at("2026-03-28T12:00:00Z");
        let after_change = parse_date_bound("now+1d", before_change, false, &paris, None).unwrap();
        assert_eq!(after_change - before_change, 23 * 3_600_000);
        let partial_day = parse_date_bound("2026-03-29", NOW, true, &paris, None).unwrap();
        assert_eq!(partial_day, at("2026-03-29T22:00:00Z") - 1);
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
                let parsed = parse_date_bound(&format!("now-{amount}{symbol}"), now, false, &TimeZone::UTC, None).unwrap();
                prop_assert_eq!(parsed, now - amount * millis);
            }

            #[test]
            fn rounding_brackets_the_instant(now in 0i64..4_000_000_000_000, unit in 0usize..4) {
                let (symbol, millis) = UNITS[unit];
                let down = parse_date_bound(&format!("now/{symbol}"), now, false, &TimeZone::UTC, None).unwrap();
                let up = parse_date_bound(&format!("now/{symbol}"), now, true, &TimeZone::UTC, None).unwrap();
                prop_assert!(down <= now && now <= up);
                prop_assert_eq!(up - down + 1, millis);
                prop_assert_eq!(down % millis, 0);
                let again = parse_date_bound(&format!("now/{symbol}"), down, false, &TimeZone::UTC, None).unwrap();
                prop_assert_eq!(again, down, "rounding is idempotent");
            }

            #[test]
            fn months_stay_in_calendar(now in 0i64..4_000_000_000_000, months in 0i64..240) {
                let later = parse_date_bound(&format!("now+{months}M/M"), now, false, &TimeZone::UTC, None).unwrap();
                let date = time::OffsetDateTime::from_unix_timestamp(later / 1000).unwrap();
                prop_assert_eq!((date.day(), date.hour(), later % 1000), (1, 0, 0));
            }

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,40}", now in 0i64..4_000_000_000_000) {
                let _ = parse_date_bound(&text, now, false, &TimeZone::UTC, None);
                let _ = parse_date_bound(&text, now, true, &TimeZone::UTC, Some("epoch_second||strict_date_optional_time"));
            }
        }
    }

    #[test]
    fn regression_multibyte_text_in_a_date_bound_does_not_panic() {
        assert!(parse_date_bound("2🃋ઐ敖𝒦-ਫ਼", NOW, true, &TimeZone::UTC, None).is_err());
    }

    #[test]
    fn formats_and_errors() {
        assert_eq!(
            bound("now-h", false),
            NOW - 3_600_000,
            "a missing amount means 1"
        );
        assert_eq!(
            parse_date_bound("1500", NOW, false, &TimeZone::UTC, None).unwrap(),
            1500
        );
        assert_eq!(
            parse_date_bound("2", NOW, false, &TimeZone::UTC, Some("epoch_second")).unwrap(),
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
                parse_date_bound(bad, NOW, false, &TimeZone::UTC, None).is_err(),
                "{bad}"
            );
        }
    }
}
