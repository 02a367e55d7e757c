//! [`LogfleetLayer`]: the `tracing_subscriber::Layer` that turns `tracing` events into
//! records, and the filter that decides which events it sees.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use logfleet_model::{Level, LogCategory};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber, span};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::{self, Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use crate::context::{REQUEST_SPAN_TARGET, RequestContext, UserFieldVisitor};
use crate::error::error_chain;
use crate::handle::Shared;
use crate::record::{Category, Record, Val};

/// The SDK's `tracing` layer: every event it is enabled for becomes one Logfleet event.
///
/// Obtained from [`Builder::layer`](crate::Builder::layer) (already wrapped in the SDK's
/// level filter) or installed for you by [`Builder::init`](crate::Builder::init). It
/// captures the event's fields and its request context on the calling thread and hands
/// them to the background thread; it never blocks, allocates little, and never panics.
///
/// Field handling: `message` is the event's message; `log_category = "..."` sets the
/// category (an explicit value always wins; otherwise `api_request` inside a request span
/// and the configured default outside); `level = "critical"` raises the level (tracing has
/// no critical level); every other field is kept under its own name, and the `tracing`
/// target is written as `target`.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let output = logfleet_sdk::MemoryWriter::new();
/// let (layer, guard) = logfleet_sdk::builder()
///     .writer(output.clone())
///     .layer::<tracing_subscriber::Registry>()
///     .unwrap();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(log_category = "database", rows = 3, "cleanup done");
///     tracing::error!(level = "critical", "disk full");
/// });
/// guard.flush(std::time::Duration::from_secs(5));
/// let events = output.events();
/// assert_eq!(events[0].get_str("log_category"), Some("database"));
/// assert_eq!(events[1].get_str("level"), Some("critical"));
/// ```
#[derive(Clone)]
pub struct LogfleetLayer {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for LogfleetLayer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("LogfleetLayer")
            .field("app_name", &self.shared.settings.identity.app_name)
            .finish_non_exhaustive()
    }
}

impl<S> tracing_subscriber::Layer<S> for LogfleetLayer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        if span.metadata().target() != REQUEST_SPAN_TARGET {
            return;
        }
        let Some(context) = span.extensions().get::<Arc<RequestContext>>().cloned() else {
            return;
        };
        values.record(&mut UserFieldVisitor(&context));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if ON_BACKGROUND_THREAD.with(Cell::get) {
            return;
        }
        let metadata = event.metadata();
        let mut record = self
            .shared
            .record(level_of(metadata), metadata.fields().len());
        record.target = Some(metadata.target());
        event.record(&mut RecordVisitor {
            record: &mut record,
        });
        if let Some(scope) = ctx.event_scope(event) {
            record.context = scope
                .into_iter()
                .find_map(|span| span.extensions().get::<Arc<RequestContext>>().cloned());
        }
        self.shared.enqueue(record);
    }
}

thread_local! {
    /// Set on the SDK's background thread, whose own events must not be queued again.
    static ON_BACKGROUND_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as the SDK's background thread.
pub(crate) fn mark_background_thread() {
    ON_BACKGROUND_THREAD.with(|flag| flag.set(true));
}

fn level_of(metadata: &Metadata<'_>) -> Level {
    match *metadata.level() {
        tracing::Level::ERROR => Level::Error,
        tracing::Level::WARN => Level::Warning,
        tracing::Level::INFO => Level::Info,
        // The schema has no trace level; both are diagnostic detail.
        _ => Level::Debug,
    }
}

/// Copies an event's fields into a record.
struct RecordVisitor<'a> {
    record: &'a mut Record,
}

impl RecordVisitor<'_> {
    /// Handles the field names with a meaning of their own; `true` when consumed.
    fn special_str(&mut self, field: &Field, value: &str) -> bool {
        match field.name() {
            "message" => {
                self.record.message = Some(self.record.push_text(value));
                true
            }
            "log_category" => {
                self.record.category = Some(match value.parse::<LogCategory>() {
                    Ok(category) => Category::Known(category),
                    Err(_) => Category::Other(self.record.push_text(value)),
                });
                true
            }
            "level" => match value.parse::<Level>() {
                Ok(level) => {
                    self.record.level = level;
                    true
                }
                Err(_) => false,
            },
            _ => false,
        }
    }
}

