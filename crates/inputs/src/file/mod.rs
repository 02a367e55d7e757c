//! The file input: lines (or NDJSON events) appended to files matching glob patterns, read
//! as they arrive and written the one way in, like Filebeat's `filestream`.
//!
//! - **Identity.** A file is known by a fingerprint of its first bytes (up to 1024), not by
//!   its inode or path: a file renamed by rotation is followed (and not read again), a new
//!   file at an old path is read from its start, a reused inode is not mistaken for the old
//!   file. A file shorter than 1024 bytes is known by what it has, and the fingerprint grows
//!   with it.
//! - **Offsets.** Each file's offset is persisted in the [`registry`] only after the events
//!   before it are stored durably, so a restart (or a full disk) resumes where the
//!   acknowledgements ended: nothing lost, nothing read twice.
//! - **Rotation.** By rename: the open handle is read to its end, whatever the file's name
//!   is now. By copy and truncate: the copy is known by its fingerprint and read from the
//!   offset reached; the truncated file starts again from 0.
//! - **Lines.** Complete lines only (a line is read once its newline is written), `\r\n` or
//!   `\n`, at most `max_line_size` bytes (longer ones are cut, flagged `truncated`), joined
//!   by [`multiline`] rules when configured.

pub mod multiline;
pub mod registry;

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use logfleet_ingest::{Event, Ingest};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};
use tokio::sync::watch;
use tracing::{info, warn};

use multiline::{Joined, Joiner, Multiline};
use registry::{Entry, Registry};

/// The most bytes of a file's start its fingerprint covers.
pub const FINGERPRINT_BYTES: u64 = 1024;
/// The most bytes read from one file in one round.
const READ_CHUNK: usize = 1 << 20;
/// The most events written in one batch.
const MAX_EVENTS: usize = 2_000;
/// A file that is neither growing nor at any matching path any more is closed after this.
const CLOSE_INACTIVE: Duration = Duration::from_secs(60);

/// How a file's lines become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Each line (or joined group of lines) is the `message` of an event.
    Lines,
    /// Each line is a JSON object: the event itself.
    Ndjson,
}

/// One file input's settings.
#[derive(Debug, Clone)]
pub struct FileInput {
    /// Its name in messages and its registry's file name (`file-0`).
    pub name: String,
    /// Glob patterns of the files to read.
    pub paths: Vec<String>,
    /// Glob patterns of files not to read among those (`*.gz`).
    pub exclude: Vec<glob::Pattern>,
    /// Lines or NDJSON.
    pub format: Format,
    /// The index or data stream events go to (`logs` routes them by `log_category`).
    pub index: String,
    /// Joining rules, if lines are joined.
    pub multiline: Option<Multiline>,
    /// An event still being joined is ended after the file has not grown for this long.
    pub multiline_timeout: Duration,
    /// Lines are cut at this many bytes.
    pub max_line_size: usize,
    /// How often the patterns are expanded and files checked for growth.
    pub scan_interval: Duration,
    /// Where the offsets are persisted.
    pub registry: PathBuf,
}

/// A file being read.
#[derive(Debug)]
struct Tracked {
    fingerprint: String,
    prefix: u64,
    path: PathBuf,
    file: File,
    inode: (u64, u64),
    /// The next byte to read.
    offset: u64,
    /// Everything before this is stored (what the registry says).
    acknowledged: u64,
    joiner: Joiner,
    /// When the file last grew (or was opened).
    grew: Instant,
    /// Whether the last scan found it at a matching path.
    seen: bool,
}

/// Events of one round, with the offset each file reaches once they are stored.
#[derive(Debug, Default)]
struct Round {
    events: Vec<Event>,
    reached: Vec<(String, u64)>,
}

