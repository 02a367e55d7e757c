//! `user_agent`: browser, operating system and device from a User-Agent header, written as
//! Elasticsearch 8 writes them (`name`, `version`, `os.name`/`version`/`full`,
//! `device.name`, `original`).
//!
//! The rules are the ua-parser project's `regexes.yaml` (uap-core 0.18.0, Apache-2.0; see
//! `user_agent/NOTICE`), embedded in the binary, read by `rules.rs` and compiled by the
//! `ua-parser` crate, whose prefilter tries only the few regexes whose literal parts occur
//! in the header. They are compiled once per process, the first time a pipeline with a
//! `user_agent` processor is built, and shared from then on; each processor also keeps the
//! output of the headers it saw recently, a bounded cache, since traffic repeats a few
//! hundred headers and parsing one costs microseconds. As in Elasticsearch, what no
//! rule recognises is `Other`. `extract_device_type` adds `device.type` from a small
//! classification of the parsed device and OS (`Desktop`, `Phone`, `Tablet`, `Robot`,
//! `Other`), in the spirit of Elasticsearch's own table, which is not reproduced here.
//! Only the built-in rules exist: a `regex_file` is refused when the pipeline is stored.

mod rules;

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use logfleet_model::json::{JsonObject, JsonValue};

use super::expect_string;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};
use crate::recent::SharedRecent;
use crate::resources::Resources;

/// uap-core's rules.
const REGEXES: &str = include_str!("user_agent/regexes.yaml");

/// The compiled ua-parser rules, built on first use.
pub struct UserAgentParser {
    extractor: OnceLock<Result<ua_parser::Extractor<'static>, String>>,
}

impl fmt::Debug for UserAgentParser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UserAgentParser")
            .field("compiled", &self.extractor.get().is_some())
            .finish()
    }
}

impl UserAgentParser {
    /// The process's parser: the rules are the same everywhere, so they are compiled once.
    pub fn shared() -> Arc<UserAgentParser> {
        static SHARED: OnceLock<Arc<UserAgentParser>> = OnceLock::new();
        Arc::clone(SHARED.get_or_init(|| {
            Arc::new(UserAgentParser {
                extractor: OnceLock::new(),
            })
        }))
    }

    /// The compiled rules, compiling them if this is the first call.
    fn extractor(&self) -> Result<&ua_parser::Extractor<'static>, &str> {
        self.extractor
            .get_or_init(|| {
                let regexes = rules::parse(REGEXES)?;
                ua_parser::Extractor::try_from(regexes).map_err(|error| error.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Parses a User-Agent header.
    pub fn parse<'s>(&'s self, header: &'s str) -> Result<UserAgent<'s>, PipelineError> {
        let extractor = self.extractor().map_err(|reason| {
            PipelineError::illegal_argument(format!("user-agent rules unusable: {reason}"))
        })?;
        let (agent, os, device) = extractor.extract(header);
        let agent = agent
            .filter(|agent| !agent.family.is_empty())
            .map(|agent| Versioned {
                name: agent.family,
                version: [
                    agent.major.map(Cow::Borrowed),
                    agent.minor.map(Cow::Borrowed),
                    agent.patch.map(Cow::Borrowed),
                    agent.patch_minor.map(Cow::Borrowed),
                ],
            });
        let os = os.filter(|os| !os.os.is_empty()).map(|os| Versioned {
            name: os.os,
            version: [os.major, os.minor, os.patch, os.patch_minor],
        });
        let device = device
            .map(|device| device.device)
            .filter(|device| !device.is_empty());
        Ok(UserAgent { agent, os, device })
    }
}

/// What the rules found in one header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent<'s> {
    /// The browser or client, with its version.
    pub agent: Option<Versioned<'s>>,
    /// The operating system, with its version.
    pub os: Option<Versioned<'s>>,
    /// The device.
    pub device: Option<Cow<'s, str>>,
}

/// A name with up to four version parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<'s> {
    /// The family: `Chrome`, `Mac OS X`…
    pub name: Cow<'s, str>,
    /// Major, minor, patch and build.
    pub version: [Option<Cow<'s, str>>; 4],
}

impl Versioned<'_> {
    /// The version parts joined with dots as far as they go without a gap, as Elasticsearch
    /// joins them; `None` without a major version.
    pub fn version(&self) -> Option<String> {
        let mut parts = self.version.iter().map_while(Option::as_deref);
        let mut version = parts.next()?.to_owned();
        for part in parts {
            version.push('.');
            version.push_str(part);
        }
        Some(version)
    }
}

/// The parts of the output `properties` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    Name,
    Os,
    Device,
    Original,
    Version,
}

