//! `geoip` (also registered as `ip_location`): where an IP address is, from a MaxMind DB
//! file, written as Elasticsearch writes it.
//!
//! The database is chosen by `database_file` among those of the configured directory
//! ([`GeoIpDatabases`](databases::GeoIpDatabases), shared through [`Resources`]); its
//! `database_type` says whether it is a city, country or ASN database, which fixes the
//! valid `properties` and their defaults, exactly as in Elasticsearch. Both the
//! GeoIP2/GeoLite2 record layout and the flat DB-IP lite layout of the `ip-location-db`
//! project are read (see [`databases`]). An address the database does not know — a private
//! one, say — adds nothing; a string that is not an address is an error. When the database
//! is missing, the pipeline still builds and the processor leaves documents as they are
//! (the server says once at start-up that no database was found, and where it looked):
//! ingest never fails for want of one, and events are not filled with the
//! `_geoip_database_unavailable_<file>` tags Elasticsearch adds while its downloader has not
//! delivered a database. The database is looked up when the pipeline is built, so a file
//! added later is used by pipelines built after it arrived.

mod countries;
pub mod databases;
#[cfg(test)]
mod mmdb_writer;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use logfleet_model::json::{JsonObject, JsonValue};
use serde_json::Number;

use self::databases::{DatabaseKind, Found, IpDatabase};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};
use crate::recent::SharedRecent;
use crate::resources::Resources;

/// Elasticsearch's default database.
const DEFAULT_DATABASE: &str = "GeoLite2-City.mmdb";

/// Looks up where IP addresses are.
#[derive(Debug)]
pub struct GeoIp {
    kind: &'static str,
    field: String,
    target_field: String,
    ignore_missing: bool,
    first_only: bool,
    lookup: Lookup,
    /// What recent addresses gave: a lookup decodes a record and builds the output, and
    /// traffic comes from a few thousand clients.
    recent: SharedRecent<Option<JsonObject<'static>>>,
}

/// How many addresses one generation of the recent addresses holds.
const RECENT_GENERATION: usize = 2048;

#[derive(Debug)]
enum Lookup {
    /// The database and the properties to write, in output order.
    Database {
        database: Arc<IpDatabase>,
        properties: Vec<Property>,
    },
    /// No file serves the database: documents are left as they are.
    Unavailable,
}

/// What the processor can write, in Elasticsearch's order (which its error messages use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Property {
    Ip,
    CountryInEuropeanUnion,
    CountryIsoCode,
    CountryName,
    ContinentCode,
    ContinentName,
    RegionIsoCode,
    RegionName,
    CityName,
    Timezone,
    Location,
    Asn,
    OrganizationName,
    Network,
    PostalCode,
    AccuracyRadius,
    RegisteredCountryInEuropeanUnion,
    RegisteredCountryIsoCode,
    RegisteredCountryName,
}

const ALL_PROPERTIES: [(Property, &str); 19] = [
    (Property::Ip, "ip"),
    (
        Property::CountryInEuropeanUnion,
        "country_in_european_union",
    ),
    (Property::CountryIsoCode, "country_iso_code"),
    (Property::CountryName, "country_name"),
    (Property::ContinentCode, "continent_code"),
    (Property::ContinentName, "continent_name"),
    (Property::RegionIsoCode, "region_iso_code"),
    (Property::RegionName, "region_name"),
    (Property::CityName, "city_name"),
    (Property::Timezone, "timezone"),
    (Property::Location, "location"),
    (Property::Asn, "asn"),
    (Property::OrganizationName, "organization_name"),
    (Property::Network, "network"),
    (Property::PostalCode, "postal_code"),
    (Property::AccuracyRadius, "accuracy_radius"),
    (
        Property::RegisteredCountryInEuropeanUnion,
        "registered_country_in_european_union",
    ),
    (
        Property::RegisteredCountryIsoCode,
        "registered_country_iso_code",
    ),
    (Property::RegisteredCountryName, "registered_country_name"),
];