/// Reads the input's files until `shutdown` says stop; each batch is stored before the
/// offsets move past it.
pub async fn run(input: FileInput, ingest: Ingest, mut shutdown: watch::Receiver<bool>) {
    let registry = match Registry::open(input.registry.clone()) {
        Ok(registry) => registry,
        Err(error) => {
            warn!(input = %input.name, %error, "file input: cannot read its registry; not starting");
            return;
        }
    };
    info!(input = %input.name, paths = ?input.paths, "file input started");
    let mut tailer = Tailer {
        input,
        registry,
        tracked: Vec::new(),
    };
    let mut backoff = Duration::from_millis(200);
    loop {
        let (returned, round) = match tokio::task::spawn_blocking(move || {
            tailer.scan();
            let round = tailer.read_round();
            (tailer, round)
        })
        .await
        {
            Ok(result) => result,
            Err(_) => return,
        };
        tailer = returned;
        let full = round.events.len() >= MAX_EVENTS;
        if !round.events.is_empty() {
            let outcome = ingest.write_events(round.events).await;
            if outcome.retry > 0 {
                // Not stored (a full disk, a store shutting down): read the same lines again.
                warn!(
                    input = %tailer.input.name,
                    reason = outcome.first_error.as_deref().unwrap_or_default(),
                    retry_in = ?backoff,
                    "file input: the store refuses writes for now; reading again later"
                );
                tailer.rewind();
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
            backoff = Duration::from_millis(200);
            if outcome.rejected > 0 {
                warn!(
                    input = %tailer.input.name,
                    rejected = outcome.rejected,
                    reason = outcome.first_error.as_deref().unwrap_or_default(),
                    "file input: events refused"
                );
            }
            let saved = tokio::task::spawn_blocking(move || {
                let result = tailer.acknowledge(&round.reached);
                (tailer, result)
            })
            .await;
            let Ok((returned, result)) = saved else {
                return;
            };
            tailer = returned;
            if let Err(error) = result {
                warn!(input = %tailer.input.name, %error, "file input: saving offsets failed");
            }
        }
        if *shutdown.borrow() {
            return;
        }
        if !full {
            tokio::select! {
                _ = tokio::time::sleep(tailer.input.scan_interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[derive(Debug)]
struct Tailer {
    input: FileInput,
    registry: Registry,
    tracked: Vec<Tracked>,
}

impl Tailer {
    /// Expands the patterns, following renamed and copied files by their fingerprints.
    fn scan(&mut self) {
        for tracked in &mut self.tracked {
            tracked.seen = false;
        }
        for path in self.matching_paths() {
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let Ok(metadata) = file.metadata() else {
                continue;
            };
            let size = metadata.len();
            if !metadata.is_file() || size == 0 {
                continue;
            }
            let inode = (metadata.dev(), metadata.ino());
            // The same open file at the same path: only its fingerprint may grow.
            if let Some(position) = self
                .tracked
                .iter()
                .position(|tracked| tracked.inode == inode && tracked.path == path)
            {
                self.tracked[position].seen = true;
                grow_fingerprint(&mut self.tracked[position], &mut self.registry, size);
                continue;
            }
            let matched = self.tracked.iter().position(|tracked| {
                tracked.prefix <= size
                    && fingerprint(&file, tracked.prefix).as_deref() == Some(&tracked.fingerprint)
            });
            if let Some(position) = matched {
                let tracked = &mut self.tracked[position];
                tracked.seen = true;
                if tracked.inode == inode {
                    // Renamed: the handle is the file, whatever its name now.
                    tracked.path = path;
                } else if !same_file_at(&tracked.path, &tracked.fingerprint, tracked.prefix) {
                    // Copied, and the original truncated: the copy holds the unread rest.
                    tracked.file = file;
                    tracked.inode = inode;
                    tracked.path = path;
                }
                continue;
            }
            let (fingerprint_now, prefix) = match fingerprint(&file, size.min(FINGERPRINT_BYTES)) {
                Some(fingerprint_now) => (fingerprint_now, size.min(FINGERPRINT_BYTES)),
                None => continue,
            };
            // A file read before (an earlier run): resume at its offset.
            let known = self
                .registry
                .entries()
                .iter()
                .find(|(known, entry)| {
                    entry.prefix <= size
                        && fingerprint(&file, entry.prefix).as_deref() == Some(known.as_str())
                })
                .map(|(known, entry)| (known.clone(), entry.clone()));
            let (fingerprint, prefix, offset) = match known {
                Some((known, entry)) if entry.offset <= size => (known, entry.prefix, entry.offset),
                Some((known, _)) => {
                    self.registry.remove(&known);
                    (fingerprint_now, prefix, 0)
                }
                None => (fingerprint_now, prefix, 0),
            };
            info!(input = %self.input.name, path = %path.display(), offset, "file input: reading a file");
            self.tracked.push(Tracked {
                fingerprint,
                prefix,
                path,
                file,
                inode,
                offset,
                acknowledged: offset,
                joiner: Joiner::new(self.input.multiline.clone()),
                grew: Instant::now(),
                seen: true,
            });
            let position = self.tracked.len() - 1;
            grow_fingerprint(&mut self.tracked[position], &mut self.registry, size);
        }
    }

    fn matching_paths(&self) -> BTreeSet<PathBuf> {
        let mut paths = BTreeSet::new();
        for pattern in &self.input.paths {
            let Ok(entries) = glob::glob(pattern) else {
                continue;
            };
            for path in entries.flatten() {
                let excluded = self
                    .input
                    .exclude
                    .iter()
                    .any(|exclude| exclude.matches_path(&path));
                if !excluded {
                    paths.insert(path);
                }
            }
        }
        paths
    }

    /// Reads what the files gained since the last round.
    fn read_round(&mut self) -> Round {
        let mut round = Round::default();
        let input = &self.input;
        let mut closed = Vec::new();
        for (position, tracked) in self.tracked.iter_mut().enumerate() {
            if round.events.len() >= MAX_EVENTS {
                break;
            }
            let size = tracked.file.metadata().map_or(0, |metadata| metadata.len());
            if size < tracked.offset {
                // Truncated in place: what it holds now is new.
                info!(input = %input.name, path = %tracked.path.display(), "file input: file truncated; reading it from its start");
                closed.push(position);
                continue;
            }
            let before = round.events.len();
            let mut buffer = vec![0_u8; READ_CHUNK.min((size - tracked.offset) as usize)];
            let read = tracked
                .file
                .read_at(&mut buffer, tracked.offset)
                .unwrap_or(0);
            buffer.truncate(read);
            let mut consumed = 0;
            while round.events.len() < MAX_EVENTS {
                let rest = &buffer[consumed..];
                let (line, length) = match memchr::memchr(b'\n', rest) {
                    Some(end) => (&rest[..end], end + 1),
                    None if rest.len() >= input.max_line_size => {
                        // No newline within the limit: cut here, the rest comes as more lines.
                        (&rest[..input.max_line_size], input.max_line_size)
                    }
                    None => break,
                };
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let start = tracked.offset + consumed as u64;
                let end = start + length as u64;
                consumed += length;
                let (line, cut) = if line.len() > input.max_line_size {
                    (&line[..input.max_line_size], true)
                } else {
                    (line, false)
                };
                let text = String::from_utf8_lossy(line);
                if let Some(mut joined) = tracked.joiner.push(&text, start, end) {
                    joined.truncated |= cut;
                    round.events.push(event(input, &tracked.path, joined));
                }
            }
            tracked.offset += consumed as u64;
            if consumed > 0 {
                tracked.grew = Instant::now();
            } else if tracked.grew.elapsed() >= input.multiline_timeout
                && let Some(joined) = tracked.joiner.flush()
            {
                round.events.push(event(input, &tracked.path, joined));
            }
            let reached = tracked.joiner.pending_start().unwrap_or(tracked.offset);
            if round.events.len() > before || reached != tracked.acknowledged {
                round.reached.push((tracked.fingerprint.clone(), reached));
            }
            if !tracked.seen
                && tracked.offset >= size
                && tracked.joiner.pending_start().is_none()
                && tracked.grew.elapsed() >= CLOSE_INACTIVE
            {
                closed.push(position);
            }
        }
        for position in closed.into_iter().rev() {
            let tracked = self.tracked.remove(position);
            if tracked.seen || tracked.offset > tracked.file.metadata().map_or(0, |m| m.len()) {
                self.registry.remove(&tracked.fingerprint);
            }
        }
        round
    }

    /// The round's events are stored: move the offsets and persist them.
    fn acknowledge(&mut self, reached: &[(String, u64)]) -> std::io::Result<()> {
        let now = now_ms();
        for (fingerprint, offset) in reached {
            if let Some(tracked) = self
                .tracked
                .iter_mut()
                .find(|tracked| &tracked.fingerprint == fingerprint)
            {
                tracked.acknowledged = *offset;
                self.registry.set(
                    fingerprint,
                    Entry {
                        path: tracked.path.clone(),
                        prefix: tracked.prefix,
                        offset: *offset,
                        seen_ms: now,
                    },
                );
            }
        }
        for tracked in &self.tracked {
            if let Some(entry) = self.registry.get(&tracked.fingerprint).cloned() {
                self.registry.set(
                    &tracked.fingerprint,
                    Entry {
                        seen_ms: now,
                        ..entry
                    },
                );
            }
        }
        self.registry.save(now)
    }

    /// The round's events were not stored: read them again from the acknowledged offsets.
    fn rewind(&mut self) {
        for tracked in &mut self.tracked {
            tracked.offset = tracked.acknowledged;
            tracked.joiner = Joiner::new(self.input.multiline.clone());
        }
    }
}

/// Lengthens a short fingerprint once the file has more of its first bytes.
fn grow_fingerprint(tracked: &mut Tracked, registry: &mut Registry, size: u64) {
    let wanted = size.min(FINGERPRINT_BYTES);
    if tracked.prefix >= wanted {
        return;
    }
    let Some(longer) = fingerprint(&tracked.file, wanted) else {
        return;
    };
    registry.remove(&tracked.fingerprint);
    tracked.fingerprint = longer;
    tracked.prefix = wanted;
    registry.set(
        &tracked.fingerprint,
        Entry {
            path: tracked.path.clone(),
            prefix: tracked.prefix,
            offset: tracked.acknowledged,
            seen_ms: now_ms(),
        },
    );
}

/// Whether `path` still holds the file of `fingerprint`.
fn same_file_at(path: &Path, fingerprint_wanted: &str, prefix: u64) -> bool {
    File::open(path)
        .ok()
        .and_then(|file| fingerprint(&file, prefix))
        .is_some_and(|found| found == fingerprint_wanted)
}

/// The SHA-1 of a file's first `prefix` bytes, in hex; `None` if it has fewer.
fn fingerprint(file: &File, prefix: u64) -> Option<String> {
    if prefix == 0 {
        return None;
    }
    let mut start = vec![0_u8; prefix as usize];
    file.read_exact_at(&mut start, 0).ok()?;
    let digest = Sha1::digest(&start);
    Some(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The event of a (joined) line.
fn event(input: &FileInput, path: &Path, joined: Joined) -> Event {
    let mut flags = Vec::new();
    if joined.text.contains('\n') {
        flags.push("multiline");
    }
    if joined.truncated {
        flags.push("truncated");
    }
    let mut log = json!({"file": {"path": path.display().to_string()}, "offset": joined.start});
    if !flags.is_empty() {
        log["flags"] = json!(flags);
    }
    let now = logfleet_time::format_epoch_millis(now_ms());
    let document = match input.format {
        Format::Lines => json!({
            "@timestamp": now,
            "message": joined.text,
            "log": log,
            "input": {"type": "filestream"},
        }),
        Format::Ndjson => match serde_json::from_str::<Map<String, Value>>(&joined.text) {
            Ok(mut object) => {
                match object.get_mut("log") {
                    None => {
                        object.insert("log".into(), log);
                    }
                    Some(Value::Object(existing)) => {
                        if let Value::Object(log) = log {
                            for (key, value) in log {
                                existing.entry(key).or_insert(value);
                            }
                        }
                    }
                    Some(_) => {}
                }
                object.entry("@timestamp").or_insert_with(|| now.into());
                Value::Object(object)
            }
            Err(error) => json!({
                "@timestamp": now,
                "message": joined.text,
                "log": log,
                "input": {"type": "filestream"},
                "error": {"message": format!("line is not a JSON object: {error}"), "type": "json"},
            }),
        },
    };
    Event {
        index: input.index.clone(),
        source: Bytes::from(serde_json::to_vec(&document).unwrap_or_default()),
    }
}

fn now_ms() -> i64 {
    logfleet_store::now_millis()
}
