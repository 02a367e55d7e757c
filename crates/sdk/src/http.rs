//! The server side: [`ApiRequestLayer`], a `tower::Layer` that logs every request as an
//! `api_request` event and runs the handler inside the request's span; [`action_type`] for
//! per-route business actions; [`ErrorInfo`] for handlers to describe their errors.
//!
//! Values that appear only later in the request travel back to the outer layer through
//! response extensions ([`ActionType`], [`ErrorInfo`], [`RouteTemplate`]) — the idiomatic
//! tower channel from inner services to outer ones, which works for axum and for any other
//! tower service alike.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, Request, Response};
use http_body::Body;
use logfleet_model::{Level, LogCategory, ResponseCategory, fields};
use tower::{Layer, Service};
use tracing::Span;

use crate::context::{
    REQUEST_ID_HEADER, RequestContext, TRACEPARENT_HEADER, new_request_id, open_request_span,
    parse_traceparent, valid_request_id,
};
use crate::error::{Error, error_chain};
use crate::handle::{Shared, current_shared};
use crate::record::{Record, Val};

/// Logs each request as an `api_request` event and gives the handler a request context.
///
/// For every request it:
///
/// - takes the request id from `X-Request-ID` (or makes one), puts it on the request if it
///   was missing and on the response;
/// - continues the trace of an incoming W3C `traceparent` (new span id) or starts one;
/// - opens a `tracing` span (target `logfleet_sdk::request`) and polls the inner service
///   inside it, so every event of the handler — across `.await`s — carries `request_id`,
///   `trace_id`, `span_id`, `endpoint_signature` and the user set with
///   [`set_user`](crate::set_user);
/// - when the response is ready, logs `http_method`, `path`, `endpoint_signature` (`POST
///   /api/signup/`, from axum's `MatchedPath` or a [`RouteTemplate`] extension), `action_type`
///   (from [`action_type`]), `status_code`, `response_category`, `duration_ms` (to the
///   response head), `request_size`/`response_size` (from `Content-Length` or the body's
///   exact size), `client_ip`, `user_agent`, the user, and `error_type`/`error_message` for
///   `4xx`/`5xx` (from an [`ErrorInfo`] extension, else the status's reason). Level `info`,
///   `warning` for `4xx`, `error` for `5xx`. A request whose client went away before the
///   response is logged with status 499;
/// - counts it for the performance samples (in-flight requests, throughput, percentiles).
///
/// Add it with `Router::layer` (after the routes, so it wraps each of them and sees
/// `MatchedPath`). The client address comes from axum's `ConnectInfo<SocketAddr>` (serve
/// with `into_make_service_with_connect_info::<SocketAddr>()`) or a [`PeerAddr`] extension;
/// `X-Forwarded-For` is honoured only from [`trusted_proxies`](Self::trusted_proxies).
///
/// ```
/// use axum::{Router, routing::post};
/// use logfleet_sdk::{ApiRequestLayer, action_type};
///
/// async fn signup() -> &'static str { "created" }
///
/// let app: Router = Router::new()
///     .route("/api/signup/", post(signup).layer(action_type("USER_SIGNUP")))
///     .layer(ApiRequestLayer::new().trusted_proxies(["10.0.0.0/8".parse().unwrap()]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ApiRequestLayer {
    trusted_proxies: Arc<[TrustedProxy]>,
}

impl ApiRequestLayer {
    /// A layer that trusts no proxy: `client_ip` is the peer address.
    pub fn new() -> Self {
        Self::default()
    }

    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed: the list is
    /// walked from the right while each hop is trusted, and the first untrusted address is
    /// the client.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = TrustedProxy>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }
}

impl<S> Layer<S> for ApiRequestLayer {
    type Service = ApiRequestService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiRequestService {
            inner,
            trusted_proxies: Arc::clone(&self.trusted_proxies),
        }
    }
}

/// The service of [`ApiRequestLayer`]; see there for an example.
#[derive(Debug, Clone)]
pub struct ApiRequestService<S> {
    inner: S,
    trusted_proxies: Arc<[TrustedProxy]>,
}

