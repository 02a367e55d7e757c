//! [`MemoryWriter`]: captured output, for tests.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use logfleet_model::Event;

/// An in-memory writer whose clones share one buffer: give one clone to
/// [`Builder::writer`](crate::Builder::writer), read the JSON lines from another.
///
/// ```
/// use logfleet_sdk::MemoryWriter;
/// use std::io::Write;
///
/// let output = MemoryWriter::new();
/// let mut writer = output.clone();
/// writer.write_all(b"{\"message\":\"hi\"}\n").unwrap();
/// assert_eq!(output.events()[0].message(), Some("hi"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryWriter {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl MemoryWriter {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far, as text.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.contents().lines().map(str::to_owned).collect()
    }

    /// The lines written so far, parsed as events (lines that are not JSON objects are
    /// skipped).
    pub fn events(&self) -> Vec<Event> {
        self.lines()
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Forgets everything written so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Write for MemoryWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
