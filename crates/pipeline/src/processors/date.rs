//! `date`: a date in a field parsed with the first of several formats that fits, written as
//! an ISO 8601 timestamp (to `@timestamp` by default) in the processor's `timezone`, whatever
//! offset the text had: `07/Dec/2016:11:05:07 +0100` becomes `2016-12-07T10:05:07.000Z`.
//!
//! Formats are Elasticsearch's: `ISO8601`, `UNIX` (seconds, with a fraction), `UNIX_MS`,
//! `TAI64N`, or Java `DateTimeFormatter` patterns (`dd/MMM/yyyy:HH:mm:ss Z`,
//! `MMM d HH:mm:ss`, `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, with `[optional]` sections). A date
//! without an offset is in `timezone` (UTC unless set); one without a year is in the current
//! year. Month and day names are English, the `ENGLISH`/`ROOT` locales Elastic's pipelines use.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};
use logfleet_model::json::JsonValue;

use super::read_field;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
/// Elasticsearch's default `output_format`.
const DEFAULT_OUTPUT: &str = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
/// `ISO8601`, as the optional sections of a pattern.
const ISO8601: &str = "yyyy-MM-dd[['T'][' ']HH[:mm[:ss[.SSSSSSSSS]]]][XXX]";

/// One element of a Java date pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field(char, usize),
    Optional(Vec<Token>),
}

/// A date format.
#[derive(Debug, Clone)]
pub(crate) enum Format {
    Unix,
    UnixMs,
    Tai64n,
    Pattern(Vec<Token>),
}

impl Format {
    /// A format as `formats` names it: a keyword or a Java pattern.
    pub(crate) fn parse_definition(format: &str) -> Result<Format, String> {
        Ok(match format {
            "UNIX" => Format::Unix,
            "UNIX_MS" => Format::UnixMs,
            "TAI64N" => Format::Tai64n,
            "ISO8601" | "strict_date_optional_time" | "date_optional_time" => {
                Format::Pattern(tokenize(ISO8601)?)
            }
            pattern => Format::Pattern(tokenize(pattern)?),
        })
    }
}

/// Parses a Java `DateTimeFormatter` pattern.
pub(crate) fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let characters: Vec<char> = pattern.chars().collect();
    let (tokens, end) = tokenize_from(&characters, 0, pattern)?;
    if end < characters.len() {
        return Err(format!("Invalid format: [{pattern}]: unmatched ']'"));
    }
    Ok(tokens)
}

fn tokenize_from(
    characters: &[char],
    mut index: usize,
    pattern: &str,
) -> Result<(Vec<Token>, usize), String> {
    let mut tokens = Vec::new();
    while index < characters.len() {
        let character = characters[index];
        match character {
            '\'' => {
                let mut literal = String::new();
                index += 1;
                loop {
                    match characters.get(index) {
                        None => return Err(format!("Invalid format: [{pattern}]: unclosed quote")),
                        Some('\'') if characters.get(index + 1) == Some(&'\'') => {
                            literal.push('\'');
                            index += 2;
                        }
                        Some('\'') => {
                            index += 1;
                            break;
                        }
                        Some(other) => {
                            literal.push(*other);
                            index += 1;
                        }
                    }
                }
                if literal.is_empty() {
                    literal.push('\'');
                }
                tokens.push(Token::Literal(literal));
            }
            '[' => {
                let (inner, end) = tokenize_from(characters, index + 1, pattern)?;
                if characters.get(end) != Some(&']') {
                    return Err(format!("Invalid format: [{pattern}]: unclosed '['"));
                }
                tokens.push(Token::Optional(inner));
                index = end + 1;
            }
            ']' => return Ok((tokens, index)),
            letter if letter.is_ascii_alphabetic() => {
                let count = characters[index..]
                    .iter()
                    .take_while(|next| **next == letter)
                    .count();
                if !"yuMLdHhkKmsSaEeZXxzVGnDA".contains(letter) {
                    return Err(format!(
                        "Invalid format: [{pattern}]: unknown pattern letter: {letter}"
                    ));
                }
                tokens.push(Token::Field(letter, count));
                index += count;
            }
            other => {
                tokens.push(Token::Literal(other.to_string()));
                index += 1;
            }
        }
    }
    Ok((tokens, index))
}