impl<S, RequestBody, ResponseBody> Service<Request<RequestBody>> for ApiRequestService<S>
where
    S: Service<Request<RequestBody>, Response = Response<ResponseBody>>,
    S::Error: fmt::Display,
    RequestBody: Body,
    ResponseBody: Body,
{
    type Response = Response<ResponseBody>;
    type Error = S::Error;
    type Future = ApiRequestFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<RequestBody>) -> Self::Future {
        let started = Instant::now();
        let shared = current_shared();
        let method = request.method().clone();
        let path: Arc<str> = Arc::from(request.uri().path());
        let endpoint_signature = route_template(request.extensions())
            .map(|route| Arc::<str>::from(format!("{method} {route}")));
        let request_id = header_str(request.headers(), REQUEST_ID_HEADER)
            .and_then(valid_request_id)
            .map(Arc::<str>::from);
        let request_id = match request_id {
            Some(request_id) => request_id,
            None => {
                let request_id = new_request_id();
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    request
                        .headers_mut()
                        .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
                }
                request_id
            }
        };
        let parent = header_str(request.headers(), TRACEPARENT_HEADER).and_then(parse_traceparent);
        let client_ip = peer_address(request.extensions())
            .map(|peer| client_ip(peer, request.headers(), &self.trusted_proxies));
        let user_agent = header_str(request.headers(), USER_AGENT.as_str()).map(str::to_owned);
        let request_size =
            content_length(request.headers()).or_else(|| request.body().size_hint().exact());

        let (span, context) =
            open_request_span(request_id, parent, endpoint_signature.clone(), client_ip);
        if let Some(shared) = &shared {
            shared.requests.enter();
        }
        let state = RequestState {
            shared,
            context,
            started,
            method,
            path,
            endpoint_signature,
            client_ip,
            user_agent,
            request_size,
        };
        let inner = span.in_scope(|| self.inner.call(request));
        ApiRequestFuture {
            inner,
            span,
            state: Some(Box::new(state)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`ApiRequestService`].
    pub struct ApiRequestFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        state: Option<Box<RequestState>>,
    }

    impl<F> PinnedDrop for ApiRequestFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Still there: the response never came (the client went away and the server
            // dropped the request), which is worth a line of its own.
            if let Some(state) = this.state.take() {
                let _entered = this.span.enter();
                state.log_abandoned();
            }
        }
    }
}

impl<F> fmt::Debug for ApiRequestFuture<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ApiRequestFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F, ResponseBody, E> Future for ApiRequestFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, E>>,
    E: fmt::Display,
    ResponseBody: Body,
{
    type Output = Result<Response<ResponseBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = ready!(this.inner.poll(cx));
        let Some(state) = this.state.take() else {
            return Poll::Ready(result);
        };
        match result {
            Ok(mut response) => {
                state.log_response(&mut response);
                Poll::Ready(Ok(response))
            }
            Err(error) => {
                state.log_failure(&error);
                Poll::Ready(Err(error))
            }
        }
    }
}

/// What the layer knows about a request until its response.
struct RequestState {
    shared: Option<Arc<Shared>>,
    context: Arc<RequestContext>,
    started: Instant,
    method: Method,
    path: Arc<str>,
    endpoint_signature: Option<Arc<str>>,
    client_ip: Option<IpAddr>,
    user_agent: Option<String>,
    request_size: Option<u64>,
}

/// How the request ended, for the event.
struct Ending<'a> {
    status: u16,
    response_size: Option<u64>,
    action_type: Option<&'a str>,
    error: Option<(Cow<'a, str>, Cow<'a, str>)>,
    late_route: Option<&'a str>,
}

