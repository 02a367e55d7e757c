//! `date_index_name`: sends a document to a time-based index named after a date in it, by
//! setting `_index` to a date math expression: `<prefix{2016-04-25||/M{yyyy-MM|UTC}}>`. The
//! write resolves the expression, rounding the document's date down to the month here, so
//! documents of one month land in one index whatever their exact time.
//!
//! The date is parsed with the first of `date_formats` that fits (the `date` processor's
//! formats) in `timezone`, printed with `index_name_format`, and rounded by `date_rounding`.
//! The prefix, the rounding and the format may be templates. A constant rounding or format
//! that could never resolve is refused when the pipeline is stored, rather than failing every
//! write later.

use jiff::Zoned;
use jiff::tz::TimeZone;
use logfleet_model::json::JsonValue;

use super::date::{self, Format, Token};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Elasticsearch's default `date_formats`.
const DEFAULT_DATE_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ss.SSSXX";
/// The units date math rounds to: the documented `y M w d h m s`, and `H`, which date math
/// reads as `h`.
const ROUNDINGS: [&str; 8] = ["y", "M", "w", "d", "h", "H", "m", "s"];

/// Points `_index` at a date math index name.
#[derive(Debug)]
pub struct DateIndexName {
    field: String,
    formats: Vec<Format>,
    timezone: TimeZone,
    /// The zone as the expression names it: `UTC` for a zero offset, as Elasticsearch writes.
    zone_name: String,
    index_name_prefix: Template,
    date_rounding: Template,
    index_name_format: Template,
    /// `index_name_format` compiled once when it is a constant.
    constant_format: Option<Vec<Token>>,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<DateIndexName, ConfigError> {
    let field = config.string("field")?;
    let (timezone, zone_name) = match config.optional_string("timezone")? {
        None => (TimeZone::UTC, "UTC".to_owned()),
        Some(name) => {
            let zone = date::time_zone(&name)
                .ok_or_else(|| config.error("timezone", format!("Unknown time-zone ID: {name}")))?;
            let zone_name = zone_name(&name, &zone);
            (zone, zone_name)
        }
    };
    if let Some(locale) = config.optional_string("locale")? {
        date::check_locale(&locale).map_err(|reason| config.error("locale", reason))?;
    }
    let definitions = config
        .optional_strings("date_formats", false)?
        .unwrap_or_else(|| vec![DEFAULT_DATE_FORMAT.to_owned()]);
    let mut formats = Vec::with_capacity(definitions.len());
    for definition in &definitions {
        let format = Format::parse_definition(definition)
            .map_err(|reason| config.error("date_formats", reason))?;
        formats.push(format);
    }
    let prefix = config.optional_string("index_name_prefix")?;
    let rounding = config.string("date_rounding")?;
    let format = config
        .optional_string("index_name_format")?
        .unwrap_or_else(|| "yyyy-MM-dd".to_owned());
    let template = |name: &str, value: &str| {
        Template::compile(value).map_err(|reason| config.error(name, reason))
    };
    let index_name_prefix = template("index_name_prefix", &prefix.unwrap_or_default())?;
    let date_rounding = template("date_rounding", &rounding)?;
    let index_name_format = template("index_name_format", &format)?;
    if let Some(rounding) = date_rounding.constant() {
        check_rounding(rounding).map_err(|reason| config.error("date_rounding", reason))?;
    }
    let constant_format = match index_name_format.constant() {
        None => None,
        Some(pattern) => Some(
            date::tokenize(pattern).map_err(|reason| config.error("index_name_format", reason))?,
        ),
    };
    config.finish()?;
    Ok(DateIndexName {
        field,
        formats,
        timezone,
        zone_name,
        index_name_prefix,
        date_rounding,
        index_name_format,
        constant_format,
    })
}

/// How Java's `ZoneId.getId()` names a zone given as `name`, with a zero offset as `UTC`.
fn zone_name(name: &str, zone: &TimeZone) -> String {
    if let Some(iana) = zone.iana_name() {
        return iana.to_owned();
    }
    let seconds = zone.to_fixed_offset().map_or(0, |offset| offset.seconds());
    if seconds == 0 {
        return if name == "GMT" || name == "UT" {
            name.to_owned()
        } else {
            "UTC".to_owned()
        };
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    format!("{sign}{hours:02}:{minutes:02}")
}

fn check_rounding(rounding: &str) -> Result<(), String> {
    if ROUNDINGS.contains(&rounding) {
        Ok(())
    } else {
        Err(format!(
            "unit [{rounding}] not supported for date math, expected one of [y, M, w, d, h, m, s]"
        ))
    }
}

impl DateIndexName {
    fn parse(&self, text: &str) -> Option<Zoned> {
        let now = Zoned::now().with_time_zone(self.timezone.clone());
        self.formats
            .iter()
            .find_map(|format| date::parse(text, format, &self.timezone, &now))
    }
}

impl Processor for DateIndexName {
    fn kind(&self) -> &'static str {
        "date_index_name"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = document.get(&self.field)? else {
            return Err(not_present(&self.field));
        };
        // Elasticsearch reads a string or anything else by its `toString()`: a number of
        // seconds or milliseconds works with `UNIX`/`UNIX_MS`.
        let text = match value.as_ref() {
            JsonValue::String(text) => text.as_ref().to_owned(),
            other => other.to_string(),
        };
        let moment = self.parse(&text).ok_or_else(|| {
            PipelineError::illegal_argument(format!("unable to parse date [{text}]"))
        })?;
        let prefix = self.index_name_prefix.render(document).into_owned();
        let rounding = self.date_rounding.render(document).into_owned();
        check_rounding(&rounding).map_err(PipelineError::illegal_argument)?;
        let pattern = self.index_name_format.render(document).into_owned();
        let compiled;
        let tokens = match &self.constant_format {
            Some(tokens) => tokens,
            None => {
                compiled = date::tokenize(&pattern).map_err(PipelineError::illegal_argument)?;
                &compiled
            }
        };
        let mut formatted = String::with_capacity(pattern.len() + 8);
        date::format(&moment, tokens, &mut formatted);
        let expression = format!(
            "<{prefix}{{{formatted}||/{rounding}{{{pattern}|{zone}}}}}>",
            zone = self.zone_name
        );
        document.set("_index", JsonValue::from(expression))?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::processors::testing::{build_error, run_error, try_run};

    /// The `_index` the processor sets.
    fn index(options: Value, source: Value) -> String {
        let (_, document) =
            try_run(json!({ "date_index_name": options }), source).expect("it succeeds");
        document.target.clone()
    }

    #[test]
    fn names_an_index_by_date_math() {
        // Elasticsearch's DateIndexNameProcessorTests, one by one.
        assert_eq!(
            index(
                json!({"field": "_field", "index_name_prefix": "events-", "date_rounding": "y",
                       "index_name_format": "yyyyMMdd", "date_formats": ["yyyy-MM-dd'T'HH:mm:ss.SSSXX"]}),
                json!({"_field": "2016-04-25T12:24:20.101Z"}),
            ),
            "<events-{20160425||/y{yyyyMMdd|UTC}}>"
        );
        assert_eq!(
            index(
                json!({"field": "_field", "index_name_prefix": "events-", "date_rounding": "m",
                       "index_name_format": "yyyyMMdd", "date_formats": ["TAI64N"]}),
                json!({"_field": "4000000050d506482dbdf024"}),
            ),
            "<events-{20121222||/m{yyyyMMdd|UTC}}>"
        );
        for millis in [json!("1000500"), json!(1000500)] {
            assert_eq!(
                index(
                    json!({"field": "_field", "index_name_prefix": "events-", "date_rounding": "m",
                           "index_name_format": "yyyyMMdd", "date_formats": ["UNIX_MS"]}),
                    json!({ "_field": millis }),
                ),
                "<events-{19700101||/m{yyyyMMdd|UTC}}>"
            );
        }
        assert_eq!(
            index(
                json!({"field": "_field", "index_name_prefix": "events-", "date_rounding": "m",
                       "index_name_format": "yyyyMMdd", "date_formats": ["UNIX"]}),
                json!({"_field": "1000.5"}),
            ),
            "<events-{19700101||/m{yyyyMMdd|UTC}}>"
        );
    }

    #[test]
    fn defaults_are_elasticsearchs() {
        // The reference page's example: `date_formats` defaults to `yyyy-MM-dd'T'HH:mm:ss.SSSXX`,
        // `index_name_format` to `yyyy-MM-dd`, the zone to UTC.
        assert_eq!(
            index(
                json!({"field": "date1", "index_name_prefix": "my-index-", "date_rounding": "M"}),
                json!({"date1": "2016-04-25T12:02:01.789Z"}),
            ),
            "<my-index-{2016-04-25||/M{yyyy-MM-dd|UTC}}>"
        );
        assert_eq!(
            index(
                json!({"field": "date1", "date_rounding": "d"}),
                json!({"date1": "2016-04-25T12:02:01.789+0000"}),
            ),
            "<{2016-04-25||/d{yyyy-MM-dd|UTC}}>"
        );
    }

    #[test]
    fn the_date_is_printed_in_the_time_zone() {
        // 23:30 on the 25th in UTC is already the 26th in Paris: the index is the 26th's.
        assert_eq!(
            index(
                json!({"field": "d", "date_rounding": "d", "timezone": "Europe/Paris",
                       "date_formats": ["ISO8601"]}),
                json!({"d": "2016-04-25T23:30:00Z"}),
            ),
            "<{2016-04-26||/d{yyyy-MM-dd|Europe/Paris}}>"
        );
        assert_eq!(
            index(
                json!({"field": "d", "date_rounding": "h", "timezone": "-05:00",
                       "date_formats": ["ISO8601"], "index_name_format": "yyyy.MM.dd.HH"}),
                json!({"d": "2016-04-25T03:30:00Z"}),
            ),
            "<{2016.04.24.22||/h{yyyy.MM.dd.HH|-05:00}}>"
        );
        assert_eq!(
            index(
                json!({"field": "d", "date_rounding": "d", "timezone": "+00:00",
                       "date_formats": ["ISO8601"]}),
                json!({"d": "2016-04-25T03:30:00Z"}),
            ),
            "<{2016-04-25||/d{yyyy-MM-dd|UTC}}>",
            "a zero offset is written UTC"
        );
    }

    #[test]
    fn prefix_rounding_and_format_can_be_templates() {
        assert_eq!(
            index(
                json!({"field": "d", "index_name_prefix": "{{service}}-", "date_rounding": "{{unit}}",
                       "index_name_format": "{{pattern}}", "date_formats": ["UNIX_MS"]}),
                json!({"d": 1461585721789_i64, "service": "web", "unit": "w", "pattern": "MM/dd/yyyy"}),
            ),
            "<web-{04/25/2016||/w{MM/dd/yyyy|UTC}}>"
        );
        assert_eq!(
            run_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "{{unit}}",
                       "date_formats": ["UNIX_MS"]}}),
                json!({"d": 0, "unit": "fortnight"}),
            ),
            "unit [fortnight] not supported for date math, expected one of [y, M, w, d, h, m, s]"
        );
    }

    #[test]
    fn failures() {
        assert_eq!(
            run_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d"}}),
                json!({"d": "yesterday"}),
            ),
            "unable to parse date [yesterday]"
        );
        assert_eq!(
            run_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d"}}),
                json!({"other": 1}),
            ),
            "field [d] not present as part of path [d]"
        );
        assert_eq!(
            run_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d"}}),
                json!({"d": null}),
            ),
            "unable to parse date [null]"
        );
    }

    #[test]
    fn on_failure_can_send_the_document_elsewhere() {
        let (_, document) = try_run(
            json!({"date_index_name": {
                "field": "d", "date_rounding": "d",
                "on_failure": [{"set": {"field": "_index", "value": "undated"}}]
            }}),
            json!({"d": "not a date"}),
        )
        .expect("on_failure handles it");
        assert_eq!(document.target, "undated");
    }

    #[test]
    fn refuses_bad_options() {
        assert_eq!(
            build_error(json!({"date_index_name": {"field": "d"}})),
            "[date_rounding] required property is missing"
        );
        assert_eq!(
            build_error(json!({"date_index_name": {"date_rounding": "d"}})),
            "[field] required property is missing"
        );
        assert_eq!(
            build_error(json!({"date_index_name": {"field": "d", "date_rounding": "q"}})),
            "[date_rounding] unit [q] not supported for date math, expected one of [y, M, w, d, h, m, s]"
        );
        assert_eq!(
            build_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d", "timezone": "Mars/Olympus"}})
            ),
            "[timezone] Unknown time-zone ID: Mars/Olympus"
        );
        assert!(
            build_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d",
                                "index_name_format": "yyyy-qq"}})
            )
            .contains("unknown pattern letter")
        );
        assert!(
            build_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d", "locale": "fr"}})
            )
            .contains("Unknown language: fr")
        );
        assert!(
            build_error(
                json!({"date_index_name": {"field": "d", "date_rounding": "d", "formats": ["UNIX"]}})
            )
            .contains("[formats]")
        );
    }
}
