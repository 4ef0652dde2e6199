"""The demo shop's four production-only bugs fail in a prod-like environment and not in a
staging-like one.

Two environments are built the way fixtures/demo/up.sh builds the demo (same image, staging
script, schema and seed), each on its own private Docker network, at a smaller data scale:

  condition                 prod-like                               staging-like
  PostgreSQL major          13                                      15
  FEATURE_NEW_CHECKOUT      1                                       unset
  demo-pricing              2.1.0                                   1.4.2
  settings.yaml             0600 root:root (app cannot read it)     0640 root:app
  customers                 2,000, ~5% with a NULL email            3, all with an email

For each bug, prod answers 500 and the app's stderr has the Python traceback with the expected
exception and in-app frame (parsed by repro.replay.tracebacks); staging answers 200. The
incidents captured from these failures are in fixtures/incidents/<bug>/.

`start_environment` is also what recaptures those incidents (pass ``extra_env`` with a
SENTRY_DSN pointing at a repro.replay.sentry_sink.SentrySink bound on the network's gateway).
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repro.replay.tracebacks import parse_tracebacks
from tests.helpers.demo_env import App, Net, start_net, wait_db
from tests.helpers.demo_shop import ShopData, seed_sql
from tests.helpers.dockerutil import remove_labelled, require_image
from tests.helpers.settings import session_labels
from tests.helpers.wait import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
APP_IMAGE = "repro/python-app:bookworm"
SITE_PACKAGES = "/usr/local/lib/python3.11/dist-packages"


@dataclass(frozen=True)
class EnvSpec:
    name: str
    pg_major: int
    pricing: str
    settings_mode: str
    settings_group: str
    hstore_version: str | None
    customers: int
    orders: int
    null_email_every: int
    feature_flag: str | None
    memory: str


PROD = EnvSpec("prod", 13, "2.1.0", "0600", "root", "1.4", 2000, 5000, 20, "1", "128m")
STAGING = EnvSpec("staging", 15, "1.4.2", "0640", "app", None, 3, 4, 0, None, "512m")


@dataclass
class Environment:
    spec: EnvSpec
    net: Net  # the private network and its database (alias `db`)
    app: App  # the app, published on 127.0.0.1 once started
    app_password: str

    @property
    def gateway(self) -> str:
        """The private network's gateway: how the app reaches this host."""
        return self.net.gateway

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        reply = self.app.request(method, path, body, timeout=20)
        assert reply.status, f"{method} {path}: no answer ({reply.error})"
        return reply.status, reply.body, reply.headers

    def stderr(self) -> str:
        return self.app.stderr()


def _seed_sql(spec: EnvSpec, app_password: str) -> str:
    data = ShopData(spec.customers, spec.orders, spec.null_email_every, 0, spec.hstore_version)
    return seed_sql(data, app_password)