const PROPERTIES: [(Property, &str); 5] = [
    (Property::Name, "name"),
    (Property::Os, "os"),
    (Property::Device, "device"),
    (Property::Original, "original"),
    (Property::Version, "version"),
];

/// Parses User-Agent headers.
#[derive(Debug)]
pub struct UserAgentProcessor {
    field: String,
    target_field: String,
    properties: Vec<Property>,
    extract_device_type: bool,
    ignore_missing: bool,
    parser: Arc<UserAgentParser>,
    recent: SharedRecent<JsonObject<'static>>,
}

/// How many headers one generation of the recent headers holds.
const RECENT_GENERATION: usize = 1024;

/// Builds the processor from its options, compiling the shared rules if no pipeline has
/// yet.
pub fn build(
    mut config: ProcessorConfig,
    resources: &Resources,
) -> Result<UserAgentProcessor, ConfigError> {
    let field = config.string("field")?;
    let target_field = config
        .optional_string("target_field")?
        .unwrap_or_else(|| "user_agent".to_owned());
    let properties = match config.optional_strings("properties", false)? {
        None => PROPERTIES.iter().map(|(property, _)| *property).collect(),
        Some(names) => {
            let mut properties = Vec::with_capacity(names.len());
            for name in names {
                let property = PROPERTIES
                    .iter()
                    .find(|(_, candidate)| candidate.eq_ignore_ascii_case(&name))
                    .map(|(property, _)| *property)
                    .ok_or_else(|| {
                        config.error(
                            "properties",
                            format!(
                                "illegal property value [{name}]. valid values are [NAME, OS, \
                                 DEVICE, ORIGINAL, VERSION]"
                            ),
                        )
                    })?;
                if !properties.contains(&property) {
                    properties.push(property);
                }
            }
            properties
        }
    };
    let extract_device_type = config.boolean("extract_device_type", false)?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    if let Some(file) = config.optional_string("regex_file")? {
        return Err(config.error(
            "regex_file",
            format!(
                "regex file [{file}] is not supported: only the built-in rules (uap-core's \
                 regexes.yaml) are available"
            ),
        ));
    }
    let parser = Arc::clone(&resources.user_agents);
    parser
        .extractor()
        .map_err(|reason| config.processor_error(format!("user-agent rules unusable: {reason}")))?;
    config.finish()?;
    Ok(UserAgentProcessor {
        field,
        target_field,
        properties,
        extract_device_type,
        ignore_missing,
        parser,
        recent: SharedRecent::new(RECENT_GENERATION),
    })
}

impl Processor for UserAgentProcessor {
    fn kind(&self) -> &'static str {
        "user_agent"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let value = match document.get(&self.field) {
            Ok(Some(value)) => value,
            // Elasticsearch reads the field leniently when missing fields are ignored.
            Ok(None) | Err(_) if self.ignore_missing => return Ok(Flow::Continue),
            Ok(None) => return Err(not_present(&self.field)),
            Err(error) => return Err(error),
        };
        let header = match value.as_ref() {
            JsonValue::Null if self.ignore_missing => return Ok(Flow::Continue),
            JsonValue::Null => {
                return Err(PipelineError::illegal_argument(format!(
                    "field [{}] is null, cannot parse user-agent.",
                    self.field
                )));
            }
            other => expect_string(other, &self.field)?,
        };
        let details = self.describe_recent(header)?;
        document.set(&self.target_field, JsonValue::Object(details))?;
        Ok(Flow::Continue)
    }
}