impl Property {
    /// The output field, and the option value in lower case.
    fn name(self) -> &'static str {
        ALL_PROPERTIES
            .iter()
            .find(|(property, _)| *property == self)
            .map_or("", |(_, name)| name)
    }

    /// The properties a kind of database can give, and those written by default.
    fn of(kind: DatabaseKind) -> (&'static [Property], &'static [Property]) {
        use Property::*;
        match kind {
            DatabaseKind::City => (
                &[
                    Ip,
                    CountryInEuropeanUnion,
                    CountryIsoCode,
                    CountryName,
                    ContinentCode,
                    ContinentName,
                    RegionIsoCode,
                    RegionName,
                    CityName,
                    Timezone,
                    Location,
                    PostalCode,
                    AccuracyRadius,
                    RegisteredCountryInEuropeanUnion,
                    RegisteredCountryIsoCode,
                    RegisteredCountryName,
                ],
                &[
                    CountryIsoCode,
                    CountryName,
                    ContinentName,
                    RegionIsoCode,
                    RegionName,
                    CityName,
                    Location,
                ],
            ),
            DatabaseKind::Country => (
                &[
                    Ip,
                    CountryInEuropeanUnion,
                    CountryIsoCode,
                    CountryName,
                    ContinentCode,
                    ContinentName,
                    RegisteredCountryInEuropeanUnion,
                    RegisteredCountryIsoCode,
                    RegisteredCountryName,
                ],
                &[CountryIsoCode, CountryName, ContinentName],
            ),
            DatabaseKind::Asn => (
                &[Ip, Asn, OrganizationName, Network],
                &[Ip, Asn, OrganizationName, Network],
            ),
        }
    }
}

/// Builds the processor from its options; `kind` is `geoip` or `ip_location`.
pub fn build(
    mut config: ProcessorConfig,
    resources: &Resources,
    kind: &'static str,
) -> Result<GeoIp, ConfigError> {
    let field = config.string("field")?;
    let target_field = config
        .optional_string("target_field")?
        .unwrap_or_else(|| kind.to_owned());
    let database_file = config
        .optional_string("database_file")?
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    let property_names = config.optional_strings("properties", false)?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    let first_only = config.boolean("first_only", true)?;
    // Elasticsearch downloads MaxMind's databases when this is set; here databases come
    // from the configured directory, so the option is read and has no effect.
    config.boolean("download_database_on_pipeline_creation", true)?;
    let database = resources
        .geoip
        .database(&database_file)
        .map_err(|error| config.error("database_file", error))?;
    let lookup = match database {
        None => Lookup::Unavailable,
        Some(database) => {
            let properties = parse_properties(database.kind(), property_names.as_deref())
                .map_err(|reason| config.error("properties", reason))?;
            Lookup::Database {
                database,
                properties,
            }
        }
    };
    config.finish()?;
    Ok(GeoIp {
        kind,
        field,
        target_field,
        ignore_missing,
        first_only,
        lookup,
        recent: SharedRecent::new(RECENT_GENERATION),
    })
}

/// The properties named, checked against what the kind of database gives; its defaults
/// when none are named.
fn parse_properties(kind: DatabaseKind, names: Option<&[String]>) -> Result<Vec<Property>, String> {
    let (valid, defaults) = Property::of(kind);
    let Some(names) = names else {
        return Ok(defaults.to_vec());
    };
    let mut properties = Vec::with_capacity(names.len());
    for name in names {
        let found = ALL_PROPERTIES
            .iter()
            .find(|(_, candidate)| candidate.eq_ignore_ascii_case(name))
            .map(|(property, _)| *property)
            .filter(|property| valid.contains(property));
        let Some(property) = found else {
            let listed: Vec<String> = valid
                .iter()
                .map(|property| property.name().to_ascii_uppercase())
                .collect();
            return Err(format!(
                "illegal property value [{name}]. valid values are [{}]",
                listed.join(", ")
            ));
        };
        properties.push(property);
    }
    properties.sort_unstable();
    properties.dedup();
    Ok(properties)
}

