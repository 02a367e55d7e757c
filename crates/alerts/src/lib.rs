//! Alerts: rules evaluated over the stored events on a schedule, with Alertmanager's states
//! (inactive → pending → firing → resolved), every change written as an event to
//! `logs-alerts-default`, and notifications (a webhook, Slack, Alertmanager's receivers)
//! with retries, each attempt recorded.
//!
//! Rules are kept in the data directory (objects of kind `alert_rules`) and can also come
//! from the configuration; alert states are persisted after every change, so that a
//! restart neither notifies a firing alert again nor forgets to resolve one.

pub mod evaluate;
pub mod notify;
pub mod preview;
pub mod rule;
pub mod silence;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use logfleet_ingest::{Event, Ingest};
use logfleet_query::{RequestCache, SearchContext, SearchRequest, SearchUrlParameters};
use logfleet_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use notify::{Notice, Notification, Sender};
use rule::{Rule, Timing};
use state::{Alert, Phase, Transition};

/// The objects kind rules are stored as.
pub const RULES_KIND: &str = "alert_rules";
/// The objects kind alert states are stored as.
const STATE_KIND: &str = "alert_state";
/// The objects kind recording which prebuilt rules a data directory has had, so that one a
/// user deletes stays deleted.
const INSTALLED_KIND: &str = "alert_rules_installed";
/// The prebuilt SLA rules for the seed's services.
pub const PREBUILT_RULES: &str = include_str!("builtin/sla-rules.json");
/// The objects kind silences are stored as.
const SILENCES_KIND: &str = "alert_silences";
/// The data stream of alert history.
pub const HISTORY_STREAM: &str = "logs-alerts-default";

/// Why an alert operation failed.
#[derive(Debug, Error)]
pub enum AlertError {
    /// A rule is not valid; the message names the problem.
    #[error("{0}")]
    InvalidRule(String),
    /// No rule has this id.
    #[error("alert rule [{0}] does not exist")]
    NoSuchRule(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] logfleet_store::StoreError),
    /// The server's alerting settings are wrong (`[alerts.smtp]`).
    #[error("{0}")]
    Config(String),
    /// The rule's search failed.
    #[error("evaluating alert rule [{rule}]: {reason}")]
    Evaluation {
        /// The rule.
        rule: String,
        /// Why.
        reason: String,
    },
}

/// How the engine is set up besides its store.
#[derive(Debug, Clone)]
pub struct Options {
    /// The wait before a failed delivery's second attempt (it doubles after).
    pub first_retry: Duration,
    /// How email is sent; email channels fail (recorded) without it.
    pub smtp: Option<notify::SmtpConfig>,
    /// The query engine's request cache, which evaluations and previews use.
    pub request_cache: Option<Arc<RequestCache>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            first_retry: notify::FIRST_RETRY,
            smtp: None,
            request_cache: None,
        }
    }
}

/// How a rule's last evaluation went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// When, epoch milliseconds.
    pub at_ms: i64,
    /// How long its search took.
    pub took_ms: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// When a rule's alerts were last notified, and since when news of them has waited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct GroupState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    waiting_since_ms: Option<i64>,
}

/// What alert states are persisted as.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    #[serde(default)]
    alerts: BTreeMap<String, Alert>,
    #[serde(default)]
    groups: BTreeMap<String, GroupState>,
}

/// The alerting engine.
#[derive(Debug, Clone)]
pub struct Alerts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    ingest: Ingest,
    rules: RwLock<BTreeMap<String, Rule>>,
    /// Alerts and notification groups, behind one lock and saved together.
    state: Mutex<Saved>,
    /// When each rule is next evaluated, epoch milliseconds.
    due: Mutex<BTreeMap<String, i64>>,
    /// How each rule's last evaluation went.
    last: Mutex<BTreeMap<String, Evaluation>>,
    /// One evaluation pass at a time.
    evaluating: tokio::sync::Mutex<()>,
    sender: Sender,
    request_cache: Option<Arc<RequestCache>>,
}

