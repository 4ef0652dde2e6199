"""Issue 12, finding 7: the sandbox is closed.

On the real engine: the sandbox's network is internal; the app, from inside its container,
reaches the sandbox database and repro's Sentry sink but not an address outside its network
(a server container on another network, which this test starts: the only "outside" a test
may touch); the database and the app are published on 127.0.0.1 only, and each sandbox has
its own database password. Without Docker: the health check follows no redirect.

An engine started with ``--iptables=false`` (the per-helper dev engines here) isolates no
network from any other, internal or not, so the outside probe proves nothing there: the test
checks that with a control probe between two ordinary networks and then skips, after asserting
everything repro itself controls. CI's stock engine isolates: there the probe runs.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from repro.profile.file import load_profile_file
from repro.redaction import RedactionKey, Redactor
from repro.replay.importers.base import ImportOptions
from repro.replay.importers.har import HarImporter
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.sandbox import Sandbox, SandboxError, _wait_ready, open_sandbox
from repro.snapshot.file import load_snapshot
from repro.snapshot.registry import FACETS
from tests.helpers import session_labels
from tests.helpers.dockerutil import require_image

ROOT = Path(__file__).resolve().parents[2]
PROD = ROOT / "fixtures" / "snapshots" / "prod.json"
APP_IMAGE = "repro/demo-shop:2.1.0"
PROBE_IMAGE = "repro/python-app:bookworm"

# Run inside a container: try each (name, host, port) and say what happened, as JSON.
PROBE = """
import json, socket, sys
out = {}
for spec in sys.argv[1:]:
    name, host, port = spec.split(",")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        out[name] = "ok"
    except OSError as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(out))
"""


def _probe(container: Any, *targets: tuple[str, str, int]) -> dict[str, str]:
    specs = [f"{name},{host},{port}" for name, host, port in targets]
    result = container.exec_run(["python3", "-c", PROBE, *specs])
    assert result.exit_code == 0, result.output
    found: dict[str, str] = json.loads(result.output.decode().strip().splitlines()[-1])
    return found


def _ip(container: Any, network: str) -> str:
    container.reload()
    address: str = container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
    return address


@pytest.fixture
def outside(docker_client: Any) -> Iterator[tuple[str, Any]]:
    """A web server on an ordinary network of its own (the "outside" of a sandbox), and a
    second ordinary network for the control probe."""
    require_image(docker_client, PROBE_IMAGE)
    suffix = f"{time.monotonic_ns() % 10**9}"
    labels = session_labels()  # a live session's: another test run's sweep leaves them alone
    made: list[Any] = []
    try:
        net = docker_client.networks.create(f"repro-test-outside-{suffix}", labels=labels)
        made.append(net)
        other = docker_client.networks.create(f"repro-test-other-{suffix}", labels=labels)
        made.append(other)
        server = docker_client.containers.run(
            PROBE_IMAGE,
            ["python3", "-m", "http.server", "8000"],
            name=f"repro-test-outside-srv-{suffix}",
            network=net.name,
            labels=labels,
            detach=True,
        )
        made.insert(0, server)
        yield _ip(server, net.name), other
    finally:
        for thing in made:
            with contextlib.suppress(Exception):
                thing.remove(force=True) if hasattr(thing, "exec_run") else thing.remove()


def _engine_isolates(docker_client: Any, address: str, network: Any) -> bool:
    """Control: can a container on one ordinary network reach another network's server?
    A stock engine says no (its isolation rules); an --iptables=false engine says yes."""
    prober = docker_client.containers.run(
        PROBE_IMAGE, ["sleep", "60"], network=network.name, labels=session_labels(), detach=True
    )
    try:
        for _ in range(20):  # the server may still be starting: wait until it answers or not
            result = _probe(prober, ("outside", address, 8000))
            if result["outside"] == "ok":
                return False
            if "refused" not in result["outside"]:
                return True
            time.sleep(0.25)
        return True
    finally:
        prober.remove(force=True)


def test_sandbox_is_closed(docker_client: Any, outside: tuple[str, Any]) -> None:
    require_image(docker_client, APP_IMAGE)
    require_image(docker_client, "postgres:13")
    address, other_network = outside
    snapshot = load_snapshot(PROD)
    redactor = Redactor(RedactionKey.from_bytes(b"isolation-test", "test"))
    profile = load_profile_file(ROOT / "profiles" / "prod.yaml", FACETS)
    incident = ROOT / "fixtures" / "incidents" / "null-email" / "request.har"
    inputs = ReplayInputs(
        incident=HarImporter().parse(incident.read_bytes(), options=ImportOptions(redactor)),
        snapshot=snapshot,
        snapshot_ref=str(PROD),
        profile=profile,
        stand_ins={},
        secrets={},
        data_dump=None,
        base_dir=ROOT,
    )
    options = ReplayOptions(incident=str(incident), rows=200)
    with open_sandbox(inputs, redactor, options) as sandbox:
        network = docker_client.networks.get(sandbox.network.id)
        assert network.attrs["Internal"] is True
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
        db = docker_client.containers.get(sandbox.database.container_name)
        for container in (db, sandbox.app):
            # Only the internal network (no second one with a route out), and nothing
            # published: this process reaches them at their sandbox addresses.
            container.reload()
            assert set(container.attrs["NetworkSettings"]["Networks"]) == {network.name}
            bindings = container.attrs["HostConfig"]["PortBindings"] or {}
            assert not [b for found in bindings.values() for b in found or []], bindings
        password = urlsplit(sandbox.database.dsn).password
        assert password and password != "repro-sandbox"  # the old fixed one
        found = _probe(
            sandbox.app,
            ("database", "db", 5432),
            ("sink", gateway, sandbox.sink.port),
            ("outside", address, 8000),
        )
        assert found["database"] == "ok" and found["sink"] == "ok", found
        isolating = _engine_isolates(docker_client, address, other_network)
        if isolating:
            assert found["outside"] != "ok", found
    assert not docker_client.containers.list(all=True, filters={"label": "repro.sandbox.id"})
    if not isolating:
        # Not skip_or_fail: the engine is there, configured not to isolate anything (the
        # per-helper dev engines); what repro controls was asserted above. CI's stock engine
        # isolates, so there the outside probe runs.
        pytest.skip(
            "this Docker engine isolates no network from another (dockerd --iptables=false): "
            "an outside address cannot be shown unreachable here; the network is internal"
        )


class _Fake(Sandbox):
    """The container part of a sandbox, which this test has none of: always running."""

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port

    def app_state(self) -> str | None:
        return None

    def log_tail(self, lines: int = 20) -> list[str]:
        return []


def _server(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_health_check_follows_no_redirect() -> None:
    hits: list[str] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    elsewhere = _server(Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_address[1]}/health"

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    app = _server(Redirecting)
    try:
        with pytest.raises(SandboxError) as info:
            _wait_ready(_Fake(app.server_address[1]), "/health", 1)
        assert "redirecting to" in str(info.value) and "not followed" in str(info.value)
        assert hits == []
        # Without a health path, any answer means "listening", a redirect too: not followed.
        _wait_ready(_Fake(app.server_address[1]), None, 5)
        assert hits == []
    finally:
        for server in (app, elsewhere):
            server.shutdown()
            server.server_close()
