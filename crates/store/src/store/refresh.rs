//! Refresh: committing partitions, trimming the log behind the commits, closing idle
//! writers, the background tasks that do it on schedule, and shutdown.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::{Inner, Store, WriterMessage, WriterMessageBox};
use crate::error::{StoreError, StoreResult};
use crate::partition::Partition;
use crate::sync::MutexExt;
use crate::target::now_millis;
use crate::wal::Wal;

/// Writers close after this long without writes, returning their memory.
pub(super) const IDLE_WRITER_TIMEOUT: Duration = Duration::from_secs(30);
/// A search-idle partition is committed all the same once it holds this many uncommitted
/// writes (about as much log as Elasticsearch's 512 MB translog flush threshold at the size
/// of a typical event)…
pub(super) const IDLE_COMMIT_WRITES: u64 = 500_000;
/// …or has held uncommitted writes this long.
pub(super) const IDLE_COMMIT_AGE: Duration = Duration::from_secs(300);

/// The periodic refresh asks the writer thread to recover broken partitions at most this
/// often: each attempt reads the log back, and on a disk that is still full it would only
/// break them again.
pub(super) const RECOVERY_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Whether a refresh may pass over search-idle partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefreshKind {
    /// `_refresh`, `?refresh=true`, shutdown: every partition.
    Forced,
    /// The periodic refresh.
    Scheduled,
}

/// What a refresh achieved.
#[derive(Debug)]
pub(super) struct Refreshed {
    /// Every write up to this sequence number is in a durable commit.
    pub(super) covered: u64,
    /// The first commit that failed.
    pub(super) failure: Option<StoreError>,
}

impl Store {
    /// Makes everything written so far searchable, for all targets. Partitions whose
    /// writer failed are recovered from the log first, if the disk has room again.
    pub async fn refresh(&self) -> StoreResult<()> {
        if self.inner.has_broken_partitions() && !self.inner.disk.check() {
            let (reply, recovered) = oneshot::channel();
            let message = WriterMessage::Recover { reply: Some(reply) };
            if self.sender.send(WriterMessageBox(message)).await.is_ok() {
                let _ = recovered.await;
            }
        }
        self.run_refresh(RefreshKind::Forced).await
    }

    /// The periodic refresh: like [`Store::refresh`], but passing over search-idle
    /// partitions (see [`StoreConfig::search_idle_after`]).
    pub(super) async fn scheduled_refresh(&self) -> StoreResult<()> {
        self.run_refresh(RefreshKind::Scheduled).await
    }

    pub(super) async fn run_refresh(&self, kind: RefreshKind) -> StoreResult<()> {
        let inner = self.inner.clone();
        let refreshed = tokio::task::spawn_blocking(move || inner.refresh_all(kind))
            .await
            .map_err(|_| StoreError::Closed)?;
        // Everything up to `covered` is now in tantivy commits: the log behind it can go. A
        // full queue only delays trimming to the next refresh.
        let _ = self
            .sender
            .try_send(WriterMessageBox(WriterMessage::Checkpoint {
                seq: refreshed.covered,
            }));
        refreshed.failure.map_or(Ok(()), Err)
    }