/// What a pattern read from the text.
#[derive(Debug, Clone, Default)]
struct Parsed {
    year: Option<i16>,
    month: Option<i8>,
    day: Option<i8>,
    hour: Option<i8>,
    pm: Option<bool>,
    minute: i8,
    second: i8,
    nanosecond: i32,
    offset: Option<Offset>,
    zone: Option<TimeZone>,
    epoch_millis: Option<i64>,
}

struct Reader<'t> {
    text: &'t str,
    position: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.position..]
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let rest = self.rest();
        let (sign, body) = match rest.strip_prefix('-') {
            Some(body) if max > 4 => (-1, body),
            _ => (1, rest),
        };
        let length = body
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if length < min {
            return None;
        }
        let value: i64 = body[..length].parse().ok()?;
        self.position += length + usize::from(sign < 0);
        Some(sign * value)
    }

    /// One of `names` (or its first three letters), case-insensitively; its index.
    fn name(&mut self, names: &[&str]) -> Option<usize> {
        let rest = self.rest().to_ascii_lowercase();
        for (index, name) in names.iter().enumerate() {
            if rest.starts_with(name) {
                self.position += name.len();
                return Some(index);
            }
        }
        for (index, name) in names.iter().enumerate() {
            // `Sept` is a common spelling of September's short form.
            if rest.starts_with(&name[..3]) {
                self.position += 3;
                if index == 8 && rest[3..].starts_with('t') {
                    self.position += 1;
                }
                return Some(index);
            }
        }
        None
    }

    fn offset(&mut self, allow_z: bool, colon: Option<bool>) -> Option<Offset> {
        let rest = self.rest();
        if allow_z && rest.starts_with('Z') {
            self.position += 1;
            return Some(Offset::UTC);
        }
        let sign = match rest.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.position += 1;
        let hours = self.digits(2, 2)?;
        let mut minutes = 0;
        let has_colon = self.rest().starts_with(':');
        if colon != Some(false) && has_colon {
            self.position += 1;
            minutes = self.digits(2, 2)?;
        } else if colon != Some(true)
            && let Some(value) = self.digits(2, 2)
        {
            minutes = value;
        }
        Offset::from_seconds((sign * (hours * 3600 + minutes * 60)) as i32).ok()
    }
}

fn parse_tokens(tokens: &[Token], reader: &mut Reader<'_>, parsed: &mut Parsed) -> Option<()> {
    for token in tokens {
        match token {
            Token::Literal(literal) => {
                let rest = reader.rest();
                if rest.starts_with(literal.as_str()) {
                    reader.position += literal.len();
                } else if literal == "T" && rest.starts_with('t') {
                    reader.position += 1;
                } else {
                    return None;
                }
            }
            Token::Optional(inner) => {
                let (position, before) = (reader.position, parsed.clone());
                if parse_tokens(inner, reader, parsed).is_none() {
                    reader.position = position;
                    *parsed = before;
                }
            }
            Token::Field(letter, count) => parse_field(*letter, *count, reader, parsed)?,
        }
    }
    Some(())
}

