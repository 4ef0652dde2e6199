"""Third parties in the sandbox: each service the profile names (``sandbox.services``: the
variable holding its base URL) is pointed at its stub (:mod:`.stubs`), which behaves as
``--fault`` says and answers what ``--stub`` recorded; every other outside name fails at once
(:mod:`.dns`). The report lists the calls the app made to each and the outside names it asked.

The stub keeps the service's host name (the app's /etc/hosts points it at the stub) and the
URL's path, so ``https://api.payments.example/v1`` becomes
``http://api.payments.example:PORT/v1``: only the scheme (TLS is not simulated), the port and
the credentials in the URL (none needed) change. A service whose variable production's
environment does not have is not wired: the app does not call it there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, MutableMapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from repro.errors import UsageError
from repro.replay.conditions.dns import Lookup, NameResponder
from repro.replay.conditions.recorded import RecordedAnswers
from repro.replay.conditions.spec import Conditions, Fault, FaultKind
from repro.replay.conditions.stubs import Call, ServiceStub
from repro.replay.outcome import EnvSource
from repro.replay.sandbox_env import facet_data
from repro.replay.sandbox_faults import placeholder
from repro.snapshot.file import Snapshot

RESERVED_HOSTS = frozenset({"db", "app", "localhost"})


@dataclass
class ServiceWiring:
    """What the sandbox made of one profile service (for the report: never a credential)."""

    name: str
    env: str
    behaviour: str  # "timeout", "ok: 3 recorded answers from payments.har"
    production: str | None = None  # production's URL without credentials, or None
    url: str | None = None  # what the app got
    note: str | None = None  # why it was not wired, or what differs (TLS)


@dataclass
class ThirdPartiesReport:
    services: list[ServiceWiring] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)  # outside names the app asked for
    dns: str = ""  # how outside names are answered, one line
    dropped_calls: int = 0


def check_service_names(services: Mapping[str, str], conditions: Conditions) -> None:
    """``--fault`` and ``--stub`` name services of the profile's ``sandbox.services``."""
    for flag, names in (("--fault", conditions.faults), ("--stub", conditions.stubs)):
        for name in names:
            if name not in services:
                known = ", ".join(sorted(services)) or "none"
                raise UsageError(
                    f"{flag} {name}: the profile's sandbox.services names no such service "
                    f"(it names: {known})",
                    hint="add it: sandbox: {services: {NAME: {env: VARIABLE_WITH_ITS_URL}}}",
                )