    /// Asks the writer thread to recover broken partitions, if there are any, the disk has
    /// room, and the last attempt is long enough ago.
    pub(super) fn request_recovery(&self) {
        if !self.inner.has_broken_partitions() || self.inner.disk.check() {
            return;
        }
        let mut last = self.inner.last_recovery_request.lock_or_recover();
        if last.is_some_and(|last| last.elapsed() < RECOVERY_RETRY_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        let message = WriterMessage::Recover { reply: None };
        let _ = self.sender.try_send(WriterMessageBox(message));
    }

    /// Why each partition whose writer failed cannot index, while it waits for recovery.
    pub fn broken_partitions(&self) -> Vec<StoreError> {
        self.inner
            .all_partitions()
            .iter()
            .filter_map(|partition| partition.broken())
            .collect()
    }

    /// Waits until the write with sequence number `seq` is searchable.
    pub async fn wait_until_searchable(&self, seq: u64) {
        let mut receiver = self.inner.searchable_seq.subscribe();
        let _ = receiver.wait_for(|searchable| *searchable >= seq).await;
    }

    /// Runs refresh and retention until the store shuts down.
    pub fn spawn_background_tasks(&self) {
        if let Some(interval) = self.inner.config.refresh_interval {
            let store = self.clone();
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    if store.sender.is_closed() {
                        break;
                    }
                    store.request_recovery();
                    if let Err(error) = store.scheduled_refresh().await {
                        error!(%error, "periodic refresh failed");
                    }
                    let inner = store.inner.clone();
                    let _ = tokio::task::spawn_blocking(move || inner.close_idle_writers()).await;
                }
            });
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(store.inner.config.retention_check_interval);
            loop {
                ticker.tick().await;
                if store.sender.is_closed() {
                    break;
                }
                let inner = store.inner.clone();
                match tokio::task::spawn_blocking(move || inner.enforce_retention(now_millis()))
                    .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => error!(%error, "retention failed"),
                    Err(_) => break,
                }
                if let Err(error) = store.run_index_lifecycles(now_millis()).await {
                    error!(%error, "index lifecycle failed");
                }
            }
        });
    }

    /// Commits everything, trims the log and stops the writer thread. Writes that cannot
    /// be committed (a full disk) stay in the log for the next start.
    pub async fn shutdown(&self) -> StoreResult<()> {
        if let Err(error) = self.refresh().await {
            warn!(%error, "the last commit before stopping failed; the write-ahead log keeps what it misses");
        }
        let (reply, done) = oneshot::channel();
        if self
            .sender
            .send(WriterMessageBox(WriterMessage::Shutdown { reply }))
            .await
            .is_ok()
        {
            let _ = done.await;
        }
        let handle = self.writer_thread.lock_or_recover().take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        // A merge cut short would leave its half-written segment on disk until the next
        // commit; let running merges finish instead.
        let inner = self.inner.clone();
        let closed = tokio::task::spawn_blocking(move || inner.close_writers())
            .await
            .map_err(|_| StoreError::Closed)?;
        // Nothing writes to the directory any more (the background tasks stop at their
        // next tick, seeing the writer gone): another store may open it now.
        self.inner.data_dir_lock.lock_or_recover().take();
        closed
    }
}

impl Inner {
    /// Commits dirty partitions — all of them, or for a scheduled refresh those that are not
    /// search idle — and returns the sequence number now covered by commits: every write up
    /// to it is in a commit, and searchable. Broken partitions are not committed, and hold
    /// the covered sequence number back to their last commit.
    pub(super) fn refresh_all(&self, kind: RefreshKind) -> Refreshed {
        let _guard = self.refresh_lock.lock_or_recover();
        let applied = self.applied_seq.load(Ordering::SeqCst);
        let partitions = self.all_partitions();
        let dirty: Vec<Arc<Partition>> = partitions
            .iter()
            .filter(|partition| partition.is_dirty() && !partition.is_broken())
            .cloned()
            .collect();
        // A `refresh=wait_for` request is waiting: refresh everything, as Elasticsearch does
        // not let a search-idle shard skip a refresh that a listener waits for.
        let waited_for = self.searchable_seq.receiver_count() > 0;
        let (mut due, mut passed_over): (Vec<_>, Vec<_>) =
            match (kind, self.config.search_idle_after) {
                (RefreshKind::Scheduled, Some(idle_after)) if !waited_for => {
                    dirty.into_iter().partition(|partition| {
                        !partition.is_search_idle(idle_after)
                            || partition.needs_commit_while_idle(
                                IDLE_WRITER_TIMEOUT,
                                IDLE_COMMIT_WRITES,
                                IDLE_COMMIT_AGE,
                            )
                    })
                }
                _ => (dirty, Vec::new()),
            };
        let mut buffered: Vec<u64> = passed_over
            .iter()
            .map(|partition| partition.uncommitted_writes())
            .collect();
        while buffered.iter().sum::<u64>() > self.config.idle_buffered_writes {
            let Some(fullest) = (0..buffered.len()).max_by_key(|&index| buffered[index]) else {
                break;
            };
            buffered.swap_remove(fullest);
            due.push(passed_over.swap_remove(fullest));
        }
        // The log is shared: a partition passed over keeps every record after its last
        // commit, whichever partition it belongs to. One that holds back too much of it is
        // committed, which bounds the log on disk and the replay after a crash.
        let (behind, kept): (Vec<_>, Vec<_>) = passed_over.into_iter().partition(|partition| {
            applied.saturating_sub(partition.committed_seq()) > self.config.idle_log_records
        });
        due.extend(behind);
        let passed_over = kept;
        let (committed, failure) = commit_all(&due);
        // A refresh that leaves writes unsearchable has failed, whichever round broke them.
        let failure =
            failure.or_else(|| partitions.iter().find_map(|partition| partition.broken()));
        if let Some(error) = &failure
            && error.is_disk_full()
        {
            self.disk.note_disk_full(&error.to_string());
        }
        self.note_device_failures(&partitions);
        // The log is still needed from the last commit of every partition holding writes
        // no commit contains: those passed over, those whose commit failed, those broken.
        let covered = partitions
            .iter()
            .filter(|partition| partition.is_dirty())
            .map(|partition| partition.committed_seq())
            .fold(applied, u64::min);
        self.searchable_seq.send_if_modified(|searchable| {
            let advanced = covered > *searchable;
            if advanced {
                *searchable = covered;
            }
            advanced
        });
        if committed > 0 || !passed_over.is_empty() {
            debug!(
                committed,
                search_idle = passed_over.len(),
                applied,
                covered,
                "refreshed"
            );
        }
        Refreshed { covered, failure }
    }

