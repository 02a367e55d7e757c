//! The request context: request id, W3C trace context, endpoint and user, carried by a
//! `tracing` span.
//!
//! A request's context lives in the extensions of its `tracing` span (target
//! [`REQUEST_SPAN_TARGET`]), so it follows the request wherever the span goes: across
//! `.await` points (the tower layer polls the handler inside the span) and into spawned tasks
//! instrumented with `Span::current()`. Events find it by walking their span scope; helpers
//! and the reqwest middleware find it from the current span through the
//! `tracing_subscriber::Registry`, which is why the SDK's layer must sit on a registry.
//!
//! The context is shared (`Arc`) so every event of the request points at the same ids
//! without copying them; the user is behind a mutex because the handler learns it part-way
//! through the request (`set_user`) and the background thread reads it when it writes events.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::Span;
use tracing::field::{Field, Visit};
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

/// The `tracing` target of the span the SDK opens per request.
///
/// The SDK's own filter always enables it, whatever `LOGFLEET_LEVEL` says, so events inside
/// a request keep their context; add `logfleet_sdk::request=info` to your own filters for the
/// same reason.
pub const REQUEST_SPAN_TARGET: &str = "logfleet_sdk::request";

/// The header that carries the request id between services.
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";
/// The W3C Trace Context header.
pub(crate) const TRACEPARENT_HEADER: &str = "traceparent";

/// Who the request is for, as set by the handler.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserInfo {
    pub(crate) id: Option<Arc<str>>,
    pub(crate) name: Option<Arc<str>>,
}

/// What a proxy handler learned from the upstream it forwarded to, for the proxy's own
/// `api_request` event.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    pub(crate) target_service: Arc<str>,
    pub(crate) status_code: Option<u16>,
    pub(crate) duration_ms: f64,
    pub(crate) error_type: Option<&'static str>,
}

/// The context of one request.
#[derive(Debug)]
pub(crate) struct RequestContext {
    pub(crate) request_id: Arc<str>,
    pub(crate) trace_id: Arc<str>,
    pub(crate) span_id: Arc<str>,
    /// The caller's span, from an incoming `traceparent`.
    pub(crate) parent_span_id: Option<Arc<str>>,
    /// W3C trace flags, passed on unchanged (sampled by default).
    pub(crate) trace_flags: u8,
    pub(crate) endpoint_signature: Option<Arc<str>>,
    pub(crate) client_ip: Option<IpAddr>,
    user: Mutex<UserInfo>,
    upstream: Mutex<Option<Upstream>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data is plain values; a panic elsewhere while holding the lock cannot leave it
    // half-written in a way that matters for logging, so poisoning is ignored.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RequestContext {
    pub(crate) fn user(&self) -> UserInfo {
        lock(&self.user).clone()
    }

    pub(crate) fn set_user_id(&self, id: Arc<str>) {
        lock(&self.user).id = Some(id);
    }

    pub(crate) fn set_user_name(&self, name: Arc<str>) {
        lock(&self.user).name = Some(name);
    }

    pub(crate) fn upstream(&self) -> Option<Upstream> {
        lock(&self.upstream).clone()
    }

    pub(crate) fn set_upstream(&self, upstream: Upstream) {
        *lock(&self.upstream) = Some(upstream);
    }
}

/// Opens the span of one unit of work — an HTTP request, a queue message, a job — and
/// attaches a request context to it, so every event inside carries `request_id`,
/// `trace_id`, `span_id` and `endpoint_signature`.
///
/// The tower layer does this for HTTP; use it directly for other entry points.
///
/// ```
/// use logfleet_sdk::RequestSpan;
///
/// let span = RequestSpan::new()
///     .request_id("job-42")
///     .traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
///     .endpoint_signature("JOB send_welcome_email")
///     .start();
/// span.in_scope(|| tracing::info!("sending"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct RequestSpan {
    request_id: Option<String>,
    traceparent: Option<String>,
    endpoint_signature: Option<String>,
    client_ip: Option<IpAddr>,
}

impl RequestSpan {
    /// A span with a new request id and a new trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this request id (e.g. from an incoming message) instead of a new one.
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Continues the trace of a W3C `traceparent` value; an invalid value starts a new trace.
    pub fn traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }

    /// Sets the `endpoint_signature` carried by events inside the span.
    pub fn endpoint_signature(mut self, signature: impl Into<String>) -> Self {
        self.endpoint_signature = Some(signature.into());
        self
    }

    /// Sets the client address that audit helpers inside the span default to.
    pub fn client_ip(mut self, client_ip: IpAddr) -> Self {
        self.client_ip = Some(client_ip);
        self
    }

    /// Opens the span; enter it (`in_scope`, `enter`, or `Instrument::instrument`) around
    /// the work.
    pub fn start(self) -> Span {
        let parent = self.traceparent.as_deref().and_then(parse_traceparent);
        let request_id = self
            .request_id
            .as_deref()
            .and_then(valid_request_id)
            .map_or_else(new_request_id, Arc::from);
        open_request_span(
            request_id,
            parent,
            self.endpoint_signature.map(Arc::from),
            self.client_ip,
        )
        .0
    }
}

