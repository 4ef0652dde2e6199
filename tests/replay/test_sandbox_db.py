"""The sandbox database from the demo's production snapshot, on the real engine: the same
major version, production's settings, production-shaped rows; nothing left behind."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from repro.redaction import RedactionKey, Redactor
from repro.replay.sandbox_db import sandbox_database, server_settings
from repro.snapshot.file import load_snapshot
from tests.helpers.dockerutil import require_image
from tests.helpers.pg import IMAGE_TEMPLATE

PROD = "fixtures/snapshots/prod.json"


def test_settings_taken_and_left_out() -> None:
    database = load_snapshot(PROD).facets["database"].data
    applied, skipped = server_settings(database)
    assert applied["TimeZone"] == "America/New_York"
    assert "listen_addresses" not in applied and "lc_collate" not in applied
    assert any(s.startswith("listen_addresses") for s in skipped)


class Interrupt(Exception):
    pass


def test_prod_like_database_then_nothing_left(docker_client: Any) -> None:
    require_image(docker_client, IMAGE_TEMPLATE.format(major=13))
    snapshot = load_snapshot(PROD)
    redactor = Redactor(RedactionKey.from_bytes(b"sandbox-test", "test"))
    labels = {"repro.test": "true"}
    with sandbox_database(
        snapshot, redactor, image_template=IMAGE_TEMPLATE, rows=5000, labels=labels
    ) as sandbox:
        assert sandbox.major == 13
        with psycopg.connect(sandbox.dsn) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()
            zone = conn.execute("SHOW TimeZone").fetchone()
            customers = conn.execute("SELECT count(*) FROM customers").fetchone()
            nulls = conn.execute("SELECT count(*) FROM customers WHERE email IS NULL").fetchone()
        assert version is not None and version[0].startswith("13")
        assert zone == ("America/New_York",)
        assert customers is not None and customers[0] > 0
        assert nulls is not None and nulls[0] > 0  # production's NULL emails, shaped in
        # Near max_rows: large tables are scaled down, but each keeps at least 1,000 rows
        # (repro.replay.sandbox_db.SMALL_TABLE), and prod has five of them.
        assert sandbox.data is not None and sandbox.data.rows <= 5000 + 5 * 1000
        assert {t.key: t.rows for t in sandbox.data.tables}["public.products"] == 40  # whole
        name = sandbox.container_name
        # Published for this process only, whatever the engine's default address, with a
        # password of its own (issue 12, finding 7).
        container = docker_client.containers.get(name)
        bindings = container.attrs["HostConfig"]["PortBindings"]["5432/tcp"]
        assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
        first_password = urlsplit(sandbox.dsn).password
        assert first_password and first_password != "repro-sandbox"
    assert not docker_client.containers.list(all=True, filters={"name": name})
    # An interruption inside the block (Ctrl-C raises KeyboardInterrupt the same way); the
    # snapshot's database name is hostile: it must stay a name, not add URL parameters.
    hostile = copy.deepcopy(snapshot)
    hostile.facets["database"].data["database"]["name"] = "shop?host=evil.invalid&x='"
    with (
        pytest.raises(Interrupt),
        sandbox_database(
            hostile, redactor, image_template=IMAGE_TEMPLATE, rows=500, labels=labels
        ) as sandbox,
    ):
        name = sandbox.container_name
        assert urlsplit(sandbox.dsn).password != first_password
        with psycopg.connect(sandbox.dsn) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (
                "shop?host=evil.invalid&x='",
            )
        raise Interrupt
    assert not docker_client.containers.list(all=True, filters={"name": name})