fn parse_field(
    letter: char,
    count: usize,
    reader: &mut Reader<'_>,
    parsed: &mut Parsed,
) -> Option<()> {
    let number = |reader: &mut Reader<'_>, max: usize| reader.digits(1, max.max(2));
    match letter {
        'y' | 'u' => {
            let year = if count == 2 {
                2000 + reader.digits(2, 2)?
            } else {
                reader.digits(count.min(4), 9)?
            };
            parsed.year = Some(i16::try_from(year).ok()?);
        }
        'M' | 'L' if count >= 3 => parsed.month = Some(reader.name(&MONTHS)? as i8 + 1),
        'M' | 'L' => parsed.month = Some(number(reader, count)? as i8),
        'd' => parsed.day = Some(number(reader, count)? as i8),
        'H' | 'k' => parsed.hour = Some(number(reader, count)? as i8 % 24),
        'h' | 'K' => parsed.hour = Some(number(reader, count)? as i8 % 12),
        'm' => parsed.minute = number(reader, count)? as i8,
        's' => parsed.second = number(reader, count)? as i8,
        'S' => {
            let start = reader.position;
            let digits = reader.digits(1, 9)?;
            let length = reader.position - start;
            parsed.nanosecond = (digits * 10_i64.pow(9 - length as u32)) as i32;
        }
        'n' => parsed.nanosecond = reader.digits(1, 9)? as i32,
        'a' => {
            let rest = reader.rest().to_ascii_lowercase();
            parsed.pm = Some(if rest.starts_with("pm") {
                true
            } else if rest.starts_with("am") {
                false
            } else {
                return None;
            });
            reader.position += 2;
        }
        'E' | 'e' => {
            reader.name(&DAYS)?;
        }
        'G' => {
            let rest = reader.rest();
            if rest.starts_with("AD") || rest.starts_with("BC") {
                reader.position += 2;
            }
        }
        'D' => {
            reader.digits(1, 3)?;
        }
        'A' => {
            reader.digits(1, 9)?;
        }
        'Z' if count == 5 => parsed.offset = Some(reader.offset(true, Some(true))?),
        'Z' => parsed.offset = Some(reader.offset(false, None)?),
        'X' => parsed.offset = Some(reader.offset(true, Some(count >= 3))?),
        'x' => parsed.offset = Some(reader.offset(false, Some(count >= 3))?),
        'z' | 'V' => {
            let rest = reader.rest();
            let length = rest
                .find(|character: char| {
                    !(character.is_ascii_alphanumeric() || "/_+-".contains(character))
                })
                .unwrap_or(rest.len());
            let name = &rest[..length];
            let zone = match name {
                "UTC" | "GMT" | "Z" | "UT" => TimeZone::UTC,
                _ => TimeZone::get(name).ok().or_else(|| abbreviation(name))?,
            };
            reader.position += length;
            parsed.zone = Some(zone);
        }
        _ => return None,
    }
    Some(())
}

/// The North American zone abbreviations Java resolves, as fixed offsets.
fn abbreviation(name: &str) -> Option<TimeZone> {
    let hours = match name {
        "EST" => -5,
        "EDT" | "CST" => {
            if name == "EDT" {
                -4
            } else {
                -6
            }
        }
        "CDT" | "MST" => {
            if name == "CDT" {
                -5
            } else {
                -7
            }
        }
        "MDT" | "PST" => {
            if name == "MDT" {
                -6
            } else {
                -8
            }
        }
        "PDT" => -7,
        "CET" => 1,
        "CEST" => 2,
        _ => return None,
    };
    Some(TimeZone::fixed(Offset::constant(hours)))
}

/// Parses `text` with `format`; `zone` is for dates without an offset, `now` gives the year
/// to dates without one. The result is in `zone` whatever offset the text had, as
/// Elasticsearch's parsers end with `withZoneSameInstant(zone)`.
pub(crate) fn parse(text: &str, format: &Format, zone: &TimeZone, now: &Zoned) -> Option<Zoned> {
    let text = text.trim();
    match format {
        Format::Unix => {
            let seconds: f64 = text.parse().ok()?;
            // Java's `(long) (seconds * 1000.0)`: truncated, not rounded.
            let millis = (seconds * 1000.0) as i64;
            Some(
                Timestamp::from_millisecond(millis)
                    .ok()?
                    .to_zoned(zone.clone()),
            )
        }
        Format::UnixMs => {
            let millis: i64 = text.parse().ok()?;
            Some(
                Timestamp::from_millisecond(millis)
                    .ok()?
                    .to_zoned(zone.clone()),
            )
        }
        Format::Tai64n => {
            let hex = text.strip_prefix('@').unwrap_or(text);
            if hex.len() != 24 {
                return None;
            }
            let seconds = i64::from_str_radix(&hex[..16], 16)
                .ok()?
                .checked_sub(4_611_686_018_427_387_914)?;
            let nanos = i32::from_str_radix(&hex[16..], 16).ok()?;
            Some(Timestamp::new(seconds, nanos).ok()?.to_zoned(zone.clone()))
        }
        Format::Pattern(tokens) => {
            let mut reader = Reader { text, position: 0 };
            let mut parsed = Parsed::default();
            parse_tokens(tokens, &mut reader, &mut parsed)?;
            if reader.position != text.len() {
                return None;
            }
            if let Some(millis) = parsed.epoch_millis {
                return Some(
                    Timestamp::from_millisecond(millis)
                        .ok()?
                        .to_zoned(zone.clone()),
                );
            }
            let mut hour = parsed.hour.unwrap_or(0);
            if parsed.pm == Some(true) {
                hour += 12;
            }
            let year = parsed.year.unwrap_or_else(|| now.year());
            let date = Date::new(year, parsed.month.unwrap_or(1), parsed.day.unwrap_or(1)).ok()?;
            let time = Time::new(hour, parsed.minute, parsed.second, parsed.nanosecond).ok()?;
            let civil = DateTime::from_parts(date, time);
            let written_in = match (parsed.offset, parsed.zone) {
                (Some(offset), _) => civil.to_zoned(TimeZone::fixed(offset)).ok()?,
                (None, Some(named)) => civil.to_zoned(named).ok()?,
                (None, None) => civil.to_zoned(zone.clone()).ok()?,
            };
            Some(written_in.with_time_zone(zone.clone()))
        }
    }
}

