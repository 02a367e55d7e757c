//! Calendars and time zones, shared by date math (`now/d`, `||+1M`) and date histograms.
//!
//! Everything here works on epoch milliseconds. A time zone moves an instant to its *local*
//! milliseconds (the wall-clock reading, counted as if it were UTC), where calendar units are
//! plain arithmetic or civil-date arithmetic, and back. Going back is where daylight saving
//! time bites: a wall-clock time skipped by a spring-forward gap resolves to the instant after
//! the gap and a repeated one to its first occurrence, as `java.time` (and so Elasticsearch)
//! resolves them.
//!
//! Named zones (`Europe/Paris`) come from the IANA database bundled into the binary, so
//! results do not depend on the host's `/usr/share/zoneinfo`.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use time::{Date, Month, OffsetDateTime};

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 1970-01-01 was a Thursday; weeks start on Mondays, four days later.
const FIRST_MONDAY: i64 = 4 * DAY;

/// Whether a time zone name means UTC (`UTC`, `utc` as Grafana sends it, `Z`, `+00:00`…).
pub fn is_utc(zone: &str) -> bool {
    matches!(
        zone.to_ascii_uppercase().as_str(),
        "Z" | "UTC" | "GMT" | "UCT" | "ETC/UTC" | "ETC/GMT" | "+00:00" | "-00:00" | "+0000" | "+00"
    )
}

/// Parses a time zone as Elasticsearch accepts it: `UTC` and its spellings, a fixed offset
/// (`+01:00`, `-0530`, `+01`) or an IANA name (`Europe/Paris`, `America/New_York`).
pub fn parse_time_zone(text: &str) -> Result<TimeZone, String> {
    if is_utc(text) {
        return Ok(TimeZone::UTC);
    }
    if let Some(offset) = parse_fixed_offset(text) {
        return Ok(TimeZone::fixed(offset));
    }
    // The bundled database is case-sensitive about nothing but the name's existence.
    TimeZone::get(text).map_err(|_| format!("Unknown time-zone ID: {text}"))
}

fn parse_fixed_offset(text: &str) -> Option<Offset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|character| *character != ':').collect();
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// The wall-clock reading of an instant in `zone`, as milliseconds counted as if in UTC.
pub fn utc_to_local(millis: i64, zone: &TimeZone) -> Option<i64> {
    let instant = Timestamp::from_millisecond(millis).ok()?;
    let offset = zone.to_offset(instant);
    millis.checked_add(i64::from(offset.seconds()) * SECOND)
}

/// The instant a wall-clock reading in `zone` stands for; see the module header for gaps
/// and folds.
pub fn local_to_utc(local: i64, zone: &TimeZone) -> Option<i64> {
    if let Ok(offset) = zone.to_fixed_offset() {
        return local.checked_sub(i64::from(offset.seconds()) * SECOND);
    }
    let wall_clock = Timestamp::from_millisecond(local)
        .ok()?
        .to_zoned(TimeZone::UTC)
        .datetime();
    zone.to_ambiguous_timestamp(wall_clock)
        .compatible()
        .ok()
        .map(Timestamp::as_millisecond)
}

/// Formats an instant as Elasticsearch's `strict_date_optional_time` prints it in a zone:
/// `2026-11-26T01:00:00.000+01:00`, or with `Z` where the offset is zero.
pub fn format_in_zone(millis: i64, zone: &TimeZone) -> String {
    let Some(instant) = Timestamp::from_millisecond(millis).ok() else {
        return millis.to_string();
    };
    let offset_seconds = zone.to_offset(instant).seconds();
    let Some(local) = civil(millis + i64::from(offset_seconds) * SECOND) else {
        return millis.to_string();
    };
    let suffix = if offset_seconds == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_seconds < 0 { '-' } else { '+' };
        let minutes = offset_seconds.unsigned_abs() / 60;
        format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{suffix}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.millisecond()
    )
}

