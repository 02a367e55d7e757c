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
pub mod rule;
pub mod silence;
pub mod state;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use logfleet_ingest::{Event, Ingest};
use logfleet_query::{SearchContext, SearchRequest, SearchUrlParameters};
use logfleet_store::Store;
use serde_json::{Value, json};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use notify::{Notice, Sender};
use rule::Rule;
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
    /// The rule's search failed.
    #[error("evaluating alert rule [{rule}]: {reason}")]
    Evaluation {
        /// The rule.
        rule: String,
        /// Why.
        reason: String,
    },
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
    alerts: Mutex<BTreeMap<String, Alert>>,
    /// When each rule is next evaluated, epoch milliseconds.
    due: Mutex<BTreeMap<String, i64>>,
    /// One evaluation pass at a time.
    evaluating: tokio::sync::Mutex<()>,
    sender: Sender,
}

impl Alerts {
    /// The engine over `store`, with the rules and states it holds.
    pub fn open(store: Store, ingest: Ingest) -> Result<Alerts, AlertError> {
        Alerts::with_retry_delay(store, ingest, notify::FIRST_RETRY)
    }

    /// An engine with no rules and no alerts, for a data directory whose rules cannot be
    /// read (the server still starts; the warning says why).
    pub fn empty(store: Store, ingest: Ingest) -> Alerts {
        Alerts::assemble(
            store,
            ingest,
            BTreeMap::new(),
            BTreeMap::new(),
            notify::FIRST_RETRY,
        )
    }

    fn assemble(
        store: Store,
        ingest: Ingest,
        rules: BTreeMap<String, Rule>,
        alerts: BTreeMap<String, Alert>,
        first_retry: Duration,
    ) -> Alerts {
        Alerts {
            inner: Arc::new(Inner {
                store,
                ingest,
                rules: RwLock::new(rules),
                alerts: Mutex::new(alerts),
                due: Mutex::new(BTreeMap::new()),
                evaluating: tokio::sync::Mutex::new(()),
                sender: Sender::new(first_retry),
            }),
        }
    }