impl RequestState {
    fn log_response<B: Body>(self, response: &mut Response<B>) {
        if !response.headers().contains_key(REQUEST_ID_HEADER)
            && let Ok(value) = HeaderValue::from_str(&self.context.request_id)
        {
            response
                .headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
        let status = response.status();
        let extensions = response.extensions();
        let error = extensions
            .get::<ErrorInfo>()
            .map(|info| {
                (
                    Cow::Borrowed(info.error_type.as_ref()),
                    Cow::Borrowed(info.error_message.as_str()),
                )
            })
            .or_else(|| {
                (status.is_client_error() || status.is_server_error()).then(|| {
                    let reason = status.canonical_reason().unwrap_or("error");
                    (Cow::Owned(snake_case(reason)), Cow::Borrowed(reason))
                })
            });
        let ending = Ending {
            status: status.as_u16(),
            response_size: content_length(response.headers())
                .or_else(|| response.body().size_hint().exact()),
            action_type: extensions
                .get::<ActionType>()
                .map(|action| action.0.as_ref()),
            error,
            late_route: extensions
                .get::<RouteTemplate>()
                .map(|route| route.0.as_ref()),
        };
        self.log(ending);
    }

    fn log_failure(self, error: &dyn fmt::Display) {
        let message = error.to_string();
        self.log(Ending {
            status: 500,
            response_size: None,
            action_type: None,
            error: Some((Cow::Borrowed("service_error"), Cow::Owned(message))),
            late_route: None,
        });
    }

    fn log_abandoned(self) {
        self.log(Ending {
            status: 499,
            response_size: None,
            action_type: None,
            error: Some((
                Cow::Borrowed("client_closed_request"),
                Cow::Borrowed("the client went away before the response"),
            )),
            late_route: None,
        });
    }

    fn log(self, ending: Ending<'_>) {
        let duration = self.started.elapsed();
        let Some(shared) = self.shared else {
            return;
        };
        shared.requests.exit();
        shared.requests.record(duration);
        let level = match ending.status {
            500.. => Level::Error,
            400..=499 => Level::Warning,
            _ => Level::Info,
        };
        if !shared.enabled(level) {
            return;
        }
        let endpoint_signature = self.endpoint_signature.clone().or_else(|| {
            ending
                .late_route
                .map(|route| Arc::from(format!("{} {route}", self.method)))
        });
        let shown_route = endpoint_signature
            .as_deref()
            .and_then(|signature| signature.split_once(' ').map(|(_, route)| route))
            .unwrap_or(&self.path);
        let message = format!("{} {} {}", self.method, shown_route, ending.status);
        let mut record = Record::with_message(LogCategory::ApiRequest, level, &message, 20);
        if let Some(action_type) = ending.action_type {
            record.str(fields::ACTION_TYPE, action_type);
        }
        record
            .str(fields::HTTP_METHOD, self.method.as_str())
            .val(fields::PATH, Val::Shared(Arc::clone(&self.path)));
        if let Some(signature) = endpoint_signature {
            record.val(fields::ENDPOINT_SIGNATURE, Val::Shared(signature));
        }
        record
            .val(fields::STATUS_CODE, Val::U64(u64::from(ending.status)))
            .str(
                fields::RESPONSE_CATEGORY,
                ResponseCategory::from_status(ending.status).as_str(),
            )
            .val(
                fields::DURATION_MS,
                Val::F64(duration.as_secs_f64() * 1000.0),
            );
        if let Some(size) = self.request_size {
            record.val(fields::REQUEST_SIZE, Val::U64(size));
        }
        if let Some(size) = ending.response_size {
            record.val(fields::RESPONSE_SIZE, Val::U64(size));
        }
        if let Some(client_ip) = self.client_ip {
            record.display(fields::CLIENT_IP, &client_ip);
        }
        if let Some(user_agent) = &self.user_agent {
            record.str(fields::USER_AGENT, user_agent);
        }
        if let Some((error_type, error_message)) = &ending.error {
            record
                .str(fields::ERROR_TYPE, error_type)
                .str(fields::ERROR_MESSAGE, error_message);
        }
        if let Some(parent) = &self.context.parent_span_id {
            record.val("parent_span_id", Val::Shared(Arc::clone(parent)));
        }
        if let Some(upstream) = self.context.upstream() {
            record.val(fields::TARGET_SERVICE, Val::Shared(upstream.target_service));
            if let Some(status) = upstream.status_code {
                record.val("upstream_status_code", Val::U64(u64::from(status)));
            }
            record.val("upstream_duration_ms", Val::F64(upstream.duration_ms));
            if let Some(error_type) = upstream.error_type {
                record.str("upstream_error_type", error_type);
            }
        }
        record.context = Some(self.context);
        shared.enqueue(record);
    }
}

fn snake_case(reason: &str) -> String {
    reason
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    header_str(headers, CONTENT_LENGTH.as_str())?
        .trim()
        .parse()
        .ok()
}

/// The route template of the request: axum's `MatchedPath`, else a [`RouteTemplate`].
fn route_template(extensions: &http::Extensions) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(matched) = extensions.get::<axum::extract::MatchedPath>() {
        return Some(matched.as_str());
    }
    extensions
        .get::<RouteTemplate>()
        .map(|route| route.0.as_ref())
}

