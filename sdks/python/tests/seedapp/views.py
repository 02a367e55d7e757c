"""The seed's usage examples with its own import lines, word for word where it gives code."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# The seed's three import lines as it writes them, so not merged into one.
from .logging_utils import log_authentication_event
from .logging_utils import log_proxy_request, log_external_request
from .utils import log_api_request, log_database_operation, log_user_action

# The seed's proxy calls this URL; the tests point it at a live server.
UPSTREAM = {"url": "http://127.0.0.1:9/api/echo/"}


class api_signup(APIView):
    authentication_classes: list[Any] = []

    @log_api_request(action_type="USER_SIGNUP")
    def post(self, request: Request) -> Response:
        data: Any = request.data
        username = data.get("username", "")
        user = {"id": 7, "username": username}
        log_database_operation("USER_CREATE", "USER", username=username)
        log_user_action("USER_CREATED", user)
        response = Response({"id": 7}, status=201)
        return response


@log_proxy_request("access_postgresql")
def signup(request: HttpRequest) -> Any:
    data = {"username": request.POST.get("username", "")}
    url_access = UPSTREAM["url"]
    response = log_external_request(url_access, "POST", json=data)
    return response


def login(request: HttpRequest) -> JsonResponse:
    username = request.POST.get("username", "")
    client_ip = request.META["REMOTE_ADDR"]
    if request.POST.get("password") != "correct horse":
        # Failed login
        log_authentication_event(
            "LOGIN_FAILED", success=False, username=username, reason="invalid_password"
        )
        return JsonResponse({"ok": False}, status=401)
    user = {"id": 7, "username": username}
    # Successful login
    log_authentication_event("LOGIN_SUCCESS", user=user, ip_address=client_ip)
    return JsonResponse({"ok": True})
