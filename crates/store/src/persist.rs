//! Small JSON metadata files, written so that a crash leaves either the old or the new
//! version: write a temporary file, fsync it, rename it over the old one, fsync the directory.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{StoreError, StoreResult};
use crate::faults::{self, FaultSite, Faults};

/// Writes `value` as pretty JSON to `path`, atomically and durably. A failure leaves the
/// old version in place.
pub fn write_json_atomically<T: Serialize>(
    path: &Path,
    value: &T,
    faults: Option<&Faults>,
) -> StoreResult<()> {
    let temporary = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(|error| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: error.to_string(),
    })?;
    let context = || format!("writing {}", path.display());
    let written = write_temporary(&temporary, &bytes, faults);
    if let Err(error) = written {
        // A half-written temporary file only takes space, which a full disk lacks.
        let _ = fs::remove_file(&temporary);
        return Err(StoreError::io(context(), error));
    }
    fs::rename(&temporary, path).map_err(|error| StoreError::io(context(), error))?;
    if let Some(parent) = path.parent() {
        File::open(parent)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| StoreError::io(context(), error))?;
    }
    Ok(())
}

fn write_temporary(temporary: &Path, bytes: &[u8], faults: Option<&Faults>) -> std::io::Result<()> {
    faults::check(faults, FaultSite::Metadata)?;
    let mut file = File::create(temporary)?;
    file.write_all(bytes)?;
    file.sync_all()
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