/// The peer's address: axum's `ConnectInfo<SocketAddr>`, else a [`PeerAddr`].
fn peer_address(extensions: &http::Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(address)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(address.ip());
    }
    extensions.get::<PeerAddr>().map(|peer| peer.0.ip())
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the rightmost
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |address: IpAddr| trusted.iter().any(|proxy| proxy.contains(address));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    // Several headers are one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    for entry in entries.iter().rev() {
        // A hop that wrote garbage is not to be believed; the last good address stands.
        let Some(address) = parse_forwarded_address(entry) else {
            break;
        };
        client = address;
        if !is_trusted(address) {
            break;
        }
    }
    client
}

fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack listener reports) as
/// plain IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// A proxy whose `X-Forwarded-For` is trusted: an address or a CIDR block.
///
/// ```
/// use logfleet_sdk::TrustedProxy;
///
/// let proxies: TrustedProxy = "10.0.0.0/8".parse().unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.168.0.1".parse().unwrap()));
/// assert!("::1".parse::<TrustedProxy>().is_ok());
/// assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Whether `address` is inside this block.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for TrustedProxy {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidConfig {
            setting: "trusted_proxies",
            reason: format!("`{text}` is not an IP address or CIDR block"),
        };
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network = canonical(address.parse::<IpAddr>().map_err(|_| invalid())?);
        let max_prefix = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| invalid())?,
            None => max_prefix,
        };
        if prefix > max_prefix {
            return Err(invalid());
        }
        Ok(Self { network, prefix })
    }
}

/// The peer address of a connection, for servers other than axum (which provides
/// `ConnectInfo`): insert it into the request's extensions before [`ApiRequestLayer`].
///
/// ```
/// use logfleet_sdk::PeerAddr;
/// use std::net::SocketAddr;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(PeerAddr(SocketAddr::from(([10, 0, 0, 7], 51234))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The route template of a request (`/users/{id}`), for routers other than axum's: insert it
/// into the request's extensions (before [`ApiRequestLayer`]) or the response's, and
/// `endpoint_signature` becomes `METHOD template`.
///
/// ```
/// use logfleet_sdk::RouteTemplate;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RouteTemplate::new("/users/{id}"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate(pub Cow<'static, str>);

impl RouteTemplate {
    /// A route template.
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        Self(template.into())
    }
}

/// The business action of a request (`USER_SIGNUP`), carried to [`ApiRequestLayer`] in the
/// response's extensions; set by [`action_type`] or by a handler (which wins).
///
/// ```
/// use axum::Extension;
/// use logfleet_sdk::ActionType;
///
/// async fn import() -> (Extension<ActionType>, &'static str) {
///     (Extension(ActionType("BULK_IMPORT".into())), "imported")
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionType(pub Cow<'static, str>);

/// A layer that tags a route's responses with an `action_type`, the seed's
/// `@log_api_request(action_type='USER_SIGNUP')`.
///
/// ```
/// use axum::{Router, routing::post};
///
/// async fn signup() {}
///
/// let app: Router = Router::new()
///     .route("/api/signup/", post(signup).layer(logfleet_sdk::action_type("USER_SIGNUP")))
///     .layer(logfleet_sdk::ApiRequestLayer::new());
/// ```
pub fn action_type(action: impl Into<Cow<'static, str>>) -> ActionTypeLayer {
    ActionTypeLayer {
        action: ActionType(action.into()),
    }
}

/// The layer of [`action_type`]; see there for an example.
#[derive(Debug, Clone)]
pub struct ActionTypeLayer {
    action: ActionType,
}

impl<S> Layer<S> for ActionTypeLayer {
    type Service = ActionTypeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ActionTypeService {
            inner,
            action: self.action.clone(),
        }
    }
}

/// The service of [`action_type`]; see there for an example.
#[derive(Debug, Clone)]
pub struct ActionTypeService<S> {
    inner: S,
    action: ActionType,
}

impl<S, RequestBody, ResponseBody> Service<Request<RequestBody>> for ActionTypeService<S>
where
    S: Service<Request<RequestBody>, Response = Response<ResponseBody>>,
{
    type Response = Response<ResponseBody>;
    type Error = S::Error;
    type Future = ActionTypeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        ActionTypeFuture {
            inner: self.inner.call(request),
            action: Some(self.action.clone()),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`ActionTypeService`].
    #[derive(Debug)]
    pub struct ActionTypeFuture<F> {
        #[pin]
        inner: F,
        action: Option<ActionType>,
    }
}