/// Formats an instant with an Elasticsearch date `format` in a zone: the named formats
/// (`strict_date_optional_time`, `epoch_millis`, …) or a Java pattern such as
/// `yyyy-MM-dd HH:mm` (letters `y M d H h m s S a E X Z`, quoted literals). Patterns with
/// other letters fall back to `strict_date_optional_time`, the default.
pub fn format_date(millis: i64, zone: &TimeZone, format: Option<&str>) -> String {
    // A `||` list formats with its first entry.
    let format = format.map(|format| format.split("||").next().unwrap_or(format));
    match format {
        None
        | Some(
            "strict_date_optional_time"
            | "date_optional_time"
            | "strict_date_time"
            | "date_time"
            | "strict_date_optional_time_nanos",
        ) => format_in_zone(millis, zone),
        Some("epoch_millis") => millis.to_string(),
        Some("epoch_second") => millis.div_euclid(SECOND).to_string(),
        Some(pattern) => {
            format_pattern(millis, zone, pattern).unwrap_or_else(|| format_in_zone(millis, zone))
        }
    }
}

fn format_pattern(millis: i64, zone: &TimeZone, pattern: &str) -> Option<String> {
    let offset_seconds = zone
        .to_offset(Timestamp::from_millisecond(millis).ok()?)
        .seconds();
    let local = civil(millis + i64::from(offset_seconds) * SECOND)?;
    let mut out = String::with_capacity(pattern.len() + 8);
    let characters: Vec<char> = pattern.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        let letter = characters[index];
        if letter == '\'' {
            // A quoted literal; `''` is a quote.
            if characters.get(index + 1) == Some(&'\'') {
                out.push('\'');
                index += 2;
                continue;
            }
            let end = characters[index + 1..]
                .iter()
                .position(|next| *next == '\'')
                .map_or(characters.len(), |position| index + 1 + position);
            out.extend(&characters[index + 1..end]);
            index = end + 1;
            continue;
        }
        let run = characters[index..]
            .iter()
            .take_while(|next| **next == letter)
            .count();
        index += run;
        let number = |value: i64, width: usize| format!("{value:0width$}");
        match letter {
            'y' | 'u' if run == 2 => out.push_str(&number(i64::from(local.year()) % 100, 2)),
            'y' | 'u' => out.push_str(&number(i64::from(local.year()), run.max(4))),
            'M' if run >= 4 => out.push_str(&format!("{}", local.month())),
            'M' if run == 3 => out.push_str(&format!("{}", local.month())[..3]),
            'M' => out.push_str(&number(i64::from(u8::from(local.month())), run)),
            'd' => out.push_str(&number(i64::from(local.day()), run)),
            'H' => out.push_str(&number(i64::from(local.hour()), run)),
            'h' => {
                let hour = (local.hour() + 11) % 12 + 1;
                out.push_str(&number(i64::from(hour), run));
            }
            'a' => out.push_str(if local.hour() < 12 { "AM" } else { "PM" }),
            'm' => out.push_str(&number(i64::from(local.minute()), run)),
            's' => out.push_str(&number(i64::from(local.second()), run)),
            'S' => {
                let fraction = format!("{:03}", local.millisecond());
                out.push_str(&format!("{fraction:0<run$}")[..run]);
            }
            'E' if run >= 4 => out.push_str(&format!("{}", local.weekday())),
            'E' => out.push_str(&format!("{}", local.weekday())[..3]),
            'X' | 'x' | 'Z' => {
                if offset_seconds == 0 && letter == 'X' {
                    out.push('Z');
                } else {
                    let sign = if offset_seconds < 0 { '-' } else { '+' };
                    let minutes = offset_seconds.unsigned_abs() / 60;
                    let separator = if run >= 3 || letter == 'Z' && run == 5 {
                        ":"
                    } else {
                        ""
                    };
                    out.push_str(&format!(
                        "{sign}{:02}{separator}{:02}",
                        minutes / 60,
                        minutes % 60
                    ));
                }
            }
            letter if letter.is_ascii_alphabetic() => return None,
            other => (0..run).for_each(|_| out.push(other)),
        }
    }
    Some(out)
}

