"""The Django app: configures the SDK from ``settings.LOGFLEET`` when Django starts."""

from __future__ import annotations

from django.apps import AppConfig

from logfleet import core


class LogfleetConfig(AppConfig):
    name = "logfleet.django"
    label = "logfleet"
    verbose_name = "Logfleet"

    def ready(self) -> None:
        # Creating the SDK validates the settings now (a misspelt key fails at start-up, not
        # at the first event); its sender thread still starts only with the first event.
        core.get()