impl UserAgentProcessor {
    /// The output object for one header, from the recent headers when it is one of them.
    fn describe_recent(&self, header: &str) -> Result<JsonObject<'static>, PipelineError> {
        if let Some(details) = self.recent.get(header) {
            return Ok(details);
        }
        let details = self.describe(header)?;
        self.recent.insert(header.to_owned(), details.clone());
        Ok(details)
    }

    /// The output object for one header.
    fn describe(&self, header: &str) -> Result<JsonObject<'static>, PipelineError> {
        let parsed = self.parser.parse(header)?;
        let text = |value: &str| JsonValue::from(value.to_owned());
        let mut details = JsonObject::default();
        for property in &self.properties {
            match property {
                Property::Original => details.insert("original", text(header)),
                Property::Name => {
                    let name = parsed.agent.as_ref().map_or("Other", |agent| &agent.name);
                    details.insert("name", text(name));
                }
                Property::Version => {
                    if let Some(version) = parsed.agent.as_ref().and_then(Versioned::version) {
                        details.insert("version", JsonValue::from(version));
                    }
                }
                Property::Os => {
                    if let Some(os) = &parsed.os {
                        let mut described = JsonObject::default();
                        described.insert("name", text(&os.name));
                        if let Some(version) = os.version() {
                            described
                                .insert("full", JsonValue::from(format!("{} {version}", os.name)));
                            described.insert("version", JsonValue::from(version));
                        }
                        details.insert("os", JsonValue::Object(described));
                    }
                }
                Property::Device => {
                    let mut described = JsonObject::default();
                    described.insert("name", text(parsed.device.as_deref().unwrap_or("Other")));
                    if self.extract_device_type {
                        described.insert("type", text(device_type(&parsed, header)));
                    }
                    details.insert("device", JsonValue::Object(described));
                }
            }
        }
        Ok(details)
    }
}