/// Opens a request span and attaches a new context to it; returns both, because the tower
/// layer needs the context for its own event even when no subscriber records the span.
pub(crate) fn open_request_span(
    request_id: Arc<str>,
    parent: Option<TraceParent>,
    endpoint_signature: Option<Arc<str>>,
    client_ip: Option<IpAddr>,
) -> (Span, Arc<RequestContext>) {
    let (trace_id, parent_span_id, trace_flags) = match parent {
        Some(parent) => (parent.trace_id, Some(parent.parent_id), parent.flags),
        None => (new_trace_id(), None, SAMPLED),
    };
    let context = Arc::new(RequestContext {
        request_id,
        trace_id,
        span_id: new_span_id(),
        parent_span_id,
        trace_flags,
        endpoint_signature,
        client_ip,
        user: Mutex::new(UserInfo::default()),
        upstream: Mutex::new(None),
    });
    let endpoint = context.endpoint_signature.as_deref().unwrap_or_default();
    let span = tracing::info_span!(
        target: REQUEST_SPAN_TARGET,
        "request",
        request_id = %context.request_id,
        trace_id = %context.trace_id,
        span_id = %context.span_id,
        endpoint = endpoint,
        user_id = tracing::field::Empty,
        user_name = tracing::field::Empty,
    );
    span.with_subscriber(|(id, dispatch)| {
        if let Some(span) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(id))
        {
            span.extensions_mut().insert(Arc::clone(&context));
        }
    });
    (span, context)
}

/// The context of the request the current span belongs to, if any.
pub(crate) fn current_context() -> Option<Arc<RequestContext>> {
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let current = tracing::Subscriber::current_span(registry);
        let span = registry.span(current.id()?)?;
        span.scope()
            .find_map(|span| span.extensions().get::<Arc<RequestContext>>().cloned())
    })
}

/// The client address of the request being handled: the peer, or the address a trusted
/// proxy reported in `X-Forwarded-For`, exactly as the request's events record it. `None`
/// outside a request.
///
/// A service uses it for decisions about the client, such as limiting failed logins per
/// address, without parsing forwarding headers again.
///
/// ```
/// assert_eq!(logfleet_sdk::client_ip(), None, "outside a request");
/// ```
pub fn client_ip() -> Option<IpAddr> {
    current_context().and_then(|context| context.client_ip)
}

/// Sets the user of the current request: `user_id` and `user_name` on the request's
/// `api_request` event and on every event after this call inside the request.
///
/// The values are recorded into the request span, so other layers (a `fmt` layer, say) see
/// them too. Returns `false` when called outside a request.
///
/// ```
/// use logfleet_sdk::{RequestSpan, set_user};
///
/// RequestSpan::new().start().in_scope(|| {
///     set_user(42, "alice");
///     tracing::info!("profile loaded"); // carries user_id "42" and user_name "alice"
/// });
/// ```
pub fn set_user(user_id: impl fmt::Display, user_name: impl fmt::Display) -> bool {
    let user_id = user_id.to_string();
    let user_name = user_name.to_string();
    tracing::dispatcher::get_default(|dispatch| {
        let Some(registry) = dispatch.downcast_ref::<Registry>() else {
            return false;
        };
        let current = tracing::Subscriber::current_span(registry);
        let Some(span) = current.id().and_then(|id| registry.span(id)) else {
            return false;
        };
        let Some(request_span) = span
            .scope()
            .find(|span| span.extensions().get::<Arc<RequestContext>>().is_some())
        else {
            return false;
        };
        let fields = request_span.metadata().fields();
        let (Some(id_field), Some(name_field)) =
            (fields.field("user_id"), fields.field("user_name"))
        else {
            return false;
        };
        let values = [
            (&id_field, Some(&user_id as &dyn tracing::Value)),
            (&name_field, Some(&user_name as &dyn tracing::Value)),
        ];
        let value_set = fields.value_set(&values);
        // Recording goes through the subscriber so every layer sees the user; the SDK's
        // own layer copies it into the request context in `on_record`.
        let request_span_id = request_span.id();
        drop(request_span);
        dispatch.record(&request_span_id, &tracing::span::Record::new(&value_set));
        true
    })
}

/// Copies `user_id`/`user_name` recorded on a request span into its context.
pub(crate) struct UserFieldVisitor<'a>(pub(crate) &'a RequestContext);

