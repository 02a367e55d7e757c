//! Small JSON metadata files, written so that a crash leaves either the old or the new
//! version: write a temporary file, fsync it, rename it over the old one, fsync the directory.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{StoreError, StoreResult};

/// Writes `value` as pretty JSON to `path`, atomically and durably.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> StoreResult<()> {
    let temporary = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(|error| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: error.to_string(),
    })?;
    let context = || format!("writing {}", path.display());
    let mut file = File::create(&temporary).map_err(|error| StoreError::io(context(), error))?;
    file.write_all(&bytes)
        .map_err(|error| StoreError::io(context(), error))?;
    file.sync_all()
        .map_err(|error| StoreError::io(context(), error))?;
    fs::rename(&temporary, path).map_err(|error| StoreError::io(context(), error))?;
    if let Some(parent) = path.parent() {
        File::open(parent)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| StoreError::io(context(), error))?;
    }
    Ok(())
}

/// Reads a JSON metadata file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> StoreResult<T> {
    let bytes = fs::read(path)
        .map_err(|error| StoreError::io(format!("reading {}", path.display()), error))?;
    serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: error.to_string(),
    })
}
