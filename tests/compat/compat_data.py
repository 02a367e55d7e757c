"""Deterministic, seed-style log events shared by the client compatibility tests.

Everything here is plain Python so that the expected results of every query
can be computed locally and compared with what the server answers.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timedelta, timezone

CATEGORIES = ("api_request", "database", "inter_service", "performance", "audit")

# All events fall inside this 24 h window (UTC).
BASE_TIME = datetime(2025, 3, 1, tzinfo=timezone.utc)
WINDOW = timedelta(hours=24)

# Name of a backing index as Elasticsearch builds it:
# .ds-<data-stream>-<yyyy.MM.dd>-<6-digit generation>
BACKING_INDEX_RE = r"\.ds-{stream}-\d{{4}}\.\d{{2}}\.\d{{2}}-\d{{6}}"

APPS = ("checkout-service", "billing-api", "user-service", "search-gateway", "inventory")
USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
ENDPOINTS = (
    "GET /api/v1/orders/{id}",
    "POST /api/v1/orders",
    "GET /api/v1/users/{id}",
    "PUT /api/v1/cart/{id}",
    "DELETE /api/v1/sessions/{id}",
)
QUERIES = ("SELECT orders BY id", "INSERT order_items", "UPDATE users SET last_seen", "SELECT inventory")
PEERS = ("payments", "notifications", "ledger", "fraud-check")
METRICS = ("gc_pause", "heap_usage", "p99_latency", "queue_depth")
AUDIT_ACTIONS = ("login", "logout", "role_change", "password_reset", "export")

# Relative weights of the categories in the generated stream.
_CATEGORY_WEIGHTS = (40, 20, 15, 15, 10)


def backing_index_pattern(data_stream: str) -> str:
    """Full-match regex for a backing index of `data_stream`."""
    return BACKING_INDEX_RE.format(stream=re.escape(data_stream))


def fmt_ts(dt: datetime) -> str:
    """RFC 3339 UTC with millisecond precision, e.g. 2025-03-01T06:00:00.000Z."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(s: str) -> datetime:
    assert s.endswith("Z"), s
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _status_for(rng: random.Random, category: str) -> int:
    roll = rng.random()
    if category == "api_request":
        if roll < 0.70:
            return rng.choice((200, 200, 201, 204))
        if roll < 0.88:
            return rng.choice((400, 401, 403, 404, 429))
        return rng.choice((500, 502, 503))
    if category == "audit":
        return 200 if roll < 0.85 else 403
    # database / inter_service / performance
    if roll < 0.85:
        return 200
    return rng.choice((500, 503, 504))


def _level_for(rng: random.Random, status: int) -> str:
    if status >= 500:
        return "error"
    if status >= 400:
        return "warn"
    return "debug" if rng.random() < 0.1 else "info"


def _response_category(status: int) -> str:
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    if status >= 300:
        return "redirect"
    return "success"


def make_event(rng: random.Random, category: str | None = None) -> dict:
    """One event. Every event has the same field types:
    @timestamp str (RFC 3339 UTC), log_category/level/message/app_name/
    endpoint_signature/client_ip/event_id/response_category str, status_code int,
    duration_ms float (two decimals). user_name is present only on some events."""
    if category is None:
        category = rng.choices(CATEGORIES, weights=_CATEGORY_WEIGHTS)[0]
    ts = BASE_TIME + timedelta(milliseconds=rng.randrange(int(WINDOW.total_seconds() * 1000)))
    status = _status_for(rng, category)
    level = _level_for(rng, status)
    app = rng.choice(APPS)
    # duration in [0.50, 2000.00], two decimals, always a float in JSON.
    duration = round(rng.uniform(0.5, 2000.0), 2)
    if category == "api_request":
        endpoint = rng.choice(ENDPOINTS)
        message = f"{endpoint} -> {status} in {duration}ms"
    elif category == "database":
        endpoint = rng.choice(QUERIES)
        message = f"query '{endpoint}' finished with {status}"
    elif category == "inter_service":
        peer = rng.choice(PEERS)
        endpoint = f"rpc {peer}.call"
        message = f"call to {peer} returned {status}"
    elif category == "performance":
        metric = rng.choice(METRICS)
        endpoint = f"metric {metric}"
        message = f"{metric} sample {duration}"
    else:
        action = rng.choice(AUDIT_ACTIONS)
        endpoint = f"audit {action}"
        message = f"user action {action} result {status}"
    event = {
        "@timestamp": fmt_ts(ts),
        "event_id": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        "log_category": category,
        "level": level,
        "message": message,
        "app_name": app,
        "endpoint_signature": endpoint,
        "status_code": status,
        # As the SDKs send it: complete, so that the built-in pipeline (which fills it in when
        # missing) leaves the source as sent.
        "response_category": _response_category(status),
        "duration_ms": float(duration),
        "client_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
    }
    if category in ("api_request", "audit") and rng.random() < 0.8:
        event["user_name"] = rng.choice(USERS)
    return event


def generate_events(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [make_event(rng) for _ in range(n)]
