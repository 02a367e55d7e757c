"""Logfleet for Django: the app, the middleware, and the seed's helpers with its signatures.

::

    INSTALLED_APPS = [..., "logfleet.django"]
    MIDDLEWARE = ["logfleet.django.LogfleetMiddleware", ...]
    LOGFLEET = {"APP_NAME": "user_service", "SERVICE_TYPE": "proxy_service",
                "URL": "http://127.0.0.1:9200"}
    LOGGING = logging_config()  # or the dict in the README, to adapt

    from logfleet.django import log_api_request, log_database_operation, log_user_action

    class api_signup(APIView):
        @log_api_request(action_type="USER_SIGNUP")
        def post(self, request):
            log_database_operation("USER_CREATE", "USER", username=username)
            log_user_action("USER_CREATED", user)
            return response
"""

from __future__ import annotations

from typing import Any

from logfleet.context import client_ip, current_context, request_context, set_user
from logfleet.django.decorators import log_api_request, log_proxy_request
from logfleet.django.middleware import LogfleetMiddleware
from logfleet.helpers import (
    DatabaseOperation,
    log_authentication_event,
    log_database_operation,
    log_event,
    log_external_request,
    log_user_action,
    timed_database_operation,
)

__all__ = [
    "DatabaseOperation",
    "LogfleetMiddleware",
    "client_ip",
    "current_context",
    "log_api_request",
    "log_authentication_event",
    "log_database_operation",
    "log_event",
    "log_external_request",
    "log_proxy_request",
    "log_user_action",
    "logging_config",
    "request_context",
    "set_user",
    "timed_database_operation",
]


def logging_config(
    app_name: str | None = None,
    service_type: str | None = None,
    level: str = "INFO",
    console: bool = True,
) -> dict[str, Any]:
    """A ready ``LOGGING`` dict: the root logger (and Django's) to the shipping handler and,
    with ``console``, canonical JSON lines on stderr.

    >>> LOGGING = logging_config(app_name="user_service", service_type="proxy_service")
    >>> sorted(LOGGING["handlers"])
    ['console', 'logfleet']
    """
    identity = {
        key: value
        for key, value in (("app_name", app_name), ("service_type", service_type))
        if value is not None
    }
    handlers: dict[str, Any] = {
        "logfleet": {"class": "logfleet.handlers.LogfleetHandler", **identity}
    }
    if console:
        handlers["console"] = {"class": "logging.StreamHandler", "formatter": "json"}
    names = sorted(handlers)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "logfleet.handlers.JsonFormatter", **identity}},
        "handlers": handlers,
        "root": {"handlers": names, "level": level},
        "loggers": {
            # Django's request errors (500s with their traceback) but not its warnings for
            # 4xx nor its development server's access log: the middleware's events say it.
            "django": {"handlers": names, "level": level, "propagate": False},
            "django.request": {"handlers": names, "level": "ERROR", "propagate": False},
            "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        },
    }