/// Formats `moment` with a Java pattern.
pub(crate) fn format(moment: &Zoned, tokens: &[Token], out: &mut String) {
    for token in tokens {
        match token {
            Token::Literal(literal) => out.push_str(literal),
            Token::Optional(inner) => format(moment, inner, out),
            Token::Field(letter, count) => {
                let count = *count;
                let padded = |value: i64, width: usize| format!("{value:0width$}");
                let text = match letter {
                    'y' | 'u' if count == 2 => padded(i64::from(moment.year()) % 100, 2),
                    'y' | 'u' => padded(i64::from(moment.year()), count.clamp(4, 9)),
                    'M' | 'L' if count >= 4 => capitalize(MONTHS[moment.month() as usize - 1]),
                    'M' | 'L' if count == 3 => {
                        capitalize(&MONTHS[moment.month() as usize - 1][..3])
                    }
                    'M' | 'L' => padded(i64::from(moment.month()), count),
                    'd' => padded(i64::from(moment.day()), count),
                    'H' | 'k' => padded(i64::from(moment.hour()), count),
                    'h' | 'K' => padded(i64::from((moment.hour() + 11) % 12 + 1), count),
                    'm' => padded(i64::from(moment.minute()), count),
                    's' => padded(i64::from(moment.second()), count),
                    'S' => {
                        let nanos = format!("{:09}", moment.subsec_nanosecond());
                        nanos[..count.min(9)].to_owned()
                    }
                    'a' => (if moment.hour() < 12 { "AM" } else { "PM" }).to_owned(),
                    'E' => {
                        let day = DAYS[moment.weekday().to_monday_zero_offset() as usize];
                        if count >= 4 {
                            capitalize(day)
                        } else {
                            capitalize(&day[..3])
                        }
                    }
                    'Z' | 'X' | 'x' => {
                        let seconds = moment.offset().seconds();
                        if seconds == 0 && *letter == 'X' {
                            "Z".to_owned()
                        } else {
                            let sign = if seconds < 0 { '-' } else { '+' };
                            let (hours, minutes) =
                                (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
                            let colon =
                                (*letter != 'Z' && count >= 3) || (*letter == 'Z' && count == 5);
                            if colon {
                                format!("{sign}{hours:02}:{minutes:02}")
                            } else if count == 1 && *letter != 'Z' {
                                format!("{sign}{hours:02}")
                            } else {
                                format!("{sign}{hours:02}{minutes:02}")
                            }
                        }
                    }
                    'z' | 'V' => moment.time_zone().iana_name().unwrap_or("UTC").to_owned(),
                    _ => String::new(),
                };
                out.push_str(&text);
            }
        }
    }
}

fn capitalize(name: &str) -> String {
    let mut characters = name.chars();
    characters
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + characters.as_str())
        .unwrap_or_default()
}

