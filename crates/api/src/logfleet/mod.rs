//! Logfleet's own API under `/_logfleet/`, and the web UI under `/_ui/`.
//!
//! Elasticsearch reserves names that begin with `_`, so neither can collide with an index.
//! The UI is a client of public APIs only: what it needs beyond the Elasticsearch API is here,
//! documented in the README, so that a script can do whatever the UI does.

pub mod alerts;
pub mod dashboards;
pub mod export;
mod objects;
pub mod saved_searches;
pub mod tail;
pub mod ui;
