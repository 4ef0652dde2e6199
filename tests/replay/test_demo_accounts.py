"""The Node.js demo service, demo-accounts (fixtures/demo_accounts, issue 16), on real
containers: Express + pg on Debian's Node.js, @sentry/node when SENTRY_DSN is set.

Its production-only bug is the classic `TypeError: Cannot read properties of null (reading
'email')` in auth.js: users provisioned by the identity provider have no profile until their
first login, so the directory's LEFT JOIN gives `profile: null` for them. Production has ~6% of
those; staging's users all signed up. The failure shows three ways, each checked here: a 500
with the access-log line on stdout, the stack trace on stderr, and a real Node SDK event that
repro's own Sentry sink (repro.replay.sentry_sink) receives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from repro.replay.sentry_sink import SentrySink
from tests.helpers.demo_accounts import (
    IMAGE,
    PROD,
    STAGING,
    VERSION,
    AccountsEnv,
    accounts_app,
    seed,
)
from tests.helpers.demo_env import App, Net, start_net, stdout_of, wait_db
from tests.helpers.dockerutil import remove_labelled, require_image
from tests.helpers.settings import session_labels
from tests.helpers.wait import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

MESSAGE = "Cannot read properties of null (reading 'email')"
# The first frame of the error's stack trace, as Node prints it.
AUTH_FRAME = re.compile(r"^\s+at toPrincipal \(/srv/accounts/src/auth\.js:(\d+):(\d+)\)$", re.M)
ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]+\] "GET /api/users\?limit=100 HTTP/1\.1" 500 \d+ ')


@dataclass
class Running:
    net: Net
    env: AccountsEnv
    password: str
    app: App


@pytest.fixture(scope="module")
def sink() -> Iterator[SentrySink]:
    with SentrySink(host="0.0.0.0") as running:
        yield running


@pytest.fixture(scope="module")
def services(docker_client: Any, sink: SentrySink) -> Iterator[dict[str, Running]]:
    for image in (IMAGE, "repro/postgres:15"):
        require_image(docker_client, image)
    labels = {**session_labels(), "repro.test.module": "demo-accounts"}
    try:
        nets = {
            env.name: start_net(docker_client, labels, f"accounts-{env.name}", pg_major=15)
            for env in (PROD, STAGING)
        }
        result: dict[str, Running] = {}
        for env in (PROD, STAGING):
            net = wait_db(nets[env.name])
            password = seed(net, env)
            # The Node SDK reports to repro's sink, reached through the network's gateway.
            app = accounts_app(
                net, env, password, name="app", SENTRY_DSN=sink.dsn_for(net.gateway)
            ).start()
            result[env.name] = Running(net, env, password, app)
        yield result
    finally:
        remove_labelled(docker_client, labels)


def test_directory_fails_in_prod_with_a_node_stack_trace(services: dict[str, Running]) -> None:
    app = services["prod"].app
    reply = app.request("GET", "/api/users?limit=100")
    assert reply.status == 500, reply
    assert reply.json() == {"error": "internal server error"}
    stderr = app.stderr()
    assert f"TypeError: {MESSAGE}" in stderr
    assert AUTH_FRAME.search(stderr), stderr[-2000:]
    # The access line is written once the response is sent: poll for it.
    wait_until(
        lambda: any(ACCESS_LINE.match(line) for line in stdout_of(app.container).splitlines()),
        timeout=10,
        what="the access-log line",
    )


def test_directory_works_in_staging(services: dict[str, Running]) -> None:
    app = services["staging"].app
    reply = app.request("GET", "/api/users?limit=100")
    assert reply.status == 200, reply
    body = reply.json()
    assert body["count"] == 5 and body["users"][0]["email"] == "user1@example.com"
    assert "TypeError" not in app.stderr()


def test_one_user_fails_only_when_it_has_no_profile(services: dict[str, Running]) -> None:
    prod = services["prod"]
    code, out = prod.net.db.exec_run(
        ["psql", "-X", "-At", "-U", "postgres", "-d", "accounts", "-c",
         "SELECT min(id) FILTER (WHERE profile_id IS NULL), "
         "min(id) FILTER (WHERE profile_id IS NOT NULL) FROM users"]
    )  # fmt: skip
    assert code == 0, out
    without, with_profile = (int(v) for v in out.decode().strip().split("|"))
    assert prod.app.request("GET", f"/api/users/{with_profile}").status == 200
    assert prod.app.request("GET", f"/api/users/{without}").status == 500


def test_the_node_sdk_event_reaches_repros_sink(
    services: dict[str, Running], sink: SentrySink
) -> None:
    services["prod"].app.request("GET", "/api/users?limit=100")

    def ours(event: dict[str, Any]) -> bool:
        values = (event.get("exception") or {}).get("values") or []
        return any(v.get("value") == MESSAGE for v in values)

    event = sink.wait_for_event(30, ours)
    assert event is not None, f"no event with {MESSAGE!r}; got {len(sink.events())} events"
    assert event["platform"] == "node"
    assert event["sdk"]["name"] == "sentry.javascript.node"
    assert event["release"] == f"demo-accounts@{VERSION}"
    assert event["environment"] == "prod"
    main = event["exception"]["values"][-1]
    assert main["type"] == "TypeError"
    frames = main["stacktrace"]["frames"]
    top = frames[-1]  # Sentry orders frames caller -> callee
    assert top["function"] == "toPrincipal"
    assert top["filename"].endswith("/srv/accounts/src/auth.js")
    assert top["in_app"] is True
    assert "email: profile.email.toLowerCase()," in top.get("context_line", "")
    assert event["request"]["url"].endswith("/api/users?limit=100")
