"""``repro replay``'s options, declared once.

The CLI builds one :class:`ReplayOptions` from the command line; the command
(:mod:`repro.commands.replay`) reads the files it names into :class:`ReplayInputs`; the runner
(:mod:`repro.replay.runner`) and the sandbox (:mod:`repro.replay.sandbox`) read both under
these names. No layer copies an option into an object of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from repro.profile.file import Profile
from repro.profile.sandbox import SandboxSpec
from repro.replay.conditions.recorded import RecordedAnswers
from repro.replay.conditions.spec import Conditions
from repro.replay.incident import Incident
from repro.snapshot.file import Snapshot


@dataclass
class ReplayOptions:
    """What the user asked for, as given (``repro replay --help`` says what each means)."""

    incident: str  # INCIDENT: the incident file
    snapshot: str | None = None  # --snapshot: a file, or a profile name (its latest snapshot)
    profile: str | None = None  # --profile (default: the snapshot's)
    repeat: int = 1  # --repeat
    auth: str | None = None  # --auth: a stand-in Authorization header value
    stand_ins: list[str] = field(default_factory=list)  # --stand-in WHERE=VALUE, repeated
    secrets_file: str | None = None  # --secrets: NAME=value lines for production's secrets
    rows: int | None = None  # --rows: at most N generated rows (None: the profile's)
    data_dump: str | None = None  # --data: a masked copy to load instead of generated rows
    seed: int = 0  # --seed
    timeout_s: float = 30.0  # --timeout
    parity: bool = True  # false with --no-parity
    require_signature: bool = False  # --require-signature: a status-only match is UNCONFIRMED
    output_format: str | None = None  # "json" | "markdown" | None (rich on a terminal)
    # Production's conditions (--memory, --cpus, --no-limits, --fault, --stub, --with-job,
    # --concurrency, --expect), parsed: a program builds Conditions directly.
    conditions: Conditions = field(default_factory=Conditions)
    candidate: str | None = None  # --candidate IMAGE: verify a fix in the same sandbox
    baseline: str | None = None  # --baseline IMAGE: would the previous release help?
    html: str | None = None  # --html FILE: the report as one self-contained page
    emit_pytest: str | None = None  # --emit-pytest PATH: a regression test module
    force: bool = False  # --force: replace the --html / --emit-pytest files
    engine: str | None = None  # the Docker engine (a DOCKER_HOST value); None: DOCKER_HOST's


@dataclass
class ReplayInputs:
    """What the options name, read and checked once by the command: the runner and the
    sandbox never open a file the user named."""

    incident: Incident
    snapshot: Snapshot  # production's
    snapshot_ref: str  # how the report names it (--snapshot, or the profile)
    profile: Profile  # with a sandbox.app section
    stand_ins: Mapping[str, tuple[str, str]]  # where -> (value, where the value came from)
    secrets: Mapping[str, str]  # the --secrets file's values, by variable name
    data_dump: Path | None  # --data, checked
    base_dir: Path  # where the profile's sandbox.app.files are relative to
    recordings: Mapping[str, RecordedAnswers] = field(default_factory=dict)  # --stub, read

    @property
    def sandbox(self) -> SandboxSpec:
        assert self.profile.sandbox is not None  # the command refuses a profile without one
        return self.profile.sandbox

    @property
    def app_role(self) -> str | None:
        """Production's database role for the app (the profile's database.role)."""
        return self.profile.database.role if self.profile.database else None