/// A unit of the calendar: what date math rounds to (`/d`) and what a `calendar_interval`
/// buckets by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarUnit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl CalendarUnit {
    /// The unit of a date-math letter (`y M w d h H m s`; date math has no quarters).
    pub fn from_date_math(letter: u8) -> Option<CalendarUnit> {
        Some(match letter {
            b'y' => CalendarUnit::Year,
            b'M' => CalendarUnit::Month,
            b'w' => CalendarUnit::Week,
            b'd' => CalendarUnit::Day,
            b'h' | b'H' => CalendarUnit::Hour,
            b'm' => CalendarUnit::Minute,
            b's' => CalendarUnit::Second,
            _ => return None,
        })
    }

    /// The unit of a `calendar_interval` (`1d` or `day`, …; only single units exist).
    pub fn from_interval(text: &str) -> Option<CalendarUnit> {
        Some(match text {
            "1s" | "second" => CalendarUnit::Second,
            "1m" | "minute" => CalendarUnit::Minute,
            "1h" | "hour" => CalendarUnit::Hour,
            "1d" | "day" => CalendarUnit::Day,
            "1w" | "week" => CalendarUnit::Week,
            "1M" | "month" => CalendarUnit::Month,
            "1q" | "quarter" => CalendarUnit::Quarter,
            "1y" | "year" => CalendarUnit::Year,
            _ => return None,
        })
    }

    /// The unit's length when it is the same everywhere in a zone with a fixed offset.
    pub fn fixed_millis(self) -> Option<i64> {
        Some(match self {
            CalendarUnit::Second => SECOND,
            CalendarUnit::Minute => MINUTE,
            CalendarUnit::Hour => HOUR,
            CalendarUnit::Day => DAY,
            CalendarUnit::Week => 7 * DAY,
            CalendarUnit::Month | CalendarUnit::Quarter | CalendarUnit::Year => return None,
        })
    }

    /// The start of the unit holding a local reading.
    pub fn truncate(self, local: i64) -> Option<i64> {
        if self == CalendarUnit::Week {
            return Some(floor_to(local - FIRST_MONDAY, 7 * DAY) + FIRST_MONDAY);
        }
        if let Some(length) = self.fixed_millis() {
            return Some(floor_to(local, length));
        }
        let date = civil(local)?.date();
        let month = match self {
            CalendarUnit::Year => Month::January,
            CalendarUnit::Quarter => {
                Month::try_from((u8::from(date.month()) - 1) / 3 * 3 + 1).ok()?
            }
            _ => date.month(),
        };
        let start = Date::from_calendar_date(date.year(), month, 1).ok()?;
        Some(start.midnight().assume_utc().unix_timestamp() * SECOND)
    }

    /// A local reading moved by `amount` units; months keep their day where they can and
    /// clamp it to the month's end otherwise (`2026-01-31||+1M` is February 28th).
    pub fn advance(self, local: i64, amount: i64) -> Option<i64> {
        let months = match self {
            CalendarUnit::Month => amount,
            CalendarUnit::Quarter => amount.checked_mul(3)?,
            CalendarUnit::Year => amount.checked_mul(12)?,
            fixed => return local.checked_add(amount.checked_mul(fixed.fixed_millis()?)?),
        };
        let moment = civil(local)?;
        let total = i64::from(moment.year()) * 12 + i64::from(u8::from(moment.month())) - 1;
        let total = total.checked_add(months)?;
        let year = i32::try_from(total.div_euclid(12)).ok()?;
        let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
        let day = moment.day().min(time::util::days_in_month(month, year));
        let date = Date::from_calendar_date(year, month, day).ok()?;
        let moved = moment.replace_date(date);
        Some((moved.unix_timestamp_nanos() / 1_000_000) as i64)
    }
}

fn floor_to(value: i64, step: i64) -> i64 {
    value.div_euclid(step) * step
}

