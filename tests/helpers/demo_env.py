"""Demo environments in Docker for tests: a private network, a seeded PostgreSQL, app containers
from the demo images (fixtures/demo/build-images.sh) and small stub services, all labelled.

What fixtures/demo/up*.sh do for people, at test scale and without fixed names, so that test
modules can run side by side. Containers are started by the test, not by `repro replay`: these
tests pin what the demo apps do under production's conditions (memory limit, a slow third party,
a lock held by a job, concurrent requests), which the product's replay learns to set up later.
"""

from __future__ import annotations

import io
import json
import secrets
import tarfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.wait import GiveUp, wait_until

ROOT = Path(__file__).resolve().parents[2]
PG_READY_TIMEOUT = 90
APP_READY_TIMEOUT = 60


@dataclass
class Reply:
    status: int  # 0: no HTTP answer at all (connection reset, timed out)
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # why there was no answer

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    timeout: float = 30,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, resp.read().decode("utf-8", "replace"), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.read().decode("utf-8", "replace"), dict(err.headers.items()))
    except (urllib.error.URLError, OSError) as err:
        return Reply(0, "", error=f"{type(err).__name__}: {err}")


def put_file(container: Any, path: str, data: bytes, mode: int = 0o644) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode = len(data), mode
        tar.addfile(info, io.BytesIO(data))
    container.put_archive("/", buf.getvalue())


def copy_tar(container: Any, tar_bytes: bytes) -> None:
    """Extract a tar into the container. The engine keeps the tar's numeric owners and modes
    (``docker cp -a`` would try to resolve the container's user by name, which fails here)."""
    assert container.put_archive("/", tar_bytes), f"could not copy files into {container.name}"


def running(container: Any) -> None:
    container.reload()
    if container.status != "running":
        logs = container.logs(tail=40).decode("utf-8", "replace")
        raise GiveUp(f"{container.name} stopped:\n{logs}")


def stderr_of(container: Any) -> str:
    return str(container.logs(stdout=False, stderr=True).decode("utf-8", "replace"))


def stdout_of(container: Any) -> str:
    return str(container.logs(stdout=True, stderr=False).decode("utf-8", "replace"))


@dataclass
class Net:
    """A private network with a PostgreSQL on it (alias ``db``)."""

    client: Any
    labels: dict[str, str]
    name: str
    network: Any
    db: Any
    gateway: str  # how containers on the network reach this host

    def psql(self, sql: str, *, database: str = "postgres", user: str = "postgres") -> str:
        """Run SQL text (from the test's own files, never captured data) as a script."""
        path = f"/tmp/script-{secrets.token_hex(4)}.sql"
        put_file(self.db, path, sql.encode())
        code, out = self.db.exec_run(
            ["psql", "-q", "-X", "-U", user, "-d", database, "-h", "127.0.0.1",
             "-v", "ON_ERROR_STOP=1", "-f", path]
        )  # fmt: skip
        text = out.decode("utf-8", "replace")
        assert code == 0, f"psql on {self.db.name} failed:\n{text}"
        return text

    def app(
        self,
        image: str,
        *,
        env: Mapping[str, str],
        port: int,
        name: str,
        memory: str | None = None,
        command: Sequence[str] | None = None,
        user: str | None = None,
        tar: bytes | None = None,
    ) -> App:
        """Create (not start) an app container on this network, port published on 127.0.0.1."""
        kwargs: dict[str, Any] = {}
        if memory is not None:
            # No swap on top: what a memory limit means in production's orchestrators.
            kwargs.update(mem_limit=memory, memswap_limit=memory)
        container = self.client.containers.create(
            image,
            list(command) if command is not None else None,
            name=f"{self.name}-{name}",
            labels=self.labels,
            network=self.network.name,
            environment=dict(env),
            ports={f"{port}/tcp": ("127.0.0.1", None)},
            user=user,
            **kwargs,
        )
        if tar is not None:
            copy_tar(container, tar)
        return App(container=container, port=port)

    def service(self, alias: str, script: Path, env: Mapping[str, str], port: int) -> Any:
        """A stub service (a Python script from the repo) on the network as ``alias``, started
        and answering ``GET /health``."""
        container = self.client.containers.create(
            "repro/python-app:bookworm",
            ["python3", "/srv/stub.py"],
            name=f"{self.name}-{alias}",
            labels=self.labels,
            network=self.network.name,
            networking_config={
                self.network.name: self.client.api.create_endpoint_config(aliases=[alias])
            },
            environment={**env, "PORT": str(port)},
            ports={f"{port}/tcp": ("127.0.0.1", None)},
        )
        put_file(container, "/srv/stub.py", script.read_bytes())
        container.start()
        container.reload()
        url = f"http://127.0.0.1:{container.attrs['NetworkSettings']['Ports'][f'{port}/tcp'][0]['HostPort']}"

        def answers() -> bool:
            running(container)
            return http("GET", url + "/health", timeout=2).status == 200

        wait_until(answers, timeout=30, what=f"stub {alias}", interval=0.1)
        return container


