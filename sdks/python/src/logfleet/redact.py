"""Redaction: sensitive values never leave the process.

The same two rules as the Rust SDK and the server's ``redact_secrets`` processor
(``crates/model/src/redact.rs``), applied to every field of every event on the sender thread:

- **by key**: a field whose name contains ``password``, ``passwd``, ``pwd``, ``secret``,
  ``token``, ``authorization``, ``cookie``, ``api_key``/``apikey``, ``private_key``,
  ``credential``, ``card_number``, ``credit_card`` or ``cvv`` (ASCII case ignored, ``-`` equal
  to ``_``, so ``user_password``, ``X-Api-Key`` and ``Set-Cookie`` all match) has its whole
  value replaced, objects included;
- **by value**: inside any string, card numbers (13-19 digits, optionally grouped by single
  spaces or dashes, starting with 2-6, Luhn-valid), ``Bearer`` tokens, JWTs and the value of
  ``key=value`` / ``key: value`` pairs whose key is sensitive are replaced. Integers that look
  like card numbers are replaced too.

The shared test vectors (``tests/vectors/sdk``) hold both SDKs to the same output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

SENSITIVE_KEY_FRAGMENTS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "private_key",
    "credential",
    "card_number",
    "credit_card",
    "cvv",
)

_DIGITS = frozenset("0123456789")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=")
_JWT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_VALUE_END = frozenset(" \t\n\r\x0c&,;\"'")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SEPARATOR = re.compile("[=:]")
# What every rule needs to find something: a separator, the word bearer, the start of a JWT,
# or 13 digits with at most single spaces or dashes between them. Most values have none, and
# one search says so faster than running the rules.
_TRIGGER = re.compile(r"[=:]|[bB][eE][aA][rR][eE][rR]|eyJ|[0-9](?:[ -]?[0-9]){12}")
_SMALLEST_CARD = 1_000_000_000_000


def _is_ascii_alnum(char: str) -> bool:
    return char in _ALNUM


class Redactor:
    """The redaction rules of one SDK instance.

    >>> redactor = Redactor()
    >>> redactor.is_sensitive_key("X-Api-Key")
    True
    >>> redactor.redact_text("GET /login?user=bob&password=hunter2")
    'GET /login?user=bob&password=[REDACTED]'
    """

    __slots__ = ("_cache", "_fragments", "enabled")

    def __init__(self, enabled: bool = True, extra_keys: Iterable[str] = ()) -> None:
        self.enabled = enabled
        extra = tuple(key.lower().replace("-", "_") for key in extra_keys if key.strip() != "")
        self._fragments = SENSITIVE_KEY_FRAGMENTS + extra
        # Field names repeat in every event: remember the verdict for each one seen.
        self._cache: dict[str, bool] = {}

    def is_sensitive_key(self, key: str) -> bool:
        """Whether a field of this name has its whole value redacted."""
        if not self.enabled:
            return False
        verdict = self._cache.get(key)
        if verdict is None:
            normalised = _ascii_lower(key).replace("-", "_")
            verdict = any(fragment in normalised for fragment in self._fragments)
            if len(self._cache) < 4096:
                self._cache[key] = verdict
        return verdict

    def is_card_number(self, value: int) -> bool:
        """Whether an integer value is a card number."""
        if not self.enabled or abs(value) < _SMALLEST_CARD:
            return False
        return _looks_like_card(str(abs(value)))

    def redact_text(self, text: str) -> str:
        """The text with card numbers, bearer tokens, JWTs and sensitive pairs replaced."""
        if not self.enabled or len(text) < 8 or _TRIGGER.search(text) is None:
            return text
        lowered = _ascii_lower(text)
        spans: list[tuple[int, int]] = []
        if "bearer" in lowered:
            start = lowered.find("bearer")
            while start != -1:
                _find_bearer_token_at(text, start, spans)
                start = lowered.find("bearer", start + 1)
        if "eyJ" in text:
            start = text.find("eyJ")
            while start != -1:
                _find_jwt_at(text, start, spans)
                start = text.find("eyJ", start + 1)
        if sum(1 for char in text if char in _DIGITS) >= 13:
            _find_card_numbers(text, spans)
        if "=" in text or ":" in text:
            self._find_sensitive_pairs(text, spans)
        if not spans:
            return text
        return _replace_spans(text, spans)

    def _find_sensitive_pairs(self, text: str, spans: list[tuple[int, int]]) -> None:
        length = len(text)
        for match in _SEPARATOR.finditer(text):
            separator = match.start()
            key_start = separator
            while key_start > 0 and text[key_start - 1] in _KEY_CHARS:
                key_start -= 1
            if key_start == separator:
                continue
            if not self.is_sensitive_key(text[key_start:separator]):
                continue
            value_start = separator + 1
            while value_start < length and text[value_start] in " \"'":
                value_start += 1
            value_end = value_start
            while value_end < length and text[value_end] not in _VALUE_END:
                value_end += 1
            if value_end > value_start:
                spans.append((value_start, value_end))


def _ascii_lower(text: str) -> str:
    # Only ASCII letters fold, as in the Rust rules (`str.lower` would also fold others).
    return (
        text.lower()
        if text.isascii()
        else "".join(char.lower() if char.isascii() else char for char in text)
    )


def _find_card_numbers(text: str, spans: list[tuple[int, int]]) -> None:
    length = len(text)
    index = 0
    while index < length:
        starts_run = text[index] in _DIGITS and (index == 0 or not _is_ascii_alnum(text[index - 1]))
        if not starts_run:
            index += 1
            continue
        start = index
        end = index
        digits: list[str] = []
        cursor = index
        while cursor < length:
            char = text[cursor]
            if char in _DIGITS:
                digits.append(char)
                cursor += 1
                end = cursor
            elif char in " -" and cursor + 1 < length and text[cursor + 1] in _DIGITS:
                cursor += 1
            else:
                break
        ends_cleanly = end >= length or not _is_ascii_alnum(text[end])
        if ends_cleanly and _looks_like_card("".join(digits)):
            spans.append((start, end))
        index = max(end, index + 1)


def _looks_like_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn_valid(digits)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _find_bearer_token_at(text: str, start: int, spans: list[tuple[int, int]]) -> None:
    # `Bearer`, `bearer` or any ASCII case, as a word, followed by spaces and something that
    # looks like a token (8+ token characters with a digit, or 20+), so prose stays.
    if start > 0 and _is_ascii_alnum(text[start - 1]):
        return
    token_start = start + 6
    length = len(text)
    spaces = 0
    while token_start + spaces < length and text[token_start + spaces] == " ":
        spaces += 1
    if spaces == 0:
        return
    token_start += spaces
    token_end = token_start
    while token_end < length and text[token_end] in _TOKEN_CHARS:
        token_end += 1
    token_length = token_end - token_start
    has_digit = any(char in _DIGITS for char in text[token_start:token_end])
    if token_length >= 20 or (token_length >= 8 and has_digit):
        spans.append((start, token_end))


def _find_jwt_at(text: str, start: int, spans: list[tuple[int, int]]) -> None:
    # Three base64url segments separated by dots, the first starting with `eyJ`.
    if start > 0 and text[start - 1] in _JWT_CHARS:
        return
    length = len(text)
    cursor = start
    dots = 0
    while True:
        segment_start = cursor
        while cursor < length and text[cursor] in _JWT_CHARS:
            cursor += 1
        segment = cursor - segment_start
        if dots == 2 or (segment == 0 and dots < 2):
            break
        if cursor < length and text[cursor] == ".":
            dots += 1
            cursor += 1
        else:
            break
    if dots == 2:
        spans.append((start, cursor))


def _replace_spans(text: str, spans: list[tuple[int, int]]) -> str:
    spans.sort()
    parts: list[str] = []
    written = 0
    for start, end in spans:
        if start < written:
            # Overlaps the previous replacement: widen it.
            written = max(written, end)
            continue
        parts.append(text[written:start])
        parts.append(REDACTED)
        written = end
    parts.append(text[written:])
    return "".join(parts)
