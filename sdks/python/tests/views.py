"""Views in every shape the decorators support, written as the seed writes them."""

from __future__ import annotations

import logging
import os
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from logfleet.django import (
    log_api_request,
    log_authentication_event,
    log_database_operation,
    log_event,
    log_external_request,
    log_proxy_request,
    log_user_action,
)

logger = logging.getLogger(__name__)


class SignupSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=30)
    password = serializers.CharField(min_length=8)


class api_signup(APIView):
    authentication_classes: list[Any] = []

    @log_api_request(action_type="USER_SIGNUP")
    def post(self, request: Request) -> Response:
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        user = User.objects.create_user(username, password=serializer.validated_data["password"])
        log_database_operation("USER_CREATE", "USER", username=username)
        log_user_action("USER_CREATED", user)
        logger.info("signed up %s", username, extra={"plan": "free"})
        return Response({"id": user.pk}, status=status.HTTP_201_CREATED)


class api_me(APIView):
    @log_api_request(action_type="PROFILE_READ")
    def get(self, request: Request) -> Response:
        logger.info("profile read")
        user = request.user
        return Response({"username": user.get_username() if user else None})


@log_api_request(action_type="USER_READ")
def user_detail(request: HttpRequest, pk: int) -> JsonResponse:
    log_database_operation("USER_READ", "USER", rows_affected=1, user_pk=pk)
    return JsonResponse({"id": pk})


@log_api_request(action_type="USER_READ_ASYNC")
async def user_detail_async(request: HttpRequest, pk: int) -> JsonResponse:
    log_database_operation("USER_READ", "USER", rows_affected=1)
    logger.warning("async view %s", pk)
    return JsonResponse({"id": pk, "async": True})


class ProfileView(View):
    @log_api_request(action_type="PROFILE_UPDATE")
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponse(status=204)


class AsyncProfileView(View):
    """An async class-based view: every handler ``async``, as Django requires."""

    @log_api_request(action_type="PROFILE_READ_ASYNC")
    async def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        log_database_operation("PROFILE_READ", "PROFILE", rows_affected=1)
        logger.info("async profile %s", pk)
        return JsonResponse({"id": pk})

    @log_api_request(action_type="PROFILE_DELETE_ASYNC")
    async def delete(self, request: HttpRequest, pk: int) -> HttpResponse:
        raise PermissionError(f"profile {pk} is locked")


@log_api_request(action_type="EXPLODE")
def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("database connection pool exhausted")


def login_view(request: HttpRequest) -> JsonResponse:
    username = request.POST.get("username", "")
    if request.POST.get("password") != "correct horse":
        log_authentication_event(
            "LOGIN_FAILED", success=False, username=username, reason="invalid_password"
        )
        return JsonResponse({"error": "invalid credentials"}, status=401)
    user = User.objects.get(username=username)
    log_authentication_event("LOGIN_SUCCESS", user=user, ip_address=request.META["REMOTE_ADDR"])
    return JsonResponse({"ok": True})


@log_api_request(action_type="WORKER_PID")
def worker_pid(request: HttpRequest) -> JsonResponse:
    pid = os.getpid()
    log_event("worker handled", worker_pid=pid, marker=request.GET.get("marker", ""))
    return JsonResponse({"pid": pid})


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def echo_context(request: HttpRequest) -> JsonResponse:
    """The downstream service of the two-service test: reports what it received."""
    logger.info("downstream handled")
    return JsonResponse(
        {
            "request_id": request.headers.get("X-Request-ID"),
            "traceparent": request.headers.get("traceparent"),
        }
    )


# The seed's proxy example, as written; UPSTREAM is set by the tests.
UPSTREAM = {"url": "http://127.0.0.1:9/api/echo/"}


@log_proxy_request("access_postgresql")
def signup(request: HttpRequest) -> Any:
    url_access = UPSTREAM["url"]
    data = {"username": request.POST.get("username", "")}
    response = log_external_request(url_access, "POST", json=data, timeout=5)
    return response


class ProxyAPIView(APIView):
    authentication_classes: list[Any] = []

    @log_proxy_request("access_postgresql")
    @log_api_request(action_type="USER_SIGNUP_PROXY")
    def post(self, request: Request) -> Any:
        return log_external_request(UPSTREAM["url"], "POST", json=request.data, timeout=5)


@log_proxy_request("access_postgresql")
async def signup_async(request: HttpRequest) -> Any:
    from asgiref.sync import sync_to_async

    return await sync_to_async(log_external_request)(UPSTREAM["url"], "GET", timeout=5)
