"""A throw-away copy of production in containers: one private network, the database
(:mod:`repro.replay.sandbox_db`), the app from the profile's ``sandbox.app`` with production's
environment, config files and uid (:mod:`repro.replay.sandbox_env`), and repro's Sentry sink
that the app reports to.

Closed by default: the network is ``internal`` (no route out: a replayed request must never
reach a real third party or production), so the only services the app reaches are the ones on
that network — the database, later the third-party stubs — and repro's Sentry sink, which
listens on the network's gateway address only and accepts only its own random DSN key. Ports
are published on 127.0.0.1 only, whatever the engine's default bind address, and the health
check follows no redirect.

Everything is labelled ``repro.managed=true`` plus ``repro.sandbox.id=<id>`` and removed when
the ``with`` block ends: normally, on an error and on Ctrl-C (KeyboardInterrupt unwinds through
here). What a killed process leaves, ``repro sandbox prune`` finds by label.

Production's conditions (:mod:`repro.replay.conditions`): the app container gets production's
resource limits (:mod:`~repro.replay.conditions.resources`); the third parties the profile
names are stubs repro runs beside the Sentry sink, and every other outside name fails at once
(:mod:`~repro.replay.conditions.services`). With more than one release to run
(``--candidate``, ``--baseline``), the loaded data is kept as a template
(:mod:`repro.replay.sandbox_reset`) and :meth:`Sandbox.replace_app` puts another release in
the same sandbox.
"""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import Any

from repro.errors import DockerUnavailableError, ReproError
from repro.profile.sandbox import SandboxApp
from repro.progress import Progress
from repro.redaction import Redactor
from repro.replay.conditions.resources import Limits, resource_limits
from repro.replay.conditions.services import ThirdParties
from repro.replay.db_wiring import app_role, wiring_env, wiring_for
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.outcome import SandboxFacts, Stage
from repro.replay.prune import MANAGED_LABEL
from repro.replay.sandbox_db import SandboxDatabase, sandbox_database
from repro.replay.sandbox_env import app_env, app_user, capture_gaps, facet_data, file_archive
from repro.replay.sandbox_faults import Fault, find_fault, placeholder
from repro.replay.sandbox_reset import keep_pristine, reset_to_pristine
from repro.replay.sentry_sink import SentrySink
from repro.targets.docker import engine_client

SANDBOX_LABEL = "repro.sandbox.id"
POLL_SECONDS = 0.1  # readiness polling interval (a wait strategy polls; it never sleeps blind)
FAULT_LOOK_S = 1.0  # how often the app's log is read for a broken sandbox while waiting


class SandboxError(ReproError):
    """The sandbox itself failed: the verdict is ENV_ERROR, never one about the bug."""

    def __init__(self, message: str, *, log_tail: list[str] | None = None) -> None:
        super().__init__(message)
        self.log_tail = log_tail or []
        self.stages: list[Stage] = []  # what was timed before it failed
        self.placeholders: dict[str, str] = {}  # placeholder value -> variable, to name one


