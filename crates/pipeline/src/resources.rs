//! What processors share and load once: the grok pattern library today; the GeoIP databases
//! and user-agent rules join it. Built when the server starts and handed to every pipeline
//! that is compiled.

use std::sync::Arc;

use crate::processors::grok::PatternBank;

/// Shared, expensive things processors use.
#[derive(Debug, Clone)]
pub struct Resources {
    /// Grok's named patterns, both the legacy and the ECS forms.
    pub grok_patterns: Arc<PatternBank>,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            grok_patterns: Arc::new(PatternBank::builtin()),
        }
    }
}
