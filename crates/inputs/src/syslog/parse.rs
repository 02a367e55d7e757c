//! Syslog messages, RFC 5424 and RFC 3164 (BSD), into documents with the `log.syslog.*`
//! fields Filebeat's syslog input writes.
//!
//! RFC 3164 timestamps carry neither a year nor a time zone: the zone is the input's
//! configured one, and the year the current one, unless that puts the message more than a
//! day in the future (a December message read in January), when it is the year before.
//! RFC 3339 timestamps in place of BSD ones (rsyslog's forwarding formats) are taken as
//! they are. A message that is not syslog at all is kept whole as `message`.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde_json::{Map, Value, json};

/// Facility names, by code, as Filebeat writes them.
const FACILITIES: [&str; 24] = [
    "kernel",
    "user-level",
    "mail",
    "system",
    "security/authorization",
    "syslogd",
    "line printer",
    "network news",
    "UUCP",
    "clock",
    "security/authorization",
    "FTP",
    "NTP",
    "log audit",
    "log alert",
    "clock",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Severity names, by code, as Filebeat writes them.
const SEVERITIES: [&str; 8] = [
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
];

/// Logfleet's `level` for a severity code: the levels the dashboards and the explorer know.
const LEVELS: [&str; 8] = [
    "critical", "critical", "critical", "error", "warning", "info", "info", "debug",
];

/// The priority RFC 3164 assumes when a message has none: user-level notice.
const DEFAULT_PRIORITY: u8 = 13;

/// How messages are read.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The zone of RFC 3164 timestamps.
    pub timezone: TimeZone,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            timezone: TimeZone::UTC,
        }
    }
}

/// A message as a document: `@timestamp`, `message`, `level`, `log.syslog.*`. `now` is the
/// time it was received.
pub fn parse(raw: &str, options: &ParseOptions, now: Timestamp) -> Map<String, Value> {
    let raw = raw.trim_end_matches(['\n', '\r', '\0']);
    let (priority, rest) = match priority(raw) {
        Some((priority, rest)) => (Some(priority), rest),
        None => (None, raw),
    };
    let mut syslog = Map::new();
    let parsed = rest
        .strip_prefix("1 ")
        .and_then(|rest5424| rfc5424(rest5424, now, &mut syslog))
        .or_else(|| rfc3164(rest, options, now, &mut syslog));
    let (timestamp, message) = match parsed {
        Some(parsed) => parsed,
        None => {
            syslog.clear();
            (now, raw.to_owned())
        }
    };
    let priority = priority.unwrap_or(DEFAULT_PRIORITY);
    let (facility, severity) = (usize::from(priority >> 3), usize::from(priority & 7));
    syslog.insert("priority".into(), priority.into());
    syslog.insert(
        "facility".into(),
        json!({"code": facility, "name": FACILITIES.get(facility).copied().unwrap_or("unknown")}),
    );
    syslog.insert(
        "severity".into(),
        json!({"code": severity, "name": SEVERITIES[severity]}),
    );
    let mut document = Map::new();
    document.insert(
        "@timestamp".into(),
        timestamp
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
            .into(),
    );
    document.insert("message".into(), message.into());
    document.insert("level".into(), LEVELS[severity].into());
    document.insert("log".into(), json!({ "syslog": syslog }));
    document
}

/// `<PRI>`: 1 to 3 digits, at most 191.
fn priority(raw: &str) -> Option<(u8, &str)> {
    let rest = raw.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let priority: u8 = digits.parse().ok().filter(|priority| *priority <= 191)?;
    Some((priority, &rest[end + 1..]))
}

/// `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`, after `<PRI>1 `.
fn rfc5424(
    rest: &str,
    now: Timestamp,
    syslog: &mut Map<String, Value>,
) -> Option<(Timestamp, String)> {
    let mut fields = rest.splitn(6, ' ');
    let timestamp = fields.next()?;
    let names = ["hostname", "appname", "procid", "msgid"];
    let values: Vec<&str> = (0..4).map(|_| fields.next()).collect::<Option<_>>()?;
    let tail = fields.next().unwrap_or("");
    let timestamp = match timestamp {
        "-" => None,
        text => Some(text.parse::<Timestamp>().ok()?),
    };
    let (structured, message) = structured_data(tail)?;
    syslog.insert("version".into(), 1.into());
    for (name, value) in names.into_iter().zip(values) {
        if value != "-" {
            syslog.insert(name.into(), value.into());
        }
    }
    if !structured.is_empty() {
        syslog.insert("structured_data".into(), Value::Object(structured));
    }
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some((timestamp.unwrap_or(now), message.to_owned()))
}