@dataclass
class Sandbox:
    id: str
    client: Any
    network: Any
    sink: SentrySink
    database: SandboxDatabase
    app: Any  # docker Container
    host: str  # where this process reaches the app: its sandbox address, or 127.0.0.1
    port: int
    facts: SandboxFacts
    stages: list[Stage]
    sentry: bool = True  # the app was given repro's sink as its Sentry DSN
    third_parties: ThirdParties | None = None
    limits: Limits | None = None
    image: str = ""  # the release the app container runs now
    replace: Callable[[str], Any] | None = None  # the builder's: another release, same sandbox

    def replace_app(self, image: str) -> None:
        """Another release in this sandbox: the data as it was before the first request, the
        stubs' calls forgotten, a new app container of ``image``, ready. Raises SandboxError
        when the new app does not become ready."""
        assert self.replace is not None
        self.app = self.replace(image)
        self.image = image

    def app_state(self) -> str | None:
        """None while the app runs; otherwise "exited with code N" (or the engine's state)."""
        import docker

        try:
            self.app.reload()
        except docker.errors.NotFound:
            return "the app container disappeared"
        state = self.app.attrs.get("State") or {}
        if state.get("Running"):
            return None
        oom = " (killed: out of memory)" if state.get("OOMKilled") else ""
        return f"exited with code {state.get('ExitCode')}{oom}"

    def oom_killed(self) -> bool:
        """Whether the engine says the kernel killed the app container for memory."""
        import docker

        try:
            self.app.reload()
        except docker.errors.NotFound:
            return False
        return bool((self.app.attrs.get("State") or {}).get("OOMKilled"))

    def app_logs(self, since: float | None = None) -> str:
        kwargs: dict[str, Any] = {"stdout": True, "stderr": True}
        if since is not None:
            kwargs["since"] = since
        raw = self.app.logs(**kwargs)
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

    def log_tail(self, lines: int = 200) -> list[str]:
        try:
            return self.app_logs().splitlines()[-lines:]
        except Exception:
            return []


def placeholders_of(facts: SandboxFacts) -> dict[str, str]:
    """Each placeholder value the app was given -> its variable (to name it in a fault)."""
    return {placeholder(env.name): env.name for env in facts.env if env.source == "placeholder"}


def _timed(stages: list[Stage], name: str, detail: str = "") -> Callable[[], None]:
    started = time.perf_counter()

    def done() -> None:
        stages.append(Stage(name, time.perf_counter() - started, detail))

    return done


@contextmanager
def open_sandbox(
    inputs: ReplayInputs,
    redactor: Redactor,
    options: ReplayOptions,
    progress: Progress | None = None,
) -> Iterator[Sandbox]:
    """Start the sandbox; yields once the app answers its health check. Raises
    :class:`SandboxError` when the sandbox cannot be made to work (image missing, app exits,
    health check times out); no Docker engine is a TargetError (``engine_client``)."""
    import docker

    app_spec = inputs.sandbox.app
    if app_spec is None:
        raise ReproError(
            "the profile has no sandbox.app section: repro cannot know which image runs the app",
            hint="add sandbox.app.image and sandbox.app.port to the profile",
        )
    client = engine_client(timeout=60, engine=options.engine)
    try:
        client.images.get(app_spec.image)
    except docker.errors.ImageNotFound:
        raise SandboxError(
            f"no image {app_spec.image} on this Docker engine (sandbox.app.image)"
        ) from None
    builder = _Builder(inputs, redactor, options, progress, app_spec, client)
    try:
        with ExitStack() as stack:
            stack.enter_context(_second_interrupt_waits())
            yield builder.build(stack)
    except SandboxError as exc:
        exc.stages = list(builder.stages)
        exc.placeholders = placeholders_of(builder.facts)
        raise