def start_environment(
    client: Any,
    spec: EnvSpec,
    labels: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
) -> Environment:
    """Network, database and app of one environment, started; the app not yet probed."""
    net = start_net(client, labels, f"bugs-{spec.name}", pg_major=spec.pg_major,
                    pg_settings={"timezone": "UTC"})  # fmt: skip
    app_password = secrets.token_hex(16)
    env = {
        # `db` is the host name in DATABASE_URL, as in up.sh.
        "DATABASE_URL": f"postgresql://app:{app_password}@db:5432/shop",
        "SECRET_KEY": secrets.token_hex(20),
        "DEMO_SIGNING_SALT": secrets.token_hex(20),
        "DEMO_SETTINGS": "/etc/demo-app/settings.yaml",
        "DEMO_INSTANCE_ID": f"{spec.name}-1",
        **({"FEATURE_NEW_CHECKOUT": spec.feature_flag} if spec.feature_flag else {}),
        **(extra_env or {}),
    }
    # The same files up.sh stages, with their owners (settings.yaml is root:app in staging).
    staged = subprocess.run(
        [sys.executable, str(DEMO / "stage.py"), "--pricing", spec.pricing,
         "--site-packages", SITE_PACKAGES, "--settings-mode", spec.settings_mode,
         "--settings-group", spec.settings_group],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    app = net.app(
        APP_IMAGE,
        env=env,
        port=8000,
        name="app",
        memory=spec.memory,
        command=["/usr/local/bin/demo-app-entrypoint"],
        tar=staged,
    )
    return Environment(spec=spec, net=net, app=app, app_password=app_password)


def seed_and_start(env: Environment) -> None:
    """Wait for PostgreSQL, load schema and data, start the app and wait for /health."""
    wait_db(env.net)
    env.net.psql(_seed_sql(env.spec, env.app_password))
    env.app.start()


def start_both(
    client: Any, labels: Mapping[str, str], extra_env: Mapping[str, str] | None = None
) -> dict[str, Environment]:
    envs = {
        spec.name: start_environment(client, spec, labels, extra_env) for spec in (PROD, STAGING)
    }
    for env in envs.values():  # both databases initialise meanwhile
        seed_and_start(env)
    return envs


# --- the bugs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bug:
    name: str  # fixtures/incidents/<name>/
    method: str
    path: str
    body: dict[str, Any] | None
    exception: str  # as the traceback prints it
    function: str
    context_line: str


CHECKOUT_BODY = {
    "customer_id": 1,
    "items": [{"sku": "SKU-0001", "quantity": 2}],
    "discount_code": "WELCOME10",
}
BUGS = (
    Bug(
        "null-email",
        "GET",
        "/reports/newsletter",
        None,
        "AttributeError",
        "newsletter_report",
        'recipients.append(row["email"].lower())',
    ),
    Bug(
        "feature-flag",
        "POST",
        "/checkout/preview",
        CHECKOUT_BODY,
        "KeyError",
        "checkout_preview",
        'country = payload["shipping_address"]["country"]',
    ),
    Bug(
        "pg-version",
        "GET",
        "/reports/order-stats?weeks=4",
        None,
        "psycopg.errors.UndefinedFunction",
        "order_stats",
        "rows = conn.execute(ORDER_STATS_SQL, (weeks,)).fetchall()",
    ),
    Bug(
        "unreadable-config",
        "GET",
        "/pricing/rules",
        None,
        "PermissionError",
        "pricing_rules",
        'with open(path, encoding="utf-8") as handle:',
    ),
)


@pytest.fixture(scope="module")
def environments(docker_client: Any) -> Iterator[dict[str, Environment]]:
    for image in (APP_IMAGE, "repro/postgres:13", "repro/postgres:15"):
        require_image(docker_client, image)
    labels = {**session_labels(), "repro.test.module": "demo-bugs-" + secrets.token_hex(4)}
    try:
        yield start_both(docker_client, labels)
    finally:
        remove_labelled(docker_client, labels)


def _app_frame_lines(stderr: str) -> list[tuple[str, str | None, str | None]]:
    """(exception type, function, context line) of the last in-app frame of every traceback."""
    found: list[tuple[str, str | None, str | None]] = []
    for chain in parse_tracebacks(stderr):
        main = chain[-1]
        app_frames = [f for f in main.frames if f.filename and f.filename.endswith("/app.py")]
        last = app_frames[-1] if app_frames else None
        if last is None:
            found.append((main.type, None, None))
        else:
            found.append((main.type, last.function, last.context_line))
    return found


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_bug_fails_in_prod_with_its_traceback(
    bug: Bug, environments: dict[str, Environment]
) -> None:
    prod = environments["prod"]
    status, body, _ = prod.request(bug.method, bug.path, bug.body)
    assert status == 500, f"prod {bug.method} {bug.path}: {status} {body[:300]}"
    expected = (bug.exception, bug.function, bug.context_line)
    # The 500 can reach us before the traceback reaches the container's log: poll briefly.
    seen: list[tuple[str, str | None, str | None]] = []

    def logged() -> bool:
        seen[:] = _app_frame_lines(prod.stderr())
        return expected in seen

    with contextlib.suppress(TimeoutError):
        wait_until(logged, timeout=10, what="the traceback in prod's log")
    assert expected in seen, (
        f"no {bug.exception} in {bug.function} at `{bug.context_line}` in prod's log; "
        f"tracebacks found: {seen}"
    )


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_bug_does_not_fail_in_staging(bug: Bug, environments: dict[str, Environment]) -> None:
    staging = environments["staging"]
    status, body, _ = staging.request(bug.method, bug.path, bug.body)
    assert status == 200, f"staging {bug.method} {bug.path}: {status} {body[:300]}"
    assert "Traceback (most recent call last)" not in staging.stderr()


def test_existing_endpoints_still_work_in_prod(environments: dict[str, Environment]) -> None:
    prod = environments["prod"]
    for path in ("/health", "/products", "/customers/1", "/orders?limit=3"):
        status, body, _ = prod.request("GET", path)
        assert status == 200, f"prod GET {path}: {status} {body[:300]}"
    status, body, _ = prod.request("POST", "/checkout", CHECKOUT_BODY)
    assert status == 201, f"prod POST /checkout: {status} {body[:300]}"