/// A time zone by id (`Europe/Paris`), offset (`+02:00`) or `UTC`.
pub(crate) fn time_zone(name: &str) -> Option<TimeZone> {
    match name {
        "UTC" | "Z" | "GMT" | "utc" => Some(TimeZone::UTC),
        _ => {
            let mut reader = Reader {
                text: name,
                position: 0,
            };
            if let Some(offset) = reader.offset(true, None)
                && reader.position == name.len()
            {
                return Some(TimeZone::fixed(offset));
            }
            TimeZone::get(name).ok()
        }
    }
}

/// Refuses a locale whose month and day names would not be English, the only ones read.
pub(crate) fn check_locale(locale: &str) -> Result<(), String> {
    let english = [
        "ENGLISH", "ROOT", "en", "en_US", "en-US", "en_GB", "en-GB", "US", "UK",
    ];
    if english.iter().any(|name| name.eq_ignore_ascii_case(locale)) {
        Ok(())
    } else {
        Err(format!(
            "Unknown language: {locale}: month and day names are read in English"
        ))
    }
}

/// Parses dates.
#[derive(Debug)]
pub struct DateProcessor {
    field: String,
    target_field: String,
    formats: Vec<(String, Format)>,
    timezone: Option<Template>,
    output: Vec<Token>,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<DateProcessor, ConfigError> {
    let field = config.string("field")?;
    let target_field = config
        .optional_string("target_field")?
        .unwrap_or_else(|| "@timestamp".to_owned());
    let definitions = config.strings("formats", false)?;
    let mut formats = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let format = Format::parse_definition(&definition)
            .map_err(|reason| config.error("formats", reason))?;
        formats.push((definition, format));
    }
    let timezone = match config.optional_string("timezone")? {
        None => None,
        Some(zone) => {
            let template =
                Template::compile(&zone).map_err(|reason| config.error("timezone", reason))?;
            if let Some(constant) = template.constant()
                && time_zone(constant).is_none()
            {
                return Err(config.error("timezone", format!("Unknown time-zone ID: {constant}")));
            }
            Some(template)
        }
    };
    if let Some(locale) = config.optional_string("locale")?
        && !locale.contains("{{")
    {
        check_locale(&locale).map_err(|reason| config.error("locale", reason))?;
    }
    let output = config
        .optional_string("output_format")?
        .unwrap_or_else(|| DEFAULT_OUTPUT.to_owned());
    let output = tokenize(&output).map_err(|reason| config.error("output_format", reason))?;
    config.finish()?;
    Ok(DateProcessor {
        field,
        target_field,
        formats,
        timezone,
        output,
    })
}

