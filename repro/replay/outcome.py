"""What a replay found, as plain data: the renderers (rich, JSON, Markdown) and the exit code
read this and nothing else. Holds no secret: env values and credentials appear only as
sources ("sandbox database", "placeholder", "--auth"), never as values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from repro.replay.incident import Incident, Lost
from repro.replay.verdict import Attempt, Decision, Verdict

REPORT_SCHEMA = "repro.replay-report/v1"


@dataclass
class Stage:
    """One timed step: "database", "data", "app", "health", "replay", "parity"."""

    name: str
    seconds: float
    detail: str = ""


@dataclass
class Evidence:
    """One attempt and where its exception evidence came from."""

    attempt: Attempt
    source: str | None  # "sentry" (the sink), "log" (container log traceback) or None
    exited: str | None = None  # "exited with code 1" when the app died during the attempt
    # The app's log lines written during the attempt (not scrubbed: never rendered as such;
    # the report shows a scrubbed tail when they name what broke the sandbox).
    log: list[str] = field(default_factory=list)


@dataclass
class StandIn:
    """A lost part of the request filled with an explicit, labelled value."""

    where: str  # as in Lost.where: "header:Authorization", "cookie:session", "body"
    source: str  # "--auth", "--stand-in", "profile sandbox.stand_ins"


@dataclass
class EnvSource:
    """Where the sandbox app's value of one variable came from (never the value)."""

    name: str
    source: str  # "snapshot", "sandbox database", "sentry sink", "secrets file", "placeholder"


@dataclass
class FileMount:
    path: str
    mode: str  # "0600"
    owner: str  # "0:0" uid:gid
    origin: str  # "snapshot" (production's mode/owner) or "profile" (not in the snapshot)


@dataclass
class SandboxFacts:
    database_image: str = ""
    database_major: int | None = None
    settings_applied: dict[str, str] = field(default_factory=dict)
    settings_skipped: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows loaded
    data_source: str = "generated"  # or "from copy.sql" (a masked dump)
    app_image: str = ""
    app_user: str = ""  # "10001:10001"
    memory_limit: str | None = None
    env: list[EnvSource] = field(default_factory=list)
    database_wiring: str = ""  # "DB_HOST, DB_PORT, ... (inferred from production's environment)"
    app_role: str = ""  # "app (the user production's app uses), with production's grants"
    files: list[FileMount] = field(default_factory=list)
    # Where the sandbox knowingly differs from production because the snapshot lacked something.
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParityItem:
    severity: str  # "critical" | "high" | "medium" | "low" | "info"
    path: str  # "env.vars.FEATURE_NEW_CHECKOUT"
    summary: str  # one line: "only in prod", "13 vs 15", ...


@dataclass
class Parity:
    """The diff engine on (production snapshot, sandbox snapshot): how faithful the sandbox is."""

    counts: dict[str, int] = field(default_factory=dict)  # severity -> number of discrepancies
    top: list[ParityItem] = field(default_factory=list)  # most severe first, at most 10
    incomparable: list[str] = field(default_factory=list)  # "packages: not captured in sandbox"
    error: str | None = None  # the parity check itself failed (one line)


@dataclass
class ReplayOutcome:
    incident: Incident
    incident_file: str
    snapshot: str  # the production snapshot the sandbox was built from (path or profile)
    decision: Decision
    evidence: list[Evidence] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    sandbox: SandboxFacts = field(default_factory=SandboxFacts)
    stand_ins: list[StandIn] = field(default_factory=list)
    unfilled: list[Lost] = field(default_factory=list)  # lost parts replayed without a value
    parity: Parity | None = None
    env_error: str | None = None  # why the sandbox failed (ENV_ERROR), one line
    app_log_tail: list[str] = field(default_factory=list)  # last lines, scrubbed, on ENV_ERROR

    @property
    def exit_code(self) -> int:
        if self.decision.verdict is Verdict.REPRODUCED:
            return 0
        if self.decision.verdict is Verdict.ENV_ERROR:
            return 2
        return 1