impl Visit for UserFieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "user_id" => self.0.set_user_id(Arc::from(value)),
            "user_name" => self.0.set_user_name(Arc::from(value)),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "user_id" => self.0.set_user_id(Arc::from(format!("{value:?}"))),
            "user_name" => self.0.set_user_name(Arc::from(format!("{value:?}"))),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_str(field, &value.to_string());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_str(field, &value.to_string());
    }
}

// Identifiers.

/// W3C trace flags with the `sampled` bit set.
pub(crate) const SAMPLED: u8 = 0x01;

/// The parts of a W3C `traceparent` header that a service continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceParent {
    pub(crate) trace_id: Arc<str>,
    pub(crate) parent_id: Arc<str>,
    pub(crate) flags: u8,
}

/// Parses `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`) as W3C Trace Context level 1 says:
/// lowercase hex, all-zero ids invalid, version `ff` invalid, and later versions accepted when
/// they begin with the same four fields.
pub(crate) fn parse_traceparent(header: &str) -> Option<TraceParent> {
    let header = header.trim();
    let mut parts = header.split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent_id = parts.next()?;
    let flags = parts.next()?;
    let has_more = parts.next().is_some();
    let is_hex = |text: &str, len: usize| {
        text.len() == len
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let all_zero = |text: &str| text.bytes().all(|b| b == b'0');
    let valid = is_hex(version, 2)
        && version != "ff"
        // Version 00 has exactly four fields; later versions may append more.
        && (version != "00" || !has_more)
        && is_hex(trace_id, 32)
        && !all_zero(trace_id)
        && is_hex(parent_id, 16)
        && !all_zero(parent_id)
        && is_hex(flags, 2);
    if !valid {
        return None;
    }
    Some(TraceParent {
        trace_id: Arc::from(trace_id),
        parent_id: Arc::from(parent_id),
        flags: u8::from_str_radix(flags, 16).ok()?,
    })
}

/// Formats a `traceparent` header value.
pub(crate) fn format_traceparent(trace_id: &str, span_id: &str, flags: u8) -> String {
    format!("00-{trace_id}-{span_id}-{flags:02x}")
}

/// An incoming request id is kept when it is a reasonable header token: visible ASCII, not
/// empty, at most 128 bytes (it is indexed and propagated, so it must stay small and safe).
pub(crate) fn valid_request_id(candidate: &str) -> Option<&str> {
    let candidate = candidate.trim();
    let acceptable = !candidate.is_empty()
        && candidate.len() <= 128
        && candidate.bytes().all(|b| b.is_ascii_graphic());
    acceptable.then_some(candidate)
}

/// A new request id: a random UUID (version 4) in its usual text form.
pub(crate) fn new_request_id() -> Arc<str> {
    let bits = fastrand::u128(..);
    // Set the version (4) and variant (10xx) bits as RFC 9562 requires.
    let bits = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    Arc::from(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// A new W3C trace id: 32 lowercase hex digits, never all zero.
pub(crate) fn new_trace_id() -> Arc<str> {
    let bits = fastrand::u128(1..);
    Arc::from(format!("{bits:032x}"))
}

/// A new W3C span id: 16 lowercase hex digits, never all zero.
pub(crate) fn new_span_id() -> Arc<str> {
    let bits = fastrand::u64(1..);
    Arc::from(format!("{bits:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_valid_traceparent() {
        let parsed =
            parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
        assert_eq!(&*parsed.trace_id, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(&*parsed.parent_id, "b7ad6b7169203331");
        assert_eq!(parsed.flags, 1);
        // A later version may carry more fields.
        assert!(
            parse_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra")
                .is_some()
        );
    }

    #[test]
    fn rejects_invalid_traceparents() {
        for header in [
            "",
            "garbage",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        ] {
            assert_eq!(parse_traceparent(header), None, "{header:?}");
        }
    }

    #[test]
    fn new_ids_have_the_w3c_and_uuid_shapes() {
        let trace_id = new_trace_id();
        let span_id = new_span_id();
        let header = format_traceparent(&trace_id, &span_id, SAMPLED);
        let parsed = parse_traceparent(&header).unwrap();
        assert_eq!(parsed.trace_id, trace_id);
        assert_eq!(parsed.parent_id, span_id);

        let request_id = new_request_id();
        assert_eq!(request_id.len(), 36);
        let groups: Vec<&str> = request_id.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(new_request_id(), request_id);
    }

    #[test]
    fn request_ids_from_clients_are_checked() {
        assert_eq!(valid_request_id(" abc-123 "), Some("abc-123"));
        assert_eq!(valid_request_id(""), None);
        assert_eq!(valid_request_id("with space"), None);
        assert_eq!(valid_request_id(&"x".repeat(129)), None);
        assert_eq!(valid_request_id("caf\u{e9}"), None);
    }
}
