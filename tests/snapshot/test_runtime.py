"""The runtime facet on real targets (this machine, containers with limits, sshd) and its
parsers on literal /proc and cgroup output (cgroup v2 cannot be booted here: the engine
runs on v1)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from typing import Any

import pytest

from repro.snapshot.runtime import (
    parse_cgroup,
    parse_open_files,
    parse_os_release,
    parse_timezone,
    parse_user,
)
from repro.targets.docker import DockerTarget
from repro.targets.local import LocalTarget
from repro.targets.ssh import SshTarget
from tests.helpers.capture import AppProcess, run_facet
from tests.helpers.containers import MEMORY_LIMIT, app_container, busybox_container

KEYS = {
    "source",
    "os",
    "kernel",
    "arch",
    "cpu_count",
    "memory_total_bytes",
    "cgroup",
    "open_files",
    "timezone",
    "locale",
    "user",
}

# --- parsers ------------------------------------------------------------------------------


def test_cgroup_v2_takes_the_tightest_limit_up_the_tree() -> None:
    lines = [
        "version 2",
        "@ /system.slice/app.service",
        "memory.max max",
        "cpu.max 150000 100000",
        "pids.max max",
        "@ /system.slice",
        "memory.max 1073741824",
        "cpu.max max 100000",
        "pids.max 4096",
        "@ ",
    ]
    assert parse_cgroup(lines) == {
        "version": 2,
        "memory_limit_bytes": 1073741824,
        "cpu_limit": 1.5,
        "pids_limit": 4096,
    }


def test_cgroup_v1_unlimited_and_none() -> None:
    lines = [
        "version 1",
        "@ /docker/abc",
        "@ /docker",
        "@ ",
        "memory.limit_in_bytes 9223372036854771712",
        "@ ",
        "cpu.cfs_quota_us -1",
        "cpu.cfs_period_us 100000",
    ]
    assert parse_cgroup(lines) == {
        "version": 1,
        "memory_limit_bytes": None,
        "cpu_limit": None,
        "pids_limit": None,
    }
    assert parse_cgroup([])["version"] is None


def test_timezone_resolution_order() -> None:
    link = ["link ../usr/share/zoneinfo/Europe/Berlin", "etc Etc/UTC"]
    assert parse_timezone(None, link) == "Europe/Berlin"  # glibc reads /etc/localtime
    assert parse_timezone(":America/New_York", link) == "America/New_York"
    assert parse_timezone("/usr/share/zoneinfo/Asia/Tokyo", link) == "Asia/Tokyo"
    assert parse_timezone(None, ["file", "etc Europe/Paris"]) == "Europe/Paris"
    assert parse_timezone(None, ["file"]) is None  # a copied zone file: unknown name
    assert parse_timezone(None, []) == "UTC"  # no /etc/localtime: glibc's default


def test_open_files_from_limits_or_ulimit() -> None:
    line = "Max open files            1024                 524288               files     "
    assert parse_open_files([line], ["9", "9"]) == {"soft": 1024, "hard": 524288}
    assert parse_open_files([], ["1024", "unlimited"]) == {"soft": 1024, "hard": "unlimited"}


def test_user_and_os_release() -> None:
    assert parse_user(["uid=10001(app) gid=10001(app) groups=10001(app),27(sudo)"], "app") == {
        "name": "app",
        "uid": 10001,
        "gid": 10001,
        "groups": {"app": 10001, "sudo": 27},
    }
    assert parse_user(["id: 'ghost': no such user"], "ghost") == {"error": "no such user 'ghost'"}
    assert parse_os_release(["ID=debian", 'VERSION_ID="12"', "PRETTY_NAME='Debian 12'"]) == {
        "id": "debian",
        "version_id": "12",
        "pretty_name": "Debian 12",
    }


# --- this machine -------------------------------------------------------------------------


def test_local_runtime() -> None:
    started = time.perf_counter()
    result, _ = run_facet("runtime", LocalTarget())
    elapsed = time.perf_counter() - started
    assert result.status == "ok", result.problems
    data = result.data
    assert set(data) == KEYS and data["source"] == "shell"
    assert data["arch"] == platform.machine() and data["kernel"] == platform.release()
    assert data["cpu_count"] == len(os.sched_getaffinity(0))
    assert data["memory_total_bytes"] > 0
    assert data["cgroup"]["version"] in (1, 2)
    assert data["open_files"]["soft"] == os.sysconf("SC_OPEN_MAX")
    assert data["user"]["uid"] == os.getuid()
    assert data["locale"]["LANG"] == (os.environ.get("LANG") or None)
    assert elapsed < 2


def test_local_app_process_limits_and_locale() -> None:
    app = AppProcess(
        {"PATH": "/usr/bin:/bin", "TZ": "Asia/Tokyo", "LANG": "fr_FR.UTF-8"}, nofile=321
    )
    try:
        result, _ = run_facet("runtime", LocalTarget(), app={"process": app.pattern})
    finally:
        app.stop()
    assert result.status == "ok", result.problems
    data = result.data
    assert data["source"] == f"process:{app.pattern}"
    assert data["open_files"]["soft"] == 321
    assert data["timezone"] == "Asia/Tokyo"
    assert data["locale"] == {"LANG": "fr_FR.UTF-8", "LC_ALL": None, "LC_CTYPE": None}


def test_local_missing_process_and_user() -> None:
    result, _ = run_facet(
        "runtime", LocalTarget(), app={"process": "no-such-app-xyz-9", "user": "ghost-user-xyz"}
    )
    assert result.status == "partial" and result.data["source"] == "shell"
    assert result.data["user"] == {"error": "no such user 'ghost-user-xyz'"}
    assert result.problems == [
        "app process 'no-such-app-xyz-9' not found; limits and locale are the shell's",
        "user: no such user 'ghost-user-xyz'",
    ]


# --- containers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def container(docker_client: Any) -> Iterator[Any]:
    with app_container(docker_client) as running:
        yield running


def test_docker_limits_user_and_timezone(container: Any) -> None:
    result, _ = run_facet("runtime", DockerTarget(container.name), app={"user": "nobody"})
    assert result.status == "ok", result.problems
    data = result.data
    assert data["cgroup"]["memory_limit_bytes"] == MEMORY_LIMIT
    assert data["cgroup"]["cpu_limit"] == 0.5
    assert data["cgroup"]["pids_limit"] == 100
    assert data["os"] == {
        "id": "debian",
        "version_id": "12",
        "pretty_name": "Debian GNU/Linux 12 (bookworm)",
    }
    assert data["timezone"] == "Europe/Berlin"  # TZ from the container's environment
    assert data["locale"]["LANG"] == "C.UTF-8"
    assert data["user"] == {
        "name": "nobody",
        "uid": 65534,
        "gid": 65534,
        "groups": {"nogroup": 65534},
    }


def test_docker_app_process(container: Any) -> None:
    result, _ = run_facet("runtime", DockerTarget(container.name), app={"process": "sleep 600"})
    assert result.status == "ok", result.problems
    assert result.data["source"] == "process:sleep 600"
    assert result.data["cgroup"]["memory_limit_bytes"] == MEMORY_LIMIT


def test_busybox_runtime(docker_client: Any) -> None:
    # No os-release, no /etc/localtime, busybox id/ulimit/nproc: still one clean capture.
    with busybox_container(docker_client) as bb:
        result, _ = run_facet("runtime", DockerTarget(bb.name))
    assert result.status == "ok", result.problems
    data = result.data
    assert data["os"] == {"id": None, "version_id": None, "pretty_name": None}
    assert data["timezone"] == "UTC"
    assert data["user"]["name"] == "root" and data["cpu_count"] >= 1
    assert isinstance(data["open_files"]["soft"], int)


# --- ssh ----------------------------------------------------------------------------------


def test_ssh_runtime(sshd_server: Any) -> None:
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
        result, _ = run_facet("runtime", target)
    finally:
        target.close()
    assert result.status == "ok", result.problems
    assert set(result.data) == KEYS
    assert result.data["user"]["name"] == "root" and result.data["user"]["uid"] == 0
    assert result.data["kernel"] == platform.release()  # the sshd runs on this machine
