//! The IP location databases `geoip` reads: MaxMind DB files in one directory, opened by
//! name the first time a pipeline asks for them and shared from then on.
//!
//! A `database_file` name `X.mmdb` is served by, in order: the file `X.mmdb`; the pair
//! `X-ipv4.mmdb` and `X-ipv6.mmdb` (the DB-IP lite city database is published split that
//! way); and, for Elasticsearch's default names `GeoLite2-City.mmdb` and
//! `GeoLite2-Country.mmdb` only, the free DB-IP lite database of the same kind
//! (`dbip-city.mmdb`, `dbip-country.mmdb`, or their split pairs), so pipelines written for
//! MaxMind's databases run unchanged on the free ones.
//!
//! Two record layouts are read. GeoIP2/GeoLite2 records nest: `country.iso_code`,
//! `country.names.en`, `subdivisions[].names.en`, `city.names.en`, `location.latitude`… The
//! DB-IP lite files of the `ip-location-db` project are flat: `country_code`, `state1`,
//! `state2`, `city`, `postcode`, `latitude`, `longitude`, `timezone`. One record type
//! deserialises both, borrowing every string from the file, so a lookup allocates nothing
//! but its output.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use maxminddb::Reader;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::countries;

/// The kinds of database `geoip` understands, from the file's `database_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// City-level location (`GeoLite2-City`, `DBIP-City-Lite`, DB-IP lite `city`).
    City,
    /// Country only.
    Country,
    /// Autonomous system number and organisation.
    Asn,
}

impl DatabaseKind {
    /// The kind named by a `database_type` such as `GeoLite2-City` or `city`.
    pub fn from_database_type(database_type: &str) -> Option<DatabaseKind> {
        let lower = database_type.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(['-', '_', ' ']).collect();
        if words.contains(&"city") {
            Some(DatabaseKind::City)
        } else if words.contains(&"country") {
            Some(DatabaseKind::Country)
        } else if words.contains(&"asn") {
            Some(DatabaseKind::Asn)
        } else {
            None
        }
    }
}

/// A database could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoIpError {
    /// The file is not a MaxMind DB file, or is damaged.
    #[error("cannot read geoip database [{file}]: {reason}")]
    Unreadable {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// The file's `database_type` is not one `geoip` knows.
    #[error("Unsupported database type [{database_type}] for file [{file}]")]
    UnsupportedType {
        /// The type the file declares.
        database_type: String,
        /// The file.
        file: String,
    },
}

type MmdbReader = Reader<Vec<u8>>;

/// One database, possibly split into an IPv4 and an IPv6 file.
pub struct IpDatabase {
    kind: DatabaseKind,
    database_type: String,
    /// The reader for IPv4 addresses: an IPv4 file, or an IPv6 file with an IPv4 subtree.
    ipv4: Option<Arc<MmdbReader>>,
    /// The reader for IPv6 addresses.
    ipv6: Option<Arc<MmdbReader>>,
}

impl fmt::Debug for IpDatabase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IpDatabase")
            .field("kind", &self.kind)
            .field("database_type", &self.database_type)
            .field("ipv4", &self.ipv4.is_some())
            .field("ipv6", &self.ipv6.is_some())
            .finish()
    }
}

/// What a lookup found, borrowed from the database.
#[derive(Debug, Default)]
pub struct Found<'d> {
    /// The record.
    pub record: Record<'d>,
    /// The network the address belongs to, as `address/prefix`.
    pub network: Option<(IpAddr, u8)>,
}

