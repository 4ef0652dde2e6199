"""The docker target against real containers started here (labelled, removed at the end)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from repro.errors import TargetError
from repro.profile.file import Profile, parse_profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.capture import capture_snapshot
from repro.snapshot.registry import FACETS
from repro.targets.docker import DockerTarget
from tests.helpers import session_labels
from tests.helpers.containers import APP_ENV, APP_IMAGE, CANARIES, app_container
from tests.helpers.dockerutil import require_image
from tests.helpers.target_contract import check_contract


@pytest.fixture(scope="module")
def container(docker_client: Any) -> Iterator[Any]:
    with app_container(docker_client) as running:
        yield running


def test_contract(container: Any) -> None:
    target = DockerTarget.from_options({"container": container.name})
    try:
        check_contract(target)
        assert target.describe() == {
            "kind": "docker",
            "identity": f"{container.name} ({APP_IMAGE})",
            "user": "root",
        }
    finally:
        target.close()


def test_native_environment_is_the_container_config(container: Any) -> None:
    env = DockerTarget(container.name).native_environment()
    assert env is not None
    for name, value in APP_ENV.items():
        assert env[name] == value
    assert env["LANG"] == "C.UTF-8"  # from the image's own config


def test_exec_user(container: Any) -> None:
    target = DockerTarget(container.name, user="nobody")
    assert target.run(["id", "-un"]).text.strip() == "nobody"
    assert target.describe()["user"] == "nobody"


def test_not_executable_is_126(container: Any) -> None:
    result = DockerTarget(container.name).run(["/etc/hostname"])
    assert result.returncode == 126 and "permission denied" in result.error_text
    assert result.stdout == b""  # docker's message moved to stderr


def test_timeout_returns_124_promptly(container: Any) -> None:
    started = time.monotonic()
    result = DockerTarget(container.name).run(["sleep", "30"], timeout=0.5)
    assert result.returncode == 124 and "timed out" in result.error_text
    assert time.monotonic() - started < 10


def test_missing_container_is_a_target_error(docker_client: Any) -> None:
    with pytest.raises(TargetError, match="no container named 'repro-no-such-container'"):
        DockerTarget.from_options({"container": "repro-no-such-container"})


def test_stopped_container_is_a_target_error(docker_client: Any) -> None:
    require_image(docker_client, APP_IMAGE)
    created = docker_client.containers.create(APP_IMAGE, ["true"], labels=session_labels())
    try:
        with pytest.raises(TargetError, match="is created, not running"):
            DockerTarget.from_options({"container": created.id})
    finally:
        created.remove(force=True)


def test_engine_not_running_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # No engine needed: point the client at a socket that does not exist.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/repro-test.sock")
    with pytest.raises(TargetError) as info:
        DockerTarget.from_options({"container": "app"})
    message = info.value.one_line()
    assert message.startswith("Docker is not running (unix:///nonexistent/repro-test.sock: ")
    assert "\n" not in message and "Traceback" not in message


def _profile(container: Any) -> Profile:
    """A profile whose target is ``container``, as `repro snapshot` reads one."""
    return parse_profile(
        {"target": {"kind": "docker", "container": container.name}},
        where="test",
        default_name="container",
        catalog=FACETS,
    )


def test_snapshot_through_a_profile(container: Any) -> None:
    # What `repro snapshot` does: open the target from a profile, capture, redact.
    profile = _profile(container)
    redactor = Redactor(key=RedactionKey.from_bytes(b"team", "test"))
    snapshot = capture_snapshot(profile, redactor, facets=["env", "packages", "runtime"])
    statuses = {name: (f.status, f.message, f.problems) for name, f in snapshot.facets.items()}
    assert {s[0] for s in statuses.values()} == {"ok"}, statuses
    text = snapshot.dumps()
    for canary in CANARIES:
        assert canary not in text
    assert snapshot.target["kind"] == "docker"
    assert snapshot.target["identity"] == f"{container.name} ({APP_IMAGE})"


def test_facets_captured_at_once_give_the_snapshot_one_at_a_time_gives(container: Any) -> None:
    # What a replay's parity check does (four facets at once through one docker target): the
    # same facts, and every secret as well hidden, as the sequential capture.
    profile = _profile(container)
    facets = ["env", "packages", "runtime", "files", "config", "schedules"]
    key = RedactionKey.from_bytes(b"team", "test")
    one = capture_snapshot(profile, Redactor(key=key), facets=facets)
    four = capture_snapshot(profile, Redactor(key=key), facets=facets, workers=4)
    assert list(four.facets) == list(one.facets) == facets
    for name in facets:
        assert (four.facets[name].status, four.facets[name].data) == (
            one.facets[name].status,
            one.facets[name].data,
        ), name
    assert four.target == one.target
    text = four.dumps()
    for canary in CANARIES:
        assert canary not in text
