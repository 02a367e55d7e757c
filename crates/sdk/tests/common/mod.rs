//! Shared by the integration tests: an SDK whose output is captured in memory.

#![allow(dead_code)]

use std::time::Duration;

use logfleet_model::{Event, fields};
use logfleet_sdk::{Builder, Guard, MemoryWriter};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

/// An SDK writing to memory, installed as this thread's default subscriber.
pub struct Capture {
    pub output: MemoryWriter,
    pub guard: Guard,
    _default: tracing::subscriber::DefaultGuard,
}

/// The test identity every captured event must carry.
pub const APP_NAME: &str = "test_service";

pub fn builder(output: &MemoryWriter) -> Builder {
    logfleet_sdk::builder()
        .app_name(APP_NAME)
        .service_type("data_manager")
        .environment("test")
        .service_version("9.9.9")
        .host("test-host")
        .writer(output.clone())
        .performance_interval(None)
}

pub fn capture() -> Capture {
    capture_with(|builder| builder)
}

pub fn capture_with(configure: impl FnOnce(Builder) -> Builder) -> Capture {
    let output = MemoryWriter::new();
    let (layer, guard) = configure(builder(&output)).layer::<Registry>().unwrap();
    let default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    Capture {
        output,
        guard,
        _default: default,
    }
}

impl Capture {
    /// Every event so far, after a flush that must succeed.
    pub fn events(&self) -> Vec<Event> {
        assert!(self.guard.flush(Duration::from_secs(10)), "flush failed");
        let events = self.output.events();
        for event in &events {
            assert_common_fields(event);
        }
        events
    }

    /// [`events`](Self::events) for async tests, whose servers run on the test's thread.
    pub async fn events_async(&self) -> Vec<Event> {
        assert!(
            self.guard.flush_async(Duration::from_secs(10)).await,
            "flush failed"
        );
        let events = self.output.events();
        for event in &events {
            assert_common_fields(event);
        }
        events
    }
}

/// Every event carries the schema's common fields.
pub fn assert_common_fields(event: &Event) {
    assert!(event.timestamp().is_some(), "@timestamp in {event:?}");
    assert!(
        event.get_str(fields::LOG_CATEGORY).is_some(),
        "log_category in {event:?}"
    );
    assert!(event.level().is_some(), "level in {event:?}");
    assert!(event.message().is_some(), "message in {event:?}");
    assert_eq!(event.get_str(fields::APP_NAME), Some(APP_NAME));
    assert_eq!(event.get_str(fields::SERVICE_TYPE), Some("data_manager"));
    assert_eq!(event.get_str(fields::ENVIRONMENT), Some("test"));
    assert_eq!(event.get_str(fields::HOST), Some("test-host"));
    assert_eq!(event.get_str(fields::SERVICE_VERSION), Some("9.9.9"));
}

/// The one event with this message.
pub fn only<'a>(events: &'a [Event], message: &str) -> &'a Event {
    let matching: Vec<&Event> = events
        .iter()
        .filter(|event| event.message() == Some(message))
        .collect();
    assert_eq!(matching.len(), 1, "one event {message:?} in {events:#?}");
    matching[0]
}

/// The events of a category.
pub fn of_category(events: &[Event], category: logfleet_model::LogCategory) -> Vec<&Event> {
    events
        .iter()
        .filter(|event| event.log_category() == Some(category))
        .collect()
}