impl Processor for GeoIp {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let (database, properties) = match &self.lookup {
            Lookup::Database {
                database,
                properties,
            } => (database, properties.as_slice()),
            Lookup::Unavailable => return Ok(Flow::Continue),
        };
        let value = match document.get(&self.field) {
            Ok(Some(value)) => value,
            // Elasticsearch reads the field leniently when missing fields are ignored.
            Ok(None) | Err(_) if self.ignore_missing => return Ok(Flow::Continue),
            Ok(None) => return Err(not_present(&self.field)),
            Err(error) => return Err(error),
        };
        let found = match value.as_ref() {
            JsonValue::Null if self.ignore_missing => return Ok(Flow::Continue),
            JsonValue::Null => {
                return Err(PipelineError::illegal_argument(format!(
                    "field [{}] is null, cannot extract geoip information.",
                    self.field
                )));
            }
            JsonValue::String(address) => self
                .locate_recent(database, properties, address)?
                .map(JsonValue::Object),
            JsonValue::Array(addresses) => self.locate_all(database, properties, addresses)?,
            _ => {
                return Err(PipelineError::illegal_argument(format!(
                    "field [{}] should contain only string or array of strings",
                    self.field
                )));
            }
        };
        if let Some(found) = found {
            document.set(&self.target_field, found)?;
        }
        Ok(Flow::Continue)
    }
}

impl GeoIp {
    /// The properties of `address`, from the recent addresses when it is one of them.
    fn locate_recent(
        &self,
        database: &IpDatabase,
        properties: &[Property],
        address: &str,
    ) -> Result<Option<JsonObject<'static>>, PipelineError> {
        if let Some(found) = self.recent.get(address) {
            return Ok(found);
        }
        let found = locate(database, properties, address)?;
        self.recent.insert(address.to_owned(), found.clone());
        Ok(found)
    }

    /// A list of addresses: the first one found when `first_only`, else one entry per
    /// address (`null` where nothing was found), or nothing when none was found.
    fn locate_all(
        &self,
        database: &IpDatabase,
        properties: &[Property],
        addresses: &[JsonValue<'_>],
    ) -> Result<Option<JsonValue<'static>>, PipelineError> {
        let mut found_any = false;
        let mut entries = Vec::with_capacity(addresses.len());
        for address in addresses {
            let JsonValue::String(address) = address else {
                return Err(PipelineError::illegal_argument(format!(
                    "array in field [{}] should only contain strings",
                    self.field
                )));
            };
            match locate(database, properties, address)? {
                Some(data) if self.first_only => return Ok(Some(JsonValue::Object(data))),
                Some(data) => {
                    found_any = true;
                    entries.push(JsonValue::Object(data));
                }
                None => entries.push(JsonValue::Null),
            }
        }
        Ok(found_any.then_some(JsonValue::Array(entries)))
    }
}

/// The properties of `address`, or `None` when the database knows nothing of it.
fn locate(
    database: &IpDatabase,
    properties: &[Property],
    address: &str,
) -> Result<Option<JsonObject<'static>>, PipelineError> {
    let parsed: IpAddr = address.parse().map_err(|_| {
        PipelineError::illegal_argument(format!("'{address}' is not an IP string literal."))
    })?;
    // Java reads `::ffff:1.2.3.4` as the IPv4 address it maps.
    let parsed = parsed.to_canonical();
    let found = database.lookup(parsed).map_err(|reason| {
        PipelineError::illegal_argument(format!(
            "cannot look up [{address}] in the geoip database: {reason}"
        ))
    })?;
    let Some(found) = found else {
        return Ok(None);
    };
    let data = describe(&found, parsed, properties);
    Ok((!data.is_empty()).then_some(data))
}

