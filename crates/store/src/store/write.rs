//! The write path: preparing a write against its target's mapping, the writer thread that
//! logs groups of writes with one fsync, and applying logged writes to partition writers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use logfleet_model::json::JsonObject;
use tantivy::TantivyDocument;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use super::catalog::targets::is_builtin_data_stream;
use super::types::{
    DocumentOp, ItemFailure, PRIMARY_TERM, PreparedWrite, VersionConflict, WriteOutcome,
    WriteRequest, WriteResult,
};
use super::{Inner, OutcomeSender, Store, WriterMessage, WriterMessageBox};
use crate::disk::is_disk_full;
use crate::document::{LeafValue, convert_document};
use crate::error::{StoreError, StoreResult};
use crate::failure_store::{failure_store_name, failure_store_parent};
use crate::partition::{DocumentKey, Partition};
use crate::skeleton;
use crate::sync::MutexExt;
use crate::tail::TailEntry;
use crate::target::{Target, TargetKind};
use crate::wal::{FLAG_AUTO_ID, Wal, WalOp, encode_record};

/// How many write batches may queue for the writer thread before callers wait.
pub(super) const WRITE_QUEUE_DEPTH: usize = 256;

/// Why a logged write is being applied.
#[derive(Debug, Clone, Copy)]
pub(super) enum ApplyMode<'a> {
    /// Just logged, for a client waiting for its outcome.
    Live,
    /// Read back from the log at start-up.
    Replay,
    /// Read back from the log for a broken partition, which alone is written.
    Recover(&'a Partition),
}

impl PartialEq for ApplyMode<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ApplyMode::Live, ApplyMode::Live) | (ApplyMode::Replay, ApplyMode::Replay) => true,
            (ApplyMode::Recover(one), ApplyMode::Recover(other)) => std::ptr::eq(*one, *other),
            _ => false,
        }
    }
}

impl Store {
    /// Validates a write against its target's mapping (creating the target and extending
    /// the mapping as Elasticsearch's auto-create and dynamic mapping would). Nothing is
    /// durable until [`Store::execute`].
    pub fn prepare(&self, request: WriteRequest<'_>) -> StoreResult<PreparedWrite> {
        self.inner.prepare(request, false)
    }

    /// Logs the writes durably, applies them, and reports each one's outcome.
    pub async fn execute(
        &self,
        writes: Vec<PreparedWrite>,
    ) -> StoreResult<Vec<Result<WriteOutcome, ItemFailure>>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, response) = oneshot::channel();
        self.sender
            .send(WriterMessageBox(WriterMessage::Write { writes, reply }))
            .await
            .map_err(|_| StoreError::Closed)?;
        response.await.map_err(|_| StoreError::Closed)
    }
}

impl Inner {
    /// The target writes through the alias `name` go to; `Ok(None)` if it is no alias.
    pub(super) fn alias_write_target(&self, name: &str) -> StoreResult<Option<Arc<Target>>> {
        let member = match self.read_aliases().write_member(name)? {
            Some(member) => member.to_owned(),
            None => return Ok(None),
        };
        self.get_target(&member)
            .map(Some)
            .ok_or(StoreError::IndexNotFound(member))
    }

    /// The target a write goes to, auto-created like Elasticsearch's `action.auto_create_index`.
    pub(super) fn write_target(&self, name: &str) -> StoreResult<Arc<Target>> {
        if let Some(target) = self.get_target(name) {
            return Ok(target);
        }
        if let Some(target) = self.alias_write_target(name)? {
            return Ok(target);
        }
        if let Some(stream) = failure_store_parent(name) {
            return self.failure_store_target(stream);
        }
        if name.starts_with(".ds-") || name.starts_with(".fs-") {
            return Err(StoreError::IllegalArgument(format!(
                "index request targeting backing index [{name}] is not allowed, target the data stream instead"
            )));
        }
        let catalog = self.lock_catalog();
        if let Some(target) = self.get_target(name) {
            return Ok(target);
        }
        self.cluster_settings
            .read()
            .auto_create()
            .check(name)
            .map_err(|reason| StoreError::AutoCreateForbidden {
                index: name.to_owned(),
                reason,
            })?;
        let template = self.template_for(name);
        let kind = match &template {
            Some(template) if template.data_stream => TargetKind::DataStream,
            Some(_) => TargetKind::Index,
            None if is_builtin_data_stream(name) => TargetKind::DataStream,
            None => TargetKind::Index,
        };
        self.create_target(&catalog, name, kind, template.as_ref(), None, None)
    }

