"""Capture the incidents of fixtures/incidents/<name>/ from the real demo apps (not a test).

    python -m tests.replay.capture_incidents [NAME ...]     # default: all of CAPTURES

Each capture starts the app's production configuration in Docker (tests/helpers/demo_*.py),
puts a real nginx in front of it (as production has: the 502 of an OOM kill, the access log),
sends the failing request the way a browser does (Host and Chrome's headers) and writes what a
team would have in hand afterwards: the Sentry event the app sent (received by repro's own sink,
repro.replay.sentry_sink, where the app has an SDK), the browser's HAR, its "Copy as cURL",
nginx's access/error log lines, the app's own log (the stack trace), and for the bugs of
conditions the evidence production's platform gives (the engine's oom/die events, the lock
graph at the moment of failure). The README of each folder is written by hand.

Needs: the images of `make images`, a Docker engine, and nginx on this machine
(`bash images/provision.sh nginx`; only for recapturing, not for the tests).
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker

from repro.replay.sentry_sink import SentrySink
from tests.helpers import demo_accounts, demo_ledger, demo_shop
from tests.helpers.demo_env import App, Net, start_net, stderr_of, stdout_of, wait_db
from tests.helpers.dockerutil import remove_labelled
from tests.helpers.settings import session_labels
from tests.helpers.wait import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = ROOT / "fixtures" / "incidents"
SERVER_IP = "203.0.113.10"  # documentation range: where "production" answered
PROBE = "/__nginx_probe"  # nginx is up when it answers this (its line is left out of the logs)
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


# --- nginx in front ---------------------------------------------------------------------------

NGINX_CONF = """
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log combined;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server_tokens on;
    server {{
        listen 127.0.0.1:{port};
        server_name {host};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    port: int
    folder: Path

    def access(self) -> list[str]:
        lines = (self.folder / "access.log").read_text(encoding="utf-8").splitlines()
        return [line for line in lines if PROBE not in line]

    def errors(self) -> list[str]:
        path = self.folder / "error.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@contextmanager
def nginx_in_front(app: App, host: str) -> Iterator[Nginx]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("capture: nginx is needed (bash images/provision.sh nginx)")
    upstream = app.url.rsplit(":", 1)[1]
    with tempfile.TemporaryDirectory(prefix="capture-nginx-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        port = free_port()
        conf = folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=folder, port=port, host=host, upstream=upstream))
        proc = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off; user root;"]
        )
        try:
            wait_until(lambda: _answers(port), timeout=10, what="nginx")
            yield Nginx(port, folder)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("HEAD", PROBE)
        conn.getresponse().read()
        return True
    finally:
        conn.close()


# --- a browser's request, recorded ------------------------------------------------------------


@dataclass
class Exchange:
    started: datetime
    elapsed_ms: float
    method: str
    url: str  # as the browser saw it: https://<host><path>
    request_headers: list[tuple[str, str]]
    body: str | None
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    response_body: str


def browser_headers(host: str, referer: str, body: bool) -> list[tuple[str, str]]:
    headers = [
        ("Host", host),
        ("Connection", "keep-alive"),
        ("sec-ch-ua", '"Chromium";v="126", "Not.A/Brand";v="24", "Google Chrome";v="126"'),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", '"Linux"'),
        ("User-Agent", CHROME_UA),
    ]
    if body:
        headers.append(("Content-Type", "application/json"))
    headers += [
        ("Accept", "application/json, text/plain, */*"),
        *([("Origin", f"https://{host}")] if body else []),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Referer", f"https://{host}{referer}"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]
    return headers


def browse(
    port: int, host: str, method: str, path: str, body: Any = None, referer: str = "/"
) -> Exchange:
    data = json.dumps(body, separators=(",", ":")) if body is not None else None
    headers = browser_headers(host, referer, data is not None)
    if data is not None:
        headers.insert(-2, ("Content-Length", str(len(data.encode()))))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = datetime.now(UTC)
    t0 = time.monotonic()
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(data.encode() if data is not None else None)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
    return Exchange(
        started=started,
        elapsed_ms=round((time.monotonic() - t0) * 1000, 3),
        method=method,
        url=f"https://{host}{path}",
        request_headers=headers,
        body=data,
        status=resp.status,
        reason=resp.reason,
        response_headers=list(resp.getheaders()),
        response_body=text,
    )


def har(exchanges: list[Exchange]) -> dict[str, Any]:
    """HAR 1.2 in the shape Chrome's devtools save ("Save all as HAR")."""

    def nv(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"name": n, "value": v} for n, v in pairs]

    entries = []
    for ex in exchanges:
        query = ex.url.split("?", 1)[1] if "?" in ex.url else ""
        request: dict[str, Any] = {
            "method": ex.method,
            "url": ex.url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": nv(ex.request_headers),
            "queryString": nv([tuple(p.split("=", 1)) for p in query.split("&") if "=" in p]),  # type: ignore[misc]
            "headersSize": -1,
            "bodySize": len(ex.body.encode()) if ex.body else 0,
        }
        if ex.body is not None:
            request["postData"] = {"mimeType": "application/json", "text": ex.body}
        mime = dict((k.lower(), v) for k, v in ex.response_headers).get("content-type", "")
        entries.append(
            {
                "startedDateTime": ex.started.isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z"
                ),
                "time": ex.elapsed_ms,
                "request": request,
                "response": {
                    "status": ex.status,
                    "statusText": ex.reason,
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": nv(ex.response_headers),
                    "content": {"size": len(ex.response_body.encode()), "mimeType": mime,
                                "text": ex.response_body},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": len(ex.response_body.encode()),
                },
                "cache": {},
                "timings": {"blocked": -1, "dns": -1, "ssl": -1, "connect": -1, "send": 0,
                            "wait": ex.elapsed_ms, "receive": 0},
                "serverIPAddress": SERVER_IP,
                "connection": "443",
            }
        )  # fmt: skip
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [],
            "entries": entries,
        }
    }


