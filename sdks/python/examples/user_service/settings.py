"""user_service (and auth, the same code under another APP_NAME): the seed's proxy services.
They validate, then forward to the data manager with the seed's helpers."""

from __future__ import annotations

import os

from logfleet.django import logging_config

APP_NAME = os.environ.get("PROXY_APP_NAME", "user_service")
SERVICE_TYPE = "proxy_service"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "user_service.urls"
DATABASES: dict[str, dict[str, str]] = {}
INSTALLED_APPS = ["logfleet.django"]
MIDDLEWARE = ["logfleet.django.LogfleetMiddleware"]

DATA_MANAGER_URL = os.environ.get("DATA_MANAGER_URL", "http://127.0.0.1:4000")
# Nothing listens there: recommendations fail, as an unreachable dependency does.
RECOMMENDATIONS_URL = os.environ.get("RECOMMENDATIONS_URL", "http://127.0.0.1:9")

LOGFLEET = {
    "APP_NAME": APP_NAME,
    "SERVICE_TYPE": SERVICE_TYPE,
    "SERVICE_VERSION": "1.0.0",
    "TRUSTED_PROXIES": ["127.0.0.1", "::1"],
    "PERFORMANCE_INTERVAL": 15,
}
LOGGING = logging_config(app_name=APP_NAME, service_type=SERVICE_TYPE, console=False)
