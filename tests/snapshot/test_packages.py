"""The packages facet on real targets, plus its parsers on literal package-manager output."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from repro.snapshot.packages import (
    NO_OS_MANAGER,
    parse_libc,
    parse_os_packages,
    parse_os_section,
    parse_python,
)
from repro.targets.docker import DockerTarget
from repro.targets.local import LocalTarget
from tests.helpers.capture import run_facet
from tests.helpers.containers import app_container, busybox_container

# --- parsers ------------------------------------------------------------------------------


def test_dpkg_keeps_installed_and_held_only() -> None:
    lines = [
        "bash\t5.2.15-2+b2\tamd64\tii ",
        "held\t1.0\tall\thi ",
        "removed\t2.0\tamd64\trc ",
        "half\t3.0\tamd64\tiU ",
        "libc6\t2.36-9\tamd64\tii ",
        "libc6\t2.36-9\ti386\tii ",
    ]
    assert parse_os_packages("dpkg", lines) == {
        "bash": "5.2.15-2+b2",
        "held": "1.0",
        "libc6:amd64": "2.36-9",
        "libc6:i386": "2.36-9",
    }


def test_apk_and_rpm() -> None:
    assert parse_os_packages(
        "apk", ["musl-1.2.4-r2", "ca-certificates-bundle-20230506-r0", "garbage"]
    ) == {"ca-certificates-bundle": "20230506-r0", "musl": "1.2.4-r2"}
    assert parse_os_packages(
        "rpm", ["bash\t5.1.8-6.el9\tx86_64", "gpg-pubkey\t8483c65d-5ccc5b19\t(none)"]
    ) == {"bash": "5.1.8-6.el9"}


def test_os_section_status() -> None:
    assert parse_os_section(["none", "!exit 0"]) == (None, NO_OS_MANAGER)
    assert parse_os_section(["dpkg", "bash\t5.2\tamd64\tii ", "!exit 0"]) == (
        {"manager": "dpkg", "packages": {"bash": "5.2"}},
        None,
    )
    assert parse_os_section(["rpm", "error: rpmdb: BDB0113 Thread died", "!exit 1"]) == (
        None,
        "os: rpm could not list the installed packages: error: rpmdb: BDB0113 Thread died",
    )


def test_libc_lines() -> None:
    assert parse_libc(["glibc 2.36"]) == "glibc 2.36"
    assert parse_libc(["ldd (Debian GLIBC 2.31-13+deb11u5) 2.31"]) == "glibc 2.31"
    assert parse_libc(["musl 1.2.4"]) == "musl 1.2.4"
    assert parse_libc(["sh: ldd: not found"]) is None
    assert parse_libc([]) is None


def test_python_probe_failures_carry_the_reason() -> None:
    assert parse_python("py", ["!missing"]) == (None, "python: interpreter 'py' not found")
    lines = ['  File "<string>", line 2', "SyntaxError: bad", "!exit 1"]
    probe, problem = parse_python("py", lines)
    assert probe is None
    assert problem == "python: py could not list its distributions: SyntaxError: bad"


# --- this machine -------------------------------------------------------------------------


def test_local_packages_fast_and_complete() -> None:
    started = time.perf_counter()
    result, _ = run_facet("packages", LocalTarget(), app={"python": sys.executable})
    elapsed = time.perf_counter() - started
    assert result.status == "ok", result.problems
    data = result.data
    assert data["python"]["interpreter"] == sys.executable
    assert data["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert data["python"]["distributions"]["pytest"] == pytest.__version__
    assert data["os"]["manager"] == "dpkg" and "bash" in data["os"]["packages"]
    runtime = data["runtime"]
    assert runtime["python"] == data["python"]["version"]
    assert runtime["openssl"].startswith("OpenSSL ") and runtime["libc"].startswith("glibc ")
    assert elapsed < 3  # one round trip; ~0.2 s here, generous for a loaded CI machine


def test_missing_interpreter_is_a_problem_not_a_crash() -> None:
    result, _ = run_facet("packages", LocalTarget(), app={"python": "python9.99-nope"})
    assert result.status == "partial"
    assert result.problems == ["python: interpreter 'python9.99-nope' not found"]
    assert "python" not in result.data and result.data["os"]["manager"] == "dpkg"
    assert result.data["runtime"]["python"] is None
    assert result.data["runtime"]["openssl"]  # from the openssl CLI instead


def test_managers_option() -> None:
    result, _ = run_facet("packages", LocalTarget(), options={"managers": ["os"]})
    assert result.status == "ok" and set(result.data) == {"os", "runtime"}


# --- containers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def container(docker_client: Any) -> Iterator[Any]:
    with app_container(docker_client) as running:
        yield running


def test_docker_app_image(container: Any) -> None:
    result, _ = run_facet("packages", DockerTarget(container.name))
    assert result.status == "ok", result.problems
    data = result.data
    assert data["python"]["interpreter"] == "python3"
    assert data["python"]["version"].startswith("3.11.")
    assert {"flask", "psycopg", "sentry-sdk"} <= set(data["python"]["distributions"])
    assert data["os"]["manager"] == "dpkg"
    assert data["os"]["packages"]["python3-flask"] == data["os"]["packages"]["python3-flask"]
    assert "python3-flask" in data["os"]["packages"]
    assert data["runtime"]["libc"] == "glibc 2.36"
    assert data["runtime"]["openssl"].startswith("OpenSSL 3.")


def test_no_package_manager_is_partial_with_the_reason(docker_client: Any) -> None:
    # busybox only: no dpkg/apk/rpm, no python, no libc (static binary).
    with busybox_container(docker_client) as bb:
        result, _ = run_facet("packages", DockerTarget(bb.name))
    assert result.status == "partial"
    assert result.problems == [NO_OS_MANAGER, "python: interpreter 'python3' not found"]
    assert NO_OS_MANAGER == "no OS package manager found (dpkg, apk, rpm)"
    assert result.data == {"runtime": {"libc": None, "openssl": None, "python": None}}


def test_failing_package_manager_is_a_problem_not_an_empty_list(docker_client: Any) -> None:
    with app_container(docker_client) as broken:
        # A throw-away container: make its dpkg database query fail.
        script = "echo 'dpkg-query: error: parsing file status: broken' >&2; exit 2"
        result = broken.exec_run(
            ["sh", "-c", 'printf "#!/bin/sh\\n%s\\n" "$1" > /usr/bin/dpkg-query', "x", script]
        )
        assert result.exit_code == 0, result.output
        result_, _ = run_facet("packages", DockerTarget(broken.name))
    assert result_.status == "partial" and "os" not in result_.data
    assert result_.problems == [
        "os: dpkg could not list the installed packages: dpkg-query: error: parsing file "
        "status: broken"
    ]
