"""A small Django project for the SDK's tests: plain views, DRF views, sync and async."""

from __future__ import annotations

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.urls"
STATIC_URL = "/static/"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "logfleet.django",
]
MIDDLEWARE = [
    "logfleet.django.LogfleetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
APP_NAME = "user_service"
LOGFLEET = {
    "SERVICE_TYPE": "proxy_service",
    "ENVIRONMENT": "test",
    "SERVICE_VERSION": "9.9.9",
    "HOST": "test-host",
    "PERFORMANCE_INTERVAL": None,
    "TRUSTED_PROXIES": ["10.0.0.0/8"],
    "SKIP_PATHS": ["/healthz", "/internal/*"],
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "UNAUTHENTICATED_USER": None,
}

# The seed's LOGGING, ready-made: the shipping handler on the root logger.
from logfleet.django import logging_config  # noqa: E402

LOGGING = logging_config(console=False)
