//! Elasticsearch date math: `now-1h`, `now/d`, `2026-11-26||+1M/d`, with the rounding rules
//! that make `lte: now/d` include the whole day and `gt: now/d` exclude it.

use crate::parse::parse_date_optional_time;
use jiff::tz::TimeZone;

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
            pattern if is_java_pattern(pattern) => parse_with_pattern(text, pattern, zone)
                .or_else(|| parse_with_zone_and_rounding(text, zone, round_up)),
            _ => parse_with_zone_and_rounding(text, zone, round_up),
        };
        if let Some(millis) = parsed {
            return Ok(millis);
        }
    }
    Err(failed())
}

/// The pattern letters a custom format may use; a format with any other letter outside
/// quotes (`strict_date_optional_time`, `date`) is one of Elasticsearch's named formats.
const PATTERN_LETTERS: &str = "yuMLdHhkKmsSaEZXx";

fn is_java_pattern(format: &str) -> bool {
    let mut quoted = false;
    let mut letters = 0;
    for character in format.chars() {
        match character {
            '\'' => quoted = !quoted,
            letter if !quoted && letter.is_ascii_alphabetic() => {
                if !PATTERN_LETTERS.contains(letter) {
                    return false;
                }
                letters += 1;
            }
            _ => {}
        }
    }
    letters > 0
}

/// Reads `text` written with a Java date pattern (`yyyy.MM`, `yyyyMMdd`, `MM/dd/yyyy`,
/// `yyyy-MM-dd'T'HH:mm:ss.SSSZ`), the way a date math anchor in an index name is read with
/// the name's own format: fields it lacks are the start of their unit, and a reading without
/// an offset is a wall-clock time in `zone`.
fn parse_with_pattern(text: &str, pattern: &str, zone: &TimeZone) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let pattern: Vec<char> = pattern.chars().collect();
    let (mut year, mut month, mut day) = (1970_i16, 1_i8, 1_i8);
    let (mut hour, mut minute, mut second, mut nanosecond) = (0_i8, 0_i8, 0_i8, 0_i32);
    let mut pm = None;
    let mut offset_seconds = None;
    let (mut at, mut index) = (0_usize, 0_usize);
    while index < pattern.len() {
        let letter = pattern[index];
        if letter == '\'' {
            let close = pattern[index + 1..].iter().position(|c| *c == '\'')? + index + 1;
            let literal: String = pattern[index + 1..close].iter().collect();
            let literal = if literal.is_empty() {
                "'".to_owned()
            } else {
                literal
            };
            text.get(at..)?.strip_prefix(literal.as_str())?;
            at += literal.len();
            index = close + 1;
            continue;
        }
        if !letter.is_ascii_alphabetic() {
            let mut buffer = [0; 4];
            text.get(at..)?
                .strip_prefix(&*letter.encode_utf8(&mut buffer))?;
            at += letter.len_utf8();
            index += 1;
            continue;
        }
        let count = pattern[index..]
            .iter()
            .take_while(|c| **c == letter)
            .count();
        index += count;
        // Numbers next to numbers (`yyyyMMdd`) have the pattern's width; others run on.
        let adjacent = pattern
            .get(index)
            .is_some_and(|next| next.is_ascii_alphabetic());
        let number = |at: &mut usize, minimum: usize| {
            read_digits(text, at, adjacent.then_some(count.max(minimum)))
        };
        match letter {
            'y' | 'u' => {
                year = i16::try_from(number(&mut at, if count == 2 { 2 } else { 4 })?).ok()?
            }
            'M' | 'L' if count >= 3 => {
                let rest = text.get(at..)?.to_ascii_lowercase();
                let found = MONTHS.iter().position(|name| rest.starts_with(name))?;
                let full = jiff::civil::date(2001, found as i8 + 1, 1)
                    .strftime("%B")
                    .to_string()
                    .to_ascii_lowercase();
                at += if count >= 4 && rest.starts_with(&full) {
                    full.len()
                } else {
                    3
                };
                month = found as i8 + 1;
            }
            'M' | 'L' => month = i8::try_from(number(&mut at, 2)?).ok()?,
            'd' => day = i8::try_from(number(&mut at, 2)?).ok()?,
            'H' | 'k' => hour = i8::try_from(number(&mut at, 2)? % 24).ok()?,
            'h' | 'K' => hour = i8::try_from(number(&mut at, 2)? % 12).ok()?,
            'm' => minute = i8::try_from(number(&mut at, 2)?).ok()?,
            's' => second = i8::try_from(number(&mut at, 2)?).ok()?,
            'S' => {
                let start = at;
                let fraction = number(&mut at, count)?;
                let digits = u32::try_from(at - start).ok()?.min(9);
                nanosecond = i32::try_from(fraction * 10_i64.pow(9 - digits)).ok()?;
            }
            'a' => {
                let rest = text.get(at..at + 2)?.to_ascii_lowercase();
                pm = Some(match rest.as_str() {
                    "am" => false,
                    "pm" => true,
                    _ => return None,
                });
                at += 2;
            }
            'Z' | 'X' | 'x' => {
                let rest = text.get(at..)?;
                if rest.starts_with('Z') && letter != 'x' {
                    offset_seconds = Some(0);
                    at += 1;
                    continue;
                }
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                at += 1;
                let hours = i32::try_from(number(&mut at, 2)?).ok()?;
                if text.get(at..)?.starts_with(':') {
                    at += 1;
                }
                let minutes = if text.as_bytes().get(at).is_some_and(u8::is_ascii_digit) {
                    i32::try_from(number(&mut at, 2)?).ok()?
                } else {
                    0
                };
                offset_seconds = Some(sign * (hours * 3600 + minutes * 60));
            }
            _ => return None,
        }
    }
    if at != text.len() {
        return None;
    }
    if pm == Some(true) {
        hour += 12;
    }
    let civil =
        jiff::civil::DateTime::new(year, month, day, hour, minute, second, nanosecond).ok()?;
    let zoned = match offset_seconds {
        Some(seconds) => {
            let offset = jiff::tz::Offset::from_seconds(seconds).ok()?;
            civil.to_zoned(TimeZone::fixed(offset)).ok()?
        }
        None => civil.to_zoned(zone.clone()).ok()?,
    };
    Some(zoned.timestamp().as_millisecond())
}

