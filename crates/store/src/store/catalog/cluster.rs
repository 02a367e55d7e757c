//! Cluster settings (see [`crate::cluster_settings`]), kept in the data directory.

use serde_json::{Map, Value};

use crate::cluster_settings::ClusterSettings;
use crate::error::StoreResult;
use crate::store::Store;

/// Where the persistent cluster settings are kept, in the data directory.
pub(in crate::store) const CLUSTER_SETTINGS_FILE: &str = "cluster_settings.json";

impl Store {
    /// The cluster settings set so far.
    pub fn cluster_settings(&self) -> ClusterSettings {
        self.inner.cluster_settings.read().clone()
    }

    /// Applies `PUT /_cluster/settings`: the `persistent` settings are on disk before this
    /// returns, the `transient` ones only in memory. All of it or, on an unknown setting or
    /// an invalid value, none. Returns what each scope set, flat.
    pub fn update_cluster_settings(
        &self,
        persistent: Option<&Value>,
        transient: Option<&Value>,
    ) -> StoreResult<(Map<String, Value>, Map<String, Value>)> {
        let mut applied = (Map::new(), Map::new());
        self.inner.cluster_settings.update(|settings| {
            if let Some(update) = persistent {
                applied.0 = ClusterSettings::apply("persistent", &mut settings.persistent, update)?;
            }
            if let Some(update) = transient {
                applied.1 = ClusterSettings::apply("transient", &mut settings.transient, update)?;
            }
            Ok(persistent.is_some() || transient.is_some())
        })?;
        Ok(applied)
    }
}