def _production_url(snapshot: Snapshot, env: Mapping[str, str], variable: str) -> str | None:
    """The service's base URL as the app would see it; for a redacted value, the snapshot's
    masked form (``https://user:***@host/v1``): its host and path are what matter."""
    value = env.get(variable)
    if value is not None and value != placeholder(variable):
        return value
    captured = ((facet_data(snapshot, "env") or {}).get("vars") or {}).get(variable)
    if isinstance(captured, Mapping) and isinstance(captured.get("masked"), str):
        return str(captured["masked"])
    return None


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class ThirdParties:
    """The stubs and the name responder of one sandbox; opened once, reused across runs."""

    def __init__(
        self,
        services: Mapping[str, str],  # name -> variable (profile sandbox.services)
        conditions: Conditions,
        recordings: Mapping[str, RecordedAnswers],
        bind_host: str,  # where the stubs listen: the gateway, or 0.0.0.0 (an engine in a VM)
        stub_address: str,  # what the app's /etc/hosts maps service names to
        closed: bool,
    ) -> None:
        self.services, self.conditions, self.recordings = services, conditions, recordings
        self.bind_host, self.stub_address, self.closed = bind_host, stub_address, closed
        self.stubs: dict[str, ServiceStub] = {}
        self.responder: NameResponder | None = None
        self.report = ThirdPartiesReport()

    def open(self, stack: ExitStack) -> None:
        for name in sorted(self.services):
            fault = self.conditions.faults.get(name, Fault(FaultKind.OK))
            stub = ServiceStub(name, self.bind_host, fault, self.recordings.get(name))
            self.stubs[name] = stack.enter_context(stub)
        if not self.closed:
            self.report.dns = (
                "outside names resolve as the engine's host resolves them (the network is open)"
            )
            return
        try:
            self.responder = stack.enter_context(NameResponder(self.bind_host))
            self.report.dns = "every outside name the app asked for was answered NXDOMAIN at once"
        except OSError as exc:
            self.report.dns = (
                "outside names fail only after the resolver's timeout: repro could not listen "
                f"on port 53 of the sandbox gateway ({type(exc).__name__}; it needs root)"
            )

    # -- the app container's configuration -------------------------------------------------

    def wire(
        self, snapshot: Snapshot, env: MutableMapping[str, str], sources: list[EnvSource]
    ) -> dict[str, str]:
        """Points each service's variable at its stub in ``env`` (and says so in
        ``sources``); returns the extra /etc/hosts entries the app container needs."""
        hosts: dict[str, str] = {}
        wirings: list[ServiceWiring] = []
        by_name = {s.name: s for s in sources}
        for name in sorted(self.services):
            variable, stub = self.services[name], self.stubs[name]
            wiring = ServiceWiring(name, variable, self._behaviour(name))
            wirings.append(wiring)
            original = _production_url(snapshot, env, variable)
            if original is None:
                wiring.note = (
                    f"{variable} is not in this environment: the app does not call {name} here"
                )
                continue
            parts = urlsplit(original)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                wiring.note = f"{variable} is not an http(s) URL: not wired"
                continue
            host = parts.hostname
            if host in RESERVED_HOSTS:
                wiring.note = f"{variable} names the sandbox's own {host}: not wired"
                continue
            wiring.production = _without_credentials(original)
            if _is_address(host):
                host = self.stub_address  # an address cannot be renamed in /etc/hosts
            else:
                hosts[host] = self.stub_address
            url = urlunsplit(("http", f"{host}:{stub.port}", parts.path, parts.query, ""))
            env[variable] = wiring.url = url
            if variable in by_name:
                by_name[variable].source = f"stub of {name}"
            else:
                sources.append(EnvSource(variable, f"stub of {name}"))
            if parts.scheme == "https":
                wiring.note = "production's URL is https: the stub speaks plain HTTP"
        sources.sort(key=lambda s: s.name)
        self.report.services = wirings
        return hosts

    def dns_servers(self) -> list[str] | None:
        return [self.bind_host] if self.responder is not None else None

    def _behaviour(self, name: str) -> str:
        fault = self.conditions.faults.get(name, Fault(FaultKind.OK))
        recorded = self.recordings.get(name)
        text = fault.describe()
        if fault.kind in (FaultKind.OK, FaultKind.SLOW):
            text += (
                f": {len(recorded)} recorded answers from {recorded.source}"
                if recorded is not None
                else ": an empty JSON object (nothing recorded: --stub NAME=FILE)"
            )
        return text

    # -- during and between runs ------------------------------------------------------------

    def arm(self) -> None:
        for stub in self.stubs.values():
            stub.arm()

    def release(self) -> None:
        for stub in self.stubs.values():
            stub.release()

    def clear(self) -> None:
        for stub in self.stubs.values():
            stub.clear()
        if self.responder is not None:
            self.responder.clear()

    def collect(self) -> ThirdPartiesReport:
        """What the app did since the last :meth:`clear`."""
        calls = [call for stub in self.stubs.values() for call in stub.calls()]
        calls.sort(key=lambda call: call.at)
        return ThirdPartiesReport(
            services=list(self.report.services),
            calls=calls,
            lookups=self.responder.lookups() if self.responder is not None else [],
            dns=self.report.dns,
            dropped_calls=sum(stub.dropped for stub in self.stubs.values()),
        )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