/// The output object: each property the record has, under its Elasticsearch name.
fn describe(found: &Found<'_>, address: IpAddr, properties: &[Property]) -> JsonObject<'static> {
    let record = &found.record;
    let mut data = JsonObject::default();
    let text = |value: &str| JsonValue::from(value.to_owned());
    for &property in properties {
        let value = match property {
            Property::Ip => Some(JsonValue::from(java_address(address))),
            Property::CountryInEuropeanUnion => {
                record.country_in_european_union().map(JsonValue::Bool)
            }
            Property::CountryIsoCode => record.country_iso_code().map(text),
            Property::CountryName => record.country_name().map(text),
            Property::ContinentCode => record.continent_code().map(text),
            Property::ContinentName => record.continent_name().map(text),
            Property::RegionIsoCode => record
                .country_iso_code()
                .zip(record.subdivision_iso_code())
                .map(|(country, subdivision)| JsonValue::from(format!("{country}-{subdivision}"))),
            Property::RegionName => record.region_name().map(text),
            Property::CityName => record.city_name().map(text),
            Property::Timezone => record.timezone().map(text),
            Property::Location => record.coordinates().and_then(|(latitude, longitude)| {
                let mut location = JsonObject::default();
                location.insert("lat", float(latitude)?);
                location.insert("lon", float(longitude)?);
                Some(JsonValue::Object(location))
            }),
            Property::Asn => record.asn().map(|asn| JsonValue::Number(Number::from(asn))),
            Property::OrganizationName => record.autonomous_system_organization.map(text),
            Property::Network => found.network.map(|(network, prefix)| {
                JsonValue::from(format!("{}/{prefix}", java_address(network)))
            }),
            Property::PostalCode => record.postal_code().map(text),
            Property::AccuracyRadius => record
                .accuracy_radius()
                .map(|radius| JsonValue::Number(Number::from(radius))),
            Property::RegisteredCountryInEuropeanUnion => {
                record.registered_country.as_ref().and_then(|country| {
                    country
                        .iso_code
                        .map(|_| JsonValue::Bool(country.is_in_european_union.unwrap_or(false)))
                })
            }
            Property::RegisteredCountryIsoCode => record
                .registered_country
                .as_ref()
                .and_then(|country| country.iso_code)
                .map(text),
            Property::RegisteredCountryName => record
                .registered_country
                .as_ref()
                .and_then(|country| country.name())
                .map(text),
        };
        if let Some(value) = value {
            data.insert(property.name(), value);
        }
    }
    data
}

fn float(number: f64) -> Option<JsonValue<'static>> {
    Number::from_f64(number).map(JsonValue::Number)
}