impl IpDatabase {
    /// Reads a database from its files (one, or an IPv4 and an IPv6 one).
    fn open(name: &str, files: &[PathBuf]) -> Result<IpDatabase, GeoIpError> {
        let mut database: Option<IpDatabase> = None;
        for file in files {
            let reader = Reader::open_readfile(file).map_err(|error| GeoIpError::Unreadable {
                file: file.display().to_string(),
                reason: error.to_string(),
            })?;
            let database_type = reader.metadata().database_type.clone();
            let kind = DatabaseKind::from_database_type(&database_type).ok_or_else(|| {
                GeoIpError::UnsupportedType {
                    database_type: database_type.clone(),
                    file: name.to_owned(),
                }
            })?;
            let serves_ipv6 = reader.metadata().ip_version == 6;
            let reader = Arc::new(reader);
            let database = database.get_or_insert(IpDatabase {
                kind,
                database_type,
                ipv4: None,
                ipv6: None,
            });
            if database.kind != kind {
                return Err(GeoIpError::Unreadable {
                    file: file.display().to_string(),
                    reason: format!(
                        "its type does not match the other half of [{name}], [{}]",
                        database.database_type
                    ),
                });
            }
            if serves_ipv6 {
                database.ipv6 = Some(Arc::clone(&reader));
                // An IPv6 file answers IPv4 addresses too, unless an IPv4 file does.
                database.ipv4.get_or_insert(reader);
            } else {
                database.ipv4 = Some(reader);
            }
        }
        database.ok_or_else(|| GeoIpError::Unreadable {
            file: name.to_owned(),
            reason: "no file".to_owned(),
        })
    }

    /// The database's kind.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The record for `address`, or `None` when the database has none (private and
    /// unallocated addresses, or an IPv6 address in an IPv4-only database).
    pub fn lookup(&self, address: IpAddr) -> Result<Option<Found<'_>>, String> {
        let reader = match address {
            IpAddr::V4(_) => self.ipv4.as_deref(),
            IpAddr::V6(_) => self.ipv6.as_deref(),
        };
        let Some(reader) = reader else {
            return Ok(None);
        };
        let result = reader.lookup(address).map_err(|error| error.to_string())?;
        let Some(record) = result
            .decode::<Record<'_>>()
            .map_err(|error| error.to_string())?
        else {
            return Ok(None);
        };
        let network = result
            .network()
            .ok()
            .map(|network| (network.network(), network.prefix()));
        Ok(Some(Found { record, network }))
    }
}

/// The databases of one directory.
pub struct GeoIpDatabases {
    directory: Option<PathBuf>,
    /// Databases opened so far, by the files that hold them, so that two names served by
    /// the same files share one copy. Bounded by the files in the directory.
    opened: Mutex<HashMap<Vec<PathBuf>, Arc<IpDatabase>>>,
}

impl fmt::Debug for GeoIpDatabases {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GeoIpDatabases")
            .field("directory", &self.directory)
            .finish()
    }
}

impl Default for GeoIpDatabases {
    fn default() -> Self {
        GeoIpDatabases::none()
    }
}

/// The free databases that stand in for Elasticsearch's default MaxMind names.
const FREE_STAND_INS: [(&str, &str); 2] = [
    ("GeoLite2-City.mmdb", "dbip-city.mmdb"),
    ("GeoLite2-Country.mmdb", "dbip-country.mmdb"),
];

