"""The data manager's API, written the way the seed writes it: DRF views decorated with
``@log_api_request(action_type=...)``, every query through ``log_database_operation``'s timer,
every data change and login in the audit trail.

No view writes a log line by hand: the middleware and the decorator log the requests, the
helpers the rest. Errors are DRF exceptions named like the Rust demo's (``ValidationError``,
``InvalidCredentials``, ``Forbidden``…), which become each request's ``error_type``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, TypeVar

import faults
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access_postgresql.models import Profile, Session
from logfleet.django import (
    client_ip,
    log_api_request,
    log_authentication_event,
    log_user_action,
    set_user,
    timed_database_operation,
)

T = TypeVar("T")

MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 60.0


class InvalidCredentials(APIException):
    status_code = 401
    default_detail = "invalid username or password"


class Unauthenticated(APIException):
    status_code = 401
    default_detail = "a bearer token is required"


class Forbidden(APIException):
    status_code = 403
    default_detail = "you may only access your own profile"


class NotFound(APIException):
    status_code = 404
    default_detail = "no such user"


class Conflict(APIException):
    status_code = 409
    default_detail = "username already exists"


class TooManyAttempts(APIException):
    status_code = 429
    default_detail = "too many failed logins from this address; try again later"


class DatabaseError(APIException):
    status_code = 500
    default_detail = "database unavailable"


class InjectedFault(APIException):
    status_code = 500


def query(
    operation: str,
    entity: str,
    fault: faults.QueryFault | None,
    run: Callable[[], T],
    count: Callable[[T], int] = lambda _: 1,
    **context: Any,
) -> T:
    """Runs one query under ``timed_database_operation``: its duration, rows and failure
    (``slow_query`` over the threshold), with the demo's injected faults."""
    try:
        with timed_database_operation(operation, entity, **context) as timer:
            if fault is not None:
                fault.apply()
            result = run()
            timer.rows_affected = count(result)
            return result
    except (faults.InjectedDatabaseError, IntegrityError) as error:
        if isinstance(error, IntegrityError):
            raise Conflict from error
        raise DatabaseError from error


def check_request_fault(request: Request) -> faults.QueryFault:
    kind = faults.request_fault(request._request)
    if kind is not None:
        raise InjectedFault(f"injected fault: {kind}")
    return faults.QueryFault(request._request)


class BearerSessionAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` of a session made by ``/api/login/``."""

    def authenticate(self, request: Request) -> tuple[User, Session] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        token = header.removeprefix("Bearer ")
        session = query(
            "SESSION_READ",
            "SESSION",
            None,
            lambda: Session.objects.select_related("user").filter(token=token).first(),
            lambda found: int(found is not None),
        )
        if session is None:
            raise Unauthenticated("session expired")
        return session.user, session


def authenticated(request: Request) -> tuple[User, Session]:
    user, session = request.user, request.auth
    if not isinstance(user, User) or not isinstance(session, Session):
        raise Unauthenticated
    return user, session


def body(request: Request) -> dict[str, Any]:
    """The JSON object sent; anything else (an array, a scalar) reads as no fields."""
    data = request.data
    return data if isinstance(data, dict) else {}


def authorize(request: Request, user_id: int, action: str) -> User:
    user, _ = authenticated(request)
    if user.pk != user_id:
        log_user_action(
            "ACCESS_DENIED",
            user,
            success=False,
            reason=f"{action} on user {user_id}",
            target_entity="USER",
        )
        raise Forbidden
    return user


def validate_signup(username: str, email: str, password: str) -> None:
    if not 3 <= len(username) <= 32:
        raise ValidationError("username must have 3 to 32 characters")
    if not all(char.isascii() and (char.isalnum() or char in "_.-") for char in username):
        raise ValidationError("username may contain letters, digits, '_', '.' and '-' only")
    validate_email(email)
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters")


def validate_email(email: str) -> None:
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254:
        raise ValidationError("email must look like name@example.com")


# Failed logins per client address, for the brute-force limit.
_failures: dict[str, deque[float]] = defaultdict(deque)
_failures_lock = threading.Lock()


def is_blocked(address: str | None) -> bool:
    if address is None:
        return False
    with _failures_lock:
        recent = _failures[address]
        while recent and time.monotonic() - recent[0] > FAILURE_WINDOW_SECONDS:
            recent.popleft()
        return len(recent) >= MAX_FAILURES


def record_failure(address: str | None) -> None:
    if address is not None:
        with _failures_lock:
            _failures[address].append(time.monotonic())


def profile_of(user: User) -> dict[str, Any]:
    profile, _ = Profile.objects.get_or_create(user=user)
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "full_name": profile.full_name,
        "bio": profile.bio,
    }


class api_health(APIView):
    @log_api_request(action_type="HEALTH_CHECK")
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class api_signup(APIView):
    @log_api_request(action_type="USER_SIGNUP")
    def post(self, request: Request) -> Response:
        fault = check_request_fault(request)
        username = str(body(request).get("username", ""))
        email = str(body(request).get("email", ""))
        password = str(body(request).get("password", ""))
        validate_signup(username, email, password)
        with transaction.atomic():
            user = query(
                "USER_CREATE",
                "USER",
                fault,
                lambda: User.objects.create_user(username, email, password),
                username=username,
            )
        # The new user is this request's user: on its api_request event and what follows.
        set_user(user.pk, username)
        log_user_action("USER_CREATED", user, target_entity="USER")
        return Response({"id": user.pk, "username": username}, status=status.HTTP_201_CREATED)


class api_login(APIView):
    @log_api_request(action_type="USER_LOGIN")
    def post(self, request: Request) -> Response:
        fault = check_request_fault(request)
        username = str(body(request).get("username", ""))
        password = str(body(request).get("password", ""))
        address = client_ip()
        if is_blocked(address):
            log_authentication_event(
                "LOGIN_FAILED", success=False, username=username, reason="too_many_attempts"
            )
            raise TooManyAttempts
        user = query(
            "USER_LOOKUP",
            "USER",
            fault,
            lambda: User.objects.filter(username=username).first(),
            lambda found: int(found is not None),
            username=username,
        )
        if user is None or not user.check_password(password):
            record_failure(address)
            reason = "unknown_user" if user is None else "invalid_password"
            log_authentication_event(
                "LOGIN_FAILED", success=False, username=username, reason=reason
            )
            raise InvalidCredentials
        session = query(
            "SESSION_CREATE",
            "SESSION",
            None,
            lambda: Session.objects.create(
                token=secrets.token_urlsafe(32),
                session_id=secrets.token_hex(8),
                user=user,
                created_at_ms=int(time.time() * 1000),
            ),
        )
        set_user(user.pk, user.username)
        log_authentication_event("LOGIN_SUCCESS", user=user, session_id=session.session_id)
        return Response({"token": session.token, "user_id": user.pk})


class api_logout(APIView):
    authentication_classes = [BearerSessionAuthentication]

    @log_api_request(action_type="USER_LOGOUT")
    def post(self, request: Request) -> Response:
        check_request_fault(request)
        user, session = authenticated(request)
        query("SESSION_DELETE", "SESSION", None, lambda: session.delete()[0], lambda rows: rows)
        duration_ms = max(0, int(time.time() * 1000) - session.created_at_ms)
        log_authentication_event(
            "LOGOUT", user=user, session_id=session.session_id, session_duration_ms=duration_ms
        )
        return Response({"session_duration_ms": duration_ms})


class api_profile(APIView):
    authentication_classes = [BearerSessionAuthentication]

    @log_api_request(action_type="PROFILE_READ")
    def get(self, request: Request, user_id: int) -> Response:
        fault = check_request_fault(request)
        authorize(request, user_id, "PROFILE_READ")
        user = query(
            "USER_READ",
            "USER",
            fault,
            lambda: User.objects.filter(pk=user_id).first(),
            lambda found: int(found is not None),
        )
        if user is None:
            raise NotFound
        return Response(profile_of(user))

    @log_api_request(action_type="PROFILE_UPDATE")
    def put(self, request: Request, user_id: int) -> Response:
        fault = check_request_fault(request)
        user = authorize(request, user_id, "PROFILE_UPDATE")
        email = str(body(request).get("email", user.email))
        validate_email(email)
        current = profile_of(user)
        full_name = str(body(request).get("full_name", current["full_name"]))
        bio = str(body(request).get("bio", current["bio"]))

        def update() -> int:
            User.objects.filter(pk=user_id).update(email=email)
            updated: int = Profile.objects.filter(user_id=user_id).update(
                full_name=full_name, bio=bio
            )
            return updated

        query("USER_UPDATE", "USER", fault, update, lambda rows: rows)
        log_user_action("PROFILE_UPDATED", user, target_entity="USER")
        return Response({"id": user_id, "email": email, "full_name": full_name, "bio": bio})

    @log_api_request(action_type="PROFILE_DELETE")
    def delete(self, request: Request, user_id: int) -> Response:
        fault = check_request_fault(request)
        user = authorize(request, user_id, "PROFILE_DELETE")
        query(
            "SESSION_DELETE_ALL",
            "SESSION",
            None,
            lambda: Session.objects.filter(user_id=user_id).delete()[0],
            lambda rows: rows,
        )
        query(
            "USER_DELETE",
            "USER",
            fault,
            lambda: User.objects.filter(pk=user_id).delete()[0],
            lambda rows: rows,
        )
        log_user_action("USER_DELETED", user, target_entity="USER")
        return Response(status=status.HTTP_204_NO_CONTENT)
