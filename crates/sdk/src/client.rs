//! The client side: [`InterServiceMiddleware`] for `reqwest_middleware`, and the seed's
//! [`log_external_request`] and [`log_proxy_request`] for plain `reqwest`.
//!
//! Every outgoing call is logged as an `inter_service` event and carries the current
//! request's `X-Request-ID` and a W3C `traceparent` (same trace id, a new span id for the
//! call), so the callee's events join the caller's trace. Outside a request, a new request id
//! and trace are started per call.

use std::borrow::Cow;
use std::error::Error as _;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Extensions, HeaderName, HeaderValue, Method};
use logfleet_model::{Level, LogCategory, ResponseCategory, fields};
use reqwest_middleware::{Middleware, Next};

use crate::context::{
    REQUEST_ID_HEADER, RequestContext, SAMPLED, TRACEPARENT_HEADER, Upstream, current_context,
    format_traceparent, new_request_id, new_span_id, new_trace_id,
};
use crate::error::error_chain;
use crate::handle::{Shared, current_shared};
use crate::record::{Record, Val};
use crate::ship::backoff;

/// Logs calls to other services and propagates the request context to them.
///
/// Each request sent through a `reqwest_middleware` client with this middleware becomes an
/// `inter_service` event with `target_service` (set here, per request with a
/// [`TargetService`] extension, or else the URL's host), `target_url` (without credentials
/// or query string), `http_method`, `duration_ms` (all attempts), `status_code`,
/// `response_category`, `retry_count`, and for failures `error_type` — `timeout`,
/// `connection_refused`, `connection_reset`, `dns`, `connect`, `body`, `decode`,
/// `redirect`, `request` — and `error_message`. Level `info`, `warning` for `4xx`, `error`
/// for `5xx` and network errors. `span_id` is the call's own span (the one sent in
/// `traceparent`) and `parent_span_id` the request's.
///
/// `retry_count` counts the retries this middleware made ([`max_retries`](Self::max_retries),
/// off by default: connection failures for any method, timeouts and `429`/`502`/`503`/`504`
/// for idempotent methods, with exponential backoff and jitter; retries need a tokio runtime
/// with its timer enabled) plus the value of a [`RetryCount`] extension that a retrying
/// middleware placed after this one may leave.
///
/// ```
/// use logfleet_sdk::InterServiceMiddleware;
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(InterServiceMiddleware::new().target_service("access_postgresql"))
///     .build();
/// ```
#[derive(Debug, Clone, Default)]
pub struct InterServiceMiddleware {
    target_service: Option<Arc<str>>,
    max_retries: u32,
}

impl InterServiceMiddleware {
    /// Logs and propagates; `target_service` is the URL's host unless set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `target_service` of every call made through this client.
    pub fn target_service(mut self, name: impl Into<String>) -> Self {
        self.target_service = Some(Arc::from(name.into()));
        self
    }

    /// Retries failed calls up to `retries` times (default 0).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }
}

/// Names the service a request goes to, overriding the middleware's default; put it in the
/// request's extensions (`.with_extension(TargetService::new("auth"))`).
///
/// [`TargetService::proxied`] also marks the call as the forwarding of the current request,
/// as [`log_proxy_request`] does.
///
/// ```no_run
/// # async fn example(client: reqwest_middleware::ClientWithMiddleware) -> reqwest_middleware::Result<()> {
/// use logfleet_sdk::TargetService;
///
/// client
///     .get("http://10.0.0.7:4000/api/sessions/")
///     .with_extension(TargetService::new("auth"))
///     .send()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetService {
    name: Cow<'static, str>,
    proxied: bool,
}

impl TargetService {
    /// A call to `name`.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            proxied: false,
        }
    }

    /// A call that forwards the current request to `name`.
    pub fn proxied(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            proxied: true,
        }
    }
}