@dataclass
class App:
    container: Any
    port: int
    url: str = ""

    def start(self, health: str = "/health", timeout: float = APP_READY_TIMEOUT) -> App:
        self.container.start()
        self.container.reload()
        host_port = self.container.attrs["NetworkSettings"]["Ports"][f"{self.port}/tcp"][0][
            "HostPort"
        ]
        self.url = f"http://127.0.0.1:{host_port}"

        def healthy() -> bool:
            running(self.container)
            return http("GET", self.url + health, timeout=5).status == 200

        wait_until(healthy, timeout=timeout, what=f"{self.container.name} {health}", interval=0.2)
        return self

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Reply:
        return http(method, self.url + path, body, timeout=timeout)

    def stderr(self) -> str:
        return stderr_of(self.container)

    def state(self) -> dict[str, Any]:
        self.container.reload()
        return dict(self.container.attrs["State"])

    def wait_exit(self, timeout: float = 60) -> dict[str, Any]:
        """The container's final state, once it stopped (a kill, a start that fails)."""

        def stopped() -> dict[str, Any] | None:
            state = self.state()
            return None if state["Running"] else state

        return wait_until(stopped, timeout=timeout, what=f"{self.container.name} to stop")

    def remove(self) -> None:
        self.container.remove(force=True)


def start_net(
    client: Any,
    labels: Mapping[str, str],
    name: str,
    *,
    pg_major: int,
    pg_settings: Mapping[str, str] | None = None,
) -> Net:
    """Network and PostgreSQL started; wait with :func:`wait_db` (start several at once)."""
    suffix = secrets.token_hex(3)
    full = f"repro-t-{name}-{suffix}"
    network = client.networks.create(full, labels=dict(labels))
    args: list[str] = []
    for key, value in (pg_settings or {}).items():
        args += ["-c", f"{key}={value}"]
    db = client.containers.run(
        f"repro/postgres:{pg_major}",
        args,
        name=f"{full}-db",
        detach=True,
        labels=dict(labels),
        network=network.name,
        networking_config={network.name: client.api.create_endpoint_config(aliases=["db"])},
        environment={"POSTGRES_PASSWORD": secrets.token_hex(16)},
    )
    network.reload()
    gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    return Net(client, dict(labels), full, network, db, gateway)


def wait_db(net: Net) -> Net:
    def ready() -> bool:
        running(net.db)
        code, _ = net.db.exec_run(["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres"])
        return bool(code == 0)

    wait_until(ready, timeout=PG_READY_TIMEOUT, what=f"PostgreSQL in {net.db.name}", interval=0.2)
    return net


def psql_vars(**values: Any) -> str:
    """``\\set`` lines for psql variables (values are the test's own numbers and hex tokens)."""
    lines = ["\\set ON_ERROR_STOP on"]
    for key, value in values.items():
        text = str(value)
        assert text.replace("_", "").replace(".", "").isalnum(), (key, text)
        lines.append(f"\\set {key} {text}")
    return "\n".join(lines) + "\n"


def app_role_sql(password: str, database: str) -> str:
    """The app's role owning its database and public schema (as the demo's db-setup.sql)."""
    return (
        psql_vars(app_password=password)
        + "CREATE ROLE app LOGIN PASSWORD :'app_password';\n"
        + f"CREATE DATABASE {database} OWNER app;\n"
        + f"\\connect {database}\n"
        + "ALTER SCHEMA public OWNER TO app;\n"
        + "REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
    )