/// A local reading as a calendar date and time.
fn civil(local: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(local) * 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        crate::parse::parse_date_optional_time(text).unwrap() / 1_000_000
    }

    #[test]
    fn zones_parse_as_elasticsearch_accepts_them() {
        assert_eq!(parse_time_zone("utc").unwrap(), TimeZone::UTC);
        let india = parse_time_zone("+05:30").unwrap();
        assert_eq!(india.to_fixed_offset().unwrap().seconds(), 19_800);
        assert_eq!(
            parse_time_zone("-0530")
                .unwrap()
                .to_fixed_offset()
                .unwrap()
                .seconds(),
            -19_800
        );
        assert!(parse_time_zone("Europe/Paris").is_ok());
        let unknown = parse_time_zone("Mars/Olympus").unwrap_err();
        assert_eq!(unknown, "Unknown time-zone ID: Mars/Olympus");
        assert!(parse_time_zone("+25:00").is_err());
    }

    #[test]
    fn daylight_saving_time_moves_the_offset() {
        let paris = parse_time_zone("Europe/Paris").unwrap();
        let winter = utc("2026-01-15T12:00:00Z");
        assert_eq!(utc_to_local(winter, &paris), Some(winter + HOUR));
        let summer = utc("2026-07-15T12:00:00Z");
        assert_eq!(utc_to_local(summer, &paris), Some(summer + 2 * HOUR));
        assert_eq!(
            format_in_zone(summer, &paris),
            "2026-07-15T14:00:00.000+02:00"
        );
        assert_eq!(
            format_in_zone(winter, &TimeZone::UTC),
            "2026-01-15T12:00:00.000Z"
        );
        // 02:30 on 2026-03-29 does not exist in Paris: it resolves after the gap.
        let skipped = utc("2026-03-29T02:30:00Z");
        assert_eq!(
            local_to_utc(skipped, &paris),
            Some(utc("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn dates_format_with_named_formats_and_java_patterns() {
        let moment = utc("2026-11-26T16:07:08.123Z");
        let paris = parse_time_zone("Europe/Paris").unwrap();
        assert_eq!(
            format_date(moment, &paris, None),
            "2026-11-26T17:07:08.123+01:00"
        );
        assert_eq!(
            format_date(moment, &paris, Some("epoch_millis")),
            moment.to_string()
        );
        assert_eq!(
            format_date(moment, &paris, Some("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")),
            "2026-11-26T17:07:08.123+01:00"
        );
        assert_eq!(
            format_date(
                moment,
                &TimeZone::UTC,
                Some("yyyy/MM/dd HH:mm||epoch_millis")
            ),
            "2026/11/26 16:07"
        );
        assert_eq!(
            format_date(moment, &TimeZone::UTC, Some("EEE, d MMM yyyy hh a")),
            "Thu, 26 Nov 2026 04 PM"
        );
        assert_eq!(
            format_date(moment, &TimeZone::UTC, Some("yyyy-QQQ")),
            "2026-11-26T16:07:08.123Z",
            "unsupported letters fall back to the default"
        );
    }

    #[test]
    fn units_truncate_and_advance_on_the_calendar() {
        let moment = utc("2026-11-26T16:17:18.123Z");
        let truncated = |unit: CalendarUnit| CalendarUnit::truncate(unit, moment).unwrap();
        assert_eq!(truncated(CalendarUnit::Week), utc("2026-11-23"), "a Monday");
        assert_eq!(truncated(CalendarUnit::Month), utc("2026-11-01"));
        assert_eq!(truncated(CalendarUnit::Quarter), utc("2026-10-01"));
        assert_eq!(truncated(CalendarUnit::Year), utc("2026-01-01"));
        assert_eq!(
            CalendarUnit::Quarter.advance(utc("2026-10-01"), 1),
            Some(utc("2027-01-01"))
        );
        assert_eq!(
            CalendarUnit::Month.advance(utc("2026-01-31"), 1),
            Some(utc("2026-02-28"))
        );
        assert_eq!(
            CalendarUnit::from_interval("quarter"),
            Some(CalendarUnit::Quarter)
        );
        assert_eq!(CalendarUnit::from_interval("2d"), None);
    }
}