impl Processor for DateProcessor {
    fn kind(&self) -> &'static str {
        "date"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, false, "date")? else {
            return Ok(Flow::Continue);
        };
        let text = match value.as_ref() {
            JsonValue::String(text) => text.as_ref().to_owned(),
            JsonValue::Number(number) => number.to_string(),
            other => other.to_string(),
        };
        let zone = match &self.timezone {
            None => TimeZone::UTC,
            Some(template) => {
                let name = template.render(document);
                time_zone(&name).ok_or_else(|| {
                    PipelineError::illegal_argument(format!("Unknown time-zone ID: {name}"))
                })?
            }
        };
        let now = Zoned::now().with_time_zone(zone.clone());
        let parsed = self
            .formats
            .iter()
            .find_map(|(_, format)| parse(&text, format, &zone, &now));
        let Some(moment) = parsed else {
            return Err(PipelineError::illegal_argument(format!(
                "unable to parse date [{text}]"
            )));
        };
        let mut out = String::with_capacity(29);
        format(&moment, &self.output, &mut out);
        document.set(&self.target_field, JsonValue::from(out))?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::json;

    fn date(
        formats: serde_json::Value,
        value: serde_json::Value,
        extra: serde_json::Value,
    ) -> String {
        let mut options = json!({"field": "d", "formats": formats});
        if let serde_json::Value::Object(extra) = extra {
            options.as_object_mut().unwrap().extend(extra);
        }
        let out = run(json!({ "date": options }), json!({ "d": value }));
        out["@timestamp"].as_str().unwrap().to_owned()
    }

    #[test]
    fn parses_the_common_formats() {
        assert_eq!(
            date(
                json!(["dd/MMM/yyyy:HH:mm:ss Z"]),
                json!("17/May/2015:10:05:03 +0000"),
                json!(null)
            ),
            "2015-05-17T10:05:03.000Z"
        );
        assert_eq!(
            date(
                json!(["ISO8601"]),
                json!("2016-06-12T17:26:01.123456+02:00"),
                json!(null)
            ),
            "2016-06-12T15:26:01.123Z",
            "in the processor's time zone, as Elasticsearch writes it"
        );
        assert_eq!(
            date(json!(["ISO8601"]), json!("2016-06-12"), json!(null)),
            "2016-06-12T00:00:00.000Z"
        );
        assert_eq!(
            date(
                json!(["ISO8601"]),
                json!("2016-06-12 17:26:01Z"),
                json!(null)
            ),
            "2016-06-12T17:26:01.000Z"
        );
        assert_eq!(
            date(json!(["UNIX"]), json!("1463050062.5"), json!(null)),
            "2016-05-12T10:47:42.500Z"
        );
        assert_eq!(
            date(json!(["UNIX_MS"]), json!(1463050062123_i64), json!(null)),
            "2016-05-12T10:47:42.123Z"
        );
        assert_eq!(
            date(
                json!(["TAI64N"]),
                json!("@4000000050d506482dbdf024"),
                json!(null)
            ),
            "2012-12-22T01:00:46.767Z"
        );
        assert_eq!(
            date(
                json!(["yyyy-MM-dd HH:mm:ss,SSS"]),
                json!("2020-01-02 03:04:05,678"),
                json!(null)
            ),
            "2020-01-02T03:04:05.678Z"
        );
        assert_eq!(
            date(
                json!(["EEE MMM dd HH:mm:ss yyyy"]),
                json!("Mon Jun 08 09:10:11 2020"),
                json!(null)
            ),
            "2020-06-08T09:10:11.000Z"
        );
        assert_eq!(
            date(
                json!(["MM/dd/yyyy hh:mm:ss a"]),
                json!("06/08/2020 09:10:11 PM"),
                json!(null)
            ),
            "2020-06-08T21:10:11.000Z"
        );
    }

    #[test]
    fn time_zones_and_output_formats() {
        assert_eq!(
            date(
                json!(["yyyy-MM-dd HH:mm:ss"]),
                json!("2020-07-01 12:00:00"),
                json!({"timezone": "Europe/Amsterdam"})
            ),
            "2020-07-01T12:00:00.000+02:00"
        );
        assert_eq!(
            date(
                json!(["yyyy-MM-dd HH:mm:ss"]),
                json!("2020-07-01 12:00:00"),
                json!({"timezone": "-05:00"})
            ),
            "2020-07-01T12:00:00.000-05:00"
        );
        assert_eq!(
            date(
                json!(["ISO8601"]),
                json!("2020-07-01T12:00:00Z"),
                json!({"output_format": "yyyy/MM/dd"})
            ),
            "2020/07/01"
        );
        let this_year = jiff::Zoned::now().year();
        assert_eq!(
            date(
                json!(["MMM d HH:mm:ss"]),
                json!("Dec 7 10:00:00"),
                json!(null)
            ),
            format!("{this_year}-12-07T10:00:00.000Z")
        );
    }

    #[test]
    fn failures() {
        let error = run_error(
            json!({"date": {"field": "d", "formats": ["ISO8601", "UNIX"]}}),
            json!({"d": "yesterday"}),
        );
        assert_eq!(error, "unable to parse date [yesterday]");
        assert!(build_error(json!({"date": {"field": "d", "formats": ["yyyy-MM-dd"], "timezone": "Mars/Olympus"}})).contains("Unknown time-zone ID"));
        assert!(
            build_error(json!({"date": {"field": "d", "formats": ["yyyy-qq"]}}))
                .contains("unknown pattern letter")
        );
    }
}
