"""Targets for real: this machine, a Docker container, an sshd on 127.0.0.1. kubectl has no
cluster here (nothing to exec into), so it is tested by its exact command lines."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repro.errors import TargetError
from repro.profile import parse_profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.capture import capture_snapshot
from repro.targets.base import Target, read_file, run_shell
from repro.targets.docker import DockerTarget
from repro.targets.kubectl import KubectlSpec, KubectlTarget, kubectl_argv
from repro.targets.local import LocalTarget
from repro.targets.ssh import SshTarget
from tests.helpers import session_labels

CANARY = "canary-target-Vb6Nq2Lr8Tz"
APP_IMAGE = "repro/python-app:bookworm"


def redactor() -> Redactor:
    return Redactor(key=RedactionKey.from_bytes(b"team", "test"))


def check_basic(target: Target) -> None:
    result = target.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.returncode, result.text.strip(), result.error_text) == (3, "out", "err")
    assert target.run(["definitely-not-a-command-xyz"]).returncode == 127
    assert run_shell(target, 'printf "%s|" "$@"', "a b", "$HOME").text == "a b|$HOME|"
    assert target.run(["cat"], stdin=b"piped").text == "piped"
    description = target.describe()
    assert description["kind"] == target.kind and description["identity"]


def test_local_target_and_permission_denied(tmp_path: Path) -> None:
    check_basic(LocalTarget())
    secret_dir = tmp_path / "private"
    secret_dir.mkdir(mode=0o700)
    (secret_dir / "f").write_text("x")
    tmp_path.chmod(0o755)
    as_nobody = LocalTarget(user="nobody")
    assert as_nobody.run(["id", "-un"]).text.strip() == "nobody"
    with pytest.raises(Exception, match="permission denied"):
        read_file(as_nobody, str(secret_dir / "f"))


@pytest.fixture
def app_container(docker_client: Any) -> Iterator[Any]:
    try:
        docker_client.images.get(APP_IMAGE)
    except Exception:
        pytest.fail(f"image {APP_IMAGE} missing: run `make images`")
    container = docker_client.containers.run(
        APP_IMAGE,
        ["sleep", "600"],
        name=f"repro-test-target-{uuid.uuid4().hex[:8]}",
        detach=True,
        environment={
            "API_TOKEN": CANARY,
            "FEATURE_FLAG": "on",
            "DATABASE_URL": f"postgresql://app:{CANARY}@db:5432/app",
        },
        mem_limit="256m",
        labels=session_labels(),
    )
    try:
        yield container
    finally:
        container.remove(force=True)


@pytest.mark.docker
def test_docker_target_runs_commands_and_snapshots(app_container: Any) -> None:
    target = DockerTarget(app_container.name)
    check_basic(target)
    env = target.native_environment()
    assert env is not None and env["FEATURE_FLAG"] == "on"

    profile = parse_profile(
        {"target": {"kind": "docker", "container": app_container.name}},
        where="test",
        default_name="container",
    )
    snapshot = capture_snapshot(profile, redactor(), facets=["env", "packages", "runtime"])
    text = snapshot.dumps()
    assert CANARY not in text
    facets = snapshot.facets
    assert {f.status for f in facets.values()} == {"ok"}, {n: f.message for n, f in facets.items()}
    assert facets["env"].data["vars"]["FEATURE_FLAG"] == "on"
    assert (
        facets["env"].data["vars"]["DATABASE_URL"]["masked"] == "postgresql://app:***@db:5432/app"
    )
    assert "flask" in facets["packages"].data["python"]["distributions"]
    assert facets["packages"].data["os"]["manager"] == "dpkg"
    assert facets["runtime"].data["cgroup"]["memory_limit_bytes"] == 256 * 1024 * 1024
    assert json.loads(text)["target"]["kind"] == "docker"


@pytest.mark.docker
def test_docker_target_missing_container_is_a_clear_error(docker_client: Any) -> None:
    with pytest.raises(TargetError, match="no-such-container"):
        DockerTarget("repro-no-such-container").run(["true"])


def test_ssh_target_for_real(sshd_server: Any) -> None:
    options = {
        "host": sshd_server.host,
        "port": sshd_server.port,
        "user": sshd_server.user,
        "identity_file": str(sshd_server.identity_file),
        "known_hosts_file": str(sshd_server.known_hosts),
        "strict_host_key_checking": "yes",
    }
    target = SshTarget.from_options(options)
    try:
        check_basic(target)
        profile = parse_profile({"target": {"kind": "ssh", **options}}, where="t", default_name="h")
        snapshot = capture_snapshot(
            profile, redactor(), facets=["env", "runtime", "files"], target=target
        )
        assert {f.status for f in snapshot.facets.values()} == {"ok"}
        assert snapshot.facets["runtime"].data["user"]["name"] == "root"
    finally:
        target.close()


def test_ssh_unreachable_host_is_a_target_error() -> None:
    # The connection is opened (and refused) when the target is made or first used.
    with pytest.raises(TargetError, match="Connection refused"):
        target = SshTarget.from_options({"host": "127.0.0.1", "port": 1})
        target.run(["true"])


def test_kubectl_exact_command_lines() -> None:
    spec = KubectlSpec(
        pod="app-0", namespace="shop", container="web", context="prod", kubeconfig="/k"
    )
    assert kubectl_argv(spec, ["env"]) == [
        "kubectl",
        "--context",
        "prod",
        "--kubeconfig",
        "/k",
        "-n",
        "shop",
        "exec",
        "app-0",
        "-c",
        "web",
        "--",
        "env",
    ]
    assert kubectl_argv(
        KubectlSpec(pod="p", namespace=None, container=None, context=None, kubeconfig=None),
        ["cat", "/etc/x"],
        stdin=True,
    ) == [
        "kubectl",
        "exec",
        "-i",
        "p",
        "--",
        "cat",
        "/etc/x",
    ]


def test_kubectl_missing_binary_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubectl on this PATH
    with pytest.raises(TargetError, match=r"kubectl.*not installed"):
        KubectlTarget.from_options({"pod": "app-0"})