    /// The failure store of `stream`, created (with the stream, if need be) on first use.
    pub(super) fn failure_store_target(&self, stream: &str) -> StoreResult<Arc<Target>> {
        let parent = self.write_target(stream)?;
        if parent.kind() != TargetKind::DataStream {
            return Err(StoreError::IllegalArgument(format!(
                "[{stream}] is not a data stream: only data streams have a failure store"
            )));
        }
        let name = failure_store_name(stream);
        let catalog = self.lock_catalog();
        if let Some(target) = self.get_target(&name) {
            return Ok(target);
        }
        self.create_target(&catalog, &name, TargetKind::DataStream, None, None, None)
    }

    pub(super) fn prepare(
        &self,
        request: WriteRequest<'_>,
        replaying: bool,
    ) -> StoreResult<PreparedWrite> {
        match request {
            WriteRequest::Delete { target: name, id } => {
                let (target, only_partition) = match self.get_target(&name) {
                    Some(target) if target.kind() == TargetKind::DataStream && !replaying => {
                        return Err(StoreError::IllegalArgument(
                            "only write ops with an op_type of create are allowed in data streams; delete through the backing index".into(),
                        ));
                    }
                    Some(target) => (target, None),
                    None => match self.find_partition_owner(&name) {
                        Some(target) => (target, Some(name)),
                        None => match self.alias_write_target(&name)? {
                            Some(target) if target.kind() == TargetKind::Index => (target, None),
                            Some(_) => {
                                return Err(StoreError::IllegalArgument(
                                    "only write ops with an op_type of create are allowed in data streams; delete through the backing index".into(),
                                ));
                            }
                            None => return Err(StoreError::IndexNotFound(name)),
                        },
                    },
                };
                Ok(PreparedWrite {
                    target,
                    only_partition,
                    op: WalOp::Delete,
                    id,
                    auto_id: false,
                    source: Bytes::new(),
                    document: None,
                    timestamp_millis: None,
                    partition: None,
                    condition: None,
                })
            }
            WriteRequest::Document {
                target,
                op,
                id,
                source,
                parsed,
            } => {
                let target = self
                    .write_target(&target)
                    .map_err(|error| self.disk_full_as_block(error, &target))?;
                if target.kind() == TargetKind::DataStream
                    && op == DocumentOp::Index
                    && id.is_some()
                    && !replaying
                {
                    return Err(StoreError::IllegalArgument(
                        "only write ops with an op_type of create are allowed in data streams"
                            .into(),
                    ));
                }
                let auto_id = id.is_none();
                // A generated id is only known once the log assigns the sequence number.
                let id = id.unwrap_or_default();
                let conversion = self
                    .convert_with_mapping_update(&target, &parsed, &id)
                    .map_err(|error| self.disk_full_as_block(error, &target.name()))?;
                let fields = &self.partition_settings.fields;
                // Sized for the skeleton and the values, so that it is not regrown here, and
                // given what it can before the log, so that the writer thread only adds `_seq`.
                let mut document = TantivyDocument::with_capacity(2 * source.len() + 128);
                if auto_id {
                    document.add_u64(fields.version, 1);
                } else {
                    document.add_text(fields.id, &id);
                }
                let converted = conversion.document;
                // The log keeps the source as sent; the doc store keeps what the columns
                // cannot give back.
                let skeleton = skeleton::build_from_tree(&source, &parsed, &converted);
                let stored = skeleton.as_deref().unwrap_or(&source);
                // A source that parsed as JSON is UTF-8, and its skeleton only swaps values
                // for ASCII bytes; text goes to the doc store in one copy.
                match std::str::from_utf8(stored) {
                    Ok(text) => document.add_text(fields.source, text),
                    Err(_) => document.add_bytes(fields.source, stored),
                }
                let timestamp_millis = converted
                    .timestamp_nanos
                    .map(|nanos| nanos.div_euclid(1_000_000));
                if let Some(nanos) = converted.timestamp_nanos {
                    document.add_date(
                        fields.timestamp,
                        tantivy::DateTime::from_timestamp_nanos(nanos),
                    );
                }
                // Each leaf is copied once, from the decoded source into tantivy's document.
                if !converted.exact_values.is_empty() {
                    document.add_field_value(
                        fields.keyword,
                        LeafValue::Object(&converted.exact_values),
                    );
                }
                if !converted.numeric_values.is_empty() {
                    document.add_field_value(
                        fields.numbers,
                        LeafValue::Object(&converted.numeric_values),
                    );
                }
                if !converted.text_values.is_empty() {
                    document
                        .add_field_value(fields.text, LeafValue::Object(&converted.text_values));
                }
                for path in &converted.text_paths {
                    document.add_text(fields.field_names, path);
                }
                let op = match op {
                    DocumentOp::Index => WalOp::Index,
                    DocumentOp::Create => WalOp::Create,
                };
                Ok(PreparedWrite {
                    target,
                    only_partition: None,
                    op,
                    id,
                    auto_id,
                    source,
                    document: Some(document),
                    timestamp_millis,
                    partition: None,
                    condition: None,
                })
            }
        }
    }

