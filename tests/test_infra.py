"""The shared fixtures provide what they promise, for real (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import uuid
from typing import Any

import psycopg
import pytest

from tests.helpers import session_labels, skip_or_fail
from tests.helpers.dockerutil import (
    is_sweepable,
    remove_labelled,
    require_image,
    sweep_test_leftovers,
)
from tests.helpers.pg import PgContainers, PgServer, fresh_database, with_dbname
from tests.helpers.settings import PID_LABEL, SESSION_LABEL
from tests.helpers.sshd import SshServer


def server_major(dsn: str) -> int:
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


# --- PostgreSQL in Docker ---------------------------------------------------------------------


def test_postgres_any_runs_the_requested_major(postgres_any: PgServer) -> None:
    assert postgres_any.dsn.startswith("postgresql://repro:")
    assert postgres_any.host == "127.0.0.1"
    assert f"127.0.0.1:{postgres_any.port}/" in postgres_any.dsn
    assert server_major(postgres_any.dsn) == postgres_any.major


def test_postgres_any_container_is_labelled(postgres_any: PgServer) -> None:
    postgres_any.container.reload()
    labels = postgres_any.container.labels
    assert labels["repro.managed"] == "true"
    assert labels["repro.test"] == "true"
    assert postgres_any.container.status == "running"


@pytest.mark.docker  # the fixture is requested dynamically, so it is not marked for us
@pytest.mark.parametrize("major", [13, 15, 17])
def test_named_postgres_fixtures(request: pytest.FixtureRequest, major: int) -> None:
    server: PgServer = request.getfixturevalue(f"postgres_{major}")
    assert server.major == major
    assert server_major(server.dsn) == major


def test_contrib_extensions_and_utf8(postgres_any: PgServer) -> None:
    with fresh_database(postgres_any.dsn) as dsn, psycopg.connect(dsn) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("CREATE EXTENSION pgcrypto")
        row = conn.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database"
            " WHERE datname = current_database()"
        ).fetchone()
    assert row == ("UTF8", "en_US.utf8")


def test_server_settings_reach_postgres(pg_container: PgContainers) -> None:
    # `docker run IMAGE -c name=value` must reach postgres, as with the official image.
    server = pg_container(15, settings={"timezone": "Asia/Tokyo", "work_mem": "7MB"})
    with psycopg.connect(server.dsn) as conn:
        assert conn.execute("SHOW timezone").fetchone() == ("Asia/Tokyo",)
        assert conn.execute("SHOW work_mem").fetchone() == ("7MB",)
    assert pg_container(15, settings={"work_mem": "7MB", "timezone": "Asia/Tokyo"}) is server


def test_wrong_password_is_refused(postgres_any: PgServer) -> None:
    # Host connections need the password (scram on 15/17, md5 on 13), not trust.
    bad = postgres_any.dsn.replace(postgres_any.password, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=10)


def test_fresh_database_is_empty_and_dropped(postgres_15: PgServer) -> None:
    with fresh_database(postgres_15.dsn) as dsn:
        name = dsn.rsplit("/", 1)[1]
        assert name.startswith("repro_test_")
        with psycopg.connect(dsn) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
            assert tables == (0,)
            conn.execute("CREATE TABLE t (id int)")
        # A connection left open must not stop the drop.
        leftover = psycopg.connect(dsn)
    try:
        with psycopg.connect(postgres_15.dsn) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            assert exists.fetchone() is None
    finally:
        leftover.close()


def test_with_dbname_keeps_query() -> None:
    dsn = "postgresql://u:p@127.0.0.1:5/a?sslmode=disable"
    assert with_dbname(dsn, "b") == "postgresql://u:p@127.0.0.1:5/b?sslmode=disable"


# --- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize("major", [13, 15, 17])
def test_postgres_alias_tags_exist(docker_client: Any, major: int) -> None:
    # The product's default image template is postgres:{major}.
    require_image(docker_client, f"postgres:{major}")
    assert (
        docker_client.images.get(f"postgres:{major}").id
        == docker_client.images.get(f"repro/postgres:{major}").id
    )


def test_python_app_image_has_the_app_stack(docker_client: Any) -> None:
    image = "repro/python-app:bookworm"
    require_image(docker_client, image)
    out = docker_client.containers.run(
        image,
        ["python3", "-c", "import flask, psycopg, sentry_sdk, yaml; print('ok')"],
        labels=session_labels(),
        remove=True,
    )
    assert out.strip() == b"ok"


def test_remove_labelled_sweeps_containers_and_networks(docker_client: Any) -> None:
    require_image(docker_client, "repro/python-app:bookworm")
    # A label of its own, so the sweep cannot touch the session's PostgreSQL containers.
    labels = {**session_labels(), "repro.test.case": uuid.uuid4().hex}
    network = docker_client.networks.create(
        f"repro-test-{labels['repro.test.case'][:8]}", labels=labels
    )
    docker_client.containers.run(
        "repro/python-app:bookworm",
        ["python3", "-c", "import time; time.sleep(600)"],
        labels=labels,
        network=network.name,
        detach=True,
    )
    assert remove_labelled(docker_client, labels) == (1, 1)
    assert docker_client.containers.list(all=True, filters={"label": "repro.test.case"}) == []
    assert remove_labelled(docker_client, labels) == (0, 0)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_sweep_spares_live_sessions(docker_client: Any) -> None:
    require_image(docker_client, "repro/python-app:bookworm")
    case = uuid.uuid4().hex
    others = {
        # another pytest, still running (pid 1 is always alive): must survive the sweep
        "live": {**session_labels(), SESSION_LABEL: "other", PID_LABEL: "1"},
        # a session that died without cleaning up: swept
        "dead": {**session_labels(), SESSION_LABEL: "gone", PID_LABEL: str(dead_pid())},
    }
    for name, labels in others.items():
        docker_client.containers.create(
            "repro/python-app:bookworm",
            ["true"],
            labels={**labels, "repro.test.case": case, "repro.test.kind": name},
        )
    try:
        assert sweep_test_leftovers(docker_client, within={"repro.test.case": case}) == (1, 0)
        left = docker_client.containers.list(all=True, filters={"label": f"repro.test.case={case}"})
        assert [c.labels["repro.test.kind"] for c in left] == ["live"]
    finally:
        remove_labelled(docker_client, {"repro.test.case": case})


def test_is_sweepable() -> None:
    assert is_sweepable(session_labels())
    assert is_sweepable({"repro.test": "true"})
    assert not is_sweepable({SESSION_LABEL: "other", PID_LABEL: "1"})
    assert is_sweepable({SESSION_LABEL: "other", PID_LABEL: str(dead_pid())})


# --- without Docker --------------------------------------------------------------------------


def test_local_postgres_answers(local_postgres: PgServer) -> None:
    assert local_postgres.container is None
    with psycopg.connect(local_postgres.dsn, connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    assert int(row[0]) // 10000 == local_postgres.major
    bad = local_postgres.dsn.replace(local_postgres.password, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=10)


def test_fresh_database_on_local_postgres(local_postgres: PgServer) -> None:
    with fresh_database(local_postgres.dsn, prefix="infra") as dsn:
        assert server_major(dsn) == local_postgres.major
        assert dsn.rsplit("/", 1)[1].startswith("infra_")


def test_sshd_server_accepts_the_key(sshd_server: SshServer) -> None:
    result = subprocess.run(
        sshd_server.ssh_command("true"), capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    via_alias = subprocess.run(
        ["ssh", "-F", str(sshd_server.config_file), sshd_server.alias, "id", "-un"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert via_alias.returncode == 0, via_alias.stderr
    assert via_alias.stdout.strip() == "root"


def test_sshd_server_refuses_unknown_keys(sshd_server: SshServer, tmp_path: Any) -> None:
    other = tmp_path / "other_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
        capture_output=True,
    )
    options = sshd_server.ssh_options()
    options[options.index("-i") + 1] = str(other)
    result = subprocess.run(
        ["ssh", "-F", "/dev/null", *options, sshd_server.destination, "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


# --- skip/fail policy ------------------------------------------------------------------------


def test_missing_resources_skip_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPRO_REQUIRE_DOCKER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no engine"):
        skip_or_fail("no engine")


def test_missing_resources_fail_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_REQUIRE_DOCKER", "1")
    with pytest.raises(pytest.fail.Exception, match="no engine"):
        skip_or_fail("no engine")


def test_children_get_default_signal_handlers_whatever_the_run_got() -> None:
    """Issue 12, finding 8: a test run started with SIGINT ignored (a background job) must
    not hand that to the `repro` processes its tests interrupt."""
    import signal
    import sys

    from tests.helpers.procs import run

    code = "import signal; h = signal.getsignal(signal.SIGINT); print(getattr(h, '__name__', h))"
    probe = [sys.executable, "-c", code]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        inherited = subprocess.run(probe, capture_output=True, text=True, check=True)
        reset = run(probe, capture_output=True, text=True, check=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert inherited.stdout.strip() in ("1", "Handlers.SIG_IGN")  # a plain subprocess: the bug
    assert "default_int_handler" in reset.stdout
