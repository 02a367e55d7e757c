"""The request context: request id, W3C trace context, endpoint and user, in ``contextvars``.

A request's context is one :class:`RequestContext` held in a ``ContextVar``, so it follows
the request into ``async`` code, into ``sync_to_async`` threads (asgiref copies the context)
and nowhere else. Events read it when they are emitted; the middleware reads it again at
response time for what the view learnt meanwhile (the user, the action type, the upstream).
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple, cast

REQUEST_ID_HEADER = "X-Request-ID"
TRACEPARENT_HEADER = "traceparent"

# W3C trace flags with the `sampled` bit set.
SAMPLED = 0x01

# `random` rather than `secrets`: ids must be unique, not unpredictable, and this is cheaper.
# Re-seeded after fork so workers forked from one parent do not draw the same ids.
_random = random.Random()


def _reseed() -> None:
    _random.seed()


class TraceParent(NamedTuple):
    """The parts of a W3C ``traceparent`` header a service continues (a named tuple: made on
    every request that has the header, and a frozen dataclass costs several times more)."""

    trace_id: str
    parent_id: str
    flags: int


class Upstream(NamedTuple):
    """What a proxy view learnt from the service it forwarded to (a named tuple: made on
    every forwarded call, and a frozen dataclass costs several times more)."""

    target_service: str
    status_code: int | None
    duration_ms: float
    error_type: str | None


_new_trace_parent = cast(
    Callable[[type[TraceParent], tuple[str, str, int]], TraceParent], tuple.__new__
)


@dataclass(eq=False, slots=True)
class RequestContext:
    """The context of one request (or job): the ids every event inside it carries."""

    request_id: str
    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    trace_flags: int = SAMPLED
    endpoint_signature: str | None = None
    client_ip: str | None = None
    # (user_id, user_name), replaced as a whole so a reader never sees half of a change.
    user: tuple[str | None, str | None] = (None, None)
    action_type: str | None = None
    # Set by `log_proxy_request` (the service this request is forwarded to) and by the call.
    proxy_target: str | None = None
    upstream: Upstream | None = None
    # A view's own description of its failure, for the api_request event.
    error: tuple[str, str] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def set_user(self, user_id: object, user_name: object) -> None:
        """Sets ``user_id`` and ``user_name`` for the events that follow."""
        self.user = (
            None if user_id is None else str(user_id),
            None if user_name is None else str(user_name),
        )


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "logfleet_request_context", default=None
)


def current_context() -> RequestContext | None:
    """The context of the request being handled, or ``None`` outside a request."""
    return _current.get()


def set_context(context: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    """Makes ``context`` current; reset with the returned token."""
    return _current.set(context)


def reset_context(token: contextvars.Token[RequestContext | None]) -> None:
    """Restores the context that was current before :func:`set_context`."""
    _current.reset(token)


def new_context(
    request_id: str | None = None,
    traceparent: str | None = None,
    endpoint_signature: str | None = None,
    client_ip: str | None = None,
) -> RequestContext:
    """A context for a new unit of work: the given (valid) request id or a new one, the trace
    of ``traceparent`` continued or a new one, and a new span id."""
    parent = parse_traceparent(traceparent) if traceparent else None
    checked_id = valid_request_id(request_id) if request_id else None
    # Positional: made on every request, and keywords cost more to pass.
    if parent is None:
        return RequestContext(
            checked_id or new_request_id(),
            new_trace_id(),
            new_span_id(),
            None,
            SAMPLED,
            endpoint_signature,
            client_ip,
        )
    return RequestContext(
        checked_id or new_request_id(),
        parent.trace_id,
        new_span_id(),
        parent.parent_id,
        parent.flags,
        endpoint_signature,
        client_ip,
    )


@contextmanager
def request_context(
    request_id: str | None = None,
    traceparent: str | None = None,
    endpoint_signature: str | None = None,
    client_ip: str | None = None,
) -> Iterator[RequestContext]:
    """Runs a block inside a request context: for jobs, queue consumers, management commands.

    >>> with request_context(request_id="job-42", endpoint_signature="JOB send_email") as ctx:
    ...     ctx.request_id
    'job-42'
    """
    context = new_context(request_id, traceparent, endpoint_signature, client_ip)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def set_user(user_id: object, user_name: object) -> bool:
    """Sets the user of the current request: ``user_id`` and ``user_name`` on its
    ``api_request`` event and on every event after this call. ``False`` outside a request."""
    context = _current.get()
    if context is None:
        return False
    context.set_user(user_id, user_name)
    return True


def client_ip() -> str | None:
    """The client address of the request being handled, as its events record it."""
    context = _current.get()
    return context.client_ip if context else None


# Identifiers.

# Version, trace id, parent id, flags, and what later versions may add after them.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16


def parse_traceparent(header: str) -> TraceParent | None:
    """Parses ``traceparent`` as W3C Trace Context level 1 says: lowercase hex, all-zero ids
    invalid, version ``ff`` invalid, later versions accepted when they begin with the same
    four fields.

    >>> parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").flags
    1
    """
    # One regular expression rather than a check per part: this runs on every request.
    match = _TRACEPARENT.fullmatch(header.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, more = match.groups()
    valid = (
        version != "ff"
        and (version != "00" or more is None)
        and trace_id != _ZERO_TRACE_ID
        and parent_id != _ZERO_SPAN_ID
    )
    if not valid:
        return None
    # Made without the named tuple's `__new__` and its keywords: this runs on every request.
    return _new_trace_parent(TraceParent, (trace_id, parent_id, int(flags, 16)))


def format_traceparent(trace_id: str, span_id: str, flags: int) -> str:
    """A ``traceparent`` header value."""
    return f"00-{trace_id}-{span_id}-{flags:02x}"


_VISIBLE_ASCII = re.compile(r"[!-~]{1,128}")


def valid_request_id(candidate: str) -> str | None:
    """An incoming request id, kept when it is visible ASCII, not empty, at most 128 bytes."""
    candidate = candidate.strip()
    return candidate if _VISIBLE_ASCII.fullmatch(candidate) else None


def new_request_id() -> str:
    """A random UUID (version 4) in its usual text form."""
    bits = _random.getrandbits(128)
    bits = (bits & ~(0xF << 76)) | (0x4 << 76)
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)
    text = f"{bits:032x}"
    return f"{text[0:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"


def new_trace_id() -> str:
    """A new W3C trace id: 32 lowercase hex digits, never all zero."""
    # `getrandbits` is several times cheaper than `randrange`; zero (once in 2**128) is 1.
    return f"{_random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    """A new W3C span id: 16 lowercase hex digits, never all zero."""
    return f"{_random.getrandbits(64) or 1:016x}"


# Client addresses.


def canonical_ip(address: str) -> str | None:
    """An address in canonical text form (IPv4-mapped IPv6 as IPv4), or ``None`` if invalid."""
    return _canonical_ip(address.strip())


# Parsing an address costs microseconds and a service sees the same few clients and proxies
# over and over: the answers are kept, a bounded number of them.
@functools.lru_cache(maxsize=4096)
def _canonical_ip(address: str) -> str | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(entries: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks whose ``X-Forwarded-For`` is believed; ``ValueError`` names a
    bad entry."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"`{entry}` is not an IP address or CIDR block") from None
    return tuple(networks)


def _parse_forwarded(entry: str) -> str | None:
    address = canonical_ip(entry)
    if address is not None:
        return address
    # `198.51.100.7:5555` and `[2001:db8::1]:443`.
    host, _, port = entry.rpartition(":")
    if host and port.isdigit():
        return canonical_ip(host.strip("[]"))
    return None


def resolve_client_ip(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the rightmost
    ``X-Forwarded-For`` entry that is not itself a trusted proxy."""
    client = _canonical_ip(peer.strip()) or peer
    if not trusted or not forwarded_for:
        return client

    def is_trusted(address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed.version == network.version and parsed in network for network in trusted)

    if not is_trusted(client):
        return client
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    for entry in reversed(entries):
        # A hop that wrote garbage is not to be believed; the last good address stands.
        address = _parse_forwarded(entry)
        if address is None:
            break
        client = address
        if not is_trusted(address):
            break
    return client
