"""The env facet on real targets: this machine (a stand-in app process), containers, sshd."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from repro.snapshot.env import (
    VOLATILE_VARS,
    command_matches,
    parse_environ,
    pick_process,
    select_vars,
)
from repro.targets.docker import DockerTarget
from repro.targets.local import LocalTarget
from repro.targets.ssh import SshTarget
from tests.helpers.capture import AppProcess, run_facet
from tests.helpers.containers import APP_ENV, CANARIES, app_container, busybox_container

CANARY = "canary-local-Tq8Wv3Xe"
LOCAL_APP_ENV = {
    "PATH": "/usr/bin:/bin",
    "APP_MODE": "production",
    "SESSION_SECRET": CANARY,
    "HOSTNAME": "volatile-host",
    "PWD": "/somewhere",
    "TZ": "Asia/Tokyo",
    "LANG": "fr_FR.UTF-8",
}


@pytest.fixture(scope="module")
def local_app() -> Iterator[AppProcess]:
    app = AppProcess(LOCAL_APP_ENV)
    try:
        yield app
    finally:
        app.stop()


# --- pure parts -------------------------------------------------------------------------


def test_parse_environ_nul_and_newline_forms() -> None:
    assert parse_environ(b"A=1\0B=x=y\0A=2\0junk\0") == {"A": "1", "B": "x=y"}
    assert parse_environ(b"A=1\nB=2\n") == {"A": "1", "B": "2"}


def test_select_vars_drops_volatile_and_applies_globs() -> None:
    env = {"HOSTNAME": "h", "APP_X": "1", "APP_DEBUG": "0", "PATH": "/bin", "SSH_TTY": "t"}
    assert select_vars(env, ["*"], []) == {"APP_DEBUG": "0", "APP_X": "1", "PATH": "/bin"}
    assert select_vars(env, ["APP_*"], ["*_DEBUG"]) == {"APP_X": "1"}
    assert {"HOSTNAME", "PWD", "SHLVL", "_", "SSH_CONNECTION", "TERM"} <= VOLATILE_VARS


def test_oldest_matching_process_wins() -> None:
    stat = {
        7: b"7 (gunicorn) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 900 0",
        8: b"8 (gunicorn) S 7 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 950 0",
        9: b"9 (my (odd) name) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0",
        10: b"10 (sh) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 10 0",
    }
    cmdlines = {
        7: b"/usr/bin/python3\0/usr/bin/gunicorn\0app:app\0",
        8: b"/usr/bin/python3\0/usr/bin/gunicorn\0app:app\0",
        9: b"grep\0something\0",
        10: b"sh\0-c\0gunicorn app:app\0",
    }
    # 10 started first but is the scanning shell: excluded with its children.
    assert pick_process("gunicorn app:app", stat, cmdlines, exclude={10}) == 7
    assert pick_process("gunicorn*app", stat, cmdlines, exclude={10}) == 7
    assert pick_process("celery", stat, cmdlines, exclude=set()) is None
    assert command_matches("gunicorn", "/usr/bin/gunicorn app:app")
    assert not command_matches("gunicorn*worker", "/usr/bin/gunicorn app:app")


# --- this machine ------------------------------------------------------------------------


def test_local_shell_environment() -> None:
    result, _ = run_facet("env", LocalTarget())
    assert result.status == "ok" and result.data["source"] == "shell"
    assert result.data["vars"]["PATH"] == os.environ["PATH"]
    assert not VOLATILE_VARS & set(result.data["vars"])


def test_local_app_process_environment(local_app: AppProcess) -> None:
    result, text = run_facet("env", LocalTarget(), app={"process": local_app.pattern})
    assert result.status == "ok", result.problems
    assert result.data["source"] == f"process:{local_app.pattern}"
    variables = result.data["vars"]
    assert set(variables) == {"PATH", "APP_MODE", "SESSION_SECRET", "TZ", "LANG"}
    assert variables["APP_MODE"] == "production" and variables["TZ"] == "Asia/Tokyo"
    assert variables["SESSION_SECRET"]["redacted"] is True
    assert CANARY not in text
    assert str(local_app.proc.pid) not in text  # volatile: never in the data


def test_local_include_exclude(local_app: AppProcess) -> None:
    result, _ = run_facet(
        "env",
        LocalTarget(),
        app={"process": local_app.pattern},
        options={"include": ["APP_*", "T*"], "exclude": ["TERM*"]},
    )
    assert set(result.data["vars"]) == {"APP_MODE", "TZ"}


@pytest.mark.skipif(os.geteuid() != 0, reason="runuser needs root")
def test_unreadable_app_environment_is_an_error_with_the_reason(local_app: AppProcess) -> None:
    result, text = run_facet("env", LocalTarget(user="nobody"), app={"process": local_app.pattern})
    assert result.status == "error"
    assert result.message is not None and "permission denied" in result.message
    assert "as root" in result.message
    assert CANARY not in text


def test_missing_app_process_falls_back_to_the_shell() -> None:
    result, _ = run_facet("env", LocalTarget(), app={"process": "no-such-app-xyz-123"})
    assert result.status == "partial" and result.data["source"] == "shell"
    assert result.problems == [
        "app process 'no-such-app-xyz-123' not found on the target; captured the shell "
        "environment instead"
    ]
    assert result.data["vars"]["PATH"]


# --- containers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def container(docker_client: Any) -> Iterator[Any]:
    # The entrypoint exports a variable the container config does not know: only reading the
    # process shows it — the reason app.process exists.
    command = ["sh", "-c", "export FROM_ENTRYPOINT=yes; exec sleep 601"]
    with app_container(docker_client, command) as running:
        yield running


def test_docker_config_environment_with_canaries_redacted(container: Any) -> None:
    result, text = run_facet("env", DockerTarget(container.name))
    assert result.status == "ok" and result.data["source"] == "docker-config"
    variables = result.data["vars"]
    assert variables["FEATURE_FLAG"] == "on" and variables["LANG"] == "C.UTF-8"
    assert variables["API_TOKEN"]["redacted"] is True
    assert variables["DATABASE_URL"]["masked"] == "postgresql://app:***@db:5432/app"
    assert "FROM_ENTRYPOINT" not in variables and "HOSTNAME" not in variables
    for canary in CANARIES:
        assert canary not in text


def test_docker_app_process_environment(container: Any) -> None:
    result, text = run_facet("env", DockerTarget(container.name), app={"process": "sleep 601"})
    assert result.status == "ok", result.problems
    assert result.data["source"] == "process:sleep 601"
    variables = result.data["vars"]
    assert variables["FROM_ENTRYPOINT"] == "yes"
    assert set(APP_ENV) <= set(variables)
    for canary in CANARIES:
        assert canary not in text


def test_docker_missing_process_falls_back_to_the_config(container: Any) -> None:
    result, _ = run_facet("env", DockerTarget(container.name), app={"process": "gunicorn"})
    assert result.status == "partial" and result.data["source"] == "docker-config"
    assert result.data["vars"]["FEATURE_FLAG"] == "on"


def test_busybox_process_scan(docker_client: Any) -> None:
    # busybox's head, cat and sh: the scan must not depend on GNU tools.
    with busybox_container(docker_client) as bb:
        result, _ = run_facet("env", DockerTarget(bb.name), app={"process": "sleep 600"})
    assert result.status == "ok", result.problems
    assert result.data["source"] == "process:sleep 600"
    assert result.data["vars"] == {"HOME": "/root", "PATH": "/bin"}  # docker adds HOME


# --- ssh ---------------------------------------------------------------------------------


def test_ssh_shell_environment_without_session_noise(sshd_server: Any) -> None:
    target = SshTarget.from_options(
        {
            "host": sshd_server.host,
            "port": sshd_server.port,
            "user": sshd_server.user,
            "identity_file": str(sshd_server.identity_file),
            "known_hosts_file": str(sshd_server.known_hosts),
            "strict_host_key_checking": "yes",
        }
    )
    try:
        result, _ = run_facet("env", target)
    finally:
        target.close()
    assert result.status == "ok" and result.data["source"] == "shell"
    variables = result.data["vars"]
    assert variables["USER"] == "root" and variables["HOME"] == "/root"
    assert not {"SSH_CLIENT", "SSH_CONNECTION", "PWD", "SHLVL"} & set(variables)