    pub(super) fn convert_with_mapping_update<'s>(
        &self,
        target: &Target,
        parsed: &'s JsonObject<'s>,
        id: &str,
    ) -> StoreResult<crate::document::Conversion<'s>> {
        let conversion = convert_document(&target.mapping(), parsed, id)?;
        if conversion.new_fields.is_empty() {
            return Ok(conversion);
        }
        // Another writer may have mapped the same fields meanwhile: convert again under the
        // lock against the latest mapping, so the mapping that is persisted is the one used.
        let _catalog = self.lock_catalog();
        let latest = target.mapping();
        let conversion = convert_document(&latest, parsed, id)?;
        if !conversion.new_fields.is_empty() {
            let mut updated = (*latest).clone();
            for (path, field) in &conversion.new_fields {
                updated.insert_checked(path, field.clone())?;
            }
            debug!(target = %target.name(), added = conversion.new_fields.len(), "mapping extended");
            target.set_mapping(updated)?;
        }
        Ok(conversion)
    }

    pub(super) fn run_writer(
        self: Arc<Self>,
        mut wal: Wal,
        mut receiver: mpsc::Receiver<WriterMessageBox>,
    ) {
        let mut buffer = Vec::with_capacity(1 << 20);
        let mut pending = Vec::new();
        while let Some(WriterMessageBox(first)) = receiver.blocking_recv() {
            pending.push(first);
            // Group commit: everything that queued up while the previous fsync ran shares
            // the next one.
            while pending.len() < WRITE_QUEUE_DEPTH {
                match receiver.try_recv() {
                    Ok(WriterMessageBox(message)) => pending.push(message),
                    Err(_) => break,
                }
            }
            let mut batches = Vec::new();
            let mut checkpoint = None;
            let mut recover = None;
            let mut shutdown = None;
            for message in pending.drain(..) {
                match message {
                    WriterMessage::Write { writes, reply } => batches.push((writes, reply)),
                    WriterMessage::Checkpoint { seq } => {
                        checkpoint = Some(checkpoint.map_or(seq, |current: u64| current.max(seq)))
                    }
                    WriterMessage::Recover { reply } => {
                        recover.get_or_insert_with(Vec::new).extend(reply)
                    }
                    WriterMessage::ReadLogged { seq, reply } => {
                        let _ = reply.send(wal.read_record(seq));
                    }
                    WriterMessage::Shutdown { reply } => shutdown = Some(reply),
                }
            }
            if let Some(replies) = recover {
                self.recover_broken_partitions(&wal);
                for reply in replies {
                    let _ = reply.send(());
                }
            }
            if !batches.is_empty() {
                self.write_batches(&mut wal, &mut buffer, batches);
            }
            if let Some(seq) = checkpoint {
                let last = self.last_seq.load(Ordering::SeqCst);
                self.checkpoint(&mut wal, seq, last);
            }
            if let Some(reply) = shutdown {
                let last = self.last_seq.load(Ordering::SeqCst);
                let all_committed = self.applied_seq.load(Ordering::SeqCst) == last
                    && *self.searchable_seq.borrow() >= last;
                let covered = if all_committed { last } else { 0 };
                self.checkpoint(&mut wal, covered, last);
                let _ = reply.send(());
                break;
            }
        }
        debug!("writer thread stopped");
    }

    /// Logs and applies a group of batches. Each write is refused before the log, and
    /// leaves nothing behind, when writes are blocked or its partition cannot be created;
    /// once its record is in the log, it is acknowledged.
    pub(super) fn write_batches(
        &self,
        wal: &mut Wal,
        buffer: &mut Vec<u8>,
        mut batches: Vec<(Vec<PreparedWrite>, OutcomeSender)>,
    ) {
        let blocked = match self.write_failure.get() {
            Some(reason) => Some(StoreError::LogFailed {
                reason: reason.clone(),
            }),
            None if self.disk.check() => self.disk.block().map(|block| StoreError::WritesBlocked {
                index: String::new(),
                reason: block.reason,
            }),
            None => None,
        };
        let mut outcomes: Vec<Vec<Option<Result<WriteOutcome, ItemFailure>>>> = Vec::new();
        for (writes, _) in &mut batches {
            let refused = writes
                .iter_mut()
                .map(|write| self.refuse_before_logging(write, blocked.as_ref()))
                .collect();
            outcomes.push(refused);
        }
        buffer.clear();
        let first_seq = self.last_seq.load(Ordering::SeqCst) + 1;
        let mut seq = first_seq - 1;
        // What the writes logged so far in these batches did to each document (by target and
        // id): written by a sequence number, or deleted. A conditional write sees them; kept
        // only when there is one, so that ordinary writes pay nothing for it.
        let conditional = batches
            .iter()
            .any(|(writes, _)| writes.iter().any(|write| write.condition.is_some()));
        let mut logged_here: HashMap<(String, String), Option<u64>> = HashMap::new();
        for ((writes, _), batch_outcomes) in batches.iter().zip(&mut outcomes) {
            for (write, outcome) in writes.iter().zip(batch_outcomes.iter_mut()) {
                if outcome.is_some() {
                    continue;
                }
                if let Some(refused) = self.refuse_by_condition(write, &logged_here) {
                    *outcome = Some(Err(refused));
                    continue;
                }
                seq += 1;
                if conditional && !write.auto_id {
                    let key = (write.target.name(), write.id.clone());
                    match write.op {
                        WalOp::Index => {
                            logged_here.insert(key, Some(seq));
                        }
                        WalOp::Delete => {
                            logged_here.insert(key, None);
                        }
                        // A `create` may yet fail on an existing id: its outcome is not known
                        // before it is applied.
                        WalOp::Create | WalOp::DeleteTarget => {}
                    }
                }
                let flags = if write.auto_id { FLAG_AUTO_ID } else { 0 };
                let target = write
                    .only_partition
                    .clone()
                    .unwrap_or_else(|| write.target.name());
                encode_record(
                    buffer,
                    seq,
                    write.op,
                    flags,
                    &target,
                    &write.id,
                    &write.source,
                );
            }
        }
        let logged = seq >= first_seq;
        if logged && let Err(error) = wal.append(buffer, first_seq) {
            let failure = self.log_append_failure(wal, &error);
            for ((writes, reply), batch_outcomes) in batches.into_iter().zip(outcomes) {
                let failures = writes
                    .iter()
                    .zip(batch_outcomes)
                    .map(|(write, refused)| {
                        refused.unwrap_or_else(|| {
                            Err(ItemFailure::Store(failure.for_index(&write.target.name())))
                        })
                    })
                    .collect();
                let _ = reply.send(failures);
            }
            return;
        }
        if logged {
            self.last_seq.store(seq, Ordering::SeqCst);
        }
        self.tailing
            .store(self.tail.receiver_count() > 0, Ordering::Relaxed);
        let mut seq = first_seq - 1;
        for ((writes, reply), batch_outcomes) in batches.into_iter().zip(outcomes) {
            let mut results = Vec::with_capacity(writes.len());
            for (write, refused) in writes.into_iter().zip(batch_outcomes) {
                if let Some(refused) = refused {
                    results.push(refused);
                    continue;
                }
                seq += 1;
                results.push(self.apply(write, seq, ApplyMode::Live));
            }
            if logged {
                self.applied_seq.store(seq, Ordering::SeqCst);
            }
            let _ = reply.send(results);
        }
        self.publish_tail();
    }

    /// A conditional write (`if_seq_no`) whose document is not the one it requires, as the
    /// writes before it leave it (`logged_here`: those of the batches being logged).
    fn refuse_by_condition(
        &self,
        write: &PreparedWrite,
        logged_here: &HashMap<(String, String), Option<u64>>,
    ) -> Option<ItemFailure> {
        let condition = write.condition?;
        let current = match logged_here.get(&(write.target.name(), write.id.clone())) {
            Some(current) => Ok(*current),
            None => self.current_seq(write),
        };
        let current = match current {
            Ok(current) => current,
            Err(error) => return Some(ItemFailure::Store(error)),
        };
        if current == Some(condition.if_seq_no) && condition.if_primary_term == PRIMARY_TERM {
            return None;
        }
        let index = write
            .partition
            .as_ref()
            .map(|partition| partition.meta().name.clone())
            .or_else(|| write.only_partition.clone())
            .unwrap_or_else(|| write.target.name());
        Some(ItemFailure::Conflict(VersionConflict {
            index,
            id: write.id.clone(),
            current_version: 0,
            required: Some((condition, current)),
        }))
    }

    /// The sequence number that wrote the live document `write` addresses, if there is one.
    fn current_seq(&self, write: &PreparedWrite) -> StoreResult<Option<u64>> {
        let key = self.document_key(&write.id);
        let partitions = match (&write.partition, write.op) {
            (Some(partition), WalOp::Index | WalOp::Create) => vec![partition.clone()],
            _ => write.target.partitions(),
        };
        for partition in partitions {
            if write
                .only_partition
                .as_ref()
                .is_some_and(|only| *only != partition.meta().name)
            {
                continue;
            }
            if let Some(written) = partition.lookup_version(&key)? {
                return Ok(Some(written.seq));
            }
        }
        Ok(None)
    }

    /// Whether `write` must be refused before it is logged; finds or creates its partition
    /// and keeps it in the write, so that applying it after the log cannot fail for want of
    /// one (nor, for a document without a timestamp, pick another day's).
    pub(super) fn refuse_before_logging(
        &self,
        write: &mut PreparedWrite,
        blocked: Option<&StoreError>,
    ) -> Option<Result<WriteOutcome, ItemFailure>> {
        // Deleting a whole index frees space: Elasticsearch's `read_only_allow_delete`.
        let frees_space = write.op == WalOp::DeleteTarget;
        match blocked {
            Some(StoreError::WritesBlocked { .. }) if frees_space => {}
            Some(error) => {
                let refused = error.for_index(&write.target.name());
                return Some(Err(ItemFailure::Store(refused)));
            }
            None => {}
        }
        if !matches!(write.op, WalOp::Index | WalOp::Create) {
            return None;
        }
        match write
            .target
            .partition_for(write.timestamp_millis, &self.partition_settings)
        {
            Ok(partition) => {
                write.partition = Some(partition);
                None
            }
            Err(error) => {
                let error = self.disk_full_as_block(error, &write.target.name());
                Some(Err(ItemFailure::Store(error)))
            }
        }
    }

    /// A write that failed for want of disk space is refused as the flood stage refuses
    /// writes, and the flood stage starts at once.
    pub(super) fn disk_full_as_block(&self, error: StoreError, index: &str) -> StoreError {
        if !error.is_disk_full() || matches!(error, StoreError::WritesBlocked { .. }) {
            return error;
        }
        self.disk.note_disk_full(&error.to_string());
        StoreError::WritesBlocked {
            index: index.to_owned(),
            reason: self
                .disk
                .block()
                .map(|block| block.reason)
                .unwrap_or_default(),
        }
    }

    /// What the writes of a batch whose log append failed are told: retry later (a full
    /// disk), or the log refuses writes until a restart.
    pub(super) fn log_append_failure(&self, wal: &Wal, error: &std::io::Error) -> StoreError {
        if let Some(reason) = wal.failure() {
            let reason = self.write_failure.get_or_init(|| reason.to_owned());
            return StoreError::LogFailed {
                reason: reason.clone(),
            };
        }
        let failure = StoreError::io(
            "appending to the write-ahead log",
            std::io::Error::new(error.kind(), error.to_string()),
        );
        if !is_disk_full(error) {
            error!(%error, "write-ahead log append failed; the batch is refused");
        }
        self.disk_full_as_block(failure, "")
    }

    /// Applies one logged write. During replay or a recovery, writes that a commit already
    /// covers, or that belonged to an earlier target of the same name, are skipped; a
    /// recovery applies only what belongs to its partition.
    pub(super) fn apply(
        &self,
        write: PreparedWrite,
        seq: u64,
        mode: ApplyMode<'_>,
    ) -> Result<WriteOutcome, ItemFailure> {
        let replaying = mode != ApplyMode::Live;
        let target = write.target;
        let target_meta_created = target.created_seq();
        let recovering = match mode {
            ApplyMode::Recover(partition) => Some(partition),
            _ => None,
        };
        let skipped_by_recovery =
            |partition: &Partition| recovering.is_some_and(|only| !std::ptr::eq(only, partition));
        if (replaying && seq <= target_meta_created)
            || (recovering.is_some() && write.op == WalOp::DeleteTarget)
        {
            return Ok(WriteOutcome {
                index: target.name(),
                id: write.id,
                version: 0,
                seq,
                result: WriteResult::NotFound,
            });
        }
        match write.op {
            WalOp::DeleteTarget => {
                self.remove_target(&target).map_err(ItemFailure::Store)?;
                Ok(WriteOutcome {
                    index: target.name(),
                    id: String::new(),
                    version: 0,
                    seq,
                    result: WriteResult::Deleted,
                })
            }
            WalOp::Delete => {
                let index = write
                    .only_partition
                    .clone()
                    .unwrap_or_else(|| target.name());
                let mut outcome = WriteOutcome {
                    index,
                    id: write.id.clone(),
                    version: 1,
                    seq,
                    result: WriteResult::NotFound,
                };
                for partition in target.partitions() {
                    if write
                        .only_partition
                        .as_ref()
                        .is_some_and(|only| *only != partition.meta().name)
                    {
                        continue;
                    }
                    if (replaying && seq <= partition.committed_seq())
                        || skipped_by_recovery(&partition)
                    {
                        continue;
                    }
                    let key = self.document_key(&write.id);
                    if let Some(written) =
                        partition.lookup_version(&key).map_err(ItemFailure::Store)?
                    {
                        partition.delete(&key, seq).map_err(ItemFailure::Store)?;
                        outcome = WriteOutcome {
                            index: partition.meta().name.clone(),
                            id: write.id.clone(),
                            version: written.version + 1,
                            seq,
                            result: WriteResult::Deleted,
                        };
                    }
                }
                Ok(outcome)
            }
            WalOp::Index | WalOp::Create => {
                let partition = match write.partition {
                    Some(partition) => partition,
                    None => target
                        .partition_for(write.timestamp_millis, &self.partition_settings)
                        .map_err(ItemFailure::Store)?,
                };
                let index = partition.meta().name.clone();
                if (replaying && seq <= partition.committed_seq())
                    || skipped_by_recovery(&partition)
                {
                    return Ok(WriteOutcome {
                        index,
                        id: write.id,
                        version: 0,
                        seq,
                        result: WriteResult::NotFound,
                    });
                }
                let Some(mut document) = write.document else {
                    return Err(ItemFailure::Store(StoreError::Closed));
                };
                let fields = &self.partition_settings.fields;
                if write.auto_id {
                    // `_version` (always 1) was added when the write was prepared.
                    document.add_u64(fields.seq, seq);
                    if mode == ApplyMode::Live {
                        self.tail_document(&target, &index, &document);
                    }
                    partition
                        .add(document, seq, None)
                        .map_err(ItemFailure::Store)?;
                    return Ok(WriteOutcome {
                        index,
                        id: self.ids.encode(seq),
                        version: 1,
                        seq,
                        result: WriteResult::Created,
                    });
                }
                let key = self.document_key(&write.id);
                let (version, result, replaces) =
                    match partition.lookup_version(&key).map_err(ItemFailure::Store)? {
                        Some(current) if write.op == WalOp::Create => {
                            return Err(ItemFailure::Conflict(VersionConflict {
                                index,
                                id: write.id,
                                current_version: current.version,
                                required: None,
                            }));
                        }
                        Some(current) => (current.version + 1, WriteResult::Updated, true),
                        None => (1, WriteResult::Created, false),
                    };
                document.add_u64(fields.version, version);
                // The write's sequence number is the document's `_seq_no`, which
                // `if_seq_no` compares.
                document.add_u64(fields.seq, seq);
                if mode == ApplyMode::Live {
                    self.tail_document(&target, &index, &document);
                }
                partition
                    .add(document, seq, Some((&key, version, replaces)))
                    .map_err(ItemFailure::Store)?;
                Ok(WriteOutcome {
                    index,
                    id: write.id,
                    version,
                    seq,
                    result,
                })
            }
        }
    }

    /// Keeps a copy of a document being indexed for the live tails, if any listens.
    pub(super) fn tail_document(
        &self,
        target: &Arc<Target>,
        index: &str,
        document: &TantivyDocument,
    ) {
        if !self.tailing.load(Ordering::Relaxed) {
            return;
        }
        self.tail_pending.lock_or_recover().push(TailEntry {
            target: target.clone(),
            index: index.to_owned(),
            document: document.clone(),
        });
    }

    /// Sends what [`Inner::tail_document`] kept to the tails, once its writes are answered.
    pub(super) fn publish_tail(&self) {
        let entries = std::mem::take(&mut *self.tail_pending.lock_or_recover());
        if !entries.is_empty() {
            let _ = self.tail.send(Arc::new(entries));
        }
    }

    /// How a partition finds the document `id`: by its `_id` term, and by its sequence number
    /// if this store could have generated it.
    pub(super) fn document_key<'a>(&self, id: &'a str) -> DocumentKey<'a> {
        DocumentKey {
            id,
            generated_seq: self.ids.decode(id),
        }
    }
}
