"""Shared test settings. Each area keeps its own fixtures in tests/<area>/conftest.py."""

import os

from hypothesis import HealthCheck, settings

# CI: a fixed, reproducible budget. Locally the same, so failures reproduce.
settings.register_profile(
    "default", max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