    /// Refuses writes until a restart once the device failed under a partition, as under the
    /// write-ahead log: the partition is not recovered in this process, and the log it needs
    /// would grow without end.
    fn note_device_failures(&self, partitions: &[Arc<Partition>]) {
        if self.write_failure.get().is_some() {
            return;
        }
        let Some((partition, failure)) = partitions.iter().find_map(|partition| {
            partition
                .device_failure()
                .map(|failure| (partition.meta().name.clone(), failure))
        }) else {
            return;
        };
        let reason = format!(
            "the partition [{partition}] could not be written to disk ({failure}); writes are \
             refused until Logfleet restarts and recovers every acknowledged write from the \
             write-ahead log (check the device: a failed write or fsync is not retried, since \
             the kernel may have dropped the unwritten pages)"
        );
        error!(reason, "writes are refused until a restart");
        let _ = self.write_failure.set(reason);
    }

    /// Records the last sequence number handed out, then trims the log through `covered`.
    /// The state goes first: a log trimmed past the last sequence number `state.json`
    /// knows would let the next start hand out numbers (and generated ids) again.
    pub(super) fn checkpoint(&self, wal: &mut Wal, covered: u64, last: u64) {
        if let Err(error) = self.persist_state(last) {
            warn!(%error, "persisting the store state failed; the write-ahead log is kept");
            if error.is_disk_full() {
                self.disk.note_disk_full(&error.to_string());
            }
            return;
        }
        if let Err(error) = wal.remove_through(covered, last) {
            error!(%error, "trimming the write-ahead log failed");
        }
    }

    /// Closes every partition writer, waiting for running merges.
    pub(super) fn close_writers(&self) -> StoreResult<()> {
        let started = Instant::now();
        let mut closed = 0;
        for partition in self.all_partitions() {
            if partition.close_writer()? {
                closed += 1;
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= Duration::from_secs(1) {
            info!(
                closed,
                elapsed_ms = elapsed.as_millis() as u64,
                "waited for running merges before stopping"
            );
        } else if closed > 0 {
            debug!(
                closed,
                elapsed_ms = elapsed.as_millis() as u64,
                "partition writers closed"
            );
        }
        Ok(())
    }

    /// Every partition of every target.
    pub(super) fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.read_targets()
            .values()
            .flat_map(|target| target.partitions())
            .collect()
    }

    pub(super) fn close_idle_writers(&self) {
        for partition in self.all_partitions() {
            if partition.idle_for() > IDLE_WRITER_TIMEOUT
                && let Err(error) = partition.close_writer_if_clean()
            {
                warn!(%error, index = %partition.meta().name, "closing an idle writer failed");
            }
        }
    }
}

/// Commits `partitions` together; returns how many had something to commit, and the first
/// failure. A partition whose commit fails is broken (see [`crate::partition`]); the others
/// are committed all the same.
///
/// Preparing a commit drains a partition's indexing thread and writes its segment while the
/// store's writer thread cannot add to that partition. The partitions are committed at the
/// same time, one thread each, so that the writer thread waits for the slowest of them rather
/// than for all of them in turn.
pub(super) fn commit_all(partitions: &[Arc<Partition>]) -> (usize, Option<StoreError>) {
    let results: Vec<StoreResult<bool>> = match partitions {
        [partition] => vec![partition.commit()],
        _ => std::thread::scope(|scope| {
            let handles: Vec<_> = partitions
                .iter()
                .map(|partition| scope.spawn(|| partition.commit()))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(StoreError::IllegalState("a commit panicked".to_owned()))
                    })
                })
                .collect()
        }),
    };
    let mut committed = 0;
    let mut first_error = None;
    for result in results {
        match result {
            Ok(true) => committed += 1,
            Ok(false) => {}
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    (committed, first_error)
}
