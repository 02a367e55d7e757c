"""access_postgresql, the seed's data manager: the only service with a database."""

from __future__ import annotations

import os
from pathlib import Path

from logfleet.django import logging_config

APP_NAME = "access_postgresql"
SERVICE_TYPE = "data_manager"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "access_postgresql.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get(
            "ACCESS_POSTGRESQL_DATABASE", str(Path(__file__).resolve().parent / "data.sqlite3")
        ),
        # Several gunicorn workers write to one SQLite file.
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
    }
}
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "logfleet.django",
    "access_postgresql",
]
MIDDLEWARE = ["logfleet.django.LogfleetMiddleware"]
# Scrypt from the standard library: a real password hash that a demo can afford per login.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher"]
REST_FRAMEWORK = {
    # Each view names its authentication (the bearer sessions of views.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LOGFLEET = {
    "APP_NAME": APP_NAME,
    "SERVICE_TYPE": SERVICE_TYPE,
    "SERVICE_VERSION": "1.0.0",
    # The proxies (and the traffic generator playing the edge proxy) connect from loopback.
    "TRUSTED_PROXIES": ["127.0.0.1", "::1"],
    "SKIP_PATHS": [],
    "PERFORMANCE_INTERVAL": 15,
}
LOGGING = logging_config(app_name=APP_NAME, service_type=SERVICE_TYPE, console=False)
