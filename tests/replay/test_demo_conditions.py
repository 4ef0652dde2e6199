"""The demo shop's four bugs that need production's *conditions*, not only its data or
configuration (issue 18): memory, a slow third party, a lock held by the nightly job, and
concurrent requests. Real containers of the release images (fixtures/demo/build-images.sh):

  bug               prod (2.1.0)                        staging    candidate 2.1.1-fix-*   2.0.0
  export-oom        OOM-killed (137) at 128m and the    200        200, flat memory        OOM too:
                    sandbox's scale (26,000 orders)                                        no help
  payments-timeout  500, TimeoutError from urlopen      201 (test  202 (payment pending)   202:
                    when the provider does not answer   gateway)                           helps
  login-lock        500 after 5 s, QueryCanceled, while 200        200 at once             500 too:
                    the nightly job's SHARE lock holds                                     no help
  ticket-race       500s, UniqueViolation on ticket     201s (one  201s, unique numbers    201s:
                    numbers, under concurrent requests  at a time)                         helps

The containers are started here by hand, not through `repro replay`: these tests pin the
apps' behaviour; tests/replay/test_replay_conditions.py replays the same bugs through
`repro replay` with production's conditions. The production database is loaded at the scale
`repro replay` generates from the prod snapshot (tests.helpers.demo_shop.PROD_SANDBOX_SCALE),
so the OOM also holds in the sandbox; the staging database has staging's rows.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from repro.replay.tracebacks import parse_tracebacks
from tests.helpers.demo_env import App, Net, Reply, start_net, wait_db
from tests.helpers.demo_shop import (
    DEMO_PASSWORD,
    PROD,
    PROD_SANDBOX_SCALE,
    STAGING,
    STAGING_DATA,
    ShopConfig,
    payments_stub,
    seed,
    shop_app,
)
from tests.helpers.dockerutil import remove_labelled, require_image
from tests.helpers.settings import session_labels
from tests.helpers.wait import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IMAGES = (
    "repro/postgres:13",
    "repro/postgres:15",
    "repro/python-app:bookworm",
    "repro/demo-shop:2.1.0",
    "repro/demo-shop:2.0.0",
    "repro/demo-shop:2.1.1-fix-export-oom",
    "repro/demo-shop:2.1.1-fix-payments-timeout",
    "repro/demo-shop:2.1.1-fix-login-lock",
    "repro/demo-shop:2.1.1-fix-ticket-race",
)
CHECKOUT = {"customer_id": 2, "items": [{"sku": "SKU-0003", "quantity": 1}]}
LOCK_SQL = "LOCK TABLE users IN SHARE MODE"  # what fixtures/demo_app/app/nightly_backup.py does
LOCK_HOLDER = "repro-test-nightly-job"
BURST = 40  # concurrent ticket requests
URLOPEN_LINE = "with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:"
RECORD_LINE = 'record_attempt(conn, email, user["id"] if valid and user is not None else None)'


@dataclass
class Env:
    net: Net
    config: ShopConfig
    password: str  # the app role's

    def app(self, tag: str, name: str, **extra_env: str) -> App:
        return shop_app(self.net, tag, self.config, self.password, name=name, extra_env=extra_env)


@pytest.fixture(scope="module")
def envs(docker_client: Any) -> Iterator[dict[str, Env]]:
    for image in IMAGES:
        require_image(docker_client, image)
    labels = {**session_labels(), "repro.test.module": "demo-conditions"}
    try:
        prod_net = start_net(
            docker_client, labels, "cond-prod", pg_major=13,
            pg_settings={"timezone": "America/New_York"},
        )  # fmt: skip
        staging_net = start_net(docker_client, labels, "cond-staging", pg_major=15)
        result = {
            "prod": Env(wait_db(prod_net), PROD, seed(prod_net, PROD_SANDBOX_SCALE)),
            "staging": Env(wait_db(staging_net), STAGING, seed(staging_net, STAGING_DATA)),
        }
        yield result
    finally:
        remove_labelled(docker_client, labels)


def tracebacks(stderr: str) -> list[tuple[str, list[tuple[str, str | None, str | None]]]]:
    """(exception type, [(file, function, context line) of the app's own frames]) per traceback."""
    found = []
    for chain in parse_tracebacks(stderr):
        main = chain[-1]
        frames = [
            (f.filename.rsplit("/", 1)[-1], f.function, f.context_line)
            for f in main.frames
            if f.filename and f.filename.startswith("/srv/demo-app/")
        ]
        found.append((main.type, frames))
    return found


def assert_traceback(app: App, exception: str, *frames: tuple[str, str, str]) -> None:
    seen = tracebacks(app.stderr())
    for kind, app_frames in seen:
        if kind == exception and all(frame in app_frames for frame in frames):
            return
    pytest.fail(f"no {exception} through {frames} in the app's log; tracebacks: {seen}")


def no_traceback(app: App) -> None:
    assert "Traceback (most recent call last)" not in app.stderr(), app.stderr()[-3000:]


# --- (5) export-oom --------------------------------------------------------------------------


def export(app: App) -> Reply:
    return app.request("GET", "/exports/orders", timeout=120)


@pytest.mark.parametrize("tag", ["2.1.0", "2.0.0"])
def test_export_is_oom_killed_at_prod_memory_and_scale(tag: str, envs: dict[str, Env]) -> None:
    """2.1.0 and the previous release alike: rolling back does not help."""
    app = envs["prod"].app(tag, f"export-{tag}").start()
    reply = export(app)
    # The kernel kills the process mid-request: no HTTP answer (a proxy in front says 502).
    assert reply.status == 0, (reply.status, reply.body[:200])
    state = app.wait_exit(timeout=30)
    assert state["OOMKilled"] is True, state
    assert state["ExitCode"] == 137, state


def test_export_works_on_staging(envs: dict[str, Env]) -> None:
    app = envs["staging"].app("2.1.0", "export-staging").start()
    reply = export(app)
    assert reply.status == 200, reply
    assert reply.json()["count"] == 4
    no_traceback(app)


def test_export_fix_streams_within_prod_memory(envs: dict[str, Env]) -> None:
    app = envs["prod"].app("2.1.1-fix-export-oom", "export-fix").start()
    reply = export(app)
    assert reply.status == 200, (reply.status, reply.error, reply.body[:200])
    document = reply.json()
    assert document["count"] == len(document["orders"]) > 20_000
    first = document["orders"][0]
    assert {"id", "customer", "lines", "total_cents"} <= set(first) and first["lines"]
    state = app.state()
    assert state["Running"] and not state["OOMKilled"]
    no_traceback(app)


# --- (6) payments-timeout ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_provider(envs: dict[str, Env]) -> Iterator[Any]:
    """prod's payments provider, taking requests and answering none for 20 s (the app's
    timeout is 3 s)."""
    stub = payments_stub(envs["prod"].net, "timeout", hang_s=20)
    yield stub
    stub.remove(force=True)


def test_checkout_crashes_when_the_provider_times_out(
    envs: dict[str, Env], slow_provider: Any
) -> None:
    app = envs["prod"].app("2.1.0", "pay-prod").start()
    started = time.monotonic()
    reply = app.request("POST", "/checkout", CHECKOUT)
    assert reply.status == 500, reply
    assert 2.5 < time.monotonic() - started < 15
    assert_traceback(
        app,
        "TimeoutError",
        ("app.py", "checkout", "charge = gateway.charge("),
        ("payments.py", "charge", URLOPEN_LINE),
    )  # fmt: skip


def test_checkout_handles_a_provider_that_is_down(envs: dict[str, Env]) -> None:
    """Refused connections were always handled (503): only the timeout path is broken."""
    app = envs["prod"].app("2.1.0", "pay-down", PAYMENTS_API_URL="http://db:1/v1").start()
    reply = app.request("POST", "/checkout", CHECKOUT)
    assert reply.status == 503, reply
    assert reply.json()["error"] == "payment provider unavailable"
    no_traceback(app)


def test_checkout_on_staging_uses_the_test_gateway(envs: dict[str, Env]) -> None:
    app = envs["staging"].app("2.1.0", "pay-staging").start()
    reply = app.request("POST", "/checkout", CHECKOUT)
    assert reply.status == 201, reply
    assert reply.json()["payment"].startswith("test_")
    no_traceback(app)


@pytest.mark.parametrize("tag", ["2.1.1-fix-payments-timeout", "2.0.0"])
def test_candidate_and_previous_release_keep_the_order_pending(
    tag: str, envs: dict[str, Env], slow_provider: Any
) -> None:
    """The fix, and 2.0.0 (which handled it before 2.1.0's refactor): a rollback helps."""
    app = envs["prod"].app(tag, f"pay-{tag}").start()
    reply = app.request("POST", "/checkout", CHECKOUT)
    assert reply.status == 202, reply
    assert reply.json()["status"] == "pending"
    no_traceback(app)


# --- (7) login-lock ----------------------------------------------------------------------------


@dataclass
class HeldLock:
    thread: threading.Thread
    result: list[Any]


def hold_users_lock(net: Net, seconds: int) -> HeldLock:
    """The nightly job's lock, held by a second session for ``seconds`` (or until released)."""
    sql = f"BEGIN; {LOCK_SQL}; SELECT pg_sleep({int(seconds)}); COMMIT;"
    result: list[Any] = []

    def run() -> None:
        result.append(
            net.db.exec_run(
                ["psql", "-X", "-U", "postgres", "-d", "shop", "-h", "127.0.0.1", "-c", sql],
                environment={"PGAPPNAME": LOCK_HOLDER},
            )
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def granted() -> bool:
        return query(net, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                          f"WHERE a.application_name = '{LOCK_HOLDER}' AND l.mode = 'ShareLock' "
                          "AND l.granted") == "1"  # fmt: skip

    wait_until(granted, timeout=20, what="the nightly job's lock on users")
    return HeldLock(thread, result)


def release(net: Net, held: HeldLock) -> None:
    query(net, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               f"WHERE application_name = '{LOCK_HOLDER}'")  # fmt: skip
    held.thread.join(timeout=30)


def query(net: Net, sql: str) -> str:
    code, out = net.db.exec_run(["psql", "-X", "-At", "-U", "postgres", "-d", "shop", "-c", sql])
    assert code == 0, out
    return str(out.decode().strip())


LOGIN = {"email": "customer1@example.com", "password": DEMO_PASSWORD}


def test_login_works_when_no_job_runs(envs: dict[str, Env]) -> None:
    for name in ("prod", "staging"):
        app = envs[name].app("2.1.0", f"login-free-{name}").start()
        reply = app.request("POST", "/login", LOGIN)
        assert reply.status == 200, (name, reply)
        assert reply.json()["token"]
        wrong = app.request("POST", "/login", {**LOGIN, "password": "wrong"})
        assert wrong.status == 401, (name, wrong)
        no_traceback(app)


@pytest.mark.parametrize("tag", ["2.1.0", "2.0.0"])
def test_login_hangs_and_fails_while_the_nightly_job_holds_its_lock(
    tag: str, envs: dict[str, Env]
) -> None:
    prod = envs["prod"]
    app = prod.app(tag, f"login-{tag}").start()
    held = hold_users_lock(prod.net, 30)
    try:
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            pending = pool.submit(app.request, "POST", "/login", LOGIN)
            # While it hangs, PostgreSQL shows what it waits for and who blocks it.
            blocked = wait_until(
                lambda: query(
                    prod.net,
                    "SELECT a.wait_event_type || ' ' || b.application_name FROM pg_stat_activity a "
                    "JOIN pg_stat_activity b ON b.pid = ANY (pg_blocking_pids(a.pid)) "
                    "WHERE a.application_name = 'demo-shop'",
                ) or None,
                timeout=10,
                what="the login to wait for the lock",
            )  # fmt: skip
            reply = pending.result(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        release(prod.net, held)
    assert blocked == f"Lock {LOCK_HOLDER}"
    assert reply.status == 500, reply
    assert 4.5 < elapsed < 20  # the app's statement_timeout is 5 s
    assert_traceback(
        app,
        "psycopg.errors.QueryCanceled",
        ("accounts.py", "login", RECORD_LINE),
    )  # fmt: skip


def test_login_fix_does_not_wait_for_the_lock(envs: dict[str, Env]) -> None:
    prod = envs["prod"]
    app = prod.app("2.1.1-fix-login-lock", "login-fix").start()
    held = hold_users_lock(prod.net, 30)
    try:
        started = time.monotonic()
        reply = app.request("POST", "/login", LOGIN)
        elapsed = time.monotonic() - started
    finally:
        release(prod.net, held)
    assert reply.status == 200, reply
    assert elapsed < 3
    assert "users is locked; attempt of user" in app.stderr()
    no_traceback(app)


# --- (8) ticket-race ---------------------------------------------------------------------------

TICKET = {"email": "customer7@example.com", "subject": "Where is my parcel?", "message": "Hi!"}


def burst(app: App, concurrency: int) -> list[Reply]:
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [
            pool.submit(app.request, "POST", "/support/tickets", TICKET) for _ in range(BURST)
        ]
        return [f.result(timeout=120) for f in futures]


def numbers_unique(env: Env) -> None:
    duplicates = query(
        env.net, "SELECT count(*) FROM (SELECT number FROM support_tickets GROUP BY number "
                 "HAVING count(*) > 1) d",
    )  # fmt: skip
    assert duplicates == "0"


def test_ticket_numbers_collide_under_concurrent_requests(envs: dict[str, Env]) -> None:
    prod = envs["prod"]
    app = prod.app("2.1.0", "tickets-prod").start()
    # One at a time the counter is right: the bug needs concurrency.
    sequential = [app.request("POST", "/support/tickets", TICKET) for _ in range(5)]
    assert [r.status for r in sequential] == [201] * 5
    assert len({r.json()["number"] for r in sequential}) == 5
    failed: list[Reply] = []
    for _attempt in range(3):  # a race: almost always the first burst; bounded either way
        failed = [r for r in burst(app, BURST) if r.status != 201]
        if failed:
            break
    assert failed, "no lost update in 3 bursts of concurrent requests"
    assert {r.status for r in failed} == {500}, [(r.status, r.body[:100]) for r in failed]
    assert_traceback(
        app,
        "psycopg.errors.UniqueViolation",
        ("tickets.py", "open_ticket", "ticket = conn.execute("),
    )
    assert 'violates unique constraint "support_tickets_number_key"' in app.stderr()
    numbers_unique(prod)


def test_staging_serves_one_request_at_a_time(envs: dict[str, Env]) -> None:
    staging = envs["staging"]
    app = staging.app("2.1.0", "tickets-staging").start()
    replies = burst(app, BURST)
    assert [r.status for r in replies] == [201] * BURST
    no_traceback(app)
    numbers_unique(staging)


@pytest.mark.parametrize("tag", ["2.1.1-fix-ticket-race", "2.0.0"])
def test_candidate_and_previous_release_number_atomically(tag: str, envs: dict[str, Env]) -> None:
    prod = envs["prod"]
    app = prod.app(tag, f"tickets-{tag}").start()
    replies = burst(app, BURST)
    assert [r.status for r in replies] == [201] * BURST, [r.body[:100] for r in replies]
    numbers = sorted(int(json.loads(r.body)["number"].rsplit("-", 1)[1]) for r in replies)
    assert numbers == list(range(numbers[0], numbers[0] + BURST))  # gapless, no duplicate
    no_traceback(app)
    numbers_unique(prod)