class _Builder:
    """The sandbox's parts, in order, each registered with the ExitStack for removal."""

    def __init__(
        self,
        inputs: ReplayInputs,
        redactor: Redactor,
        options: ReplayOptions,
        progress: Progress | None,
        app_spec: SandboxApp,
        client: Any,
    ) -> None:
        self.inputs, self.snapshot, self.redactor = inputs, inputs.snapshot, redactor
        self.options, self.progress = options, progress
        self.app_spec, self.client = app_spec, client
        self.files = file_archive(self.snapshot, app_spec, inputs.base_dir)
        self.id = uuid.uuid4().hex[:10]
        self.closed = True  # an internal network (decided when the network is made)
        self.labels = {MANAGED_LABEL: "true", SANDBOX_LABEL: self.id}
        self.stages: list[Stage] = []
        self.wiring = wiring_for(self.snapshot, inputs.sandbox.database)
        self.limits = resource_limits(self.snapshot, options.conditions)
        self.third_parties: ThirdParties | None = None
        self.keep_data = bool(options.candidate or options.baseline)
        self.facts = SandboxFacts(
            app_image=app_spec.image,
            files=self.files.mounts,
            warnings=[*capture_gaps(self.snapshot, app_spec), *self.wiring.notes],
            database_wiring=f"{', '.join(self.wiring.variables)} ({self.wiring.origin})",
            memory_limit=self.limits.memory_text(),
        )

    def build(self, stack: ExitStack) -> Sandbox:
        done = _timed(self.stages, "network")
        network, sink, sink_host, extra_hosts = self._network_and_sink(stack)
        self.closed = extra_hosts is None
        self.third_parties = self._third_parties(stack, sink_host)
        done()
        database = self._database(stack, network.name)
        if self.keep_data:
            done = _timed(self.stages, "data copy", "kept for the next release's run")
            try:
                keep_pristine(database.dsn, self.redactor)
            except ReproError as exc:
                raise SandboxError(exc.one_line()) from None
            done()
        done = _timed(self.stages, "app", self.app_spec.image)
        dsn = sink.dsn_for(sink_host)
        app, host, port = self._app(stack, network.name, database, dsn, extra_hosts)
        done()
        sandbox = Sandbox(
            self.id, self.client, network, sink, database, app, host, port, self.facts,
            self.stages, sentry=self.app_spec.sentry_env is not None,
            third_parties=self.third_parties, limits=self.limits, image=self.app_spec.image,
        )  # fmt: skip
        done = _timed(self.stages, "health", self.app_spec.health or f"TCP {self.app_spec.port}")
        self._ready(sandbox)
        done()

        def replace(image: str) -> Any:
            _remove_container(self.client, app.name)
            reset_to_pristine(database.dsn, self.redactor)
            if self.third_parties is not None:
                self.third_parties.clear()
            sandbox.app, _host, _port = self._app(
                stack, network.name, database, dsn, extra_hosts, image=image
            )
            sandbox.host = _host
            sandbox.port = _port
            self._ready(sandbox)
            return sandbox.app

        sandbox.replace = replace
        return sandbox

    def _ready(self, sandbox: Sandbox) -> None:
        _wait_ready(
            sandbox,
            self.app_spec.health,
            self.app_spec.ready_timeout_s,
            broken=lambda log: find_fault(
                None, log, placeholders_of(self.facts), self.inputs.incident.signature
            ),
        )

    def _third_parties(self, stack: ExitStack, sink_host: str) -> ThirdParties | None:
        """The profile's services' stubs, beside the sink (and the name responder, on a
        closed network)."""
        services = self.inputs.sandbox.services
        if not services and not self.closed:
            return None
        bind = sink_host if self.closed else "0.0.0.0"
        parties = ThirdParties(
            services,
            self.options.conditions,
            self.inputs.recordings,
            bind_host=bind,
            stub_address=sink_host if self.closed else "host-gateway",
            closed=self.closed,
        )
        parties.open(stack)
        return parties

    def _network_and_sink(
        self, stack: ExitStack
    ) -> tuple[Any, SentrySink, str, dict[str, str] | None]:
        # Clean-up is registered by name BEFORE each create call: Ctrl-C can land after the
        # engine made the object but before the call returned it.
        name = f"repro-sandbox-{self.id}"
        stack.callback(_remove_network, self.client, name)
        network = self.client.networks.create(
            name, driver="bridge", internal=True, labels=self.labels
        )
        network.reload()
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
        try:
            # Bound on the network's gateway only: reachable from the sandbox (the host's own
            # address on the bridge is not routed through, so "internal" does not cut it
            # off), and from nowhere else.
            return network, stack.enter_context(SentrySink(host=gateway)), gateway, None
        except OSError:
            # The engine runs in a VM (Docker Desktop): the gateway is not an address of this
            # machine, and an internal network cannot reach this host. The sandbox then needs
            # a network with a route out to the sink: said in the report, never silently.
            _remove_network(self.client, name)
            network = self.client.networks.create(name, driver="bridge", labels=self.labels)
            self.facts.warnings.append(
                "the sandbox network is not closed: this Docker engine runs in a VM, so the "
                "app reaches repro's Sentry sink through the host and could reach other "
                "outside addresses too"
            )
            sink = stack.enter_context(SentrySink(host="0.0.0.0"))
            return network, sink, "host.docker.internal", {"host.docker.internal": "host-gateway"}

    def _database(self, stack: ExitStack, network: str) -> SandboxDatabase:
        inputs, options, spec = self.inputs, self.options, self.inputs.sandbox.database
        role = app_role(facet_data(self.snapshot, "database") or {}, inputs.app_role, self.wiring)
        try:
            database = stack.enter_context(
                sandbox_database(
                    self.snapshot,
                    self.redactor,
                    image_template=spec.image,
                    rows=spec.rows if options.rows is None else options.rows,
                    seed=options.seed,
                    labels=self.labels,
                    network=network,
                    closed=self.closed,
                    progress=self.progress,
                    app_role=role,
                    data_dump=inputs.data_dump,
                    engine=options.engine,
                )
            )
        except DockerUnavailableError:
            raise
        except ReproError as exc:
            raise SandboxError(f"the sandbox database failed: {exc.one_line()}") from None
        rows = database.rows
        how = f"from {inputs.data_dump.name}" if inputs.data_dump else "generated"
        self.stages.append(
            Stage("database", database.start_seconds, f"{database.image}, ready to connect")
        )
        self.stages.append(
            Stage("data", database.load_seconds, f"{sum(rows.values()):,} rows {how}")
        )
        facts = self.facts
        facts.database_image, facts.database_major = database.image, database.major
        facts.settings_applied = dict(database.settings)
        facts.settings_skipped = list(database.skipped_settings)
        facts.rows, facts.data_source = rows, how
        if role and database.app_role is None:
            facts.warnings.append(
                f"production's database role {role} is not in the snapshot: "
                "the app connects as the sandbox's superuser"
            )
        elif database.app_role is not None:
            how = "profile database.role" if inputs.app_role else "the user production's app uses"
            facts.app_role = f"{database.app_role} ({how}), with production's grants"
        elif self.wiring.user:
            facts.warnings.append(
                f"the app's database user {self.wiring.user} is not in the snapshot's roles: "
                "the app connects as the sandbox's superuser"
            )
        return database

    def _app(
        self,
        stack: ExitStack,
        network: str,
        database: SandboxDatabase,
        sentry_dsn: str,
        extra_hosts: dict[str, str] | None,
        image: str | None = None,
    ) -> tuple[Any, str, int]:
        """The app container and where this process reaches it: its address on the internal
        network (nothing published), or 127.0.0.1 and a published port (an engine in a VM)."""
        spec = self.app_spec
        assert database.network_login is not None
        env, self.facts.env = app_env(
            self.snapshot,
            spec,
            database=wiring_env(self.wiring, database.network_login),
            sentry_dsn=sentry_dsn,
            secrets=self.inputs.secrets,
        )
        hosts = dict(extra_hosts or {})
        conditions: dict[str, Any] = self.limits.create_kwargs()
        if self.third_parties is not None:
            hosts.update(self.third_parties.wire(self.snapshot, env, self.facts.env))
            if self.third_parties.dns_servers():
                conditions["dns"] = self.third_parties.dns_servers()
        user = app_user(self.snapshot, spec)
        self.facts.app_user = user or "the image's user"
        name = f"repro-sandbox-app-{self.id}"
        stack.callback(_remove_container, self.client, name)
        app = self.client.containers.create(
            image or spec.image,
            command=spec.command,
            name=name,
            hostname="app",
            user=user,
            environment=env,
            labels={**self.labels, "repro.sandbox.role": "app"},
            network=network,
            ports={} if self.closed else {f"{spec.port}/tcp": ("127.0.0.1", None)},
            extra_hosts=hosts or None,
            detach=True,
            **conditions,
        )
        if self.files.mounts and not app.put_archive("/", self.files.tar):
            raise SandboxError("could not copy the config files into the app container")
        app.start()
        app.reload()
        if self.closed:
            address = (app.attrs["NetworkSettings"]["Networks"].get(network) or {}).get("IPAddress")
            if not address:
                state = app.attrs.get("State") or {}
                if not state.get("Running"):  # it exited at once: an exited one has no address
                    logs = app.logs(stdout=True, stderr=True).decode("utf-8", "replace")
                    raise SandboxError(
                        f"the app exited with code {state.get('ExitCode')} before it was ready",
                        log_tail=logs.splitlines()[-200:],
                    )
                raise SandboxError(f"the app has no address on the sandbox network {network}")
            return app, str(address), spec.port
        bindings = (app.attrs["NetworkSettings"]["Ports"] or {}).get(f"{spec.port}/tcp") or []
        if not bindings:
            raise SandboxError(f"the app's port {spec.port} was not published")
        return app, "127.0.0.1", int(bindings[0]["HostPort"])