    /// As [`Alerts::open`], retrying deliveries after `first_retry` (tests use a short one).
    pub fn with_retry_delay(
        store: Store,
        ingest: Ingest,
        first_retry: Duration,
    ) -> Result<Alerts, AlertError> {
        let mut rules = BTreeMap::new();
        for (id, body) in store.objects(RULES_KIND)? {
            match Rule::parse(&id, &body) {
                Ok(rule) => {
                    rules.insert(id, rule);
                }
                Err(error) => warn!(%error, "ignoring a stored alert rule"),
            }
        }
        let alerts: BTreeMap<String, Alert> = store
            .object(STATE_KIND, "alerts")?
            .and_then(|saved| serde_json::from_value(saved).ok())
            .unwrap_or_default();
        Ok(Alerts::assemble(store, ingest, rules, alerts, first_retry))
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
                json!({"installed_at": logfleet_store::format_epoch_millis(logfleet_store::now_millis())}),
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

    /// Deletes a rule and forgets its alerts; whether it existed.
    pub fn delete_rule(&self, id: &str) -> Result<bool, AlertError> {
        let existed = write(&self.inner.rules).remove(id).is_some();
        if !existed {
            return Ok(false);
        }
        self.inner.store.delete_object(RULES_KIND, id)?;
        let mut alerts = lock(&self.inner.alerts);
        alerts.retain(|_, alert| alert.rule != id);
        self.inner.persist(&alerts);
        Ok(true)
    }

    /// The alerts that are pending or firing.
    pub fn active(&self) -> Vec<Alert> {
        lock(&self.inner.alerts)
            .values()
            .filter(|alert| alert.phase != Phase::Inactive)
            .cloned()
            .collect()
    }

    /// Evaluates every enabled rule whose time has come at `now_ms`; how many were.
    pub async fn evaluate_due(&self, now_ms: i64) -> usize {
        let _one_pass = self.inner.evaluating.lock().await;
        let rules = self.rules();
        let mut evaluated = 0;
        for (id, rule) in rules {
            if !rule.enabled {
                continue;
            }
            let Ok(timing) = rule.timing() else {
                continue;
            };
            let due = lock(&self.inner.due).get(&id).copied().unwrap_or(i64::MIN);
            if now_ms < due {
                continue;
            }
            lock(&self.inner.due).insert(id.clone(), now_ms + timing.every.as_millis() as i64);
            match self.evaluate_rule(&id, &rule, now_ms).await {
                Ok(_) => evaluated += 1,
                Err(error) => warn!(rule = %id, %error, "alert rule evaluation failed"),
            }
        }
        evaluated
    }

    /// Evaluates one rule at `now_ms`: its alerts' changes, recorded and notified.
    pub async fn evaluate(&self, id: &str, now_ms: i64) -> Result<Vec<Notice>, AlertError> {
        let rule = self
            .rule(id)
            .ok_or_else(|| AlertError::NoSuchRule(id.to_owned()))?;
        let _one_pass = self.inner.evaluating.lock().await;
        self.evaluate_rule(id, &rule, now_ms).await
    }

    async fn evaluate_rule(
        &self,
        id: &str,
        rule: &Rule,
        now_ms: i64,
    ) -> Result<Vec<Notice>, AlertError> {
        let failed = |reason: String| AlertError::Evaluation {
            rule: id.to_owned(),
            reason,
        };
        let timing = rule.timing().map_err(failed)?;
        let body = evaluate::request_body(rule, &timing, now_ms);
        let request = SearchRequest::parse(Some(&body), &SearchUrlParameters::default())
            .map_err(|error| failed(error.to_string()))?;
        let shards = self.inner.store.search_shards(&rule.index, true).await?;
        let store = self.inner.store.clone();
        let response = tokio::task::spawn_blocking(move || {
            let context = SearchContext {
                fields: store.fields(),
                now_millis: now_ms,
                request_cache: None,
            };
            logfleet_query::search(&shards, &request, &context)
        })
        .await
        .map_err(|_| failed("the search was interrupted".into()))?
        .map_err(|error| failed(error.to_string()))?;
        let results = evaluate::interpret(rule, &response);
        let notices = {
            let mut alerts = lock(&self.inner.alerts);
            let mut notices = Vec::new();
            let mut seen = Vec::with_capacity(results.len());
            for result in results {
                let key = Alert::key(id, &result.group);
                let alert = alerts
                    .entry(key.clone())
                    .or_insert_with(|| Alert::new(id, result.group.clone()));
                if let Some(transition) = alert.step(
                    result.holds,
                    result.value,
                    now_ms,
                    timing.hold,
                    timing.repeat,
                ) {
                    notices.push(self.notice(id, rule, alert, transition, now_ms));
                }
                seen.push(key);
            }
            // Groups with no events in the window any more: their condition no longer holds.
            for (key, alert) in alerts.iter_mut() {
                if alert.rule == id
                    && alert.phase != Phase::Inactive
                    && !seen.contains(key)
                    && let Some(transition) =
                        alert.step(false, None, now_ms, timing.hold, timing.repeat)
                {
                    notices.push(self.notice(id, rule, alert, transition, now_ms));
                }
            }
            alerts.retain(|_, alert| alert.phase != Phase::Inactive);
            if !notices.is_empty() {
                self.inner.persist(&alerts);
            }
            notices
        };
        if !notices.is_empty() {
            let silences = self.silences().unwrap_or_default();
            let silenced: Vec<bool> = notices
                .iter()
                .map(|notice| {
                    let labels = notice.labels();
                    silences
                        .values()
                        .any(|silence| silence.active(now_ms) && silence.matches(&labels))
                })
                .collect();
            self.record(&notices, &silenced).await;
            for (notice, silenced) in notices.iter().zip(&silenced) {
                if notice.transition.notifies() && !silenced {
                    self.notify(notice);
                }
            }
        }
        Ok(notices)
    }

    fn notice(
        &self,
        id: &str,
        rule: &Rule,
        alert: &Alert,
        transition: Transition,
        now_ms: i64,
    ) -> Notice {
        Notice {
            rule_id: id.to_owned(),
            rule: rule.clone(),
            alert: alert.clone(),
            transition,
            at_ms: now_ms,
        }
    }

    /// Writes each change to the history stream.
    async fn record(&self, notices: &[Notice], silenced: &[bool]) {
        let events = notices
            .iter()
            .zip(silenced)
            .map(|(notice, silenced)| history_event(notice, *silenced))
            .collect();
        let outcome = self.inner.ingest.write_events(events).await;
        if outcome.rejected > 0 || outcome.retry > 0 {
            warn!(
                reason = outcome.first_error.as_deref().unwrap_or_default(),
                "alert history events were not all stored"
            );
        }
    }

    /// Sends a notice to each of its rule's channels, each on a task of its own.
    fn notify(&self, notice: &Notice) {
        for channel in &notice.rule.notify {
            let (inner, notice, channel) = (self.inner.clone(), notice.clone(), channel.clone());
            tokio::spawn(async move {
                let payload = notice.payload(&channel);
                let mut attempts = Vec::new();
                let delivered = inner
                    .sender
                    .deliver(channel.url(), &payload, |attempt| attempts.push(attempt))
                    .await;
                if !delivered {
                    warn!(rule = %notice.rule_id, url = channel.url(), "an alert notification could not be delivered");
                }
                let events = attempts
                    .iter()
                    .map(|attempt| delivery_event(&notice, &channel, attempt))
                    .collect();
                inner.ingest.write_events(events).await;
            });
        }
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
    fn persist(&self, alerts: &BTreeMap<String, Alert>) {
        let saved = serde_json::to_value(alerts).unwrap_or(Value::Null);
        if let Err(error) = self.store.put_object(STATE_KIND, "alerts", saved) {
            warn!(%error, "saving alert states failed");
        }
    }
}

/// The history event of one change.
fn history_event(notice: &Notice, silenced: bool) -> Event {
    let level = match (notice.transition, notice.rule.severity.as_str()) {
        (Transition::Firing | Transition::Repeat, "critical") => "critical",
        (Transition::Firing | Transition::Repeat, "warning") => "warning",
        _ => "info",
    };
    let condition = &notice.rule.condition;
    let document = json!({
        "@timestamp": logfleet_store::format_epoch_millis(notice.at_ms),
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
            "repeat": notice.transition == Transition::Repeat,
        },
    });
    history(&document)
}

/// The history event of one delivery attempt.
fn delivery_event(notice: &Notice, channel: &rule::Channel, attempt: &notify::Attempt) -> Event {
    let kind = match channel {
        rule::Channel::Webhook { .. } => "webhook",
        rule::Channel::Slack { .. } => "slack",
        rule::Channel::Alertmanager { .. } => "alertmanager",
    };
    let document = json!({
        "@timestamp": logfleet_store::format_epoch_millis(logfleet_store::now_millis()),
        "message": format!(
            "{} {} to {kind} {} (attempt {})",
            if attempt.delivered() { "delivered" } else { "failed to deliver" },
            notice.headline(),
            channel.url(),
            attempt.number
        ),
        "level": if attempt.delivered() { "info" } else { "warning" },
        "alert": {
            "rule": notice.rule_id,
            "name": notice.rule.name,
            "state": notice.status(),
            "group": notice.alert.group,
            "delivery": {
                "channel": kind,
                "url": channel.url(),
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
