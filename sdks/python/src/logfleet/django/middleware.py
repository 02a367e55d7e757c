"""``LogfleetMiddleware``: one ``api_request`` event per request, and the request context.

For each request the middleware takes the request id from ``X-Request-ID`` (or makes one)
and returns it in the response, continues the trace of an incoming ``traceparent`` (new span
id) or starts one, resolves the client address (``X-Forwarded-For`` only from trusted
proxies), and makes the context current in ``contextvars`` for everything the view does. At
response time it reads the user again (DRF authenticates inside the view), and logs
``http_method``, ``path``, ``endpoint_signature`` (``POST /api/users/{pk}/``, from the URL
pattern), ``action_type``, ``status_code``, ``response_category``, ``duration_ms``,
``request_size``, ``response_size``, ``client_ip``, ``user_agent``, the user, and
``error_type``/``error_message`` for failures. Level ``info``, ``warning`` for ``4xx``,
``error`` for ``5xx``. It works in sync (WSGI) and async (ASGI) stacks alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.functional import empty

from logfleet import core
from logfleet.context import (
    REQUEST_ID_HEADER,
    RequestContext,
    _current,
    new_context,
    resolve_client_ip,
)
from logfleet.core import SEVERITY
from logfleet.helpers import user_fields
from logfleet.schema import reason_phrase, response_category, snake_case

_CONTEXT_ATTRIBUTE = "_logfleet_context"

# `<int:pk>` and `<pk>` in path() routes; `(?P<pk>…)` in re_path() patterns.
_PATH_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_NAMED_GROUP = "(?P<"


# A project has a fixed set of URL patterns, each seen on every request to it.
@functools.lru_cache(maxsize=1024)
def route_template(route: str) -> str:
    """A Django URL pattern as a route template: ``api/users/<int:pk>/`` becomes
    ``/api/users/{pk}/``, and so does ``^api/users/(?P<pk>[0-9]+)/$``.

    >>> route_template("api/users/<int:pk>/")
    '/api/users/{pk}/'
    >>> route_template(r"^api/users/(?P<pk>[0-9]+)/$")
    '/api/users/{pk}/'
    """
    template = route
    while _NAMED_GROUP in template:
        start = template.index(_NAMED_GROUP)
        name_end = template.index(">", start)
        name = template[start + len(_NAMED_GROUP) : name_end]
        depth, cursor = 1, name_end + 1
        while cursor < len(template) and depth:
            if template[cursor] == "\\":
                cursor += 1
            elif template[cursor] == "(":
                depth += 1
            elif template[cursor] == ")":
                depth -= 1
            cursor += 1
        template = template[:start] + "{" + name + "}" + template[cursor:]
    template = _PATH_CONVERTER.sub(lambda match: "{" + match.group(1) + "}", template)
    template = template.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return template if template.startswith("/") else "/" + template


def endpoint_signature(request: HttpRequest) -> str | None:
    """``METHOD /route/template/`` of a resolved request, else ``None``."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    if not route:
        return None
    return f"{request.method} {route_template(route)}"


def describe_exception(error: BaseException) -> tuple[str, str]:
    """``(error_type, error_message)`` of an exception; DRF's details are flattened into
    ``field (message)`` text rather than their ``repr``."""
    detail = getattr(error, "detail", None)
    message = _flatten_detail(detail) if detail is not None else str(error)
    return type(error).__name__, message or type(error).__name__


def _flatten_detail(detail: Any) -> str:
    if isinstance(detail, dict):
        # `field (message)` rather than `field: message`: a field named `password` would
        # otherwise read as a secret pair and lose its message to redaction.
        return "; ".join(f"{key} ({_flatten_detail(value)})" for key, value in detail.items())
    if isinstance(detail, (list, tuple)):
        return "; ".join(_flatten_detail(item) for item in detail)
    return str(detail)