impl GeoIpDatabases {
    /// No databases: every `geoip` processor tags documents instead.
    pub fn none() -> GeoIpDatabases {
        GeoIpDatabases {
            directory: None,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// The databases in `directory`. Nothing is read until a pipeline names a database; a
    /// directory that does not exist holds no databases.
    pub fn in_directory(directory: impl Into<PathBuf>) -> GeoIpDatabases {
        GeoIpDatabases {
            directory: Some(directory.into()),
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// The directory databases are read from, if any.
    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }

    /// The `.mmdb` files in the directory, sorted: for saying at start-up what is there.
    pub fn files(&self) -> Vec<String> {
        let Some(directory) = &self.directory else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(directory) else {
            return Vec::new();
        };
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| name.ends_with(".mmdb"))
            .collect();
        files.sort_unstable();
        files
    }

    /// The database pipelines call `name`, opening it on first use; `None` when no file
    /// serves that name.
    pub fn database(&self, name: &str) -> Result<Option<Arc<IpDatabase>>, GeoIpError> {
        // Names are resolved anew each time, so a file added since is found by the next
        // pipeline built.
        let Some(files) = self.files_for(name) else {
            return Ok(None);
        };
        let mut opened = self
            .opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(database) = opened.get(&files) {
            return Ok(Some(Arc::clone(database)));
        }
        let database = Arc::new(IpDatabase::open(name, &files)?);
        opened.insert(files, Arc::clone(&database));
        Ok(Some(database))
    }

    /// Whether a pipeline naming `database_file` would find a database: for saying at
    /// start-up that `geoip` will only tag documents.
    pub fn has(&self, database_file: &str) -> bool {
        matches!(self.database(database_file), Ok(Some(_)))
    }

    /// The files that serve `name`, by the rules in the module documentation.
    fn files_for(&self, name: &str) -> Option<Vec<PathBuf>> {
        let directory = self.directory.as_ref()?;
        // A name is a file name in the directory, never a path out of it.
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return None;
        }
        let whole = directory.join(name);
        if whole.is_file() {
            return Some(vec![whole]);
        }
        let stem = name.strip_suffix(".mmdb").unwrap_or(name);
        let halves: Vec<PathBuf> = ["ipv4", "ipv6"]
            .iter()
            .map(|version| directory.join(format!("{stem}-{version}.mmdb")))
            .filter(|path| path.is_file())
            .collect();
        if !halves.is_empty() {
            return Some(halves);
        }
        let stand_in = FREE_STAND_INS
            .iter()
            .find(|(default_name, _)| *default_name == name)?
            .1;
        self.files_for(stand_in)
    }
}

/// One record of either layout; every field is optional.
#[derive(Debug, Default, Deserialize)]
pub struct Record<'a> {
    /// GeoIP2: `continent.code`, `continent.names.en`.
    #[serde(borrow)]
    pub continent: Option<Place<'a>>,
    /// GeoIP2: `country.iso_code`, `country.names.en`, `country.is_in_european_union`.
    #[serde(borrow)]
    pub country: Option<Place<'a>>,
    /// GeoIP2: the country the network is registered in.
    #[serde(borrow)]
    pub registered_country: Option<Place<'a>>,
    /// GeoIP2: the most specific (last) of `subdivisions`.
    #[serde(borrow)]
    pub subdivisions: Option<Last<Place<'a>>>,
    /// GeoIP2 `city.names.en`, or the flat layout's `city` string.
    #[serde(borrow)]
    pub city: Option<CityName<'a>>,
    /// GeoIP2: `location.latitude`, `longitude`, `time_zone`, `accuracy_radius`.
    #[serde(borrow)]
    pub location: Option<Location<'a>>,
    /// GeoIP2: `postal.code`.
    #[serde(borrow)]
    pub postal: Option<Postal<'a>>,
    /// Flat layout: the ISO 3166-1 country code.
    pub country_code: Option<&'a str>,
    /// Flat layout: the first-level subdivision's name.
    pub state1: Option<&'a str>,
    /// Flat layout: the postal code.
    pub postcode: Option<&'a str>,
    /// Flat layout: latitude.
    pub latitude: Option<Coordinate>,
    /// Flat layout: longitude.
    pub longitude: Option<Coordinate>,
    /// Flat layout: the IANA time zone.
    pub timezone: Option<&'a str>,
    /// ASN databases.
    pub autonomous_system_number: Option<Unsigned>,
    /// ASN databases.
    pub autonomous_system_organization: Option<&'a str>,
}