/// The number at `at` in `text`: exactly `width` digits when given, else all the digits
/// there are.
fn read_digits(text: &str, at: &mut usize, width: Option<usize>) -> Option<i64> {
    let available = text.as_bytes()[*at..]
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let width = width.unwrap_or(available);
    if width == 0 || width > available {
        return None;
    }
    let value = text[*at..*at + width].parse().ok()?;
    *at += width;
    Some(value)
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
                for pattern in ["yyyy.MM.dd", "yyyyMMdd", "MMM d HH:mm:ss a", "yyyy-MM-dd'T'HH:mm:ss.SSSXX"] {
                    let _ = parse_with_pattern(&text, pattern, &TimeZone::UTC);
                }
            }

            #[test]
            fn patterns_read_back_what_they_write(millis in 0i64..4_000_000_000_000, pattern in 0usize..3) {
                // What a date-math index name's format prints, the same format reads back:
                // exactly with milliseconds, to the start of the day without a time.
                let (format, unit) = [
                    ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", 1),
                    ("yyyyMMddHHmmssSSS", 1),
                    ("yyyy.MM.dd", 86_400_000),
                ][pattern];
                let zone = TimeZone::UTC;
                let written = crate::calendar::format_date(millis, &zone, Some(format));
                let read = parse_with_pattern(&written, format, &zone);
                prop_assert_eq!(read, Some(millis - millis % unit), "{}", written);
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