/// A coarse device class from the parsed device and operating system.
fn device_type(parsed: &UserAgent<'_>, header: &str) -> &'static str {
    let device = parsed.device.as_deref().unwrap_or("Other");
    let os = parsed.os.as_ref().map_or("Other", |os| &os.name);
    if device == "Spider" {
        return "Robot";
    }
    let tablet_device = device == "iPad"
        || device.contains("Tablet")
        || device.starts_with("Kindle")
        || device.starts_with("Galaxy Tab");
    if tablet_device {
        return "Tablet";
    }
    if device == "iPhone" || device == "iPod" {
        return "Phone";
    }
    match os {
        // Android tablets leave `Mobile` out of the header; phones put it in.
        "Android" if header.contains("Mobile") => "Phone",
        "Android" => "Tablet",
        "iOS" | "Windows Phone" | "BlackBerry OS" | "KaiOS" | "Firefox OS" | "Symbian OS" => {
            "Phone"
        }
        "Windows" | "Mac OS X" | "Linux" | "Ubuntu" | "Fedora" | "Debian" | "Chrome OS"
        | "FreeBSD" | "OpenBSD" | "NetBSD" | "Solaris" | "Red Hat" | "SUSE" | "Mint" => "Desktop",
        _ if device == "Mac" => "Desktop",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::{Value, json};

    fn parse(header: &str) -> Value {
        run(
            json!({"user_agent": {"field": "agent", "extract_device_type": true}}),
            json!({"agent": header}),
        )["user_agent"]
            .clone()
    }

    #[test]
    fn desktop_browsers() {
        let header = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_5) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36";
        let out = run(
            json!({"user_agent": {"field": "agent"}}),
            json!({"agent": header}),
        );
        assert_eq!(
            out["user_agent"],
            json!({
                "name": "Chrome",
                "version": "51.0.2704.103",
                "os": {"name": "Mac OS X", "version": "10.10.5", "full": "Mac OS X 10.10.5"},
                "device": {"name": "Mac"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 \
                      Firefox/126.0";
        assert_eq!(
            parse(header),
            json!({
                "name": "Firefox",
                "version": "126.0",
                "os": {"name": "Windows", "version": "10", "full": "Windows 10"},
                "device": {"name": "Other", "type": "Desktop"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15";
        assert_eq!(
            parse(header),
            json!({
                "name": "Safari",
                "version": "17.4.1",
                "os": {"name": "Mac OS X", "version": "10.15.7", "full": "Mac OS X 10.15.7"},
                "device": {"name": "Mac", "type": "Desktop"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/125.0.0.0 Safari/537.36";
        assert_eq!(
            parse(header),
            json!({
                "name": "Chrome",
                "version": "125.0.0.0",
                "os": {"name": "Linux"},
                "device": {"name": "Other", "type": "Desktop"},
                "original": header
            })
        );
    }

    #[test]
    fn mobile_devices() {
        let header = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
                      AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 \
                      Safari/604.1";
        assert_eq!(
            parse(header),
            json!({
                "name": "Mobile Safari",
                "version": "17.5",
                "os": {"name": "iOS", "version": "17.5", "full": "iOS 17.5"},
                "device": {"name": "iPhone", "type": "Phone"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, \
                      like Gecko) Chrome/125.0.6422.113 Mobile Safari/537.36";
        assert_eq!(
            parse(header),
            json!({
                "name": "Chrome Mobile",
                "version": "125.0.6422.113",
                "os": {"name": "Android", "version": "14", "full": "Android 14"},
                "device": {"name": "Pixel 8", "type": "Phone"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, \
                      like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
        assert_eq!(
            parse(header),
            json!({
                "name": "Chrome Mobile",
                "version": "124.0.0.0",
                "os": {"name": "Android", "version": "13", "full": "Android 13"},
                "device": {"name": "Samsung SM-S911B", "type": "Phone"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0";
        assert_eq!(
            parse(header),
            json!({
                "name": "Firefox Mobile",
                "version": "126.0",
                "os": {"name": "Android", "version": "14", "full": "Android 14"},
                "device": {"name": "Generic Smartphone", "type": "Phone"},
                "original": header
            })
        );
        let header = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
        assert_eq!(
            parse(header)["device"],
            json!({"name": "iPad", "type": "Tablet"})
        );
    }

    #[test]
    fn tools_and_robots() {
        assert_eq!(
            parse("curl/8.5.0"),
            json!({
                "name": "curl",
                "version": "8.5.0",
                "device": {"name": "Other", "type": "Other"},
                "original": "curl/8.5.0"
            })
        );
        assert_eq!(
            parse("python-requests/2.32.3"),
            json!({
                "name": "Python Requests",
                "version": "2.32",
                "device": {"name": "Other", "type": "Other"},
                "original": "python-requests/2.32.3"
            })
        );
        let header = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        assert_eq!(
            parse(header),
            json!({
                "name": "Googlebot",
                "version": "2.1",
                "device": {"name": "Spider", "type": "Robot"},
                "original": header
            })
        );
        assert_eq!(
            parse("Something I made up v42.0.1"),
            json!({
                "name": "Other",
                "device": {"name": "Other", "type": "Other"},
                "original": "Something I made up v42.0.1"
            })
        );
    }

    #[test]
    fn options() {
        let header = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_5) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36";
        let out = run(
            json!({"user_agent": {"field": "agent", "target_field": "ua",
                "properties": ["NAME", "version"]}}),
            json!({"agent": header}),
        );
        assert_eq!(
            out["ua"],
            json!({"name": "Chrome", "version": "51.0.2704.103"})
        );
        assert_eq!(
            build_error(json!({"user_agent": {"field": "a", "properties": ["invalid"]}})),
            "[properties] illegal property value [invalid]. valid values are [NAME, OS, \
             DEVICE, ORIGINAL, VERSION]"
        );
        assert_eq!(
            build_error(json!({"user_agent": {"field": "a", "properties": "name"}})),
            "[properties] property isn't a list, but of type [java.lang.String]"
        );
        assert!(
            build_error(json!({"user_agent": {"field": "a", "regex_file": "custom.yml"}}))
                .starts_with("[regex_file] regex file [custom.yml] is not supported")
        );
    }

    #[test]
    fn failures() {
        let definition = json!({"user_agent": {"field": "agent"}});
        assert_eq!(
            run_error(definition.clone(), json!({})),
            "field [agent] not present as part of path [agent]"
        );
        assert_eq!(
            run_error(definition.clone(), json!({"agent": null})),
            "field [agent] is null, cannot parse user-agent."
        );
        assert_eq!(
            run_error(definition, json!({"agent": 3})),
            "field [agent] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
        );
        let lenient = json!({"user_agent": {"field": "agent", "ignore_missing": true}});
        assert_eq!(run(lenient.clone(), json!({})), json!({}));
        assert_eq!(run(lenient, json!({"agent": null})), json!({"agent": null}));
        let out = run(
            json!({"user_agent": {"field": "agent"}}),
            json!({"agent": ""}),
        );
        assert_eq!(out["user_agent"]["name"], "Other");
    }
}
