"""Settings: the LOGFLEET dict, LOGFLEET_* variables, handler defaults, strictness."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest

import logfleet
from logfleet import ConfigError, MemoryWriter, load_settings, request_context
from logfleet.django import logging_config
from logfleet.handlers import JsonFormatter, LogfleetHandler


def test_environment_overrides_the_settings_dict() -> None:
    settings = load_settings(
        {"APP_NAME": "from_code", "SERVICE_TYPE": "data_manager", "QUEUE_CAPACITY": 10},
        environ={
            "LOGFLEET_APP_NAME": "from_env",
            "LOGFLEET_ENVIRONMENT": "production",
            "LOGFLEET_SERVICE_VERSION": "2.0.0",
            "LOGFLEET_URL": "http://logfleet:9200/",
            "LOGFLEET_STDOUT": "yes",
            "LOGFLEET_SPOOL_DIR": "/tmp/spool",
            "LOGFLEET_LEVEL": "WARNING",
            "LOGFLEET_REDACT_KEYS": "ssn, national_id",
            "LOGFLEET_SLOW_QUERY_THRESHOLD_MS": "250",
            "LOGFLEET_PERFORMANCE_INTERVAL": "off",
        },
    )
    assert settings.app_name == "from_env"
    assert settings.service_type == "data_manager"
    assert settings.environment == "production"
    assert settings.service_version == "2.0.0"
    assert settings.bulk_url() == "http://logfleet:9200/_bulk"
    assert settings.stdout is True
    assert settings.spool_dir == "/tmp/spool"
    assert settings.level == "warning"
    assert settings.redact_keys == ("ssn", "national_id")
    assert settings.slow_query_threshold_ms == 250.0
    assert settings.performance_interval is None
    assert settings.queue_capacity == 10


def test_a_misspelt_key_is_rejected_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown LOGFLEET setting `APP_NAMES`"):
        load_settings({"APP_NAMES": "x"}, environ={})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LOGFLEET_STDOUT", "maybe", "invalid value `maybe` for LOGFLEET_STDOUT: expected true"),
        ("LOGFLEET_LEVEL", "loud", "invalid value `loud` for LEVEL"),
        ("LOGFLEET_QUEUE_CAPACITY", "many", "for LOGFLEET_QUEUE_CAPACITY: expected an integer"),
        ("LOGFLEET_URL", "ftp://h", "expected an http or https URL"),
        ("LOGFLEET_QUEUE_CAPACITY", "0", "QUEUE_CAPACITY: must be at least 1"),
        ("LOGFLEET_TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES: `10.0.0.0/33` is not"),
    ],
)
def test_invalid_values_name_the_setting(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={variable: value})


def test_bulk_url_accepts_a_base_or_the_endpoint() -> None:
    assert load_settings({"URL": "http://h:9200/_bulk"}, environ={}).bulk_url() == (
        "http://h:9200/_bulk"
    )
    assert load_settings({"URL": "https://h/prefix"}, environ={}).bulk_url() == (
        "https://h/prefix/_bulk"
    )
    assert load_settings(environ={}).bulk_url() is None


def test_django_settings_and_the_seed_app_name() -> None:
    # tests/settings.py sets the seed's top-level APP_NAME and a LOGFLEET dict.
    sdk = logfleet.configure(writer=MemoryWriter())
    try:
        assert sdk.settings.app_name == "user_service"
        assert sdk.settings.service_type == "proxy_service"
        assert sdk.settings.trusted_proxies == ("10.0.0.0/8",)
    finally:
        sdk.shutdown(1)


def test_seed_logging_with_handler_identity_and_json_console(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("logfleet.core.handler_defaults", {})
    # What dictConfig does with the seed-style LOGGING entries.
    LogfleetHandler(app_name="auth", service_type="proxy_service")
    formatter = JsonFormatter(app_name="auth", service_type="proxy_service")
    output = MemoryWriter()
    # The LOGFLEET dict has no SERVICE_TYPE here: the handler's identity applies.
    sdk = logfleet.configure({"APP_NAME": "auth"}, writer=output)
    try:
        assert sdk.settings.service_type == "proxy_service"
        record = logging.LogRecord("svc", logging.INFO, __file__, 1, "hello %s", ("x",), None)
        with request_context(request_id="req-json"):
            line = json.loads(formatter.format(record))
        assert line["message"] == "hello x"
        assert line["app_name"] == "auth"
        assert line["request_id"] == "req-json"
        assert line["target"] == "svc"
    finally:
        sdk.shutdown(1)


def test_stdlib_records_become_events() -> None:
    output = MemoryWriter()
    sdk = logfleet.configure(writer=output)
    logger = logging.getLogger("tests.stdlib")
    handler = LogfleetHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.debug("not sent: below the SDK's level")
        logger.info("query ran", extra={"log_category": "database", "rows_affected": 3})
        try:
            raise KeyError("missing")
        except KeyError:
            logger.exception("lookup failed")
        logger.critical("on fire")
        assert sdk.flush(5)
        events = {event["message"]: event for event in output.events()}
        assert set(events) == {"query ran", "lookup failed", "on fire"}
        assert events["query ran"]["log_category"] == "database"
        assert events["query ran"]["rows_affected"] == 3
        failed = events["lookup failed"]
        assert (failed["level"], failed["error_type"]) == ("error", "KeyError")
        assert "Traceback" in failed["stack_trace"]
        assert events["on fire"]["level"] == "critical"
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        sdk.shutdown(1)


def test_logging_config_is_a_valid_dict_config() -> None:
    config = logging_config(app_name="user_service", service_type="proxy_service")
    logging.config.dictConfig(config)
    root = logging.getLogger()
    assert any(isinstance(handler, LogfleetHandler) for handler in root.handlers)
    assert any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers)
    logging.config.dictConfig(logging_config(console=False))
