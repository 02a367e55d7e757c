from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    full_name = models.CharField(max_length=200, blank=True, default="")
    bio = models.TextField(blank=True, default="")


class Session(models.Model):
    token = models.CharField(max_length=64, unique=True)
    session_id = models.CharField(max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at_ms = models.BigIntegerField()