impl Alerts {
    /// The engine over `store`, with the rules and states it holds.
    pub fn open(store: Store, ingest: Ingest, options: Options) -> Result<Alerts, AlertError> {
        let sender =
            Sender::new(options.first_retry, options.smtp.as_ref()).map_err(AlertError::Config)?;
        let mut rules = BTreeMap::new();
        for (id, body) in store.objects(RULES_KIND)? {
            match Rule::parse(&id, &body) {
                Ok(rule) => {
                    rules.insert(id, rule);
                }
                Err(error) => warn!(%error, "ignoring a stored alert rule"),
            }
        }
        let saved = store
            .object(STATE_KIND, "alerts")?
            .and_then(|saved| serde_json::from_value(saved).ok())
            .unwrap_or_default();
        Ok(Alerts::assemble(
            store,
            ingest,
            rules,
            saved,
            sender,
            options.request_cache,
        ))
    }

    /// An engine with no rules and no alerts, for a data directory whose rules cannot be
    /// read (the server still starts; the warning says why).
    pub fn empty(store: Store, ingest: Ingest) -> Alerts {
        let sender = Sender::new(notify::FIRST_RETRY, None).unwrap_or_else(|_| unreachable!());
        Alerts::assemble(
            store,
            ingest,
            BTreeMap::new(),
            Saved::default(),
            sender,
            None,
        )
    }

    fn assemble(
        store: Store,
        ingest: Ingest,
        rules: BTreeMap<String, Rule>,
        saved: Saved,
        sender: Sender,
        request_cache: Option<Arc<RequestCache>>,
    ) -> Alerts {
        Alerts {
            inner: Arc::new(Inner {
                store,
                ingest,
                rules: RwLock::new(rules),
                state: Mutex::new(saved),
                due: Mutex::new(BTreeMap::new()),
                last: Mutex::new(BTreeMap::new()),
                evaluating: tokio::sync::Mutex::new(()),
                sender,
                request_cache,
            }),
        }
    }

    /// Stores a rule (`PUT /_logfleet/alerts/rules/{id}`); whether it is new. Its next
    /// evaluation is at once.
    pub fn put_rule(&self, id: &str, body: &Value) -> Result<bool, AlertError> {
        let rule = Rule::parse(id, body).map_err(AlertError::InvalidRule)?;
        let stored = serde_json::to_value(&rule).unwrap_or_else(|_| body.clone());
        let created = self.inner.store.put_object(RULES_KIND, id, stored)?;
        write(&self.inner.rules).insert(id.to_owned(), rule);
        lock(&self.inner.due).remove(id);
        Ok(created)
    }

    /// Stores the rules the configuration defines, replacing stored ones of the same ids.
    pub fn install_configured(&self, rules: &[Value]) -> Result<(), AlertError> {
        for body in rules {
            let mut body = body.clone();
            let id = take_id(&mut body).ok_or_else(|| {
                AlertError::InvalidRule(
                    "[[alerts.rules]] entries need an [id] (letters, digits, -, _, .)".into(),
                )
            })?;
            self.put_rule(&id, &body)?;
        }
        Ok(())
    }

    /// Installs the prebuilt SLA rules this data directory has never had (a deleted one stays
    /// deleted); how many it installed.
    pub fn install_prebuilt(&self) -> Result<usize, AlertError> {
        let rules: Vec<Value> = serde_json::from_str(PREBUILT_RULES)
            .map_err(|error| AlertError::InvalidRule(format!("prebuilt rules: {error}")))?;
        let mut installed = 0;
        for mut body in rules {
            let id = take_id(&mut body)
                .ok_or_else(|| AlertError::InvalidRule("a prebuilt rule has no id".into()))?;
            if self.inner.store.object(INSTALLED_KIND, &id)?.is_some() {
                continue;
            }
            self.put_rule(&id, &body)?;
            self.inner.store.put_object(
                INSTALLED_KIND,
                &id,
                json!({"installed_at": logfleet_time::format_epoch_millis(logfleet_store::now_millis())}),
            )?;
            installed += 1;
        }
        Ok(installed)
    }

