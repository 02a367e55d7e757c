#!/usr/bin/env python
"""Management commands for the example services: set DJANGO_SETTINGS_MODULE to
``access_postgresql.settings`` or ``user_service.settings``."""

from __future__ import annotations

import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    execute_from_command_line(sys.argv)