/// Retries made by a middleware placed after [`InterServiceMiddleware`]: such a middleware
/// may set or increment it in the request's extensions, and it is added to `retry_count`.
///
/// ```
/// use http::Extensions;
/// use logfleet_sdk::RetryCount;
///
/// // In a retrying middleware, after each retry:
/// let mut extensions = Extensions::new();
/// extensions.get_or_insert_default::<RetryCount>().0 += 1;
/// assert_eq!(extensions.get::<RetryCount>(), Some(&RetryCount(1)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryCount(pub u32);

#[async_trait::async_trait]
impl Middleware for InterServiceMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let target = extensions.get::<TargetService>().cloned();
        let target_service = target
            .as_ref()
            .map(|target| Arc::<str>::from(target.name.as_ref()))
            .or_else(|| self.target_service.clone());
        let proxied = target.is_some_and(|target| target.proxied);
        let call = OutgoingCall::begin(&mut request, target_service, proxied);
        let mut retries = 0;
        loop {
            let spare = if retries < self.max_retries {
                request.try_clone()
            } else {
                None
            };
            let result = next.clone().run(request, extensions).await;
            let attempt_outcome = match &result {
                Ok(response) => CallOutcome::Status(response.status().as_u16()),
                Err(error) => CallOutcome::Failed(
                    classify_middleware_error(error),
                    match error {
                        reqwest_middleware::Error::Reqwest(error) => error_chain(error),
                        other => other.to_string(),
                    },
                ),
            };
            if let Some(spare) = spare
                && let Some(delay) = retry_delay(&call.method, &attempt_outcome, retries)
            {
                tokio::time::sleep(delay).await;
                request = spare;
                retries += 1;
                continue;
            }
            let inner_retries = extensions.get::<RetryCount>().map_or(0, |count| count.0);
            call.finish(&attempt_outcome, retries + inner_retries);
            return result;
        }
    }
}

/// Sends a request to another service and logs it as an `inter_service` event, propagating
/// the request context — the seed's `log_external_request`, for a plain `reqwest` client.
///
/// The request context is taken when this is called (not when the future is first polled).
///
/// ```no_run
/// # async fn example() -> Result<(), reqwest::Error> {
/// let client = reqwest::Client::new();
/// let response = logfleet_sdk::log_external_request(
///     "access_postgresql",
///     client.get("http://access_postgresql:4000/api/users/42/"),
/// )
/// .await?;
/// # Ok(())
/// # }
/// ```
pub fn log_external_request(
    target_service: &str,
    request: reqwest::RequestBuilder,
) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + 'static {
    send_logged(target_service, request, false)
}

/// Forwards the current request to an upstream service and logs it from the proxy's point of
/// view — the seed's `log_proxy_request`.
///
/// What a proxy service calls in its handler to pass a request on to the data manager. It
/// does what [`log_external_request`] does (an `inter_service` event, `X-Request-ID` and
/// `traceparent` propagated), and also records the upstream on the current request, so the
/// proxy's own `api_request` event carries `target_service`, `upstream_status_code`,
/// `upstream_duration_ms` and, when the call failed, `upstream_error_type`. A proxy's
/// dashboard then shows which upstream each endpoint depends on and how much of its latency
/// is the upstream's. The response is returned unchanged for the handler to relay (a
/// network error typically becomes a `502`).
///
/// ```no_run
/// use axum::{Json, http::StatusCode};
///
/// async fn signup(Json(body): Json<serde_json::Value>) -> Result<String, StatusCode> {
///     let client = reqwest::Client::new();
///     let request = client.post("http://access_postgresql:4000/api/signup/").body(body.to_string());
///     let response = logfleet_sdk::log_proxy_request("access_postgresql", request)
///         .await
///         .map_err(|_| StatusCode::BAD_GATEWAY)?;
///     response.text().await.map_err(|_| StatusCode::BAD_GATEWAY)
/// }
/// ```
pub fn log_proxy_request(
    target_service: &str,
    request: reqwest::RequestBuilder,
) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + 'static {
    send_logged(target_service, request, true)
}