class RequestLog:
    """One request being logged, from its start to its event.

    Once finished it is also the event's fields: the sender thread calls it for them, so the
    request's thread only pays for the measurements (and makes no second object to hold
    them)."""

    __slots__ = (
        "context",
        "duration_ms",
        "method",
        "path",
        "request_size",
        "resolve_at_end",
        "response_size",
        "sdk",
        "signature",
        "started",
        "status",
        "user_agent",
    )

    def __init__(
        self,
        sdk: core.Logfleet,
        context: RequestContext,
        started: float,
        method: str,
        path: str,
        user_agent: str | None,
        request_size: int | None,
        resolve_at_end: bool,
    ) -> None:
        self.sdk = sdk
        self.context = context
        self.started = started
        self.method = method
        self.path = path
        self.user_agent = user_agent
        self.request_size = request_size
        # Whether the route is looked up at the end (the request was not resolved yet).
        self.resolve_at_end = resolve_at_end
        # Set by `finish`.
        self.signature: str | None = None
        self.status = 0
        self.duration_ms = 0.0
        self.response_size: int | None = None

    @classmethod
    def begin(cls, request: HttpRequest, resolved: bool = True) -> RequestLog:
        """Starts logging a request; ``resolved`` when Django has resolved its URL (a view is
        being called), not when the middleware, which runs before resolution, begins."""
        sdk = core.get()
        meta = request.META
        peer = meta.get("REMOTE_ADDR")
        client = (
            resolve_client_ip(peer, meta.get("HTTP_X_FORWARDED_FOR"), sdk.trusted_proxies)
            if peer
            else None
        )
        # Positional arguments here and below: this runs on every request, and keywords
        # cost more to pass.
        context = new_context(
            meta.get("HTTP_X_REQUEST_ID"),
            meta.get("HTTP_TRACEPARENT"),
            endpoint_signature(request) if resolved else None,
            client,
        )
        setattr(request, _CONTEXT_ATTRIBUTE, context)
        length = meta.get("CONTENT_LENGTH")
        if length and str(length).isdigit():
            request_size: int | None = int(length)
        elif "HTTP_TRANSFER_ENCODING" in meta:
            # Chunked: the size is not known before the body is read.
            request_size = None
        else:
            # No length and no chunks: an empty body, 0 as the Rust SDK reports it.
            request_size = 0
        sdk.request_started()
        return cls(
            sdk,
            context,
            perf_counter(),
            request.method or "GET",
            request.path,
            meta.get("HTTP_USER_AGENT") or None,
            request_size,
            not resolved,
        )

    def finish(
        self,
        request: HttpRequest,
        response: HttpResponseBase | None,
        user: tuple[str | None, str | None] | None,
        failed_status: int | None = None,
    ) -> None:
        """Logs the request's event; ``failed_status`` stands for a response that an
        exception will become further up."""
        duration_ms = (perf_counter() - self.started) * 1000.0
        sdk = self.sdk
        sdk.request_finished(duration_ms)
        context = self.context
        if user is not None and context.user == _NO_USER:
            context.user = user
        if response is not None:
            status = response.status_code
        else:
            status = failed_status if failed_status is not None else 500
        level = "error" if status >= 500 else "warning" if status >= 400 else "info"
        if SEVERITY[level] < sdk.min_severity:
            return
        self.response_size = (
            None if response is None else _answer_headers(response, context.request_id)
        )
        # process_view has put the resolved route on the context; a request it did not see
        # (its URL did not resolve, a test without the hooks) is looked up here.
        signature = context.endpoint_signature
        if signature is None and self.resolve_at_end:
            signature = endpoint_signature(request)
            if signature is not None:
                context.endpoint_signature = signature
        shown_route = signature.split(" ", 1)[1] if signature else self.path
        self.signature = signature
        self.status = status
        self.duration_ms = duration_ms
        sdk.emit(level, "api_request", f"{self.method} {shown_route} {status}", self, context)

    def __call__(self) -> dict[str, Any]:
        """The ``api_request`` event's fields (on the sender thread)."""
        context, status = self.context, self.status
        fields: dict[str, Any] = {}
        if context.action_type is not None:
            fields["action_type"] = context.action_type
        fields["http_method"] = self.method
        fields["path"] = self.path
        if self.signature is not None:
            fields["endpoint_signature"] = self.signature
        fields["status_code"] = status
        fields["response_category"] = response_category(status)
        fields["duration_ms"] = self.duration_ms
        if self.request_size is not None:
            fields["request_size"] = self.request_size
        if self.response_size is not None:
            fields["response_size"] = self.response_size
        if context.client_ip is not None:
            fields["client_ip"] = context.client_ip
        if self.user_agent is not None:
            fields["user_agent"] = self.user_agent
        error = context.error
        if error is None and status >= 400:
            reason = reason_phrase(status)
            error = (snake_case(reason), reason)
        if error is not None:
            fields["error_type"], fields["error_message"] = error
        if context.parent_span_id is not None:
            fields["parent_span_id"] = context.parent_span_id
        upstream = context.upstream
        if upstream is not None:
            fields["target_service"] = upstream.target_service
            if upstream.status_code is not None:
                fields["upstream_status_code"] = upstream.status_code
            fields["upstream_duration_ms"] = upstream.duration_ms
            if upstream.error_type is not None:
                fields["upstream_error_type"] = upstream.error_type
        fields.update(context.extra)
        return fields


_NO_USER: tuple[str | None, str | None] = (None, None)
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower()
# `HttpResponse.content`: a response whose class keeps it has its body in `_container`.
_PLAIN_CONTENT = HttpResponse.content


