//! What processors share and load once: the grok pattern library and the GeoIP databases; the
//! user-agent rules join them. Built when the server starts and handed to every pipeline
//! that is compiled.

use std::path::Path;
use std::sync::Arc;

use crate::processors::geoip::databases::GeoIpDatabases;
use crate::processors::grok::PatternBank;

/// Shared, expensive things processors use.
#[derive(Debug, Clone)]
pub struct Resources {
    /// Grok's named patterns, both the legacy and the ECS forms.
    pub grok_patterns: Arc<PatternBank>,
    /// The IP location databases `geoip` reads; none unless a directory is configured.
    pub geoip: Arc<GeoIpDatabases>,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            grok_patterns: Arc::new(PatternBank::builtin()),
            geoip: Arc::new(GeoIpDatabases::none()),
        }
    }
}

impl Resources {
    /// The built-in resources, with the GeoIP databases of `directory` (`*.mmdb` files,
    /// opened when a pipeline first names them; see [`GeoIpDatabases`]).
    pub fn with_geoip_directory(directory: impl AsRef<Path>) -> Resources {
        Resources {
            geoip: Arc::new(GeoIpDatabases::in_directory(directory.as_ref())),
            ..Resources::default()
        }
    }
}