    /// Stores a silence; its id.
    pub fn put_silence(
        &self,
        mut silence: silence::Silence,
        now_ms: i64,
    ) -> Result<String, AlertError> {
        if silence.starts_at_ms == 0 {
            silence.starts_at_ms = now_ms;
        }
        silence.validate().map_err(AlertError::InvalidRule)?;
        let id = logfleet_store::new_uuid();
        let body = serde_json::to_value(&silence).unwrap_or(Value::Null);
        self.inner.store.put_object(SILENCES_KIND, &id, body)?;
        Ok(id)
    }

    /// Every silence by id, expired ones included.
    pub fn silences(&self) -> Result<BTreeMap<String, silence::Silence>, AlertError> {
        Ok(self
            .inner
            .store
            .objects(SILENCES_KIND)?
            .into_iter()
            .filter_map(|(id, body)| Some((id, serde_json::from_value(body).ok()?)))
            .collect())
    }

    /// Removes a silence; whether it existed.
    pub fn delete_silence(&self, id: &str) -> Result<bool, AlertError> {
        Ok(self.inner.store.delete_object(SILENCES_KIND, id)?)
    }

    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<Rule> {
        read(&self.inner.rules).get(id).cloned()
    }

    /// Every rule, by id.
    pub fn rules(&self) -> BTreeMap<String, Rule> {
        read(&self.inner.rules).clone()
    }

    /// How a rule's last evaluation went, if it has had one since the server started.
    pub fn last_evaluation(&self, id: &str) -> Option<Evaluation> {
        lock(&self.inner.last).get(id).cloned()
    }

    /// Deletes a rule and forgets its alerts; whether it existed.
    pub fn delete_rule(&self, id: &str) -> Result<bool, AlertError> {
        let existed = write(&self.inner.rules).remove(id).is_some();
        if !existed {
            return Ok(false);
        }
        self.inner.store.delete_object(RULES_KIND, id)?;
        lock(&self.inner.last).remove(id);
        let mut state = lock(&self.inner.state);
        state.alerts.retain(|_, alert| alert.rule != id);
        state.groups.remove(id);
        self.inner.persist(&state);
        Ok(true)
    }

    /// The alerts that are pending or firing.
    pub fn active(&self) -> Vec<Alert> {
        lock(&self.inner.state)
            .alerts
            .values()
            .filter(|alert| alert.phase != Phase::Inactive)
            .cloned()
            .collect()
    }

    /// Evaluates every enabled rule whose time has come at `now_ms`, and sends the
    /// notifications whose time has come; how many rules were evaluated.
    pub async fn evaluate_due(&self, now_ms: i64) -> usize {
        let _one_pass = self.inner.evaluating.lock().await;
        let rules = self.rules();
        let mut evaluated = 0;
        for (id, rule) in &rules {
            if !rule.enabled {
                continue;
            }
            let Ok(timing) = rule.timing() else {
                continue;
            };
            let due = lock(&self.inner.due).get(id).copied().unwrap_or(i64::MIN);
            if now_ms < due {
                continue;
            }
            lock(&self.inner.due).insert(id.clone(), now_ms + timing.every.as_millis() as i64);
            match self.evaluate_rule(id, rule, &timing, now_ms).await {
                Ok(_) => evaluated += 1,
                Err(error) => warn!(rule = %id, %error, "alert rule evaluation failed"),
            }
        }
        let silences = self.silences().unwrap_or_default();
        for (id, rule) in &rules {
            if let Ok(timing) = rule.timing() {
                self.flush(id, rule, &timing, &silences, now_ms);
            }
        }
        evaluated
    }

    /// Evaluates one rule at `now_ms`, and sends its notification if its time has come: its
    /// alerts' changes.
    pub async fn evaluate(&self, id: &str, now_ms: i64) -> Result<Vec<Notice>, AlertError> {
        let rule = self
            .rule(id)
            .ok_or_else(|| AlertError::NoSuchRule(id.to_owned()))?;
        let timing = rule
            .timing()
            .map_err(|reason| AlertError::InvalidRule(format!("alert rule [{id}]: {reason}")))?;
        let _one_pass = self.inner.evaluating.lock().await;
        let notices = self.evaluate_rule(id, &rule, &timing, now_ms).await?;
        let silences = self.silences().unwrap_or_default();
        self.flush(id, &rule, &timing, &silences, now_ms);
        Ok(notices)
    }

