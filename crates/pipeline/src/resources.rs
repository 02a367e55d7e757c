//! What processors share and load once: the grok pattern library, the GeoIP databases and the
//! user-agent rules. Built when the server starts and handed to every pipeline that is
//! compiled.

use std::path::Path;
use std::sync::Arc;

use crate::processors::geoip::databases::GeoIpDatabases;
use crate::processors::grok::PatternBank;
use crate::processors::user_agent::UserAgentParser;

/// Shared, expensive things processors use.
#[derive(Debug, Clone)]
pub struct Resources {
    /// Grok's named patterns, both the legacy and the ECS forms.
    pub grok_patterns: Arc<PatternBank>,
    /// The IP location databases `geoip` reads; none unless a directory is configured.
    pub geoip: Arc<GeoIpDatabases>,
    /// The ua-parser rules `user_agent` applies, compiled once per process on first use.
    pub user_agents: Arc<UserAgentParser>,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            grok_patterns: Arc::new(PatternBank::builtin()),
            geoip: Arc::new(GeoIpDatabases::none()),
            user_agents: UserAgentParser::shared(),
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
