"""The seed's view decorators: ``@log_api_request(action_type=...)`` and
``@log_proxy_request(target_service)``.

Both work on function views, on methods of class-based views and DRF ``APIView``s, sync and
``async``. Under :class:`~logfleet.django.LogfleetMiddleware` they annotate the request's
context (its ``action_type``, the upstream it is forwarded to, the view's exception) and the
middleware writes the one ``api_request`` event; without the middleware the decorator writes
that event itself, so the seed's examples run as written either way.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast, overload

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.functional import empty

from logfleet.context import RequestContext, _current
from logfleet.django.middleware import (
    _NO_USER,
    RequestLog,
    arequest_user,
    describe_exception,
    request_user,
)
from logfleet.helpers import user_fields

View = TypeVar("View", bound=Callable[..., Any])


def _django_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HttpRequest | None:
    """The request among a view's arguments (after ``self`` for methods); a DRF request
    gives its Django request."""
    for candidate in (*args, kwargs.get("request")):
        if candidate is not None and hasattr(candidate, "META") and hasattr(candidate, "method"):
            inner = getattr(candidate, "_request", candidate)
            return inner if isinstance(inner, HttpRequest) else None
    return None


def _adopt_user(
    context: RequestContext, args: tuple[Any, ...], kwargs: dict[str, Any], evaluate: bool
) -> None:
    """Puts the request's user on the context before the view runs, so the view's own events
    carry it: DRF has authenticated by the time it calls a handler method, and a plain view's
    session user is loaded here when ``evaluate`` (sync code, where the view would load it
    anyway); an async view's lazy user is left to the middleware's ``auser()``."""
    if context.user != (None, None):
        return
    for candidate in (*args, kwargs.get("request")):
        if candidate is None or not hasattr(candidate, "META"):
            continue
        if "_user" in getattr(candidate, "__dict__", {}):
            user: Any = candidate.__dict__["_user"]  # DRF, authenticated
        else:
            django_request = getattr(candidate, "_request", candidate)
            user = getattr(django_request, "__dict__", {}).get("user")
            if user is None or (not evaluate and getattr(user, "_wrapped", None) is empty):
                return
        try:
            fields = user_fields(user)
        except Exception:
            return
        if fields != (None, None):
            context.user = fields
        return


def _status_of(error: BaseException) -> int:
    """The status a framework answers an exception with: DRF's ``status_code``, 404, 403, 400."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        return status
    name = type(error).__name__
    return {
        "Http404": 404,
        "PermissionDenied": 403,
        "SuspiciousOperation": 400,
        "BadRequest": 400,
    }.get(name, 500)


def _record(context: RequestContext, error: BaseException) -> None:
    if context.error is None:
        context.error = describe_exception(error)


# What a decorator does to the context of each call, fixed when the view is decorated.
class _Marks:
    __slots__ = ("action_type", "adapt", "proxy_target", "recover")

    def __init__(
        self,
        action_type: str | None = None,
        proxy_target: str | None = None,
        adapt: Callable[[RequestContext, Any], Any] | None = None,
        recover: Callable[[RequestContext, BaseException], Any] | None = None,
    ) -> None:
        self.action_type = action_type
        self.proxy_target = proxy_target
        # `None` for the view's result as it is, and for its exception raised again.
        self.adapt = adapt
        self.recover = recover


def _sync_wrapper(function: Callable[..., Any], marks: _Marks) -> Callable[..., Any]:
    action_type, proxy_target = marks.action_type, marks.proxy_target
    adapt, recover = marks.adapt, marks.recover

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = _current.get()
        if context is not None:
            # Under the middleware, whose event this is: annotate its context, no more.
            if action_type is not None:
                context.action_type = action_type
            if proxy_target is not None:
                context.proxy_target = proxy_target
            if context.user == _NO_USER:
                _adopt_user(context, args, kwargs, True)
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                if recover is None:
                    raise
                return recover(context, error)
            return result if adapt is None else adapt(context, result)
        # Without the middleware the decorator writes the event, in a context of its own.
        request = _django_request(args, kwargs)
        if request is None:
            return function(*args, **kwargs)
        log = RequestLog.begin(request)
        context = log.context
        token = _current.set(context)
        if action_type is not None:
            context.action_type = action_type
        if proxy_target is not None:
            context.proxy_target = proxy_target
        _adopt_user(context, args, kwargs, True)
        response: Any = None
        failed_status: int | None = None
        try:
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                if recover is None:
                    raise
                response = recover(context, error)
            else:
                response = result if adapt is None else adapt(context, result)
            return response
        except BaseException as error:
            # Standalone, the event has the status the framework will answer the error with.
            failed_status = _status_of(error)
            raise
        finally:
            user = request_user(request)
            _current.reset(token)
            log.finish(request, _for_event(response), user, failed_status)

    return wrapper


