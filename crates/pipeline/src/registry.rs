//! The stored pipelines, compiled, by id. Storing them durably is the caller's business (the
//! API keeps their definitions in the data directory and loads them here at start-up); this
//! is what ingest and `_simulate` look pipelines up in.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::config::ConfigError;
use crate::pipeline::Pipeline;
use crate::processor::PipelineSource;
use crate::resources::Resources;

/// Compiled pipelines by id.
#[derive(Debug, Default)]
pub struct Pipelines {
    resources: Resources,
    pipelines: RwLock<BTreeMap<String, Arc<Pipeline>>>,
}

impl Pipelines {
    /// An empty registry whose pipelines use `resources`.
    pub fn new(resources: Resources) -> Pipelines {
        Pipelines {
            resources,
            pipelines: RwLock::default(),
        }
    }

    /// What processors share.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// Compiles `definition` without storing it, for `_simulate` and for checking a definition
    /// before it is stored.
    pub fn compile(&self, id: &str, definition: &Value) -> Result<Pipeline, ConfigError> {
        Pipeline::compile(id, definition, &self.resources)
    }

    /// Compiles and stores pipeline `id`, replacing one of that id.
    pub fn put(&self, id: &str, definition: &Value) -> Result<Arc<Pipeline>, ConfigError> {
        let pipeline = Arc::new(self.compile(id, definition)?);
        self.write().insert(id.to_owned(), pipeline.clone());
        Ok(pipeline)
    }

    /// Stores an already compiled pipeline.
    pub fn insert(&self, pipeline: Pipeline) {
        self.write()
            .insert(pipeline.id().to_owned(), Arc::new(pipeline));
    }

    /// Removes pipeline `id`; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        self.write().remove(id).is_some()
    }

    /// Pipeline `id`.
    pub fn get(&self, id: &str) -> Option<Arc<Pipeline>> {
        self.read().get(id).cloned()
    }

    /// Every pipeline, by id.
    pub fn all(&self) -> Vec<Arc<Pipeline>> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Pipeline>>> {
        self.pipelines
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Pipeline>>> {
        self.pipelines
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl PipelineSource for Pipelines {
    fn pipeline(&self, id: &str) -> Option<Arc<Pipeline>> {
        self.get(id)
    }
}
