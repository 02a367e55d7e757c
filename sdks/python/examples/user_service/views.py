"""The proxies' views, as the seed writes them: ``@log_proxy_request`` on plain Django views,
``log_external_request`` for the call, the upstream's answer relayed as it came.

Every call carries ``X-Request-ID`` and ``traceparent`` (the helper adds them), so the data
manager's events join this request's; ``X-Forwarded-For`` is passed on with this hop's peer
appended, as any proxy does, so the data manager sees the real client.
"""

from __future__ import annotations

import json
from typing import Any

import faults
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from logfleet.django import (
    current_context,
    log_api_request,
    log_external_request,
    log_proxy_request,
)

# Headers passed on to the data manager.
FORWARDED_HEADERS = ("Authorization", "User-Agent", faults.FAULT_HEADER, faults.SLOW_QUERY_HEADER)


def forwarded_headers(request: HttpRequest) -> dict[str, str]:
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    chain = request.headers.get("X-Forwarded-For")
    peer = request.META.get("REMOTE_ADDR")
    headers["X-Forwarded-For"] = ", ".join(part for part in (chain, peer) if part)
    headers["Content-Type"] = "application/json"
    return headers


def forward(request: HttpRequest, base_url: str, path: str) -> Any:
    kind = faults.request_fault(request)
    if kind == "upstream_unavailable":
        # The demo's fault for a dependency that is down: the call goes nowhere.
        base_url = "http://127.0.0.1:9"
    return log_external_request(
        f"{base_url}{path}",
        request.method or "GET",
        data=request.body,
        headers=forwarded_headers(request),
        timeout=10,
    )


def rejected(message: str) -> JsonResponse:
    return JsonResponse({"error": "ValidationError", "message": message}, status=400)


def body_of(request: HttpRequest) -> dict[str, Any]:
    try:
        parsed = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@log_api_request(action_type="HEALTH_CHECK")
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_http_methods(["POST"])
@log_api_request(action_type="USER_SIGNUP")
@log_proxy_request("access_postgresql")
def signup(request: HttpRequest) -> Any:
    data = body_of(request)
    username, email = str(data.get("username", "")), str(data.get("email", ""))
    if not 3 <= len(username) <= 32:
        return rejected("username must have 3 to 32 characters")
    if "@" not in email or "." not in email.partition("@")[2]:
        return rejected("email must look like name@example.com")
    if len(str(data.get("password", ""))) < 8:
        return rejected("password must have at least 8 characters")
    response = forward(request, settings.DATA_MANAGER_URL, "/api/signup/")
    return response


@csrf_exempt
@require_http_methods(["POST"])
@log_api_request(action_type="USER_LOGIN")
@log_proxy_request("access_postgresql")
def login(request: HttpRequest) -> Any:
    if not body_of(request).get("username"):
        return rejected("username is required")
    return forward(request, settings.DATA_MANAGER_URL, "/api/login/")


@csrf_exempt
@require_http_methods(["POST"])
@log_api_request(action_type="USER_LOGOUT")
@log_proxy_request("access_postgresql")
def logout(request: HttpRequest) -> Any:
    return forward(request, settings.DATA_MANAGER_URL, "/api/logout/")


ACTIONS = {"GET": "PROFILE_READ", "PUT": "PROFILE_UPDATE", "DELETE": "PROFILE_DELETE"}


@csrf_exempt
@require_http_methods(list(ACTIONS))
@log_proxy_request("access_postgresql")
def profile(request: HttpRequest, user_id: int) -> Any:
    # One view, three actions: the action type is the method's.
    context = current_context()
    if context is not None:
        context.action_type = ACTIONS[request.method or "GET"]
    return forward(request, settings.DATA_MANAGER_URL, f"/api/profile/{user_id}/")


@require_http_methods(["GET"])
@log_api_request(action_type="RECOMMENDATIONS_READ")
@log_proxy_request("recommendations")
def recommendations(request: HttpRequest, user_id: int) -> Any:
    return forward(request, settings.RECOMMENDATIONS_URL, f"/api/recommendations/{user_id}/")
