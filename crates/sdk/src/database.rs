//! Database operations: `log_database_operation` and its timing guard.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use logfleet_model::{DbAction, Level, LogCategory, fields};

use crate::context::{RequestContext, current_context};
use crate::handle::{Shared, current_shared};
use crate::record::{FieldValue, Key, Record, Val};

/// Times one database operation and logs it as a `database` event when it ends.
///
/// Start it before the query, then call [`finish`](Self::finish) with the rows affected or
/// [`fail`](Self::fail) with the error. The event carries `db_operation`, `db_entity`,
/// `db_action`, `duration_ms`, `rows_affected`, `slow_query` (over the configured threshold,
/// 1000 ms by default, at level `warning`), `db_error` on failure (level `error`), the extra
/// [`field`](Self::field)s, and the request context of where it started. Dropped without
/// either, it logs a warning with `db_error: "operation dropped before finish or fail"` so a
/// forgotten or `?`-skipped operation still shows up.
///
/// ```
/// use logfleet_model::DbAction;
/// use logfleet_sdk::DatabaseOperation;
///
/// # fn insert_user(_: &str) -> Result<u64, std::io::Error> { Ok(1) }
/// let username = "alice";
/// let operation = DatabaseOperation::start("USER_CREATE", "USER", DbAction::Create)
///     .field("username", username);
/// match insert_user(username) {
///     Ok(rows) => operation.finish(rows),
///     Err(error) => operation.fail(&error),
/// }
/// ```
#[derive(Debug)]
#[must_use = "call finish or fail when the operation ends"]
pub struct DatabaseOperation {
    operation: Cow<'static, str>,
    entity: Cow<'static, str>,
    action: DbAction,
    started: Instant,
    duration: Option<Duration>,
    fields: Vec<(Key, FieldValue)>,
    shared: Option<Arc<Shared>>,
    context: Option<Arc<RequestContext>>,
    done: bool,
}

/// Starts timing a database operation; the seed's `log_database_operation`. Same as
/// [`DatabaseOperation::start`]; for an operation timed elsewhere, set
/// [`duration`](DatabaseOperation::duration) and finish at once:
///
/// ```
/// use logfleet_model::DbAction;
/// use std::time::Duration;
///
/// logfleet_sdk::log_database_operation("USER_CREATE", "USER", DbAction::Create)
///     .field("username", "alice")
///     .duration(Duration::from_millis(12))
///     .finish(1);
/// ```
pub fn log_database_operation(
    operation: impl Into<Cow<'static, str>>,
    entity: impl Into<Cow<'static, str>>,
    action: DbAction,
) -> DatabaseOperation {
    DatabaseOperation::start(operation, entity, action)
}

impl DatabaseOperation {
    /// Starts timing `operation` (e.g. `USER_CREATE`) on `entity` (e.g. `USER`).
    pub fn start(
        operation: impl Into<Cow<'static, str>>,
        entity: impl Into<Cow<'static, str>>,
        action: DbAction,
    ) -> Self {
        let shared = current_shared();
        // The context is captured now, so finishing in another task keeps the request's ids.
        let context = shared.as_ref().and_then(|_| current_context());
        Self {
            operation: operation.into(),
            entity: entity.into(),
            action,
            started: Instant::now(),
            duration: None,
            fields: Vec::new(),
            shared,
            context,
            done: false,
        }
    }

    /// Adds a context field, e.g. `("username", name)`; sensitive ones are redacted.
    pub fn field(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<FieldValue>,
    ) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// Uses this duration instead of the time since [`start`](Self::start).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// How long the operation has been running.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Logs the operation as done, with the rows it affected.
    pub fn finish(mut self, rows_affected: u64) {
        self.emit(Some(rows_affected), None, false);
    }

    /// Logs the operation as failed, with the error in `db_error`.
    pub fn fail(mut self, error: &dyn fmt::Display) {
        let message = error.to_string();
        self.emit(None, Some(&message), false);
    }

    fn emit(&mut self, rows_affected: Option<u64>, db_error: Option<&str>, abandoned: bool) {
        self.done = true;
        let Some(shared) = self.shared.take() else {
            return;
        };
        let duration = self.duration.unwrap_or_else(|| self.started.elapsed());
        let duration_ms = duration.as_secs_f64() * 1000.0;
        let slow = duration_ms > shared.settings.slow_query_threshold_ms;
        let level = match (db_error, slow) {
            _ if abandoned => Level::Warning,
            (Some(_), _) => Level::Error,
            (None, true) => Level::Warning,
            (None, false) => Level::Info,
        };
        if !shared.enabled(level) {
            return;
        }
        let message = match db_error {
            Some(_) => format!("database {} on {} failed", self.operation, self.entity),
            None if slow => format!("slow database {} on {}", self.operation, self.entity),
            None => format!("database {} on {}", self.operation, self.entity),
        };
        let mut record = Record::with_message(
            LogCategory::Database,
            level,
            &message,
            7 + self.fields.len(),
        );
        record
            .str(fields::DB_OPERATION, &self.operation)
            .str(fields::DB_ENTITY, &self.entity)
            .str(fields::DB_ACTION, self.action.as_str())
            .val(fields::DURATION_MS, Val::F64(duration_ms));
        if let Some(rows) = rows_affected {
            record.val(fields::ROWS_AFFECTED, Val::U64(rows));
        }
        record.val(fields::SLOW_QUERY, Val::Bool(slow));
        if let Some(error) = db_error {
            record.str(fields::DB_ERROR, error);
        }
        for (key, value) in self.fields.drain(..) {
            record.field_value(key, value);
        }
        record.context = self.context.take();
        shared.enqueue(record);
    }
}

impl Drop for DatabaseOperation {
    fn drop(&mut self) {
        if !self.done {
            self.emit(None, Some("operation dropped before finish or fail"), true);
        }
    }
}