def _wait_ready(
    sandbox: Sandbox,
    health: str | None,
    timeout_s: int,
    broken: Callable[[list[str]], Fault | None] = lambda log: None,
) -> None:
    """Poll until the app answers (2xx on the health path, or any HTTP answer without one);
    give up at once when the container exits or its log shows the sandbox broken (``broken``:
    no retry mends a placeholder DSN or a refused login), or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    next_look = time.monotonic() + FAULT_LOOK_S
    url = f"http://{sandbox.host}:{sandbox.port}{health or '/'}"
    last = "no answer yet"
    opener = urllib.request.build_opener(_NoRedirects())
    while True:
        state = sandbox.app_state()
        if state is not None:
            raise SandboxError(f"the app {state} before it was ready", log_tail=sandbox.log_tail())
        try:
            with opener.open(url, timeout=2) as response:
                if 200 <= response.status < 300 or health is None:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            if health is None:
                return  # any HTTP answer (a redirect too): the app is listening
            location = exc.headers.get("Location") if exc.headers else None
            last = f"HTTP {exc.code}" + (
                f" redirecting to {location!r} (not followed)" if location else ""
            )
        except (urllib.error.URLError, OSError) as exc:
            last = type(getattr(exc, "reason", exc)).__name__
        if time.monotonic() >= next_look:
            next_look = time.monotonic() + FAULT_LOOK_S
            tail = sandbox.log_tail()
            fault = broken(tail)
            if fault is not None:
                raise SandboxError(f"the app is not ready ({url}: {last})", log_tail=tail)
        if time.monotonic() >= deadline:
            raise SandboxError(
                f"the app did not become ready within {timeout_s} s ({url}: {last})",
                log_tail=sandbox.log_tail(),
            )
        time.sleep(POLL_SECONDS)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, never followed: the health URL is the sandbox's, and a
    Location could name any host (production's, a third party's)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _remove_container(client: Any, name: str) -> None:
    import docker

    with suppress(docker.errors.NotFound):
        client.containers.get(name).remove(force=True, v=True)


def _remove_network(client: Any, name: str) -> None:
    import docker

    for network in client.networks.list(names=[name]):
        with suppress(docker.errors.NotFound):
            network.remove()


@contextmanager
def _second_interrupt_waits() -> Iterator[None]:
    """The first Ctrl-C unwinds (KeyboardInterrupt) and removes the sandbox; further ones
    during that clean-up are ignored, so an impatient second Ctrl-C cannot strand containers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    if previous is signal.SIG_IGN:  # started ignoring Ctrl-C (a background job): keep it so
        yield
        return
    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