def _answer_headers(response: HttpResponseBase, request_id: str) -> int | None:
    """Sets ``X-Request-ID`` on the response unless the view did, and returns the response's
    size (``None`` when it is not known yet: streamed, or not rendered).

    Django's headers are a case-insensitive mapping whose lookups of a missing header raise
    and catch ``KeyError``, and whose writes check each value for newlines and its charset
    (the id is visible ASCII, checked when it came in or made here): its dict of lower-cased
    names is read and written directly when it is there, once for both headers.
    """
    store = getattr(response.headers, "_store", None)
    if isinstance(store, dict):
        if _REQUEST_ID_KEY not in store:
            store[_REQUEST_ID_KEY] = (REQUEST_ID_HEADER, request_id)
        entry = store.get("content-length")
        length = None if entry is None else str(entry[1])
    else:
        if response.get(REQUEST_ID_HEADER) is None:
            response[REQUEST_ID_HEADER] = request_id
        value = response.get("Content-Length")
        length = None if value is None else str(value)
    if length is not None and length.isdigit():
        return int(length)
    if getattr(type(response), "content", None) is _PLAIN_CONTENT:
        # What `content` would join, without joining it.
        container = response.__dict__.get("_container")
        if type(container) is list:
            if len(container) == 1 and type(container[0]) is bytes:
                return len(container[0])
            if all(type(chunk) is bytes for chunk in container):
                return sum(map(len, container))
    if getattr(response, "streaming", False) or getattr(response, "is_rendered", True) is False:
        # Streamed, or a DRF/template response not rendered yet: the size is not known.
        return None
    content = getattr(response, "content", None)
    return len(content) if isinstance(content, bytes) else None


def _evaluated_user(request: HttpRequest) -> Any:
    """The user Django or DRF set on the request, evaluating Django's lazy user in sync code
    (a session lookup, which an async caller does with ``auser()`` instead)."""
    return request.__dict__.get("user")


def request_user(request: HttpRequest) -> tuple[str | None, str | None] | None:
    """The request's authenticated user, read at response time (after DRF authenticated)."""
    user = _evaluated_user(request)
    return None if user is None else _authenticated_fields(user)


def _authenticated_fields(user: Any) -> tuple[str | None, str | None] | None:
    try:
        fields = user_fields(user)
    except Exception:
        # A user that cannot be loaded (database down) must not break the request's event.
        return None
    return None if fields == (None, None) else fields


async def arequest_user(request: HttpRequest) -> tuple[str | None, str | None] | None:
    """:func:`request_user` for async code: a lazy user is loaded with ``auser()``."""
    user = _evaluated_user(request)
    if user is None:
        return None
    loader = getattr(request, "auser", None)
    if getattr(user, "_wrapped", None) is empty and callable(loader):
        try:
            user = await loader()
        except Exception:
            return None
    return _authenticated_fields(user)


def request_context_of(request: Any) -> RequestContext | None:
    """The context the middleware gave a request (a Django or a DRF request)."""
    context = getattr(request, _CONTEXT_ATTRIBUTE, None)
    if context is None:
        inner = getattr(request, "_request", None)
        context = getattr(inner, _CONTEXT_ATTRIBUTE, None)
    return context if isinstance(context, RequestContext) else None


class LogfleetMiddleware:
    """The request context and one ``api_request`` event per request; sync and async.

    Put it first in ``MIDDLEWARE`` so it times the whole stack and sees every response::

        MIDDLEWARE = ["logfleet.django.LogfleetMiddleware", ...]
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        settings = core.get().settings
        self._skip_exact = frozenset(path for path in settings.skip_paths if not path.endswith("*"))
        self._skip_prefixes = tuple(path[:-1] for path in settings.skip_paths if path.endswith("*"))

    def _skipped(self, request: HttpRequest) -> bool:
        path = request.path
        if path in self._skip_exact:
            return True
        return bool(self._skip_prefixes) and path.startswith(self._skip_prefixes)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        path = request.path
        prefixes = self._skip_prefixes
        if path in self._skip_exact or (prefixes and path.startswith(prefixes)):
            return self.get_response(request)
        log = RequestLog.begin(request, False)
        token = _current.set(log.context)
        response: HttpResponseBase | None = None
        try:
            response = self.get_response(request)  # type: ignore[assignment]
            return response
        finally:
            _current.reset(token)
            user = request.__dict__.get("user")
            log.finish(request, response, None if user is None else _authenticated_fields(user))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self._skipped(request):
            return await self.get_response(request)  # type: ignore[no-any-return,misc]
        log = RequestLog.begin(request, False)
        token = _current.set(log.context)
        response: HttpResponseBase | None = None
        try:
            response = await self.get_response(request)  # type: ignore[misc]
            assert response is not None
            return response
        finally:
            _current.reset(token)
            log.finish(request, response, await arequest_user(request))

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        # The URL is resolved by now: events inside the view carry the endpoint.
        context = getattr(request, _CONTEXT_ATTRIBUTE, None)
        if isinstance(context, RequestContext):
            context.endpoint_signature = endpoint_signature(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        context = request_context_of(request)
        if context is not None and context.error is None:
            context.error = describe_exception(exception)