    /// Runs a rule's search at each of `times`, over one view of its indexes: each
    /// evaluation's groups.
    async fn measure(
        &self,
        id: &str,
        rule: &Rule,
        timing: &Timing,
        times: Vec<i64>,
    ) -> Result<Vec<Vec<evaluate::GroupResult>>, AlertError> {
        let failed = |reason: String| AlertError::Evaluation {
            rule: id.to_owned(),
            reason,
        };
        let requests = times
            .iter()
            .map(|&at| {
                let body = evaluate::request_body(rule, timing, at);
                SearchRequest::parse(Some(&body), &SearchUrlParameters::default())
                    .map(|request| (at, request))
                    .map_err(|error| failed(error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let shards = self.inner.store.search_shards(&rule.index, true).await?;
        let (store, cache, rule) = (
            self.inner.store.clone(),
            self.inner.request_cache.clone(),
            rule.clone(),
        );
        tokio::task::spawn_blocking(move || {
            requests
                .iter()
                .map(|(at, request)| {
                    let context = SearchContext {
                        fields: store.fields(),
                        now_millis: *at,
                        request_cache: cache.as_deref(),
                    };
                    logfleet_query::search(&shards, request, &context)
                        .map(|response| evaluate::interpret(&rule, &response))
                        .map_err(|error| error.to_string())
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|_| failed("the search was interrupted".into()))?
        .map_err(failed)
    }

    async fn evaluate_rule(
        &self,
        id: &str,
        rule: &Rule,
        timing: &Timing,
        now_ms: i64,
    ) -> Result<Vec<Notice>, AlertError> {
        let started = std::time::Instant::now();
        let measured = self.measure(id, rule, timing, vec![now_ms]).await;
        lock(&self.inner.last).insert(
            id.to_owned(),
            Evaluation {
                at_ms: now_ms,
                took_ms: started.elapsed().as_millis() as u64,
                error: measured.as_ref().err().map(ToString::to_string),
            },
        );
        let results = measured?.pop().unwrap_or_default();
        let notices = {
            let mut state = lock(&self.inner.state);
            let alerts = &mut state.alerts;
            let mut notices = Vec::new();
            let mut seen = BTreeSet::new();
            for result in results {
                let key = Alert::key(id, &result.group);
                let alert = alerts
                    .entry(key.clone())
                    .or_insert_with(|| Alert::new(id, result.group.clone()));
                if let Some(transition) =
                    alert.step(result.holds, result.value, now_ms, timing.hold)
                {
                    notices.push(notice(id, rule, alert, transition, now_ms));
                }
                seen.insert(key);
            }
            for (key, alert) in alerts.iter_mut().filter(|(_, alert)| alert.rule == id) {
                // Groups with no events in the window any more: their condition no longer
                // holds.
                if alert.phase != Phase::Inactive
                    && !seen.contains(key)
                    && let Some(transition) = alert.step(false, None, now_ms, timing.hold)
                {
                    notices.push(notice(id, rule, alert, transition, now_ms));
                }
                if let Some(transition) =
                    alert.observe_flapping(now_ms, timing.flap_window, rule.flapping.changes)
                {
                    notices.push(notice(id, rule, alert, transition, now_ms));
                }
            }
            alerts.retain(|_, alert| alert.worth_keeping());
            if !notices.is_empty() {
                self.inner.persist(&state);
            }
            notices
        };
        if !notices.is_empty() {
            let silences = self.silences().unwrap_or_default();
            let events = notices
                .iter()
                .map(|notice| history_event(notice, silenced(&silences, &notice.labels(), now_ms)))
                .collect();
            self.inner.write_history(events).await;
        }
        Ok(notices)
    }

    /// Sends a rule's notification when there is news for receivers and its time has come:
    /// `group_wait` after the first news, and no sooner than `group_interval` after the
    /// last notification. Silenced alerts wait for their silence to end.
    fn flush(
        &self,
        id: &str,
        rule: &Rule,
        timing: &Timing,
        silences: &BTreeMap<String, silence::Silence>,
        now_ms: i64,
    ) {
        let notification = {
            let mut state = lock(&self.inner.state);
            let Saved { alerts, groups } = &mut *state;
            let news: Vec<(String, state::Tell)> = alerts
                .iter()
                .filter(|(_, alert)| alert.rule == id)
                .filter(|(_, alert)| !silenced(silences, &notify::labels(id, rule, alert), now_ms))
                .filter_map(|(key, alert)| Some((key.clone(), alert.news(now_ms, timing.repeat)?)))
                .collect();
            let group = groups.entry(id.to_owned()).or_default();
            if news.is_empty() {
                if group.waiting_since_ms.take().is_some() {
                    self.inner.persist(&state);
                }
                return;
            }
            // A rule's first news waits `group_wait` for more to join it; while receivers
            // believe some of its alerts fire, news waits `group_interval` after the last.
            let waiting_since = *group.waiting_since_ms.get_or_insert(now_ms);
            let due = match group.sent_ms {
                Some(sent) => sent + timing.group_interval.as_millis() as i64,
                None => waiting_since + timing.group_wait.as_millis() as i64,
            };
            if now_ms < due {
                return;
            }
            let mut told = Vec::with_capacity(news.len());
            for (key, tell) in news {
                if let Some(alert) = alerts.get_mut(&key) {
                    alert.told(tell, now_ms);
                    told.push((alert.clone(), tell));
                }
            }
            let alive = alerts
                .values()
                .any(|alert| alert.rule == id && alert.told_firing);
            *group = GroupState {
                sent_ms: alive.then_some(now_ms),
                waiting_since_ms: None,
            };
            alerts.retain(|_, alert| alert.worth_keeping());
            self.inner.persist(&state);
            Notification {
                rule_id: id.to_owned(),
                rule: rule.clone(),
                alerts: told,
                at_ms: now_ms,
            }
        };
        self.send(notification);
    }

    /// Sends a notification to each of its rule's channels, each on a task of its own.
    fn send(&self, notification: Notification) {
        let notification = Arc::new(notification);
        for channel in &notification.rule.notify {
            let (inner, notification, channel) =
                (self.inner.clone(), notification.clone(), channel.clone());
            tokio::spawn(async move {
                let payload = notification.payload(&channel);
                let mut attempts = Vec::new();
                let delivered = inner
                    .sender
                    .deliver(&payload, |attempt| attempts.push(attempt))
                    .await;
                if !delivered {
                    warn!(
                        rule = %notification.rule_id,
                        channel = channel.kind(),
                        target = %channel.target(),
                        "an alert notification could not be delivered"
                    );
                }
                let events = attempts
                    .iter()
                    .map(|attempt| delivery_event(&notification, &channel, attempt))
                    .collect();
                inner.write_history(events).await;
            });
        }
    }

    /// What a rule would have done over `[from_ms, to_ms]`: its measure at evenly spaced
    /// evaluations (its `every`, or more apart so that there are at most
    /// [`preview::MAX_EVALUATIONS`]), and when it would have fired, computed from the stored
    /// events.
    pub async fn preview(
        &self,
        id: &str,
        rule: &Rule,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<preview::Preview, AlertError> {
        let timing = rule
            .timing()
            .map_err(|reason| AlertError::InvalidRule(format!("alert rule [{id}]: {reason}")))?;
        let step = preview::step(&timing, to_ms - from_ms);
        let times = preview::times(from_ms, to_ms, step);
        let measured = self.measure(id, rule, &timing, times.clone()).await?;
        Ok(preview::replay(rule, &timing, step, &times, measured))
    }

    /// Evaluates due rules every second until `shutdown` says stop.
    pub fn spawn(&self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let alerts = self.clone();
        tokio::spawn(async move {
            info!(rules = alerts.rules().len(), "alerting started");
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
                alerts.evaluate_due(logfleet_store::now_millis()).await;
            }
        })
    }
}

impl Inner {
    fn persist(&self, saved: &Saved) {
        let saved = serde_json::to_value(saved).unwrap_or(Value::Null);
        if let Err(error) = self.store.put_object(STATE_KIND, "alerts", saved) {
            warn!(%error, "saving alert states failed");
        }
    }

    async fn write_history(&self, events: Vec<Event>) {
        let outcome = self.ingest.write_events(events).await;
        if outcome.rejected > 0 || outcome.retry > 0 {
            warn!(
                reason = outcome.first_error.as_deref().unwrap_or_default(),
                "alert history events were not all stored"
            );
        }
    }
}

fn notice(id: &str, rule: &Rule, alert: &Alert, transition: Transition, now_ms: i64) -> Notice {
    Notice {
        rule_id: id.to_owned(),
        rule: rule.clone(),
        alert: alert.clone(),
        transition,
        at_ms: now_ms,
    }
}

/// Whether a silence in force at `now_ms` matches `labels`.
fn silenced(
    silences: &BTreeMap<String, silence::Silence>,
    labels: &BTreeMap<String, String>,
    now_ms: i64,
) -> bool {
    silences
        .values()
        .any(|silence| silence.active(now_ms) && silence.matches(labels))
}

/// The history event of one change.
fn history_event(notice: &Notice, silenced: bool) -> Event {
    let level = match (notice.transition, notice.rule.severity.as_str()) {
        (Transition::Firing, "critical") => "critical",
        (Transition::Firing | Transition::Flapping, "critical" | "warning") => "warning",
        _ => "info",
    };
    let condition = &notice.rule.condition;
    let document = json!({
        "@timestamp": logfleet_time::format_epoch_millis(notice.at_ms),
        "message": notice.headline(),
        "level": level,
        "alert": {
            "rule": notice.rule_id,
            "name": notice.rule.name,
            "state": notice.status(),
            "severity": notice.rule.severity,
            "group": notice.alert.group,
            "value": notice.alert.value,
            "metric": rule::metric_name(condition.metric),
            "op": condition.op.as_str(),
            "threshold": condition.threshold,
            "window": notice.rule.window,
            "labels": notice.rule.labels,
            "annotations": notice.annotations(),
            "silenced": silenced,
            "flapping": notice.alert.flapping,
        },
    });
    history(&document)
}

/// The history event of one delivery attempt.
fn delivery_event(
    notification: &Notification,
    channel: &rule::Channel,
    attempt: &notify::Attempt,
) -> Event {
    let target = channel.target();
    let kind = channel.kind();
    let groups: Vec<&BTreeMap<String, Value>> = notification
        .alerts
        .iter()
        .map(|(alert, _)| &alert.group)
        .collect();
    let document = json!({
        "@timestamp": logfleet_time::format_epoch_millis(logfleet_store::now_millis()),
        "message": format!(
            "{} {} to {kind} {target} (attempt {})",
            if attempt.delivered() { "delivered" } else { "failed to deliver" },
            notification.headline(),
            attempt.number
        ),
        "level": if attempt.delivered() { "info" } else { "warning" },
        "alert": {
            "rule": notification.rule_id,
            "name": notification.rule.name,
            "state": notification.status(),
            "groups": groups,
            "delivery": {
                "channel": kind,
                "target": target,
                "alerts": notification.alerts.len(),
                "attempt": attempt.number,
                "status": attempt.status,
                "error": attempt.error,
                "delivered": attempt.delivered(),
            },
        },
    });
    history(&document)
}

/// Removes a rule body's `id` member and returns it, when it is a string.
fn take_id(body: &mut Value) -> Option<String> {
    match body.as_object_mut()?.remove("id")? {
        Value::String(id) => Some(id),
        _ => None,
    }
}

/// An event of the history stream.
fn history(document: &Value) -> Event {
    Event {
        index: HISTORY_STREAM.to_owned(),
        source: Bytes::from(serde_json::to_vec(document).unwrap_or_default()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