impl<F, ResponseBody, E> Future for ActionTypeFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, E>>,
{
    type Output = Result<Response<ResponseBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(cx));
        if let (Ok(response), Some(action)) = (&mut result, this.action.take()) {
            // A handler that set its own action type wins over the route's.
            if response.extensions().get::<ActionType>().is_none() {
                response.extensions_mut().insert(action);
            }
        }
        Poll::Ready(result)
    }
}

/// A handler's description of its error, for the `api_request` event's `error_type` and
/// `error_message`: put it in the response's extensions (with axum, return it as a
/// response part, or as the response: status 500 and an empty body, since internal error
/// messages are for the logs, not for clients).
///
/// ```
/// use axum::http::StatusCode;
/// use logfleet_sdk::ErrorInfo;
///
/// async fn handler() -> (StatusCode, ErrorInfo, &'static str) {
///     let error = std::io::Error::other("connection pool exhausted");
///     (StatusCode::SERVICE_UNAVAILABLE, ErrorInfo::from_error(&error), "try again")
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    error_type: Cow<'static, str>,
    error_message: String,
}

impl ErrorInfo {
    /// An error of a named type (`ValidationError`, `database_unavailable`…) with a message.
    pub fn new(error_type: impl Into<Cow<'static, str>>, error_message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            error_message: error_message.into(),
        }
    }

    /// From an error value: its type's name (without the module path) and its message with
    /// the chain of causes.
    pub fn from_error<E: std::error::Error>(error: &E) -> Self {
        let type_name = std::any::type_name::<E>();
        let short_name = type_name
            .split('<')
            .next()
            .and_then(|path| path.rsplit("::").next())
            .unwrap_or(type_name);
        Self::new(Cow::Owned(short_name.to_owned()), error_chain(error))
    }

    /// The `error_type`.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The `error_message`.
    pub fn error_message(&self) -> &str {
        &self.error_message
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponseParts for ErrorInfo {
    type Error = std::convert::Infallible;

    fn into_response_parts(
        self,
        mut parts: axum::response::ResponseParts,
    ) -> Result<axum::response::ResponseParts, Self::Error> {
        parts.extensions_mut().insert(self);
        Ok(parts)
    }
}

/// A response of its own: status 500 and an empty body (the message is for the logs, not the
/// client), so handlers can return `Err((StatusCode::BAD_GATEWAY, info))`.
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ErrorInfo {
    fn into_response(self) -> axum::response::Response {
        let mut response = http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|text| text.parse().unwrap()).collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let headers = forwarded(&["1.2.3.4"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers, &proxies(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), &headers, &[]), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_for_is_walked_from_the_right_while_hops_are_trusted() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        // Client spoofs a first entry; the real client is the first untrusted from the right.
        let headers = forwarded(&["6.6.6.6, 198.51.100.7", "192.168.1.1"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            ip("198.51.100.7")
        );
        // Every hop trusted: the leftmost address.
        let headers = forwarded(&["10.9.9.9, 10.0.0.5"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            ip("10.9.9.9")
        );
        // Garbage stops the walk at the last good address.
        let headers = forwarded(&["198.51.100.7, garbage, 10.0.0.5"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            ip("10.0.0.5")
        );
        // Ports and IPv4-mapped peers.
        let headers = forwarded(&["198.51.100.7:5555"]);
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &headers, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn cidr_blocks_match_by_prefix() {
        let block: TrustedProxy = "fd00::/8".parse().unwrap();
        assert!(block.contains(ip("fd12::1")));
        assert!(!block.contains(ip("fe80::1")));
        assert!(!block.contains(ip("10.0.0.1")));
        let everything: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("8.8.8.8")));
        assert!("nonsense".parse::<TrustedProxy>().is_err());
    }

    #[test]
    fn error_info_from_an_error_names_its_type_and_causes() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("insert failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let info = ErrorInfo::from_error(&Outer(std::io::Error::other("disk full")));
        assert_eq!(info.error_type(), "Outer");
        assert_eq!(info.error_message(), "insert failed: disk full");
    }

    #[test]
    fn reasons_become_snake_case_types() {
        assert_eq!(snake_case("Internal Server Error"), "internal_server_error");
        assert_eq!(snake_case("I'm a teapot"), "i_m_a_teapot");
    }
}
