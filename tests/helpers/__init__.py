"""Shared test fixtures' machinery: real PostgreSQL servers, a real sshd, Docker hygiene.

Importing this package sets the testcontainers defaults these machines need (see
``settings.apply_testcontainers_defaults``), so import it before anything imports
testcontainers; tests/conftest.py does.
"""

from __future__ import annotations

from tests.helpers.settings import (
    TEST_LABELS,
    apply_testcontainers_defaults,
    require_real_resources,
    session_labels,
    skip_or_fail,
)

apply_testcontainers_defaults()

__all__ = [
    "TEST_LABELS",
    "apply_testcontainers_defaults",
    "require_real_resources",
    "session_labels",
    "skip_or_fail",
]
