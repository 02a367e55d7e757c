"""The seed's helpers that need no web framework: database operations, audit events,
inter-service calls, and plain events.

Each builds its fields in the schema's order and hands them to the SDK's buffer; nothing
here formats JSON or does I/O (except :func:`log_external_request`, whose I/O is the call it
makes for you).
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from logfleet import core
from logfleet.context import (
    REQUEST_ID_HEADER,
    SAMPLED,
    TRACEPARENT_HEADER,
    RequestContext,
    Upstream,
    _current,
    current_context,
    format_traceparent,
    new_request_id,
    new_span_id,
    new_trace_id,
    reset_context,
    set_context,
)
from logfleet.schema import reason_phrase, response_category

if TYPE_CHECKING:
    import requests

# Words of an operation's name that say which CRUD verb it is (`USER_CREATE` → create).
_DB_ACTION_WORDS = {
    "create": ("CREATE", "INSERT", "ADD", "SIGNUP", "REGISTER", "NEW"),
    "read": (
        "READ",
        "GET",
        "SELECT",
        "FETCH",
        "FIND",
        "LIST",
        "SEARCH",
        "LOOKUP",
        "LOGIN",
        "AUTHENTICATE",
        "COUNT",
        "EXISTS",
        "CHECK",
        "VERIFY",
    ),
    "update": ("UPDATE", "SET", "CHANGE", "EDIT", "PATCH", "MODIFY", "RENAME", "LOGOUT"),
    "delete": ("DELETE", "REMOVE", "DESTROY", "PURGE", "DROP"),
}


def infer_db_action(operation: str) -> str | None:
    """The ``db_action`` an operation's name implies, or ``None``.

    >>> infer_db_action("USER_CREATE"), infer_db_action("PROFILE_READ"), infer_db_action("X")
    ('create', 'read', None)
    """
    words = operation.upper().replace("-", "_").replace(" ", "_").split("_")
    for action, verbs in _DB_ACTION_WORDS.items():
        if any(word in verbs for word in words):
            return action
    return None


def user_fields(user: Any) -> tuple[str | None, str | None]:
    """``(user_id, user_name)`` of a user: a Django user (``pk``, ``get_username()``), a
    mapping with ``id``/``username``, an integer id, or a user name."""
    if user is None:
        return None, None
    if isinstance(user, bool):
        return None, None
    if isinstance(user, int):
        return str(user), None
    if isinstance(user, str):
        return None, user
    if isinstance(user, Mapping):
        user_id = user.get("id", user.get("user_id"))
        user_name = user.get("username", user.get("user_name"))
        return (
            None if user_id is None else str(user_id),
            None if user_name is None else str(user_name),
        )
    if getattr(user, "is_authenticated", True) is False:
        return None, None
    user_id = getattr(user, "pk", None)
    if user_id is None:
        user_id = getattr(user, "id", None)
    get_username = getattr(user, "get_username", None)
    user_name = get_username() if callable(get_username) else getattr(user, "username", None)
    return (
        None if user_id is None else str(user_id),
        None if user_name is None else str(user_name),
    )


# Database.


def log_database_operation(operation: str, entity: str, **context: Any) -> None:
    """Logs a database operation (``database`` category); the seed's helper.

    ``context`` becomes fields of the event (``username=...``); these names have the schema's
    meaning: ``db_action`` (else inferred from the operation's name), ``duration_ms`` (then
    ``slow_query`` is set against the threshold, 1000 ms by default), ``rows_affected``,
    ``db_error`` (level ``error``). To time the query, use :func:`timed_database_operation`.

    >>> log_database_operation("USER_CREATE", "USER", username="alice", rows_affected=1)
    """
    sdk = core.get()
    duration = context.pop("duration_ms", None)
    duration_ms = None if duration is None else float(duration)
    db_error = context.pop("db_error", None)
    slow = duration_ms is not None and duration_ms > sdk.settings.slow_query_threshold_ms
    level = "error" if db_error is not None else ("warning" if slow else "info")
    if not sdk.enabled(level):
        return
    if db_error is not None:
        message = f"database {operation} on {entity} failed"
    elif slow:
        message = f"slow database {operation} on {entity}"
    else:
        message = f"database {operation} on {entity}"
    fields: dict[str, Any] = {"db_operation": operation, "db_entity": entity}
    db_action = context.pop("db_action", None) or infer_db_action(operation)
    if db_action is not None:
        fields["db_action"] = str(db_action).lower()
    if duration_ms is not None:
        fields["duration_ms"] = duration_ms
    rows = context.pop("rows_affected", None)
    if rows is not None:
        fields["rows_affected"] = int(rows)
    if duration_ms is not None:
        fields["slow_query"] = slow
    if db_error is not None:
        fields["db_error"] = str(db_error)
    fields.update(context)
    sdk.emit(level, "database", message, fields)


class DatabaseOperation:
    """A database operation being timed by :func:`timed_database_operation`; set
    :attr:`rows_affected` or add fields before the block ends."""

    __slots__ = ("context", "db_error", "rows_affected")

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.rows_affected: int | None = None
        self.db_error: str | None = None

    def field(self, name: str, value: Any) -> DatabaseOperation:
        """Adds a field to the event."""
        self.context[name] = value
        return self

    def fail(self, error: BaseException | str) -> None:
        """Marks the operation as failed without raising (``db_error``, level ``error``)."""
        self.db_error = _describe_error(error) if isinstance(error, BaseException) else error


@contextmanager
def timed_database_operation(
    operation: str, entity: str, **context: Any
) -> Iterator[DatabaseOperation]:
    """Times the block and logs it as a database operation when it ends: ``duration_ms``,
    ``slow_query`` over the threshold (level ``warning``), ``db_error`` if the block raised
    (level ``error``; the exception propagates).

    >>> with timed_database_operation("USER_READ", "USER", username="alice") as query:
    ...     query.rows_affected = 1
    """
    started = time.perf_counter()
    # The context is the one where the operation started, even if it ends elsewhere.
    request = current_context()
    operation_state = DatabaseOperation(dict(context))
    try:
        yield operation_state
    except BaseException as error:
        operation_state.db_error = _describe_error(error)
        raise
    finally:
        duration_ms = (time.perf_counter() - started) * 1000.0
        fields = operation_state.context
        if operation_state.rows_affected is not None:
            fields["rows_affected"] = operation_state.rows_affected
        if operation_state.db_error is not None:
            fields["db_error"] = operation_state.db_error
        _with_context(
            request, log_database_operation, operation, entity, duration_ms=duration_ms, **fields
        )


def _with_context(
    request: RequestContext | None, function: Callable[..., None], *args: Any, **kwargs: Any
) -> None:
    """Calls ``function`` with ``request`` as the current context."""
    token = set_context(request)
    try:
        function(*args, **kwargs)
    finally:
        reset_context(token)


def _describe_error(error: BaseException) -> str:
    text = str(error)
    return text if text else type(error).__name__


# Audit.

_AUDIT_KEYS = (
    "user_id",
    "user_name",
    "reason",
    "client_ip",
    "session_id",
    "session_duration_ms",
    "target_entity",
)


def _audit(
    kind: str,
    action: str,
    success: bool,
    user: Any,
    extra: dict[str, Any],
) -> None:
    sdk = core.get()
    level = "info" if success else "warning"
    if not sdk.enabled(level):
        return
    message = extra.pop("message", None) or f"{kind} {action}"
    context = current_context()
    user_id, user_name = user_fields(user)
    fields: dict[str, Any] = {"user_action": action, "success": success}
    given = {key: extra.pop(key) for key in _AUDIT_KEYS if extra.get(key) is not None}
    if user_id is None and "user_id" in given:
        user_id = str(given["user_id"])
    if user_name is None and "user_name" in given:
        user_name = str(given["user_name"])
    if user_id is not None:
        fields["user_id"] = user_id
    if user_name is not None:
        fields["user_name"] = user_name
    if "reason" in given:
        fields["reason"] = str(given["reason"])
    client_ip = given.get("client_ip") or (context.client_ip if context is not None else None)
    if client_ip is not None:
        fields["client_ip"] = str(client_ip)
    if "session_id" in given:
        fields["session_id"] = str(given["session_id"])
    if "session_duration_ms" in given:
        fields["session_duration_ms"] = int(given["session_duration_ms"])
    if "target_entity" in given:
        fields["target_entity"] = str(given["target_entity"])
    fields.update(extra)
    sdk.emit(level, "audit", message, fields, context)


def log_user_action(action: str, user: Any = None, **context: Any) -> None:
    """Logs what a user did (``audit`` category); the seed's helper.

    ``user`` is a Django user (or an id, a name, a mapping); without one the request's user
    is on the event anyway. ``context`` becomes fields; ``success`` (default ``True``,
    ``False`` logs at ``warning``), ``reason``, ``client_ip`` (default: the request's),
    ``session_id``, ``session_duration_ms``, ``target_entity`` and ``message`` have the
    schema's meaning.

    >>> log_user_action("USER_CREATED", {"id": 42, "username": "alice"}, target_entity="USER")
    """
    success = bool(context.pop("success", True))
    _audit("user action", action, success, user, context)


def log_authentication_event(
    event: str,
    success: bool = True,
    user: Any = None,
    username: str | None = None,
    ip_address: str | None = None,
    reason: str | None = None,
    **context: Any,
) -> None:
    """Logs an authentication event (``audit`` category): ``LOGIN_SUCCESS``,
    ``LOGIN_FAILED``, ``LOGOUT``, ``PASSWORD_CHANGED``…; the seed's helper, with its
    signature. ``user`` gives ``user_id``/``user_name`` (default: the request's user),
    ``username`` the name that was tried (the ``username`` field), ``ip_address`` the
    ``client_ip`` (default: the request's). Failures are logged at level ``warning``.

    >>> log_authentication_event("LOGIN_FAILED", success=False, username="alice",
    ...                          reason="invalid_password")
    """
    if username is not None:
        # The name someone tried, not an authenticated identity: the `username` field, which
        # the failed-login panels split by (user_id/user_name come from `user`).
        context.setdefault("username", username)
    if ip_address is not None:
        context["client_ip"] = ip_address
    if reason is not None:
        context["reason"] = reason
    _audit("authentication", event, success, user, context)


# Plain events.


def log_event(
    message: str,
    level: str = "info",
    log_category: str | None = None,
    **fields: Any,
) -> None:
    """Logs any event: ``log_category`` defaults to ``api_request`` inside a request and to
    the configured default outside.

    >>> log_event("cache warmed", entries=1200)
    """
    core.get().emit(level, log_category, message, fields)


# Inter-service calls.


def _classify_requests_error(error: BaseException) -> str:
    import requests

    if isinstance(error, requests.Timeout):
        return "timeout"
    if isinstance(error, requests.exceptions.TooManyRedirects):
        return "redirect"
    if isinstance(error, requests.exceptions.ContentDecodingError):
        return "decode"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "body"
    if isinstance(
        error,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ),
    ):
        return "builder"
    # The OS error underneath is the most precise answer when there is one.
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection_refused"
        if isinstance(cause, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
            return "connection_reset"
        if isinstance(cause, socket.gaierror) or "NameResolutionError" in type(cause).__name__:
            return "dns"
        if isinstance(cause, TimeoutError):
            return "timeout"
        nested = [arg for arg in getattr(cause, "args", ()) if isinstance(arg, BaseException)]
        reason = getattr(cause, "reason", None)
        cause = (reason if isinstance(reason, BaseException) else None) or (
            nested[0] if nested else cause.__cause__ or cause.__context__
        )
    if isinstance(error, requests.ConnectionError):
        return "connect"
    return "request"


_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower()


# Splitting a URL costs several microseconds and a service calls the same few URLs again
# and again: the answers are kept, a bounded number of them.
@functools.lru_cache(maxsize=4096)
def _safe_url(url: str) -> tuple[str, str, str | None]:
    """``(target_url, path, host)``: without credentials, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname
    netloc = host or ""
    if host is not None and ":" in host:
        netloc = f"[{host}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme, netloc, path, "", "")), path, host


def log_external_request(
    url: str,
    method: str = "GET",
    **requests_kwargs: Any,
) -> requests.Response:
    """Calls another service with ``requests``, logs the call (``inter_service`` category)
    and returns the response; the seed's helper.

    ``X-Request-ID`` and a W3C ``traceparent`` (the request's trace, a new span for the call)
    are added to the headers, so the callee's events join this request. ``target_service``
    is the service named by an enclosing :func:`~logfleet.django.log_proxy_request`, or a
    ``target_service=`` keyword, or the URL's host. Other keywords go to
    ``requests.request`` (``json=``, ``timeout=``, ``headers=``…); ``session=`` sends through
    a ``requests.Session``. Network errors are logged (``error_type``: ``timeout``,
    ``connection_refused``, ``connection_reset``, ``dns``, ``connect``…) and raised.

    >>> response = log_external_request("http://access_postgresql:4000/api/signup/", "POST",
    ...                                 json={"username": "alice"})  # doctest: +SKIP
    """
    import requests

    sdk = core.get()
    context = _current.get()
    target_service = requests_kwargs.pop("target_service", None)
    session = requests_kwargs.pop("session", None) or requests
    method = method.upper()
    target_url, path, host = _safe_url(url)
    if target_service is None and context is not None:
        target_service = context.proxy_target
    if target_service is None:
        target_service = host or "unknown"
    if context is not None:
        request_id, trace_id, flags = context.request_id, context.trace_id, context.trace_flags
    else:
        request_id, trace_id, flags = new_request_id(), new_trace_id(), SAMPLED
    span_id = new_span_id()
    given = requests_kwargs.pop("headers", None)
    if given:
        headers = dict(given)
        present = {name.lower() for name in headers}
        if _REQUEST_ID_KEY not in present:
            headers[REQUEST_ID_HEADER] = request_id
        if TRACEPARENT_HEADER not in present:
            headers[TRACEPARENT_HEADER] = format_traceparent(trace_id, span_id, flags)
    else:
        headers = {
            REQUEST_ID_HEADER: request_id,
            TRACEPARENT_HEADER: f"00-{trace_id}-{span_id}-{flags:02x}",
        }

    started = time.perf_counter()
    status: int | None = None
    failure: tuple[str, str] | None = None
    try:
        response: requests.Response = session.request(
            method, url, headers=headers, **requests_kwargs
        )
        status = response.status_code
        return response
    except requests.RequestException as error:
        failure = (_classify_requests_error(error), _describe_error(error))
        raise
    finally:
        duration_ms = (time.perf_counter() - started) * 1000.0
        if context is not None and context.proxy_target is not None:
            context.upstream = Upstream(
                target_service, status, duration_ms, failure[0] if failure else None
            )
        if status is not None or failure is not None:
            _log_call(
                sdk,
                context,
                method,
                target_service,
                target_url,
                path,
                duration_ms,
                status,
                failure,
                request_id,
                trace_id,
                span_id,
            )


def _log_call(
    sdk: core.Logfleet,
    context: Any,
    method: str,
    target_service: str,
    target_url: str,
    path: str,
    duration_ms: float,
    status: int | None,
    failure: tuple[str, str] | None,
    request_id: str,
    trace_id: str,
    span_id: str,
) -> None:
    if failure is not None or (status is not None and status >= 500):
        level = "error"
    elif status is not None and status >= 400:
        level = "warning"
    else:
        level = "info"
    if core.SEVERITY[level] < sdk.min_severity:
        return
    if status is not None:
        message = f"{method} {target_service} {path} {status}"
    else:
        message = f"{method} {target_service} {path} failed: {failure[0] if failure else ''}"
    fields: dict[str, Any] = {
        "target_service": target_service,
        "target_url": target_url,
        "http_method": method,
        "duration_ms": duration_ms,
    }
    if status is not None:
        fields["status_code"] = status
        fields["response_category"] = response_category(status)
        if status >= 400:
            fields["error_type"] = f"http_{status}"
            fields["error_message"] = reason_phrase(status)
    elif failure is not None:
        fields["error_type"], fields["error_message"] = failure
    fields["retry_count"] = 0
    fields["request_id"] = request_id
    fields["trace_id"] = trace_id
    fields["span_id"] = span_id
    if context is not None:
        fields["parent_span_id"] = context.span_id
    sdk.emit(level, "inter_service", message, fields, context)
