"""Replay outcomes of every kind, built from literal data: the renderers' tests and the canary
sweep render them."""

from __future__ import annotations

from typing import Any

from repro.replay.incident import (
    STANDIN,
    ExceptionInfo,
    Frame,
    Incident,
    Lost,
    Provenance,
    Request,
    Signature,
)
from repro.replay.outcome import (
    EnvSource,
    Evidence,
    FileMount,
    Parity,
    ParityItem,
    ReplayOutcome,
    SandboxFacts,
    Stage,
    StandIn,
)
from repro.replay.verdict import Attempt, decide

FAKE_SECRET = "sk_test_FAKE0123456789abcdef"
FLASK = Frame("flask.app", "dispatch_request", "return view(**args)", in_app=False)
VIEW = Frame("shop.views", "checkout", "total = pricing.total(order)", "/app/shop/views.py", 12)
TOTAL = Frame(
    "shop.pricing", "total", "rate = rate_for(order.currency)", "/app/shop/pricing.py", 30
)
RATE = Frame("shop.pricing", "rate_for", f"return RATES[currency]  # key {FAKE_SECRET}", "p.py", 5)
PROD = Signature(
    500, (ExceptionInfo("KeyError", "'XTS' | " + "x" * 400, (FLASK, VIEW, TOTAL, RATE)),)
)
AUTH = Lost("header:Authorization", "credential: fingerprinted, needs a stand-in", "hmac:k1:ab")


def make_incident() -> Incident:
    return Incident(
        request=Request(
            method="POST",
            path="/checkout",
            headers=[("Authorization", STANDIN), ("Content-Type", "application/json")],
            body='{"cart": 1}',
        ),
        signature=PROD,
        provenance=Provenance(
            "sentry", event_id="a" * 32, release="shop@1.4.2", environment="production"
        ),
        lost=[AUTH],
    )


def sandbox_facts() -> SandboxFacts:
    return SandboxFacts(
        database_image="postgres:15",
        database_major=15,
        settings_applied={"work_mem": "4MB", "timezone": "UTC"},
        settings_skipped=["shared_preload_libraries"],
        rows={"orders": 12000, "users": 800, "items": 40000, "a": 1, "b": 2, "c": 3, "d": 4},
        app_image="shop:2024-06-01",
        app_user="10001:10001",
        memory_limit="512m",
        env=[
            EnvSource("DATABASE_URL", "sandbox database"),
            EnvSource("SECRET_KEY", "placeholder"),
            EnvSource("FEATURE_NEW_CHECKOUT", "snapshot"),
            EnvSource("DEMO_SIGNING_SALT", "placeholder"),
        ],
        files=[FileMount("/etc/shop/settings.yaml", "0600", "0:0", "snapshot")],
    )


def attempt(status: int | None, signature: Signature | None, seconds: float = 0.2) -> Attempt:
    return Attempt(status, signature, None, seconds)


def outcome_for(evidence: list[Evidence], **changes: Any) -> ReplayOutcome:
    incident = make_incident()
    decision = decide(incident.signature, [e.attempt for e in evidence], sandbox_ok=True)
    outcome = ReplayOutcome(
        incident=incident,
        incident_file="incidents/checkout.yaml",
        snapshot="snapshots/prod.json",
        decision=decision,
        evidence=evidence,
        stages=[
            Stage("database", 3.2, "postgres:15"),
            Stage("data", 1.5, "52,810 rows"),
            Stage("app", 2.0),
            Stage("replay", 0.6),
        ],
        sandbox=sandbox_facts(),
        stand_ins=[StandIn("header:Authorization", "--auth")],
        parity=Parity(
            counts={"high": 1, "low": 3},
            top=[
                ParityItem("high", "env.vars.FEATURE_NEW_CHECKOUT", "only in prod"),
                ParityItem("low", "packages.demo|pricing", "1.4.2 | 2.1.0"),
            ],
            incomparable=["packages: not captured in sandbox"],
        ),
    )
    for name, value in changes.items():
        setattr(outcome, name, value)
    return outcome


def reproduced() -> ReplayOutcome:
    return outcome_for(
        [
            Evidence(attempt(200, None), None),
            Evidence(attempt(500, PROD, 0.31), "sentry"),
            Evidence(attempt(500, Signature(None, PROD.exceptions)), "log"),
        ]
    )


def not_reproduced() -> ReplayOutcome:
    return outcome_for([Evidence(attempt(200, None), None), Evidence(attempt(201, None), None)])


def different_failure() -> ReplayOutcome:
    other = Signature(500, (ExceptionInfo("ValueError", "bad rate", (VIEW, TOTAL)),))
    return outcome_for([Evidence(attempt(500, other), "sentry", "exited with code 1")])


def env_error() -> ReplayOutcome:
    decision = decide(PROD, [], sandbox_ok=False)
    decision.reason += ": the app did not answer /health within 60 s"
    return outcome_for(
        [],
        decision=decision,
        stages=[Stage("database", 2.0)],
        parity=None,
        env_error="the app did not answer /health within 60 s",
        app_log_tail=[
            "Traceback (most recent call last):",
            "  [bold]not markup[/bold] | a pipe",
            "```",
            "RuntimeError: DATABASE_URL refused",
        ],
    )


def unfilled() -> ReplayOutcome:
    return outcome_for(
        [Evidence(Attempt(None, None, "connection refused by 127.0.0.1:8000", 0.01), None)],
        stand_ins=[],
        unfilled=[AUTH, Lost("headers", "not in the access log (only Referer and User-Agent are)")],
    )


def parity_error() -> ReplayOutcome:
    return outcome_for(
        [Evidence(attempt(500, PROD), "sentry")],
        parity=Parity(error="cannot snapshot the sandbox: docker exec failed"),
    )


def _status_only(**decide_options: Any) -> ReplayOutcome:
    """An access-log incident (no exception recorded) and a sandbox that raised one."""
    incident = make_incident()
    incident.signature = Signature(500, ())
    incident.provenance = Provenance("log")
    attempts = [Evidence(attempt(500, PROD), "log")]
    decision = decide(
        incident.signature, [e.attempt for e in attempts], sandbox_ok=True, **decide_options
    )
    return outcome_for(attempts, incident=incident, decision=decision)


def weak() -> ReplayOutcome:
    return _status_only()


def unconfirmed() -> ReplayOutcome:
    return _status_only(require_signature=True)


def broken_sandbox() -> ReplayOutcome:
    """The status matched, but the app could not log in to the sandbox database."""
    fault = 'the app cannot use the sandbox database: password authentication failed for "app"'
    failed = Attempt(500, None, None, 0.1, fault=fault)
    outcome = _status_only()
    outcome.evidence = [Evidence(failed, None)]
    outcome.decision = decide(outcome.incident.signature, [failed], sandbox_ok=True)
    outcome.env_error = fault
    outcome.app_log_tail = ['FATAL:  password authentication failed for user "app"']
    return outcome


OUTCOMES = {
    "weak": weak,
    "unconfirmed": unconfirmed,
    "broken-sandbox": broken_sandbox,
    "reproduced": reproduced,
    "not-reproduced": not_reproduced,
    "different-failure": different_failure,
    "env-error": env_error,
    "unfilled": unfilled,
    "parity-error": parity_error,
}