impl<'a> Record<'a> {
    /// The ISO 3166-1 code of the country the address is in.
    pub fn country_iso_code(&self) -> Option<&'a str> {
        self.country
            .as_ref()
            .and_then(|country| country.iso_code)
            .or_else(|| non_empty(self.country_code))
    }

    /// The flat layout's country, from the built-in table.
    fn listed_country(&self) -> Option<countries::Country> {
        let place_given = self.country.is_some() || self.continent.is_some();
        if place_given {
            return None;
        }
        countries::by_code(non_empty(self.country_code)?)
    }

    /// The country's English name.
    pub fn country_name(&self) -> Option<&'a str> {
        match &self.country {
            Some(country) => country.name(),
            None => self.listed_country().map(|country| country.name),
        }
    }

    /// Whether the country is in the European Union; known only with a country.
    pub fn country_in_european_union(&self) -> Option<bool> {
        match &self.country {
            Some(country) => country
                .iso_code
                .map(|_| country.is_in_european_union.unwrap_or(false)),
            None => self
                .listed_country()
                .map(|country| country.in_european_union),
        }
    }

    /// The continent's two-letter code.
    pub fn continent_code(&self) -> Option<&'a str> {
        match &self.continent {
            Some(continent) => continent.code,
            None => self.listed_country().map(|country| country.continent_code),
        }
    }

    /// The continent's English name.
    pub fn continent_name(&self) -> Option<&'a str> {
        match &self.continent {
            Some(continent) => continent.name(),
            None => self.listed_country().map(|country| country.continent_name),
        }
    }

    /// The most specific subdivision's ISO 3166-2 code without its country part (GeoIP2
    /// only: the flat layout has names, not codes).
    pub fn subdivision_iso_code(&self) -> Option<&'a str> {
        self.subdivision()
            .and_then(|subdivision| subdivision.iso_code)
    }

    /// The most specific subdivision's name, or the flat layout's `state1`.
    pub fn region_name(&self) -> Option<&'a str> {
        match self.subdivision() {
            Some(subdivision) => subdivision.name(),
            None => non_empty(self.state1),
        }
    }

    fn subdivision(&self) -> Option<&Place<'a>> {
        self.subdivisions.as_ref()?.0.as_ref()
    }

    /// The city's English name.
    pub fn city_name(&self) -> Option<&'a str> {
        non_empty(self.city.as_ref()?.0)
    }

    /// The IANA time zone.
    pub fn timezone(&self) -> Option<&'a str> {
        match &self.location {
            Some(location) => location.time_zone,
            None => non_empty(self.timezone),
        }
    }

    /// Latitude and longitude, when both are known.
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        let (latitude, longitude) = match &self.location {
            Some(location) => (location.latitude?, location.longitude?),
            None => (self.latitude?, self.longitude?),
        };
        Some((latitude.0, longitude.0))
    }

    /// The postal code.
    pub fn postal_code(&self) -> Option<&'a str> {
        match &self.postal {
            Some(postal) => postal.code,
            None => non_empty(self.postcode),
        }
    }

    /// The radius in kilometres around the point where the address likely is.
    pub fn accuracy_radius(&self) -> Option<u64> {
        Some(self.location.as_ref()?.accuracy_radius?.0)
    }

    /// The autonomous system's number.
    pub fn asn(&self) -> Option<u64> {
        Some(self.autonomous_system_number?.0)
    }
}

/// Flat-layout files write absent values as empty strings.
fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.is_empty())
}

/// A continent, country or subdivision of the GeoIP2 layout.
#[derive(Debug, Default, Deserialize)]
pub struct Place<'a> {
    /// `code` (continents).
    pub code: Option<&'a str>,
    /// `iso_code` (countries, subdivisions).
    pub iso_code: Option<&'a str>,
    /// `names`.
    #[serde(borrow)]
    pub names: Option<Names<'a>>,
    /// `is_in_european_union` (countries), present only when true.
    pub is_in_european_union: Option<bool>,
}

impl<'a> Place<'a> {
    /// The English name.
    pub fn name(&self) -> Option<&'a str> {
        self.names.as_ref().and_then(|names| names.en)
    }
}

/// The names of a place by language; only English is read.
#[derive(Debug, Default, Deserialize)]
pub struct Names<'a> {
    /// The English name.
    pub en: Option<&'a str>,
}

/// The GeoIP2 `location` map.
#[derive(Debug, Default, Deserialize)]
pub struct Location<'a> {
    /// Degrees north.
    pub latitude: Option<Coordinate>,
    /// Degrees east.
    pub longitude: Option<Coordinate>,
    /// The IANA time zone.
    pub time_zone: Option<&'a str>,
    /// Kilometres around the point within which the address likely is.
    pub accuracy_radius: Option<Unsigned>,
}

/// The GeoIP2 `postal` map.
#[derive(Debug, Default, Deserialize)]
pub struct Postal<'a> {
    /// The postal code.
    pub code: Option<&'a str>,
}