def curl(ex: Exchange) -> str:
    """Chrome's "Copy as cURL (bash)"."""
    skip = {"host", "connection", "content-length", "accept-encoding"}
    lines = [f"curl {_sh(ex.url)}"]
    if ex.method not in ("GET", "POST") or (ex.method == "POST" and ex.body is None):
        lines.append(f"-X {ex.method}")
    lines += [
        f"-H {_sh(f'{n.lower()}: {v}')}" for n, v in ex.request_headers if n.lower() not in skip
    ]
    if ex.body is not None:
        lines.append(f"--data-raw {_sh(ex.body)}")
    return " \\\n  ".join(lines) + "\n"


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# --- writing ----------------------------------------------------------------------------------


def write(name: str, files: Mapping[str, Any]) -> None:
    folder = INCIDENTS / name
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        if isinstance(content, (dict, list)):
            text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        else:
            text = str(content)
            text = text if text.endswith("\n") else text + "\n"
        (folder / filename).write_text(text, encoding="utf-8")
    print(f"capture: wrote {folder.relative_to(ROOT)}: {', '.join(sorted(files))}")


def last_lines(text: str, marker: str, count: int = 60) -> str:
    """The log from the last line containing ``marker``, at most ``count`` lines."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if marker in line]
    if not starts:
        raise SystemExit(f"capture: {marker!r} not in the app's log")
    return "\n".join(lines[starts[-1] : starts[-1] + count])


def event_of(sink: SentrySink, exception: str) -> dict[str, Any]:
    def match(event: dict[str, Any]) -> bool:
        values = (event.get("exception") or {}).get("values") or []
        return any(v.get("type") == exception for v in values)

    event = sink.wait_for_event(30, match)
    if event is None:
        raise SystemExit(f"capture: no Sentry event with {exception} arrived")
    return event


# --- the captures -----------------------------------------------------------------------------


@dataclass
class Ctx:
    client: Any
    labels: dict[str, str]
    sink: SentrySink
    nets: dict[str, Net] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # the app role's, per net


def shop_prod(ctx: Ctx, tag: str, name: str, *, sentry: bool, **env: str) -> tuple[Net, App]:
    net = ctx.nets.get("shop")
    if net is None:
        net = wait_db(start_net(ctx.client, ctx.labels, "cap-shop", pg_major=13,
                                pg_settings={"timezone": "America/New_York"}))  # fmt: skip
        ctx.passwords["shop"] = demo_shop.seed(net, demo_shop.PROD_SANDBOX_SCALE)
        ctx.nets["shop"] = net
    extra = {"SENTRY_DSN": ctx.sink.dsn_for(net.gateway)} if sentry else {}
    app = demo_shop.shop_app(
        net, tag, demo_shop.PROD, ctx.passwords["shop"], name=name, extra_env={**extra, **env}
    )
    return net, app.start()


def capture_export_oom(ctx: Ctx) -> None:
    _net, app = shop_prod(ctx, "2.1.0", "export", sentry=False)
    events: list[str] = []
    since = int(time.time()) - 1

    with nginx_in_front(app, "shop.example.com") as nginx:
        ex = browse(
            nginx.port, "shop.example.com", "GET", "/exports/orders", referer="/admin/exports"
        )
        wait_until(lambda: not app.state()["Running"], timeout=30, what="the OOM kill")
        for event in ctx.client.events(since=since, until=int(time.time()) + 1, decode=True,
                                       filters={"container": app.container.id}):  # fmt: skip
            if event.get("Action") in ("oom", "die", "kill"):
                attrs = event["Actor"]["Attributes"]
                stamp = datetime.fromtimestamp(event["timeNano"] / 1e9, UTC)
                extra = f", exitCode={attrs['exitCode']}" if "exitCode" in attrs else ""
                events.append(
                    f"{stamp.isoformat(timespec='microseconds')} container {event['Action']} "
                    f"{event['id'][:12]} (image={attrs.get('image')}, "
                    f"name={attrs.get('name')}{extra})"
                )
        access, errors = nginx.access(), nginx.errors()
    state = app.state()
    assert state["OOMKilled"] and state["ExitCode"] == 137, state
    assert ex.status == 502, ex.status
    write(
        "export-oom",
        {
            "request.har": har([ex]),
            "curl.sh": curl(ex),
            "access.log": "\n".join(access),
            "nginx-error.log": "\n".join(e for e in errors if "upstream" in e),
            "engine-events.log": "\n".join(events),
        },
    )


def capture_payments_timeout(ctx: Ctx) -> None:
    net, app = shop_prod(ctx, "2.1.0", "checkout", sentry=True)
    stub = demo_shop.payments_stub(net, "timeout", hang_s=20)
    try:
        with nginx_in_front(app, "shop.example.com") as nginx:
            ex = browse(nginx.port, "shop.example.com", "POST", "/checkout",
                        {"customer_id": 2, "items": [{"sku": "SKU-0003", "quantity": 1}]},
                        referer="/cart")  # fmt: skip
            access = nginx.access()
    finally:
        stub.remove(force=True)
    assert ex.status == 500, ex.status
    write(
        "payments-timeout",
        {
            "sentry-event.json": event_of(ctx.sink, "TimeoutError"),
            "request.har": har([ex]),
            "curl.sh": curl(ex),
            "access.log": "\n".join(access),
        },
    )


LOCK_HOLDER = "demo-nightly-backup"


def capture_login_lock(ctx: Ctx) -> None:
    net, app = shop_prod(ctx, "2.1.0", "login", sentry=True)
    sql = "BEGIN; LOCK TABLE users IN SHARE MODE; SELECT pg_sleep(30); COMMIT;"
    holder = threading.Thread(
        target=net.db.exec_run,
        args=(["psql", "-X", "-U", "postgres", "-d", "shop", "-h", "127.0.0.1", "-c", sql],),
        kwargs={"environment": {"PGAPPNAME": LOCK_HOLDER}},
        daemon=True,
    )
    holder.start()
    time.sleep(1)  # the job's session takes its lock; the login comes after
    graph: list[str] = []

    def snapshot_locks() -> None:
        for _ in range(30):
            code, out = net.db.exec_run(
                ["psql", "-X", "-U", "postgres", "-d", "shop", "-c",
                 "SELECT a.pid, a.application_name, a.state, a.wait_event_type, a.wait_event, "
                 "pg_blocking_pids(a.pid) AS blocked_by, now() - a.query_start AS waiting, "
                 "left(a.query, 90) AS query FROM pg_stat_activity a "
                 "WHERE a.datname = 'shop' AND a.pid <> pg_backend_pid() ORDER BY a.pid"]
            )  # fmt: skip
            text = out.decode()
            if code == 0 and "demo-shop" in text and "Lock" in text:
                graph.append(text)
                return
            time.sleep(0.3)

    with nginx_in_front(app, "shop.example.com") as nginx, ThreadPoolExecutor(1) as pool:
        watcher = pool.submit(snapshot_locks)
        ex = browse(nginx.port, "shop.example.com", "POST", "/login",
                    {"email": "customer1@example.com", "password": demo_shop.DEMO_PASSWORD},
                    referer="/login")  # fmt: skip
        watcher.result(timeout=30)
        access = nginx.access()
    net.db.exec_run(["psql", "-X", "-U", "postgres", "-c",
                     f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE application_name = '{LOCK_HOLDER}'"])  # fmt: skip
    holder.join(timeout=30)
    assert ex.status == 500 and graph, (ex.status, graph)
    write(
        "login-lock",
        {
            "sentry-event.json": event_of(ctx.sink, "QueryCanceled"),
            "request.har": har([ex]),
            "curl.sh": curl(ex),
            "access.log": "\n".join(access),
            "pg-activity.txt": graph[0],
        },
    )


def capture_ticket_race(ctx: Ctx) -> None:
    _net, app = shop_prod(ctx, "2.1.0", "tickets", sentry=True)
    body = {"email": "customer7@example.com", "subject": "Where is my parcel?",
            "message": "Hello, order 4711 has not arrived yet."}  # fmt: skip
    with nginx_in_front(app, "shop.example.com") as nginx:
        exchanges: list[Exchange] = []
        for _attempt in range(3):
            with ThreadPoolExecutor(20) as pool:
                batch = list(pool.map(
                    lambda _: browse(nginx.port, "shop.example.com", "POST", "/support/tickets",
                                     body, referer="/help/contact"), range(20)))  # fmt: skip
            exchanges += batch
            if any(ex.status == 500 for ex in batch):
                break
        access = nginx.access()
    failed = [ex for ex in exchanges if ex.status == 500]
    assert failed, "no lost update"
    write(
        "ticket-race",
        {
            "sentry-event.json": event_of(ctx.sink, "UniqueViolation"),
            "request.har": har([failed[0]]),
            "curl.sh": curl(failed[0]),
            "access.log": "\n".join(access),
        },
    )


def capture_revenue_timezone(ctx: Ctx) -> None:
    net = wait_db(start_net(ctx.client, ctx.labels, "cap-ledger", pg_major=15,
                            pg_settings=demo_ledger.pg_settings(demo_ledger.PROD)))  # fmt: skip
    password = demo_ledger.create_database(net)
    app = demo_ledger.ledger_app(net, password, name="app").start()
    demo_ledger.seed(net, demo_ledger.PROD)
    with nginx_in_front(app, "ledger.example.com") as nginx:
        ex = browse(nginx.port, "ledger.example.com", "GET",
                    "/reports/revenue/daily?from=2025-03-01&to=2025-03-31",
                    referer="/finance")  # fmt: skip
        access = nginx.access()
    assert ex.status == 500, ex.status
    write(
        "revenue-timezone",
        {
            "request.har": har([ex]),
            "curl.sh": curl(ex),
            "access.log": "\n".join(access),
            "app.log": last_lines(
                stderr_of(app.container), "Exception on /reports/revenue/daily", 40
            ),
            "gunicorn-access.log": "\n".join(
                line for line in stdout_of(app.container).splitlines() if "/reports/" in line
            ),
        },
    )


def capture_null_profile(ctx: Ctx) -> None:
    env = demo_accounts.PROD
    net = wait_db(start_net(ctx.client, ctx.labels, "cap-accounts", pg_major=15))
    password = demo_accounts.seed(net, env)
    app = demo_accounts.accounts_app(
        net, env, password, name="app", SENTRY_DSN=ctx.sink.dsn_for(net.gateway)
    ).start()
    with nginx_in_front(app, "accounts.example.com") as nginx:
        ex = browse(nginx.port, "accounts.example.com", "GET", "/api/users?limit=100",
                    referer="/admin/people")  # fmt: skip
        access = nginx.access()
    assert ex.status == 500, ex.status
    write(
        "null-profile",
        {
            "sentry-event.json": event_of(ctx.sink, "TypeError"),
            "request.har": har([ex]),
            "curl.sh": curl(ex),
            "access.log": "\n".join(access),
            "app.log": last_lines(stderr_of(app.container), "error: GET /api/users", 20),
            "service-access.log": "\n".join(
                line for line in stdout_of(app.container).splitlines() if "/api/users" in line
            ),
        },
    )


CAPTURES: dict[str, Callable[[Ctx], None]] = {
    "export-oom": capture_export_oom,
    "payments-timeout": capture_payments_timeout,
    "login-lock": capture_login_lock,
    "ticket-race": capture_ticket_race,
    "revenue-timezone": capture_revenue_timezone,
    "null-profile": capture_null_profile,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(CAPTURES)}")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(CAPTURES))
    if unknown:
        parser.error(f"unknown capture {', '.join(unknown)} (known: {', '.join(CAPTURES)})")
    client = docker.from_env(timeout=120)
    labels = {**session_labels(), "repro.test.module": "capture-" + secrets.token_hex(3)}
    try:
        with SentrySink(host="0.0.0.0") as sink:
            ctx = Ctx(client, labels, sink)
            for name in args.names or list(CAPTURES):
                sink.clear()
                CAPTURES[name](ctx)
    finally:
        remove_labelled(client, labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
