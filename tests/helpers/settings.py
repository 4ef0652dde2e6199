"""Environment switches and labels shared by every fixture."""

from __future__ import annotations

import os
import sys
import uuid
from typing import NoReturn

import pytest

# Everything the tests create carries both labels: repro.managed is what the product itself
# uses (so `make clean-docker` finds it), repro.test lets the session sweep only test leftovers.
MANAGED_LABEL = "repro.managed"
TEST_LABEL = "repro.test"
TEST_LABELS: dict[str, str] = {MANAGED_LABEL: "true", TEST_LABEL: "true"}
# Which pytest process made a container: the end-of-session sweep removes its own and those of
# dead sessions, never those of a pytest running alongside (another developer, an xdist worker).
SESSION_LABEL = "repro.test.session"
PID_LABEL = "repro.test.pid"
SESSION_ID = uuid.uuid4().hex


def session_labels() -> dict[str, str]:
    """Labels for anything a test creates in Docker (also pass them to product code)."""
    return {**TEST_LABELS, SESSION_LABEL: SESSION_ID, PID_LABEL: str(os.getpid())}


# Ryuk (testcontainers' reaper) cannot be pulled here, so it is off and we clean up by label.
# /.dockerenv exists on these machines, which makes testcontainers talk to the bridge gateway
# unless told that the engine is on this host.
TESTCONTAINERS_DEFAULTS: dict[str, str] = {
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TC_HOST": "127.0.0.1",
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
}


def apply_testcontainers_defaults() -> None:
    """Set the defaults in os.environ (keeping explicit settings).

    testcontainers reads these once, when ``testcontainers.core.config`` is imported; if it was
    imported already, patch its configuration object as well.
    """
    for key, value in TESTCONTAINERS_DEFAULTS.items():
        os.environ.setdefault(key, value)
    config_module = sys.modules.get("testcontainers.core.config")
    if config_module is not None:
        config = config_module.testcontainers_config
        config.tc_host_override = os.environ["TC_HOST"]
        config.ryuk_disabled = os.environ["TESTCONTAINERS_RYUK_DISABLED"].lower() in (
            "1",
            "true",
            "yes",
            "y",
            "t",
        )
        config.connection_mode_override = config_module.ConnectionMode(
            os.environ["TESTCONTAINERS_CONNECTION_MODE"]
        )


def require_real_resources() -> bool:
    """True under REPRO_REQUIRE_DOCKER=1 (CI): a missing engine/image/sshd is a failure."""
    return os.environ.get("REPRO_REQUIRE_DOCKER", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a test whose resource is missing, or fail it where the resource is required."""
    if require_real_resources():
        pytest.fail(f"{reason} [REPRO_REQUIRE_DOCKER=1 makes this a failure]", pytrace=False)
    pytest.skip(reason)
