"""Every setting of the SDK in one place, with its default and its ``LOGFLEET_*`` variable.

Settings come from, in increasing precedence: the defaults below, the arguments of the
``LOGGING`` handler (``app_name``, ``service_type``), the ``LOGFLEET`` dict in Django's
settings (or the keyword arguments of :func:`logfleet.configure`), and ``LOGFLEET_<KEY>``
environment variables, so a deployment overrides what the code says. Unknown keys are
errors that name the key: a misspelt setting must not be silently ignored.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from logfleet.context import parse_trusted_proxies
from logfleet.schema import DEFAULT_SLOW_QUERY_THRESHOLD_MS, LEVELS, LOG_CATEGORIES


class ConfigError(ValueError):
    """A setting has an unknown name or an invalid value; the message names it."""


def _detect_host() -> str:
    # `$HOSTNAME`, else the kernel's host name, as the Rust SDK does.
    name = os.environ.get("HOSTNAME", "").strip() or socket.gethostname().strip()
    return name or "unknown"


@dataclass(frozen=True)
class Settings:
    """The SDK's settings. Keys of the ``LOGFLEET`` dict are these names in upper case."""

    # Identity: the five fields every event carries.
    app_name: str = "unknown_service"
    service_type: str = "service"
    environment: str = "development"
    service_version: str = "unknown"
    host: str = field(default_factory=_detect_host)
    # The least severe level sent: debug, info, warning, error or critical.
    level: str = "info"
    # Outputs: `POST {url}/_bulk` of a Logfleet server or Elasticsearch, and/or JSON lines on
    # stdout (default: on only when no URL is configured).
    url: str | None = None
    stdout: bool | None = None
    index: str = "logs"
    # Undelivered batches wait on disk here (fsync'd) and are sent when the server is back.
    spool_dir: str | None = None
    spool_max_bytes: int = 128 * 1024 * 1024
    # The bounded buffer between request threads and the sender thread.
    queue_capacity: int = 8192
    batch_max_events: int = 1000
    batch_max_bytes: int = 1024 * 1024
    batch_interval: float = 1.0
    max_pending_batches: int = 8
    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 30.0
    request_timeout: float = 10.0
    gzip: bool = True
    # How long the exit handler waits for the last events to be delivered (or spooled).
    exit_timeout: float = 5.0
    performance_interval: float | None = 60.0
    drop_report_interval: float = 60.0
    slow_query_threshold_ms: float = DEFAULT_SLOW_QUERY_THRESHOLD_MS
    redaction: bool = True
    redact_keys: tuple[str, ...] = ()
    # The category of log records outside a request that set none.
    default_category: str = "api_request"
    # Proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    # Paths the middleware does not log (health checks), exact or ending with `*` as a prefix.
    skip_paths: tuple[str, ...] = ()

    def bulk_url(self) -> str | None:
        """``{url}/_bulk``, validated; ``None`` without a URL."""
        if self.url is None:
            return None
        base = self.url.strip().rstrip("/")
        full = base if base.endswith("/_bulk") else f"{base}/_bulk"
        parts = urlsplit(full)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"invalid value `{self.url}` for URL: expected an http or https URL")
        return full

    def validate(self) -> Settings:
        """Checks values that have a range; returns ``self``."""
        if self.level not in LEVELS:
            raise ConfigError(
                f"invalid value `{self.level}` for LEVEL: expected one of {', '.join(LEVELS)}"
            )
        if self.default_category not in LOG_CATEGORIES:
            raise ConfigError(
                f"invalid value `{self.default_category}` for DEFAULT_CATEGORY: "
                f"expected one of {', '.join(LOG_CATEGORIES)}"
            )
        for name in ("queue_capacity", "batch_max_events", "batch_max_bytes", "max_attempts"):
            if getattr(self, name) < 1:
                raise ConfigError(f"invalid value for {name.upper()}: must be at least 1")
        self.bulk_url()
        try:
            parse_trusted_proxies(self.trusted_proxies)
        except ValueError as error:
            raise ConfigError(f"invalid value for TRUSTED_PROXIES: {error}") from None
        return self


_FIELDS = {item.name: item for item in fields(Settings)}
SETTING_NAMES = frozenset(_FIELDS)


def _parse_bool(text: str) -> bool | None:
    return {
        "1": True,
        "true": True,
        "yes": True,
        "on": True,
        "0": False,
        "false": False,
        "no": False,
        "off": False,
    }.get(text.strip().lower())


def _convert(name: str, value: Any, source: str) -> Any:
    """A value of the setting's type, from Python or from an environment string."""
    annotation = str(_FIELDS[name].type)
    from_env = isinstance(value, str) and source.startswith("LOGFLEET_")

    def invalid(reason: str) -> ConfigError:
        return ConfigError(f"invalid value `{value}` for {source}: {reason}")

    if value is None:
        if "None" in annotation:
            return None
        raise invalid("a value is required")
    if annotation.startswith("bool"):
        if isinstance(value, bool):
            return value
        parsed = _parse_bool(str(value))
        if parsed is None:
            raise invalid("expected true or false")
        return parsed
    if annotation.startswith("int"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid("expected an integer") from None
    if annotation.startswith("float"):
        if from_env and "None" in annotation and value.strip().lower() in ("none", "off"):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise invalid("expected a number of seconds") from None
    if annotation.startswith("tuple"):
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return tuple(str(item) for item in value)
    if annotation.startswith("str"):
        text = str(value)
        return text.lower() if name in ("level", "default_category") else text
    raise invalid("unsupported setting type")  # pragma: no cover - the table is closed


def load_settings(
    settings: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Builds :class:`Settings` from, in increasing precedence, lower-case ``defaults``
    (handler arguments), upper-case keys (the ``LOGFLEET`` dict), lower-case ``overrides``
    (arguments of :func:`logfleet.configure`) and ``LOGFLEET_*`` variables.

    >>> settings = load_settings({"APP_NAME": "auth"}, environ={"LOGFLEET_LEVEL": "warning"})
    >>> settings.app_name, settings.level
    ('auth', 'warning')
    """
    values: dict[str, Any] = {}
    for name, value in (defaults or {}).items():
        if name not in _FIELDS:
            raise ConfigError(f"unknown logfleet setting `{name}`")
        values[name] = _convert(name, value, name)
    for key, value in (settings or {}).items():
        name = key.lower()
        if name not in _FIELDS or key != key.upper():
            known = ", ".join(sorted(item.upper() for item in _FIELDS))
            raise ConfigError(f"unknown LOGFLEET setting `{key}`; known settings: {known}")
        values[name] = _convert(name, value, key)
    for name, value in (overrides or {}).items():
        if name not in _FIELDS:
            raise ConfigError(f"unknown logfleet setting `{name}`")
        values[name] = _convert(name, value, name)
    environment = os.environ if environ is None else environ
    for name in _FIELDS:
        variable = f"LOGFLEET_{name.upper()}"
        raw = environment.get(variable)
        if raw is not None and raw.strip() != "":
            values[name] = _convert(name, raw, variable)
    return Settings(**values).validate()