/// `-` or `[id name="value" …]…`, then the message after one space.
fn structured_data(text: &str) -> Option<(Map<String, Value>, &str)> {
    let mut elements = Map::new();
    if let Some(rest) = text.strip_prefix('-') {
        return Some((elements, rest.strip_prefix(' ').unwrap_or(rest)));
    }
    let mut rest = text;
    while let Some(element) = rest.strip_prefix('[') {
        let id_end = element.find([' ', ']'])?;
        let id = &element[..id_end];
        let mut params = Map::new();
        let mut cursor = &element[id_end..];
        loop {
            cursor = cursor.trim_start_matches(' ');
            if let Some(after) = cursor.strip_prefix(']') {
                cursor = after;
                break;
            }
            let equals = cursor.find('=')?;
            let name = &cursor[..equals];
            let value = cursor[equals + 1..].strip_prefix('"')?;
            let mut unescaped = String::new();
            let mut characters = value.char_indices();
            let end = loop {
                let (position, character) = characters.next()?;
                match character {
                    '\\' => {
                        let (_, escaped) = characters.next()?;
                        if !matches!(escaped, '"' | '\\' | ']') {
                            unescaped.push('\\');
                        }
                        unescaped.push(escaped);
                    }
                    '"' => break position,
                    other => unescaped.push(other),
                }
            };
            params.insert(name.to_owned(), unescaped.into());
            cursor = &value[end + 1..];
        }
        elements.insert(id.to_owned(), Value::Object(params));
        rest = cursor;
    }
    if elements.is_empty() {
        return None;
    }
    Some((elements, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// `TIMESTAMP [HOSTNAME] TAG[PID]: MSG`, after `<PRI>`.
fn rfc3164(
    rest: &str,
    options: &ParseOptions,
    now: Timestamp,
    syslog: &mut Map<String, Value>,
) -> Option<(Timestamp, String)> {
    let (timestamp, rest) = bsd_timestamp(rest, options, now).or_else(|| rfc3339_prefix(rest))?;
    let rest = rest.trim_start_matches(' ');
    // A hostname is one word with no `:` or `[` before the tag; some senders leave it out.
    let (first, after_first) = rest.split_once(' ').unwrap_or((rest, ""));
    let has_hostname = !first.is_empty()
        && !first.ends_with(':')
        && !first.contains('[')
        && !after_first.is_empty();
    let rest = if has_hostname {
        syslog.insert("hostname".into(), first.into());
        after_first
    } else {
        rest
    };
    let message = match tag(rest) {
        Some((appname, procid, message)) => {
            syslog.insert("appname".into(), appname.into());
            if let Some(procid) = procid {
                syslog.insert("procid".into(), procid.into());
            }
            message
        }
        None => rest,
    };
    Some((timestamp, message.to_owned()))
}

/// `TAG[PID]: ` or `TAG: ` at the start of the content.
fn tag(content: &str) -> Option<(&str, Option<&str>, &str)> {
    let end = content.find([':', '[', ' '])?;
    let appname = &content[..end];
    if appname.is_empty() || appname.len() > 48 {
        return None;
    }
    let after = &content[end..];
    let (procid, after) = match after.strip_prefix('[') {
        Some(inside) => {
            let close = inside.find(']')?;
            (Some(&inside[..close]), &inside[close + 1..])
        }
        None => (None, after),
    };
    let message = after.strip_prefix(':')?;
    Some((
        appname,
        procid,
        message.strip_prefix(' ').unwrap_or(message),
    ))
}

/// `Mmm dd hh:mm:ss`, `Mmm dd yyyy hh:mm:ss` or `Mmm dd hh:mm:ss.fff`, in the input's zone.
fn bsd_timestamp<'t>(
    text: &'t str,
    options: &ParseOptions,
    now: Timestamp,
) -> Option<(Timestamp, &'t str)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|month| text.starts_with(month))? as i8 + 1;
    let rest = text.get(3..)?.strip_prefix(' ')?.trim_start_matches(' ');
    let (day, rest) = rest.split_once(' ')?;
    let day: i8 = day.parse().ok()?;
    let (explicit_year, rest) = match rest.split_once(' ') {
        Some((year, after)) if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) => {
            (year.parse::<i16>().ok(), after)
        }
        _ => (None, rest),
    };
    let clock_end = rest.find(' ').unwrap_or(rest.len());
    let clock = &rest[..clock_end];
    let mut parts = clock.splitn(3, ':');
    let hour: i8 = parts.next()?.parse().ok()?;
    let minute: i8 = parts.next()?.parse().ok()?;
    let seconds = parts.next()?;
    let (second, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let second: i8 = second.parse().ok()?;
    let nanos: i32 = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().take(9).collect();
        format!("{digits:0<9}").parse().ok()?
    };
    let at = |year: i16| -> Option<Timestamp> {
        let civil = DateTime::new(year, month, day, hour, minute, second, nanos).ok()?;
        civil
            .to_zoned(options.timezone.clone())
            .ok()
            .map(|zoned| zoned.timestamp())
    };
    let timestamp = match explicit_year {
        Some(year) => at(year)?,
        None => {
            let year = Zoned::new(now, options.timezone.clone()).year();
            let this_year = at(year)?;
            let tomorrow = now.checked_add(jiff::SignedDuration::from_hours(24)).ok()?;
            if this_year > tomorrow {
                at(year - 1)?
            } else {
                this_year
            }
        }
    };
    Some((timestamp, &rest[clock_end..]))
}

/// An RFC 3339 timestamp in place of a BSD one, as rsyslog forwards.
fn rfc3339_prefix(text: &str) -> Option<(Timestamp, &str)> {
    let end = text.find(' ').unwrap_or(text.len());
    let timestamp = text[..end].parse::<Timestamp>().ok()?;
    Some((timestamp, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-07T15:00:00Z".parse().unwrap()
    }

    fn parse_utc(raw: &str) -> Value {
        Value::Object(parse(raw, &ParseOptions::default(), now()))
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let document = parse_utc(
            "<165>1 2026-12-07T14:14:15.003Z mymachine.example.com evntslog 8710 ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]\
             [examplePriority@32473 class=\"high\" note=\"a \\\"quoted\\\" \\] bracket\"] \
             \u{feff}An application event log entry...",
        );
        assert_eq!(
            document,
            json!({
                "@timestamp": "2026-12-07T14:14:15.003Z",
                "message": "An application event log entry...",
                "level": "info",
                "log": {"syslog": {
                    "version": 1,
                    "hostname": "mymachine.example.com",
                    "appname": "evntslog",
                    "procid": "8710",
                    "msgid": "ID47",
                    "structured_data": {
                        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                        "examplePriority@32473": {"class": "high", "note": "a \"quoted\" ] bracket"}
                    },
                    "priority": 165,
                    "facility": {"code": 20, "name": "local4"},
                    "severity": {"code": 5, "name": "Notice"}
                }}
            })
        );
    }

    #[test]
    fn rfc5424_with_nil_values_and_an_offset() {
        let document = parse_utc("<34>1 2026-12-07T22:14:15.000+02:00 host - - - - su failed");
        assert_eq!(document["@timestamp"], "2026-12-07T20:14:15.000Z");
        assert_eq!(document["message"], "su failed");
        assert_eq!(document["level"], "critical");
        let syslog = &document["log"]["syslog"];
        assert_eq!(syslog["hostname"], "host");
        assert!(syslog.get("appname").is_none());
        assert!(syslog.get("structured_data").is_none());
        assert_eq!(syslog["facility"]["name"], "security/authorization");
    }

    #[test]
    fn rfc3164_as_logger_and_sshd_send_it() {
        let document =
            parse_utc("<38>Dec  7 14:59:58 web-1 sshd[4242]: Accepted publickey for deploy");
        assert_eq!(document["@timestamp"], "2026-12-07T14:59:58.000Z");
        assert_eq!(document["message"], "Accepted publickey for deploy");
        let syslog = &document["log"]["syslog"];
        assert_eq!(syslog["hostname"], "web-1");
        assert_eq!(syslog["appname"], "sshd");
        assert_eq!(syslog["procid"], "4242");
        assert_eq!(syslog["severity"]["name"], "Informational");
        assert!(syslog.get("version").is_none());

        let no_host = parse_utc("<13>Dec  7 14:00:00 cron: job done");
        assert_eq!(no_host["log"]["syslog"]["appname"], "cron");
        assert!(no_host["log"]["syslog"].get("hostname").is_none());
        assert_eq!(no_host["message"], "job done");
    }

    #[test]
    fn rfc3164_years_and_zones() {
        // A December message read on the 1st of January belongs to the year before.
        let new_year: Timestamp = "2027-01-01T00:00:05Z".parse().unwrap();
        let document = parse(
            "<13>Dec 31 23:59:59 h app: late",
            &ParseOptions::default(),
            new_year,
        );
        assert_eq!(document["@timestamp"], "2026-12-31T23:59:59.000Z");
        // A few hours ahead is clock skew, not last year.
        let document = parse_utc("<13>Dec  7 18:00:00 h app: skewed");
        assert_eq!(document["@timestamp"], "2026-12-07T18:00:00.000Z");
        let berlin = ParseOptions {
            timezone: TimeZone::get("Europe/Berlin").unwrap(),
        };
        let document = parse("<13>Dec  7 16:00:00.250 h app: local", &berlin, now());
        assert_eq!(document["@timestamp"], "2026-12-07T15:00:00.250Z");
        let document = parse_utc("<13>Jul  4 2025 10:00:00 h app: with a year");
        assert_eq!(document["@timestamp"], "2025-07-04T10:00:00.000Z");
        let document = parse_utc("<30>2026-12-07T10:00:00.123456+00:00 h rsyslogd: forwarded");
        assert_eq!(document["@timestamp"], "2026-12-07T10:00:00.123Z");
        assert_eq!(document["log"]["syslog"]["appname"], "rsyslogd");
    }

    #[test]
    fn what_is_not_syslog_is_kept_whole() {
        for raw in [
            "just a line",
            "<999>1 nonsense",
            "<13>1 not-a-time h a p m - x",
            "",
        ] {
            let document = parse_utc(raw);
            assert_eq!(document["message"], raw, "{raw}");
            assert_eq!(document["@timestamp"], "2026-12-07T15:00:00.000Z");
            assert_eq!(document["log"]["syslog"]["priority"], 13);
        }
        let hostile = parse_utc("<13>1 - - - - - [unterminated x=\"1 and more");
        assert!(
            hostile["message"]
                .as_str()
                .unwrap()
                .contains("unterminated")
        );
    }
}