/// A city: a GeoIP2 map with `names`, or the flat layout's plain string.
#[derive(Debug)]
pub struct CityName<'a>(pub Option<&'a str>);

impl<'de: 'a, 'a> Deserialize<'de> for CityName<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CityVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for CityVisitor<'a> {
            type Value = CityName<'a>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a city name or a map with names")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(CityName(Some(name)))
            }

            fn visit_str<E: de::Error>(self, _name: &str) -> Result<Self::Value, E> {
                // Strings in a MaxMind DB are always borrowed from the file.
                Ok(CityName(None))
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                let place = Place::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(CityName(place.name()))
            }
        }

        deserializer.deserialize_any(CityVisitor(PhantomData))
    }
}

/// The last element of an array, read without keeping the others.
#[derive(Debug)]
pub struct Last<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Last<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LastVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for LastVisitor<T> {
            type Value = Last<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an array")
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut items: S) -> Result<Self::Value, S::Error> {
                let mut last = None;
                while let Some(item) = items.next_element()? {
                    last = Some(item);
                }
                Ok(Last(last))
            }
        }

        deserializer.deserialize_seq(LastVisitor(PhantomData))
    }
}

/// An unsigned integer of whichever width the file stores it in: the reader checks widths
/// strictly, and writers differ (`uint16`, `uint32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsigned(pub u64);

impl<'de> Deserialize<'de> for Unsigned {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UnsignedVisitor;

        impl Visitor<'_> for UnsignedVisitor {
            type Value = Unsigned;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an unsigned integer")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Ok(Unsigned(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                u64::try_from(value)
                    .map(Unsigned)
                    .map_err(|_| E::custom("a negative number"))
            }

            fn visit_u128<E: de::Error>(self, value: u128) -> Result<Self::Value, E> {
                u64::try_from(value)
                    .map(Unsigned)
                    .map_err(|_| E::custom("a number out of range"))
            }
        }

        deserializer.deserialize_any(UnsignedVisitor)
    }
}

/// A latitude or longitude. The flat layout stores 32-bit floats; they are widened through
/// their shortest decimal form, so `51.5143` stays `51.5143` rather than becoming
/// `51.514301300048828`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinate(pub f64);

impl<'de> Deserialize<'de> for Coordinate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CoordinateVisitor;

        impl Visitor<'_> for CoordinateVisitor {
            type Value = Coordinate;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a number")
            }

            fn visit_f32<E: de::Error>(self, value: f32) -> Result<Self::Value, E> {
                let mut buffer = ryu::Buffer::new();
                let shortest = buffer.format(value).parse().unwrap_or(f64::from(value));
                Ok(Coordinate(shortest))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
                Ok(Coordinate(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                Ok(Coordinate(value as f64))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Ok(Coordinate(value as f64))
            }
        }

        deserializer.deserialize_any(CoordinateVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_database_types() {
        for (database_type, kind) in [
            ("GeoLite2-City", Some(DatabaseKind::City)),
            ("GeoIP2-City", Some(DatabaseKind::City)),
            ("DBIP-City-Lite", Some(DatabaseKind::City)),
            ("city", Some(DatabaseKind::City)),
            ("GeoLite2-Country", Some(DatabaseKind::Country)),
            ("country", Some(DatabaseKind::Country)),
            ("GeoLite2-ASN", Some(DatabaseKind::Asn)),
            ("GeoIP2-Anonymous-IP", None),
            ("", None),
        ] {
            assert_eq!(
                DatabaseKind::from_database_type(database_type),
                kind,
                "{database_type}"
            );
        }
    }

    #[test]
    fn no_directory_means_no_databases() {
        let databases = GeoIpDatabases::none();
        assert!(databases.database("GeoLite2-City.mmdb").unwrap().is_none());
        assert!(databases.files().is_empty());
        let databases = GeoIpDatabases::in_directory("/nonexistent/logfleet-geoip");
        assert!(databases.database("GeoLite2-City.mmdb").unwrap().is_none());
        assert!(databases.database("../etc/passwd").unwrap().is_none());
    }
}