/// An address as Java's `InetAddress.getHostAddress` writes it: IPv6 groups in full, without
/// `::` compression (`2001:db8:0:0:0:0:0:1`).
fn java_address(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let mut text = String::with_capacity(39);
            for (index, group) in v6.segments().iter().enumerate() {
                if index > 0 {
                    text.push(':');
                }
                // Writing to a String cannot fail.
                let _ = write!(text, "{group:x}");
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::mmdb_writer::{Value as Data, Writer};
    use super::*;
    use crate::processor::{NoPipelines, Run, Step};

    fn names(english: &'static str) -> Data {
        Data::Map(vec![("en", Data::Text(english)), ("de", Data::Text("-"))])
    }

    /// A GeoLite2-style city database, IPv6 with IPv4 under `::/96`.
    fn geolite_city() -> Vec<u8> {
        let mut writer = Writer::new("GeoLite2-City", 6);
        writer.insert(
            "81.2.69.0/24",
            Data::Map(vec![
                (
                    "continent",
                    Data::Map(vec![("code", Data::Text("EU")), ("names", names("Europe"))]),
                ),
                (
                    "country",
                    Data::Map(vec![
                        ("iso_code", Data::Text("GB")),
                        ("names", names("United Kingdom")),
                    ]),
                ),
                (
                    "registered_country",
                    Data::Map(vec![
                        ("iso_code", Data::Text("FR")),
                        ("is_in_european_union", Data::Boolean(true)),
                        ("names", names("France")),
                    ]),
                ),
                (
                    "subdivisions",
                    Data::Array(vec![
                        Data::Map(vec![
                            ("iso_code", Data::Text("ENG")),
                            ("names", names("England")),
                        ]),
                        Data::Map(vec![
                            ("iso_code", Data::Text("WBK")),
                            ("names", names("West Berkshire")),
                        ]),
                    ]),
                ),
                ("city", Data::Map(vec![("names", names("London"))])),
                (
                    "location",
                    Data::Map(vec![
                        ("accuracy_radius", Data::Unsigned16(10)),
                        ("latitude", Data::Double(51.5142)),
                        ("longitude", Data::Double(-0.0931)),
                        ("time_zone", Data::Text("Europe/London")),
                    ]),
                ),
                ("postal", Data::Map(vec![("code", Data::Text("EC1A"))])),
            ]),
        );
        writer.insert(
            "2001:db8::/32",
            Data::Map(vec![
                (
                    "continent",
                    Data::Map(vec![("code", Data::Text("EU")), ("names", names("Europe"))]),
                ),
                (
                    "country",
                    Data::Map(vec![
                        ("iso_code", Data::Text("SE")),
                        ("is_in_european_union", Data::Boolean(true)),
                        ("names", names("Sweden")),
                    ]),
                ),
                (
                    "location",
                    Data::Map(vec![
                        ("latitude", Data::Double(59.3247)),
                        ("longitude", Data::Double(18.056)),
                    ]),
                ),
            ]),
        );
        // A network known only by where it is registered: no default property applies.
        writer.insert(
            "198.51.100.0/24",
            Data::Map(vec![(
                "registered_country",
                Data::Map(vec![("iso_code", Data::Text("US"))]),
            )]),
        );
        writer.finish()
    }

    /// A DB-IP lite city database in the flat layout, IPv4 half.
    fn dbip_city_ipv4() -> Vec<u8> {
        let mut writer = Writer::new("city", 4);
        writer.insert(
            "81.2.69.0/24",
            flat("GB", "England", "London", 51.5143, -0.0912),
        );
        writer.insert(
            "8.8.8.0/24",
            flat("US", "California", "Mountain View", 37.422, -122.085),
        );
        writer.finish()
    }

    /// The IPv6 half.
    fn dbip_city_ipv6() -> Vec<u8> {
        let mut writer = Writer::new("city", 6);
        writer.insert(
            "2a02:8070::/32",
            flat("DE", "North Rhine-Westphalia", "Cologne", 50.938, 6.87941),
        );
        writer.finish()
    }

    fn flat(
        country: &'static str,
        state: &'static str,
        city: &'static str,
        latitude: f32,
        longitude: f32,
    ) -> Data {
        Data::Map(vec![
            ("city", Data::Text(city)),
            ("country_code", Data::Text(country)),
            ("latitude", Data::Float(latitude)),
            ("longitude", Data::Float(longitude)),
            ("postcode", Data::Text("")),
            ("state1", Data::Text(state)),
            ("state2", Data::Text("")),
            ("timezone", Data::Text("")),
        ])
    }

    fn dbip_country() -> Vec<u8> {
        let mut writer = Writer::new("country", 6);
        writer.insert(
            "81.2.69.0/24",
            Data::Map(vec![("country_code", Data::Text("GB"))]),
        );
        writer.insert(
            "2001:db8::/32",
            Data::Map(vec![("country_code", Data::Text("NL"))]),
        );
        writer.finish()
    }

    fn geolite_asn() -> Vec<u8> {
        let mut writer = Writer::new("GeoLite2-ASN", 6);
        writer.insert(
            "81.2.64.0/18",
            Data::Map(vec![
                ("autonomous_system_number", Data::Unsigned32(20712)),
                (
                    "autonomous_system_organization",
                    Data::Text("Andrews & Arnold Ltd"),
                ),
            ]),
        );
        writer.insert(
            "2001:db8::/32",
            Data::Map(vec![
                ("autonomous_system_number", Data::Unsigned32(64496)),
                ("autonomous_system_organization", Data::Text("Example")),
            ]),
        );
        writer.finish()
    }

    /// A directory holding `files`, and resources that read it.
    fn resources(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, Resources) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        for (name, bytes) in files {
            std::fs::write(directory.path().join(name), bytes).expect("written");
        }
        let resources = Resources::with_geoip_directory(directory.path());
        (directory, resources)
    }

    fn try_run_with(
        resources: &Resources,
        definition: Value,
        source: Value,
    ) -> Result<Value, PipelineError> {
        let Value::Object(entry) = definition else {
            panic!("a processor definition")
        };
        let (kind, options) = entry.into_iter().next().expect("one processor");
        let step = Step::build(&kind, options, resources).expect("a valid processor");
        let Value::Object(source) = source else {
            panic!("an object")
        };
        let mut document = IngestDocument::new("index", JsonObject::from_map(source));
        step.run(&mut document, &mut Run::new(&NoPipelines), "test")?;
        Ok(Value::Object(document.source.to_map()))
    }

    fn run_with(resources: &Resources, definition: Value, source: Value) -> Value {
        try_run_with(resources, definition, source).expect("the processor succeeds")
    }

    fn build_error_with(resources: &Resources, definition: Value) -> String {
        let Value::Object(entry) = definition else {
            panic!("a processor definition")
        };
        let (kind, options) = entry.into_iter().next().expect("one processor");
        Step::build(&kind, options, resources)
            .expect_err("refused")
            .reason
    }

    #[test]
    fn geolite_city_defaults() {
        let (_directory, resources) = resources(&[("GeoLite2-City.mmdb", geolite_city())]);
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip"}}),
            json!({"ip": "81.2.69.142"}),
        );
        assert_eq!(
            out,
            json!({
                "ip": "81.2.69.142",
                "geoip": {
                    "continent_name": "Europe",
                    "country_iso_code": "GB",
                    "country_name": "United Kingdom",
                    "region_iso_code": "GB-WBK",
                    "region_name": "West Berkshire",
                    "city_name": "London",
                    "location": {"lat": 51.5142, "lon": -0.0931}
                }
            })
        );
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip", "target_field": "geo"}}),
            json!({"ip": "2001:db8::1"}),
        );
        assert_eq!(
            out["geo"],
            json!({
                "continent_name": "Europe",
                "country_iso_code": "SE",
                "country_name": "Sweden",
                "location": {"lat": 59.3247, "lon": 18.056}
            })
        );
    }

    #[test]
    fn geolite_city_every_property() {
        let (_directory, resources) = resources(&[("GeoLite2-City.mmdb", geolite_city())]);
        let every = [
            "ip",
            "country_in_european_union",
            "country_iso_code",
            "country_name",
            "continent_code",
            "continent_name",
            "region_iso_code",
            "region_name",
            "city_name",
            "timezone",
            "location",
            "postal_code",
            "accuracy_radius",
            "registered_country_in_european_union",
            "registered_country_iso_code",
            "registered_country_name",
        ];
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip", "properties": every}}),
            json!({"ip": "::ffff:81.2.69.142"}),
        );
        assert_eq!(
            out["geoip"],
            json!({
                "ip": "81.2.69.142",
                "country_in_european_union": false,
                "country_iso_code": "GB",
                "country_name": "United Kingdom",
                "continent_code": "EU",
                "continent_name": "Europe",
                "region_iso_code": "GB-WBK",
                "region_name": "West Berkshire",
                "city_name": "London",
                "timezone": "Europe/London",
                "location": {"lat": 51.5142, "lon": -0.0931},
                "postal_code": "EC1A",
                "accuracy_radius": 10,
                "registered_country_in_european_union": true,
                "registered_country_iso_code": "FR",
                "registered_country_name": "France"
            })
        );
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip", "properties": ["IP", "country_iso_code"]}}),
            json!({"ip": "2001:db8::1"}),
        );
        assert_eq!(
            out["geoip"],
            json!({"ip": "2001:db8:0:0:0:0:0:1", "country_iso_code": "SE"})
        );
    }

    #[test]
    fn unknown_and_private_addresses_add_nothing() {
        let (_directory, resources) = resources(&[("GeoLite2-City.mmdb", geolite_city())]);
        for address in [
            "10.0.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "::1",
            "198.51.100.7",
        ] {
            let out = run_with(
                &resources,
                json!({"geoip": {"field": "ip"}}),
                json!({"ip": address}),
            );
            assert_eq!(out, json!({"ip": address}), "{address}");
        }
    }

    #[test]
    fn lists_of_addresses() {
        let (_directory, resources) = resources(&[("GeoLite2-City.mmdb", geolite_city())]);
        let source = json!({"ips": ["10.0.0.1", "2001:db8::5", "81.2.69.1"]});
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ips", "properties": ["country_iso_code"]}}),
            source.clone(),
        );
        assert_eq!(out["geoip"], json!({"country_iso_code": "SE"}));
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ips", "properties": ["country_iso_code"], "first_only": false}}),
            source,
        );
        assert_eq!(
            out["geoip"],
            json!([null, {"country_iso_code": "SE"}, {"country_iso_code": "GB"}])
        );
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ips", "first_only": false}}),
            json!({"ips": ["10.0.0.1"]}),
        );
        assert_eq!(out, json!({"ips": ["10.0.0.1"]}));
    }

    #[test]
    fn dbip_flat_layout_split_in_two_files_stands_in_for_geolite() {
        let (_directory, resources) = resources(&[
            ("dbip-city-ipv4.mmdb", dbip_city_ipv4()),
            ("dbip-city-ipv6.mmdb", dbip_city_ipv6()),
        ]);
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip"}}),
            json!({"ip": "81.2.69.142"}),
        );
        assert_eq!(
            out["geoip"],
            json!({
                "continent_name": "Europe",
                "country_iso_code": "GB",
                "country_name": "United Kingdom",
                "region_name": "England",
                "city_name": "London",
                "location": {"lat": 51.5143, "lon": -0.0912}
            })
        );
        let out = run_with(
            &resources,
            json!({"ip_location": {"field": "ip", "database_file": "dbip-city.mmdb",
                "properties": ["continent_code", "country_in_european_union", "city_name",
                    "timezone", "postal_code", "location"]}}),
            json!({"ip": "2a02:8070::1"}),
        );
        assert_eq!(
            out["ip_location"],
            json!({
                "continent_code": "EU",
                "country_in_european_union": true,
                "city_name": "Cologne",
                "location": {"lat": 50.938, "lon": 6.87941}
            })
        );
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip", "database_file": "dbip-city-ipv4.mmdb"}}),
            json!({"ip": "2a02:8070::1"}),
        );
        assert_eq!(out, json!({"ip": "2a02:8070::1"}), "an IPv4-only file");
        let by_default_name = resources.geoip.database("GeoLite2-City.mmdb").unwrap();
        let by_own_name = resources.geoip.database("dbip-city.mmdb").unwrap();
        assert!(
            Arc::ptr_eq(&by_default_name.unwrap(), &by_own_name.unwrap()),
            "one copy in memory"
        );
    }

    #[test]
    fn dbip_country_layout() {
        let (_directory, resources) = resources(&[("dbip-country.mmdb", dbip_country())]);
        let definition =
            json!({"geoip": {"field": "ip", "database_file": "GeoLite2-Country.mmdb"}});
        let out = run_with(&resources, definition.clone(), json!({"ip": "81.2.69.9"}));
        assert_eq!(
            out["geoip"],
            json!({
                "continent_name": "Europe",
                "country_iso_code": "GB",
                "country_name": "United Kingdom"
            })
        );
        let out = run_with(&resources, definition, json!({"ip": "2001:db8:ffff::"}));
        assert_eq!(out["geoip"]["country_name"], "Netherlands");
        let error = build_error_with(
            &resources,
            json!({"geoip": {"field": "ip", "database_file": "dbip-country.mmdb",
                "properties": ["city_name"]}}),
        );
        assert_eq!(
            error,
            "[properties] illegal property value [city_name]. valid values are [IP, \
             COUNTRY_IN_EUROPEAN_UNION, COUNTRY_ISO_CODE, COUNTRY_NAME, CONTINENT_CODE, \
             CONTINENT_NAME, REGISTERED_COUNTRY_IN_EUROPEAN_UNION, REGISTERED_COUNTRY_ISO_CODE, \
             REGISTERED_COUNTRY_NAME]"
        );
    }

    #[test]
    fn asn() {
        let (_directory, resources) = resources(&[("GeoLite2-ASN.mmdb", geolite_asn())]);
        let definition = json!({"geoip": {"field": "ip", "database_file": "GeoLite2-ASN.mmdb"}});
        let out = run_with(&resources, definition.clone(), json!({"ip": "81.2.69.142"}));
        assert_eq!(
            out["geoip"],
            json!({
                "ip": "81.2.69.142",
                "asn": 20712,
                "organization_name": "Andrews & Arnold Ltd",
                "network": "81.2.64.0/18"
            })
        );
        let out = run_with(&resources, definition, json!({"ip": "2001:db8::1"}));
        assert_eq!(out["geoip"]["network"], "2001:db8:0:0:0:0:0:0/32");
    }

    #[test]
    fn errors_as_elasticsearch_reports_them() {
        let (_directory, resources) = resources(&[("GeoLite2-City.mmdb", geolite_city())]);
        let error = |source: Value| {
            try_run_with(&resources, json!({"geoip": {"field": "ip"}}), source)
                .expect_err("fails")
                .reason
        };
        assert_eq!(
            error(json!({"ip": "x"})),
            "'x' is not an IP string literal."
        );
        assert_eq!(
            error(json!({"ip": "1.2.3"})),
            "'1.2.3' is not an IP string literal."
        );
        assert_eq!(
            error(json!({"ip": null})),
            "field [ip] is null, cannot extract geoip information."
        );
        assert_eq!(
            error(json!({})),
            "field [ip] not present as part of path [ip]"
        );
        assert_eq!(
            error(json!({"ip": 12})),
            "field [ip] should contain only string or array of strings"
        );
        assert_eq!(
            error(json!({"ip": [3, "81.2.69.1"]})),
            "array in field [ip] should only contain strings"
        );
        let lenient = json!({"geoip": {"field": "ip", "ignore_missing": true}});
        assert_eq!(
            run_with(&resources, lenient.clone(), json!({"ip": null})),
            json!({"ip": null})
        );
        assert_eq!(run_with(&resources, lenient, json!({})), json!({}));
        assert_eq!(
            build_error_with(
                &resources,
                json!({"geoip": {"field": "ip", "properties": ["asn"]}})
            ),
            "[properties] illegal property value [asn]. valid values are [IP, \
             COUNTRY_IN_EUROPEAN_UNION, COUNTRY_ISO_CODE, COUNTRY_NAME, CONTINENT_CODE, \
             CONTINENT_NAME, REGION_ISO_CODE, REGION_NAME, CITY_NAME, TIMEZONE, LOCATION, \
             POSTAL_CODE, ACCURACY_RADIUS, REGISTERED_COUNTRY_IN_EUROPEAN_UNION, \
             REGISTERED_COUNTRY_ISO_CODE, REGISTERED_COUNTRY_NAME]"
        );
        assert!(
            build_error_with(
                &resources,
                json!({"geoip": {"field": "ip", "fist_only": true}})
            )
            .contains("[fist_only]")
        );
    }

    #[test]
    fn without_a_database_documents_are_left_as_they_are() {
        let resources = Resources::default();
        let out = run_with(
            &resources,
            json!({"geoip": {"field": "ip", "download_database_on_pipeline_creation": false}}),
            json!({"ip": "81.2.69.142", "tags": ["web"]}),
        );
        assert_eq!(out, json!({"ip": "81.2.69.142", "tags": ["web"]}));
        let out = run_with(
            &resources,
            json!({"ip_location": {"field": "ip", "database_file": "GeoLite2-ASN.mmdb"}}),
            json!({}),
        );
        assert_eq!(out, json!({}));
        assert!(!resources.geoip.has("GeoLite2-City.mmdb"));
    }

    #[test]
    fn damaged_and_foreign_files_are_refused_when_the_pipeline_is_built() {
        let mut writer = Writer::new("GeoIP2-Anonymous-IP", 6);
        writer.insert(
            "81.2.69.0/24",
            Data::Map(vec![("is_anonymous", Data::Boolean(true))]),
        );
        let (_directory, resources) = resources(&[
            ("broken.mmdb", b"not a database".to_vec()),
            ("GeoIP2-Anonymous-IP.mmdb", writer.finish()),
        ]);
        let error = build_error_with(
            &resources,
            json!({"geoip": {"field": "ip", "database_file": "broken.mmdb"}}),
        );
        assert!(
            error.starts_with("[database_file] cannot read geoip database ["),
            "{error}"
        );
        let error = build_error_with(
            &resources,
            json!({"geoip": {"field": "ip", "database_file": "GeoIP2-Anonymous-IP.mmdb"}}),
        );
        assert_eq!(
            error,
            "[database_file] Unsupported database type [GeoIP2-Anonymous-IP] for file \
             [GeoIP2-Anonymous-IP.mmdb]"
        );
        assert_eq!(
            resources.geoip.files(),
            ["GeoIP2-Anonymous-IP.mmdb", "broken.mmdb"]
        );
        assert!(Path::new(resources.geoip.directory().expect("a directory")).is_dir());
    }
}
