"""The seed's view decorators: ``@log_api_request(action_type=...)`` and
``@log_proxy_request(target_service)``.

Both work on function views, on methods of class-based views and DRF ``APIView``s, sync and
``async``. Under :class:`~logfleet.django.LogfleetMiddleware` they annotate the request's
context (its ``action_type``, the upstream it is forwarded to, the view's exception) and the
middleware writes the one ``api_request`` event; without the middleware the decorator writes
that event itself, so the seed's examples run as written either way.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast, overload

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.functional import empty

from logfleet.context import RequestContext, current_context, reset_context, set_context
from logfleet.django.middleware import (
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


class _ViewCall:
    """One call of a decorated view: the context it runs in — the middleware's, or, without
    the middleware, one of its own whose ``api_request`` event the decorator writes."""

    def __init__(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        prepare: Callable[[RequestContext], None],
        load_user: bool,
    ) -> None:
        self.log: RequestLog | None = None
        self.request: HttpRequest | None = None
        self._token: contextvars.Token[RequestContext | None] | None = None
        context = current_context()
        if context is None:
            self.request = _django_request(args, kwargs)
            if self.request is not None:
                self.log = RequestLog.begin(self.request)
                context = self.log.context
                self._token = set_context(context)
        self.context = context
        if context is not None:
            prepare(context)
            _adopt_user(context, args, kwargs, evaluate=load_user)

    def finish(
        self, response: Any, user: tuple[str | None, str | None] | None, failed_status: int | None
    ) -> None:
        if self.log is None or self.request is None or self._token is None:
            return
        reset_context(self._token)
        self.log.finish(self.request, _for_event(response), user, failed_status)


def _sync_wrapper(
    function: Callable[..., Any],
    prepare: Callable[[RequestContext], None],
    adapt: Callable[[RequestContext, Any], Any],
    recover: Callable[[RequestContext, BaseException], Any],
) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = current_context()
        if context is not None:
            # Under the middleware, whose event this is: annotate its context, no more.
            prepare(context)
            _adopt_user(context, args, kwargs, evaluate=True)
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                return recover(context, error)
            return adapt(context, result)
        call = _ViewCall(args, kwargs, prepare, load_user=True)
        context = call.context
        if context is None:
            return function(*args, **kwargs)
        response: Any = None
        failed_status: int | None = None
        try:
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                response = recover(context, error)
            else:
                response = adapt(context, result)
            return response
        except BaseException as error:
            # Standalone, the event has the status the framework will answer the error with.
            failed_status = _status_of(error)
            raise
        finally:
            if call.request is not None:
                call.finish(response, request_user(call.request), failed_status)

    return wrapper


def _async_wrapper(
    function: Callable[..., Awaitable[Any]],
    prepare: Callable[[RequestContext], None],
    adapt: Callable[[RequestContext, Any], Any],
    recover: Callable[[RequestContext, BaseException], Any],
) -> Callable[..., Awaitable[Any]]:
    # The same steps as `_sync_wrapper`, awaiting the view and loading a lazy user with
    # `auser()`.
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = current_context()
        if context is not None:
            # Under the middleware, whose event this is: annotate its context, no more.
            prepare(context)
            _adopt_user(context, args, kwargs, evaluate=False)
            try:
                result = await function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                return recover(context, error)
            return adapt(context, result)
        call = _ViewCall(args, kwargs, prepare, load_user=False)
        context = call.context
        if context is None:
            return await function(*args, **kwargs)
        response: Any = None
        failed_status: int | None = None
        try:
            try:
                result = await function(*args, **kwargs)
            except Exception as error:
                _record(context, error)
                response = recover(context, error)
            else:
                response = adapt(context, result)
            return response
        except BaseException as error:
            # Standalone, the event has the status the framework will answer the error with.
            failed_status = _status_of(error)
            raise
        finally:
            if call.request is not None:
                call.finish(response, await arequest_user(call.request), failed_status)

    return wrapper


def _for_event(response: Any) -> HttpResponseBase | None:
    if isinstance(response, HttpResponseBase):
        return response
    return None


def _reraise(context: RequestContext, error: BaseException) -> Any:
    raise error


def _identity(context: RequestContext, response: Any) -> Any:
    return response


def _decorate(
    function: View,
    prepare: Callable[[RequestContext], None],
    adapt: Callable[[RequestContext, Any], Any] = _identity,
    recover: Callable[[RequestContext, BaseException], Any] = _reraise,
) -> View:
    if iscoroutinefunction(function):
        return cast(View, _async_wrapper(function, prepare, adapt, recover))
    return cast(View, _sync_wrapper(function, prepare, adapt, recover))


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
        return _decorate(action_type, lambda context: None)
    name = action_type

    def prepare(context: RequestContext) -> None:
        if name is not None:
            context.action_type = name

    def decorate(function: View) -> View:
        return _decorate(function, prepare)

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

    def prepare(context: RequestContext) -> None:
        context.proxy_target = target_service

    def adapt(context: RequestContext, result: Any) -> Any:
        return relay(result)

    def recover(context: RequestContext, error: BaseException) -> Any:
        try:
            import requests
        except ImportError:  # pragma: no cover - requests is what the helper calls
            raise error from None
        if not isinstance(error, requests.RequestException):
            return _reraise(context, error)
        timed_out = isinstance(error, requests.Timeout)
        status = 504 if timed_out else 502
        error_type = "UpstreamTimeout" if timed_out else "UpstreamUnavailable"
        message = f"{target_service} {'timed out' if timed_out else 'is unavailable'}"
        # The proxy's own event says what went wrong in the demo's vocabulary; the call's
        # `inter_service` event has the network error itself.
        context.error = (error_type, f"{message}: {error}")
        return JsonResponse({"error": error_type, "message": message}, status=status)

    def decorate(function: View) -> View:
        return _decorate(function, prepare, adapt, recover)

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
    try:
        import requests
    except ImportError:  # pragma: no cover
        return result
    if not isinstance(result, requests.Response):
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
