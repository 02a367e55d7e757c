# The data manager's utils.py, as the README gives it.
from logfleet.django import *  # noqa: F403 - the seed's helpers, re-exported