impl Visit for RecordVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.special_str(field, value) {
            self.record.str(field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                self.record.message = Some(self.record.push_debug(value));
            }
            "log_category" | "level" => {
                let text = format!("{value:?}");
                if !self.special_str(field, &text) {
                    self.record.str(field.name(), &text);
                }
            }
            name => {
                let range = self.record.push_debug(value);
                self.record.val(name, Val::Text(range));
            }
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record.val(field.name(), Val::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record.val(field.name(), Val::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(small) => self.record_i64(field, small),
            // JSON numbers beyond 64 bits lose precision in most readers; keep the digits.
            Err(_) => {
                self.record.display(field.name(), &value);
            }
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match u64::try_from(value) {
            Ok(small) => self.record_u64(field, small),
            Err(_) => {
                self.record.display(field.name(), &value);
            }
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.record.val(field.name(), Val::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record.val(field.name(), Val::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The chain of causes is what makes an error message useful in a log.
        self.record.str(field.name(), &error_chain(value));
    }
}

/// How the SDK filters what its layer sees: a level, or `EnvFilter` directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LevelSpec {
    Level(LevelFilter),
    Directives(String),
}

impl LevelSpec {
    /// Parses `LOGFLEET_LEVEL`: a level name (`debug`, `info`, `warning`/`warn`, `error`,
    /// `critical`, also `trace` and `off`) or `EnvFilter` directives such as
    /// `info,sqlx=warn`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("trace") {
            return Ok(Self::Level(LevelFilter::TRACE));
        }
        if trimmed.eq_ignore_ascii_case("off") {
            return Ok(Self::Level(LevelFilter::OFF));
        }
        if let Ok(level) = trimmed.parse::<Level>() {
            return Ok(Self::Level(match level {
                Level::Debug => LevelFilter::DEBUG,
                Level::Info => LevelFilter::INFO,
                Level::Warning => LevelFilter::WARN,
                // tracing has no critical level; `level = "critical"` events are errors to it.
                Level::Error | Level::Critical => LevelFilter::ERROR,
            }));
        }
        // A bare word would parse as a target directive, turning a misspelt level into a
        // filter that drops nearly everything; directives must look like directives.
        let looks_like_directives = trimmed.contains('=') || trimmed.contains(',');
        if !looks_like_directives {
            return Err("expected debug, info, warning, error, critical or filter directives such as `info,hyper=warn`".to_owned());
        }
        EnvFilter::builder()
            .parse(trimmed)
            .map(|_| Self::Directives(trimmed.to_owned()))
            .map_err(|error| format!("invalid filter directives ({error})"))
    }

    /// The most verbose level anything may pass, which the helpers (which bypass `tracing`)
    /// compare their events with.
    pub(crate) fn max_level(&self) -> LevelFilter {
        match self {
            Self::Level(level) => *level,
            Self::Directives(directives) => EnvFilter::builder()
                .parse(directives)
                .ok()
                .and_then(|filter| Filter::<tracing_subscriber::Registry>::max_level_hint(&filter))
                .unwrap_or(LevelFilter::TRACE),
        }
    }

    /// The per-layer filter for the SDK's layer: the spec, or the request span, which is
    /// always let through so the request context exists whatever the level.
    pub(crate) fn filter<S>(&self) -> Box<dyn Filter<S> + Send + Sync + 'static>
    where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        match self {
            Self::Level(level) => Box::new(LevelOrRequestSpan { level: *level }),
            Self::Directives(directives) => {
                // Parsed once already in `parse`; an error here cannot happen, but falling
                // back to the default keeps set-up infallible.
                let env_filter = EnvFilter::builder()
                    .parse(directives)
                    .unwrap_or_else(|_| EnvFilter::new("info"));
                env_filter.or(filter_fn(is_request_span)).boxed()
            }
        }
    }
}

fn is_request_span(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && metadata.target() == REQUEST_SPAN_TARGET
}

/// A level filter that also lets the request span through.
#[derive(Debug, Clone, Copy)]
struct LevelOrRequestSpan {
    level: LevelFilter,
}

impl LevelOrRequestSpan {
    fn allows(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.level || is_request_span(metadata)
    }
}

impl<S> Filter<S> for LevelOrRequestSpan {
    fn enabled(&self, metadata: &Metadata<'_>, _: &layer::Context<'_, S>) -> bool {
        self.allows(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Static per callsite: disabled callsites are then skipped by tracing's interest
        // cache, which is what makes a disabled level cost next to nothing.
        if self.allows(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // The request span is INFO; the hint must not let tracing skip it.
        Some(self.level.max(LevelFilter::INFO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_from_the_background_thread_are_ignored() {
        let output = crate::MemoryWriter::new();
        let (layer, guard) = crate::builder()
            .writer(output.clone())
            .performance_interval(None)
            .layer::<tracing_subscriber::Registry>()
            .unwrap();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        std::thread::scope(|scope| {
            scope.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    mark_background_thread();
                    tracing::info!("ignored");
                });
            });
        });
        tracing::dispatcher::with_default(&dispatch, || tracing::info!("kept"));
        assert!(guard.flush(std::time::Duration::from_secs(5)));
        let messages: Vec<String> = output
            .events()
            .iter()
            .filter_map(|event| event.message().map(str::to_owned))
            .collect();
        assert_eq!(messages, ["kept"]);
    }

    #[test]
    fn level_spec_parses_levels_and_directives() {
        assert_eq!(
            LevelSpec::parse("warning"),
            Ok(LevelSpec::Level(LevelFilter::WARN))
        );
        assert_eq!(
            LevelSpec::parse("WARN"),
            Ok(LevelSpec::Level(LevelFilter::WARN))
        );
        assert_eq!(
            LevelSpec::parse("critical"),
            Ok(LevelSpec::Level(LevelFilter::ERROR))
        );
        assert_eq!(
            LevelSpec::parse("trace"),
            Ok(LevelSpec::Level(LevelFilter::TRACE))
        );
        let directives = LevelSpec::parse("info,hyper=warn").unwrap();
        assert_eq!(
            directives,
            LevelSpec::Directives("info,hyper=warn".to_owned())
        );
        assert_eq!(directives.max_level(), LevelFilter::INFO);
        assert!(LevelSpec::parse("loud").is_err());
        assert!(LevelSpec::parse("info,=[").is_err());
    }
}
