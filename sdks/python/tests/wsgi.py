"""The test project as a WSGI application, for gunicorn."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
application = get_wsgi_application()

if os.environ.get("LOGFLEET_TEST_MASTER_EVENT"):
    # Logged in gunicorn's master before it forks (with --preload): its sender thread is
    # running when the workers are forked from it.
    import logfleet

    logfleet.log_event("master started", marker=os.environ["LOGFLEET_TEST_MASTER_EVENT"])