fn send_logged(
    target_service: &str,
    request: reqwest::RequestBuilder,
    proxied: bool,
) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + 'static {
    // Prepared now rather than at the first poll, so the context is the caller's even if the
    // future is awaited elsewhere.
    let (client, request) = request.build_split();
    let target_service = Arc::from(target_service);
    let prepared = request.map(|mut request| {
        let call = OutgoingCall::begin(&mut request, Some(target_service), proxied);
        (request, call)
    });
    async move {
        let (request, call) = prepared?;
        let result = client.execute(request).await;
        let outcome = match &result {
            Ok(response) => CallOutcome::Status(response.status().as_u16()),
            Err(error) => CallOutcome::Failed(classify_reqwest_error(error), error_chain(error)),
        };
        call.finish(&outcome, 0);
        result
    }
}

/// How one attempt ended.
enum CallOutcome {
    Status(u16),
    Failed(&'static str, String),
}

/// Retries worth making: a connection that never opened (nothing was sent) for any method;
/// timeouts and overload answers for methods that may safely be repeated.
fn retry_delay(method: &Method, outcome: &CallOutcome, retries_so_far: u32) -> Option<Duration> {
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    let retryable = match outcome {
        CallOutcome::Failed(kind, _) => {
            matches!(*kind, "connection_refused" | "connect" | "dns")
                || (idempotent && matches!(*kind, "timeout" | "connection_reset"))
        }
        CallOutcome::Status(status) => idempotent && matches!(status, 429 | 502 | 503 | 504),
    };
    retryable.then(|| {
        backoff(
            Duration::from_millis(50),
            Duration::from_secs(2),
            retries_so_far + 1,
        )
    })
}

/// One outgoing call, from the headers it was given to its event.
struct OutgoingCall {
    shared: Option<Arc<Shared>>,
    context: Option<Arc<RequestContext>>,
    request_id: Arc<str>,
    trace_id: Arc<str>,
    span_id: Arc<str>,
    target_service: Arc<str>,
    target_url: String,
    method: Method,
    path: String,
    proxied: bool,
    started: Instant,
}

impl OutgoingCall {
    /// Adds `X-Request-ID` and `traceparent` (unless the caller set them) and starts timing.
    fn begin(
        request: &mut reqwest::Request,
        target_service: Option<Arc<str>>,
        proxied: bool,
    ) -> Self {
        let shared = current_shared();
        let context = current_context();
        let (request_id, trace_id, flags) = match &context {
            Some(context) => (
                Arc::clone(&context.request_id),
                Arc::clone(&context.trace_id),
                context.trace_flags,
            ),
            None => (new_request_id(), new_trace_id(), SAMPLED),
        };
        let span_id = new_span_id();
        let headers = request.headers_mut();
        if !headers.contains_key(REQUEST_ID_HEADER)
            && let Ok(value) = HeaderValue::from_str(&request_id)
        {
            headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
        if !headers.contains_key(TRACEPARENT_HEADER)
            && let Ok(value) =
                HeaderValue::from_str(&format_traceparent(&trace_id, &span_id, flags))
        {
            headers.insert(HeaderName::from_static(TRACEPARENT_HEADER), value);
        }
        let url = request.url();
        let target_service = target_service
            .or_else(|| url.host_str().map(Arc::from))
            .unwrap_or_else(|| Arc::from("unknown"));
        // Credentials and the query string stay out of the logs (and out of the keyword
        // field's cardinality).
        let mut target_url = url.clone();
        let _ = target_url.set_username("");
        let _ = target_url.set_password(None);
        target_url.set_query(None);
        target_url.set_fragment(None);
        Self {
            shared,
            context,
            request_id,
            trace_id,
            span_id,
            target_service,
            target_url: target_url.to_string(),
            method: request.method().clone(),
            path: url.path().to_owned(),
            proxied,
            started: Instant::now(),
        }
    }

    fn finish(self, outcome: &CallOutcome, retry_count: u32) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        if self.proxied
            && let Some(context) = &self.context
        {
            context.set_upstream(Upstream {
                target_service: Arc::clone(&self.target_service),
                status_code: match outcome {
                    CallOutcome::Status(status) => Some(*status),
                    CallOutcome::Failed(..) => None,
                },
                duration_ms,
                error_type: match outcome {
                    CallOutcome::Status(_) => None,
                    CallOutcome::Failed(kind, _) => Some(kind),
                },
            });
        }
        let Some(shared) = self.shared else {
            return;
        };
        let level = match outcome {
            CallOutcome::Failed(..) | CallOutcome::Status(500..) => Level::Error,
            CallOutcome::Status(400..=499) => Level::Warning,
            CallOutcome::Status(_) => Level::Info,
        };
        if !shared.enabled(level) {
            return;
        }
        let message = match outcome {
            CallOutcome::Status(status) => {
                format!(
                    "{} {} {} {status}",
                    self.method, self.target_service, self.path
                )
            }
            CallOutcome::Failed(kind, _) => format!(
                "{} {} {} failed: {kind}",
                self.method, self.target_service, self.path
            ),
        };
        let mut record = Record::with_message(LogCategory::InterService, level, &message, 14);
        record
            .val(fields::TARGET_SERVICE, Val::Shared(self.target_service))
            .str(fields::TARGET_URL, &self.target_url)
            .str(fields::HTTP_METHOD, self.method.as_str())
            .val(fields::DURATION_MS, Val::F64(duration_ms));
        match outcome {
            CallOutcome::Status(status) => {
                record
                    .val(fields::STATUS_CODE, Val::U64(u64::from(*status)))
                    .str(
                        fields::RESPONSE_CATEGORY,
                        ResponseCategory::from_status(*status).as_str(),
                    );
                if *status >= 400 {
                    let reason = http::StatusCode::from_u16(*status)
                        .ok()
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("error");
                    record
                        .str(fields::ERROR_TYPE, &format!("http_{status}"))
                        .str(fields::ERROR_MESSAGE, reason);
                }
            }
            CallOutcome::Failed(kind, message) => {
                record
                    .str(fields::ERROR_TYPE, kind)
                    .str(fields::ERROR_MESSAGE, message);
            }
        }
        record
            .val(fields::RETRY_COUNT, Val::U64(u64::from(retry_count)))
            .val(fields::REQUEST_ID, Val::Shared(self.request_id))
            .val(fields::TRACE_ID, Val::Shared(self.trace_id))
            .val(fields::SPAN_ID, Val::Shared(self.span_id));
        if let Some(context) = &self.context {
            record.val("parent_span_id", Val::Shared(Arc::clone(&context.span_id)));
        }
        record.context = self.context;
        shared.enqueue(record);
    }
}

fn classify_middleware_error(error: &reqwest_middleware::Error) -> &'static str {
    match error {
        reqwest_middleware::Error::Reqwest(error) => classify_reqwest_error(error),
        reqwest_middleware::Error::Middleware(_) => "middleware",
    }
}

/// The kind of a network error, for `error_type`.
pub(crate) fn classify_reqwest_error(error: &reqwest::Error) -> &'static str {
    // The I/O error underneath is the most precise answer when there is one.
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io_error) = cause.downcast_ref::<io::Error>() {
            match io_error.kind() {
                io::ErrorKind::ConnectionRefused => return "connection_refused",
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => return "connection_reset",
                io::ErrorKind::TimedOut => return "timeout",
                _ => {}
            }
        }
        let text = cause.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return "dns";
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_builder() {
        "builder"
    } else if error.is_request() {
        "request"
    } else {
        "network"
    }
}