def _async_wrapper(
    function: Callable[..., Awaitable[Any]], marks: _Marks
) -> Callable[..., Awaitable[Any]]:
    # The same steps as `_sync_wrapper`, awaiting the view and loading a lazy user with
    # `auser()`.
    action_type, proxy_target = marks.action_type, marks.proxy_target
    adapt, recover = marks.adapt, marks.recover

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = _current.get()
        if context is not None:
            # Under the middleware, whose event this is: annotate its context, no more.
            if action_type is not None:
                context.action_type = action_type
            if proxy_target is not None:
                context.proxy_target = proxy_target
            if context.user == _NO_USER:
                _adopt_user(context, args, kwargs, False)
            try:
                result = await function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                if recover is None:
                    raise
                return recover(context, error)
            return result if adapt is None else adapt(context, result)
        request = _django_request(args, kwargs)
        if request is None:
            return await function(*args, **kwargs)
        log = RequestLog.begin(request)
        context = log.context
        token = _current.set(context)
        if action_type is not None:
            context.action_type = action_type
        if proxy_target is not None:
            context.proxy_target = proxy_target
        _adopt_user(context, args, kwargs, False)
        response: Any = None
        failed_status: int | None = None
        try:
            try:
                result = await function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                if recover is None:
                    raise
                response = recover(context, error)
            else:
                response = result if adapt is None else adapt(context, result)
            return response
        except BaseException as error:
            # Standalone, the event has the status the framework will answer the error with.
            failed_status = _status_of(error)
            raise
        finally:
            user = await arequest_user(request)
            _current.reset(token)
            log.finish(request, _for_event(response), user, failed_status)

    return wrapper


def _for_event(response: Any) -> HttpResponseBase | None:
    if isinstance(response, HttpResponseBase):
        return response
    return None


def _decorate(function: View, marks: _Marks) -> View:
    if iscoroutinefunction(function):
        return cast(View, _async_wrapper(function, marks))
    return cast(View, _sync_wrapper(function, marks))


@overload
def log_api_request(action_type: View) -> View: ...


@overload
def log_api_request(action_type: str | None = None) -> Callable[[View], View]: ...


def log_api_request(action_type: str | View | None = None) -> Callable[[View], View] | View:
    """Logs each call of a view as an ``api_request`` event with its ``action_type``; the
    seed's decorator.

    ::

        class api_signup(APIView):
            @log_api_request(action_type="USER_SIGNUP")
            def post(self, request): ...

        @log_api_request(action_type="PROFILE_READ")
        async def profile(request, pk): ...

    An exception raised by the view is recorded (``error_type`` is its class, DRF's
    validation details become ``error_message``) and propagates to the framework.
    """
    if callable(action_type):
        return _decorate(action_type, _Marks())
    marks = _Marks(action_type)

    def decorate(function: View) -> View:
        return _decorate(function, marks)

    return decorate


def log_proxy_request(target_service: str) -> Callable[[View], View]:
    """Marks a view as forwarding its request to ``target_service``; the seed's decorator.

    Calls made inside with :func:`~logfleet.log_external_request` default to that
    ``target_service``, and the view's ``api_request`` event carries ``target_service``,
    ``upstream_status_code``, ``upstream_duration_ms`` and ``upstream_error_type``. A
    ``requests.Response`` the view returns is relayed as a Django response (status, body,
    content type), as the seed's example does; an upstream that cannot be reached becomes a
    ``502`` (``504`` on timeout) instead of a crash::

        @log_proxy_request("access_postgresql")
        def signup(request):
            url_access = "http://access_postgresql:4000/api/signup/"
            response = log_external_request(url_access, "POST", json=data)
            return response
    """

    def adapt(context: RequestContext, result: Any) -> Any:
        return relay(result)

    def recover(context: RequestContext, error: BaseException) -> Any:
        # An error of `requests` was raised by it, so it is imported if there is one.
        requests = sys.modules.get("requests")
        if requests is None or not isinstance(error, requests.RequestException):
            raise error
        timed_out = isinstance(error, requests.Timeout)
        status = 504 if timed_out else 502
        error_type = "UpstreamTimeout" if timed_out else "UpstreamUnavailable"
        message = f"{target_service} {'timed out' if timed_out else 'is unavailable'}"
        # The proxy's own event says what went wrong in the demo's vocabulary; the call's
        # `inter_service` event has the network error itself.
        context.error = (error_type, f"{message}: {error}")
        return JsonResponse({"error": error_type, "message": message}, status=status)

    marks = _Marks(None, target_service, adapt, recover)

    def decorate(function: View) -> View:
        return _decorate(function, marks)

    return decorate


# Hop-by-hop and transport headers that describe the upstream's connection, not the content.
_NOT_RELAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-encoding",
        "content-length",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
        "server",
        "date",
        "set-cookie",
    }
)


def relay(result: Any) -> Any:
    """A ``requests.Response`` as a Django response (status, body, content type and end-to-end
    headers); anything else unchanged."""
    # A `requests.Response` was made by `requests`, so it is imported if there is one.
    requests = sys.modules.get("requests")
    if requests is None or not isinstance(result, requests.Response):
        return result
    response = HttpResponse(
        content=result.content,
        status=result.status_code,
        content_type=result.headers.get("Content-Type"),
    )
    for name, value in result.headers.items():
        if name.lower() not in _NOT_RELAYED and name.lower() != "content-type":
            response[name] = value
    return response
