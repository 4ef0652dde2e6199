"""``repro replay --emit-pytest`` without Docker: the module it writes (repro.replay.regression)
and the API that module calls (repro.commands.regression).

The emitted module is read back with ``ast``: its constants are literals equal to what the
replay was given, whatever those hold (hypothesis: quotes, newlines, backslashes, NUL,
surrogates, Python code), and its shape — every statement, name and call — is the same for
hostile values as for plain ones, so no captured string can add code. The module is also run:
imported, with repro's API replaced by fakes, so its skip / fail / pass logic is tested here;
tests/replay/test_regression_docker.py runs one against the real engine.

Every ``repro`` subprocess here gets a DOCKER_HOST that does not exist: these tests must never
reach an engine (an error that came too late would otherwise start a sandbox).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.commands import regression as api
from repro.errors import ReproError, UsageError
from repro.redaction import RedactionKey, Redactor
from repro.replay.conditions.spec import (
    Conditions,
    Expect,
    Fault,
    FaultKind,
    Job,
    JobKind,
    parse_conditions,
    parse_job,
)
from repro.replay.incident import ExceptionInfo, Provenance, Request, Signature
from repro.replay.options import ReplayOptions
from repro.replay.outcome import ReleaseAnswer, ReleaseRun, ReplayOutcome
from repro.replay.regression import (
    CONSTANTS,
    TEST_NAME,
    condition_arguments,
    emit_module,
    recorded_path,
    regression_spec,
    render_module,
)
from repro.replay.verdict import Decision, Verdict
from tests.helpers.cli import assert_one_line_error, run_repro
from tests.helpers.outcomes import make_incident

FAST = settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
NOW = datetime(2026, 12, 5, 7, 33, 40, tzinfo=UTC)
NO_ENGINE = "unix:///nonexistent/repro-test-docker.sock"
ROOT = Path(__file__).resolve().parents[2]
SENTRY_EVENT = ROOT / "fixtures" / "incidents" / "feature-flag" / "sentry-event.json"
# Any code point, lone surrogates included (an argv byte that is not UTF-8 arrives as one).
ANY_CHAR = st.characters(exclude_categories=())
HOSTILE = st.text(alphabet=ANY_CHAR, min_size=1, max_size=40) | st.sampled_from(
    [
        '"""',
        "'''",
        "\\",
        'x"""; import os; os.system("id") #',
        "a\nimport os\n",
        "\r\x00\x0c\u2028\udcff",
        "{problem}",
        "}{",
        "# comment",
        "\\N{BULLET}",
    ]
)


def outcome(verdict: Verdict = Verdict.REPRODUCED) -> ReplayOutcome:
    return ReplayOutcome(
        incident=make_incident(),
        incident_file="incidents/checkout.yaml",
        snapshot="fixtures/snapshots/prod.json",
        decision=Decision(verdict, "why", 1, 1, 1.0),
    )


def options(workdir: Path, **changes: Any) -> ReplayOptions:
    base = ReplayOptions(
        incident=str(workdir / "incidents" / "checkout.yaml"),
        snapshot="fixtures/snapshots/prod.json",
        emit_pytest=str(workdir / "tests" / "regressions" / "test_checkout.py"),
        conditions=parse_conditions(
            memory="128m",
            faults=["payments=timeout"],
            stubs=[f"sms={workdir / 'recorded' / 'sms.har'}"],
            jobs=["sql:LOCK TABLE users IN SHARE MODE;hold=30s"],
            concurrency=4,
            expect="oom",
        ),
        repeat=8,
        seed=7,
        rows=500,
        candidate="repro/demo-shop:2.1.1-fix",
    )
    return replace(base, **changes)


def constants(text: str) -> dict[str, Any]:
    """The module's top-level constants, evaluated as literals (never executed)."""
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in CONSTANTS:
                found[name] = ast.literal_eval(node.value)
    return found


def shape(text: str) -> str:
    """The module's AST with every constant's value and every literal blanked."""
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in CONSTANTS:
            node.value = ast.Constant(None)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = None
    return ast.dump(tree)


PLAIN_SHAPE = shape(
    render_module(regression_spec(options(Path("/work/project")), outcome(), now=NOW))
)


def load(text: str, folder: Path) -> ModuleType:
    path = folder / "test_emitted.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("test_emitted_module", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the module's content --------------------------------------------------------------


def test_the_module_records_the_replay(tmp_path: Path) -> None:
    given_options = options(tmp_path)
    text = render_module(regression_spec(given_options, outcome(), workdir=str(tmp_path), now=NOW))
    compile(text, "test_checkout.py", "exec")
    assert constants(text) == {
        "WORKDIR": "../..",  # the module sits in tests/regressions/ of the replay's directory
        "INCIDENT": "incidents/checkout.yaml",  # absolute inside WORKDIR: made relative
        "SNAPSHOT": "fixtures/snapshots/prod.json",
        "PROFILE": None,
        "IMAGE": "repro/demo-shop:2.1.1-fix",  # --candidate: what the test runs by default
        "CONDITIONS": {
            "memory": "128m",
            "faults": ["payments=timeout"],
            "stubs": ["sms=recorded/sms.har"],
            "jobs": ["sql:LOCK TABLE users IN SHARE MODE;hold=30s"],
            "concurrency": 4,
            "expect": "oom",
        },
        "REPEAT": 8,
        "SEED": 7,
        "ROWS": 500,
        "DATA": None,
        "SECRETS_FILE": None,
        "TIMEOUT_S": 30.0,
        "REQUIRE_SIGNATURE": False,
    }
    doc = ast.get_docstring(ast.parse(text))
    assert doc is not None
    assert "'POST /checkout'" in doc  # the incident, shown as repr text
    assert "'500, KeyError'" in doc
    assert "2026-12-05T07:33:40Z" in doc
    assert "'fixtures/snapshots/prod.json'" in doc
    assert "REPRODUCED" in doc
    assert f"python -m pytest {given_options.emit_pytest!r}" in doc
    assert "REPRO_IMAGE" in doc and "REPRO_REQUIRE_DOCKER=1" in doc
    assert f"def {TEST_NAME}() -> None:" in text


def test_paths_outside_the_replays_directory_stay_absolute(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    given_options = options(
        project,
        incident=str(elsewhere / "incident.yaml"),
        snapshot=str(project / "snap.json"),
        profile="prod",  # a name stays a name
        secrets_file="../secrets.env",  # relative: as the command line read it
        emit_pytest=str(elsewhere / "test_x.py"),
        candidate=None,
    )
    spec = regression_spec(given_options, outcome(), workdir=str(project), now=NOW)
    values = constants(render_module(spec))
    assert values["WORKDIR"] == str(project)  # the module is outside it: absolute
    assert values["INCIDENT"] == str(elsewhere / "incident.yaml")
    assert values["SNAPSHOT"] == "snap.json"
    assert (values["PROFILE"], values["SECRETS_FILE"], values["IMAGE"]) == (
        "prod",
        "../secrets.env",
        None,
    )
    assert recorded_path(str(project) + "/../project/a", str(project)) == "a"


@FAST
@given(
    path=HOSTILE, job=HOSTILE, stub=HOSTILE, name=HOSTILE, method=HOSTILE, exc_type=HOSTILE
)
def test_hostile_values_are_literals_and_never_code(
    path: str, job: str, stub: str, name: str, method: str, exc_type: str
) -> None:
    workdir = "/work/project"
    conditions = Conditions(
        faults={"payments": Fault(FaultKind.SLOW, seconds=2.5)},
        stubs={"sms": stub},
        jobs=(Job(JobKind.COMMAND, "x", after_s=2.0, user="app"),),
    )
    with contextlib.suppress(UsageError):  # else not a job the command line takes
        conditions = replace(conditions, jobs=(*conditions.jobs, parse_job(f"sql:{job}")))
    incident = make_incident()
    incident.request = Request(method=method, path=path)
    incident.signature = Signature(500, (ExceptionInfo(exc_type, None, ()),))
    incident.provenance = Provenance("sentry", event_id=name)
    given_outcome = replace(outcome(), incident=incident)
    given_outcome.releases = [
        ReleaseRun("candidate", name, given_outcome.decision, ReleaseAnswer.FIXED, "gone")
    ]
    given_options = ReplayOptions(
        incident=path,
        snapshot=name,
        profile=path,
        emit_pytest="/work/project/tests/test_" + name.replace("/", "_") + ".py",
        conditions=conditions,
        candidate=name,
        data_dump="/work/project/" + path,
        secrets_file=stub,
    )
    spec = regression_spec(given_options, given_outcome, workdir=workdir, now=NOW)
    text = render_module(spec)
    compile(text, "emitted.py", "exec")
    values = constants(text)
    assert values == spec.constants()
    assert values["INCIDENT"] == values["PROFILE"] == recorded_path(path, workdir)
    assert (values["SNAPSHOT"], values["IMAGE"]) == (recorded_path(name, workdir), name)
    assert values["SECRETS_FILE"] == recorded_path(stub, workdir)
    assert parse_conditions(**values["CONDITIONS"]) == replace(
        conditions, stubs={"sms": recorded_path(stub, workdir)}
    )
    # The same statements, names and calls as for plain values: nothing was injected.
    assert shape(text) == PLAIN_SHAPE
    assert isinstance(ast.get_docstring(ast.parse(text)), str)


# --- conditions as command-line strings ----------------------------------------------------

ENDS_IN_OPTION = re.compile(r";\s*(hold|after|user)=[^;]*$")
DURATION = st.one_of(
    st.sampled_from([0.0, 0.001, 1e-05, 1.5, 2.0, 30.0, 3600.0]),
    st.floats(min_value=0, max_value=3600, allow_nan=False, allow_infinity=False),
)


@st.composite
def any_conditions(draw: st.DrawFn) -> Conditions:
    faults = draw(
        st.dictionaries(
            st.sampled_from(["payments", "sms", "geo.v2", "a_b-c"]),
            st.one_of(
                st.builds(Fault, st.sampled_from([FaultKind.OK, FaultKind.DOWN, FaultKind.RESET])),
                st.builds(lambda s: Fault(FaultKind.SLOW, seconds=s), DURATION),
                st.builds(lambda n: Fault(FaultKind.STATUS, status=n), st.integers(100, 599)),
            ),
            max_size=3,
        )
    )
    body = st.text(min_size=1, max_size=30).map(str.strip).filter(lambda t: t and "\0" not in t)
    jobs = draw(
        st.lists(
            st.one_of(
                st.builds(
                    lambda t, h: Job(JobKind.SQL, t, hold_s=h), body, st.none() | DURATION
                ),
                st.builds(
                    lambda t, a, u: Job(JobKind.COMMAND, t, after_s=a, user=u),
                    body,
                    DURATION,
                    st.none() | st.sampled_from(["app", "0:0", "www-data"]),
                ),
            ),
            max_size=3,
        )
    )
    # A body ending in an option of its own ("...;hold=1s") is read as that option: such a
    # Job cannot come from a command line (condition_arguments refuses it, tested below).
    jobs = [j for j in jobs if not ENDS_IN_OPTION.search(j.text)]
    limits = draw(st.booleans())
    return Conditions(
        memory_bytes=draw(st.none() | st.integers(6 * 1024**2, 2**40)) if limits else None,
        cpus=draw(st.none() | st.floats(0.01, 1024)) if limits else None,
        resource_limits=limits,
        faults=faults,
        stubs=draw(st.dictionaries(st.sampled_from(["payments", "sms"]), st.text(min_size=1))),
        jobs=tuple(jobs),
        concurrency=draw(st.integers(1, 1000)),
        expect=draw(st.none() | st.just(Expect.OOM)),
    )


@FAST
@given(any_conditions())
def test_conditions_round_trip_through_the_command_lines_strings(conditions: Conditions) -> None:
    arguments = condition_arguments(conditions)
    assert parse_conditions(**arguments) == conditions
    assert all(isinstance(v, str | int | bool | list) for v in arguments.values())


def test_conditions_print_as_people_type_them() -> None:
    conditions = parse_conditions(
        memory="1g",
        cpus="0.5",
        faults=["payments=slow:1.5s", "sms=status:503"],
        jobs=["cmd:python3 job.py;after=2s;user=app", "schedule:nightly", "sql:SELECT 1"],
    )
    assert condition_arguments(conditions) == {
        "memory": "1g",
        "cpus": "0.5",
        "faults": ["payments=slow:1.5s", "sms=status:503"],
        "jobs": ["cmd:python3 job.py;after=2s;user=app", "schedule:nightly", "sql:SELECT 1"],
    }
    tiny = parse_conditions(faults=["payments=slow:0.01ms"])
    assert parse_conditions(**condition_arguments(tiny)) == tiny  # never "1e-05s"


def test_conditions_no_command_line_can_give_are_refused() -> None:
    built = Conditions(jobs=(Job(JobKind.SQL, "SELECT 1", after_s=5.0),))  # sql takes no after=
    with pytest.raises(UsageError, match="cannot be written as options"):
        condition_arguments(built)


# --- the module, run -------------------------------------------------------------------


class FakeAPI:
    def __init__(self, problem: str | None, answer: ReleaseAnswer = ReleaseAnswer.FIXED) -> None:
        self.problem, self.answer = problem, answer
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def docker_problem(self) -> str | None:
        return self.problem

    def replay_incident(self, *args: Any, **kwargs: Any) -> api.RegressionCheck:
        self.calls.append((args, kwargs))
        return api.RegressionCheck(
            image="img", answer=self.answer, reason="the reason", report="REPORT", outcome=outcome()
        )


def run_emitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeAPI
) -> tuple[ModuleType, Any]:
    given_options = options(tmp_path, emit_pytest=str(tmp_path / "test_emitted.py"))
    spec = regression_spec(given_options, outcome(), workdir=str(tmp_path), now=NOW)
    module = load(render_module(spec), tmp_path)
    monkeypatch.setattr(module, "docker_problem", fake.docker_problem)
    monkeypatch.setattr(module, "replay_incident", fake.replay_incident)
    return module, getattr(module, TEST_NAME)


def test_the_module_passes_when_fixed_and_calls_the_api_with_what_it_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPRO_IMAGE", raising=False)
    fake = FakeAPI(None)
    module, test = run_emitted(tmp_path, monkeypatch, fake)
    test()
    (args, kwargs), = fake.calls
    assert args == ("incidents/checkout.yaml", "fixtures/snapshots/prod.json")
    assert Path(kwargs["workdir"]).resolve() == tmp_path.resolve()
    assert kwargs["image"] == "repro/demo-shop:2.1.1-fix"
    assert kwargs["conditions"] == module.CONDITIONS
    assert (kwargs["repeat"], kwargs["seed"], kwargs["rows"]) == (8, 7, 500)
    monkeypatch.setenv("REPRO_IMAGE", "registry.example.com/shop:next")
    test()
    assert fake.calls[-1][1]["image"] == "registry.example.com/shop:next"


@pytest.mark.parametrize(
    "answer", [ReleaseAnswer.NOT_FIXED, ReleaseAnswer.REGRESSED, ReleaseAnswer.UNVERIFIED]
)
def test_the_module_fails_with_the_evidence(
    answer: ReleaseAnswer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _module, test = run_emitted(tmp_path, monkeypatch, FakeAPI(None, answer))
    with pytest.raises(pytest.fail.Exception) as failed:
        test()
    assert f"{answer.name} (img): the reason" in str(failed.value)
    assert "REPORT" in str(failed.value)


def test_the_module_skips_without_docker_unless_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAPI("Docker is not running (unix:///x: no such socket)")
    _module, test = run_emitted(tmp_path, monkeypatch, fake)
    monkeypatch.delenv("REPRO_REQUIRE_DOCKER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Docker is not running"):
        test()
    monkeypatch.setenv("REPRO_REQUIRE_DOCKER", "1")
    with pytest.raises(pytest.fail.Exception, match="REPRO_REQUIRE_DOCKER=1"):
        test()
    assert fake.calls == []


# --- writing it ------------------------------------------------------------------------


def test_emit_writes_once_and_refuses_to_carry_a_known_secret(tmp_path: Path) -> None:
    redactor = Redactor(RedactionKey.from_bytes(b"regression", "test"))
    target = tmp_path / "test_a.py"
    given_options = options(tmp_path, emit_pytest=str(target))
    assert emit_module(given_options, outcome(), redactor, now=NOW) == target
    assert compile(target.read_text(encoding="utf-8"), str(target), "exec")
    with pytest.raises(UsageError, match="exists"):
        emit_module(given_options, outcome(), redactor, now=NOW)
    emit_module(replace(given_options, force=True), outcome(), redactor, now=NOW)
    secret = "s3cr3t-Value-0123456789-abcdef"
    redactor.remember(secret)
    leaky = replace(
        given_options,
        emit_pytest=str(tmp_path / "test_b.py"),
        conditions=parse_conditions(jobs=[f"cmd:curl -u admin:{secret} http://x"]),
    )
    with pytest.raises(UsageError, match="secret"):
        emit_module(leaky, outcome(), redactor, now=NOW)
    assert not (tmp_path / "test_b.py").exists()


@pytest.fixture(scope="module")
def incident_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("incident") / "feature-flag.yaml"
    done = run_repro("import", "sentry", str(SENTRY_EVENT), "-o", str(path))
    assert done.returncode == 0, done.stderr
    return path


def no_engine_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "DOCKER_HOST": NO_ENGINE, "REPRO_LOG_DIR": str(tmp_path / "logs")}
    env.pop("REPRO_REQUIRE_DOCKER", None)
    return env


@pytest.mark.parametrize(
    ("where", "extra", "expected"),
    [
        ("existing", [], "exists"),
        ("directory", ["--force"], "refusing to replace it"),
        ("link to /dev/null", ["--force"], "refusing to replace it"),
        ("test_x.txt", [], "a pytest module is a .py file"),
        ("test_x.py", ["--auth", "Bearer test-token"], "never written into a test"),
    ],
)
def test_a_bad_emit_path_is_one_error_line_before_any_replay(
    where: str, extra: list[str], expected: str, incident_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "test_existing.py"
    existing.write_text("# mine\n")
    (out / "directory.py").mkdir()
    (out / "test_device.py").symlink_to("/dev/null")
    path = {
        "existing": str(existing),
        "directory": str(out / "directory.py"),
        "link to /dev/null": str(out / "test_device.py"),
    }.get(where, str(out / where))
    done = run_repro(
        "replay", str(incident_file), "--snapshot", str(ROOT / "fixtures/snapshots/prod.json"),
        "--emit-pytest", path, *extra, env=no_engine_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert_one_line_error(done, expected)
    assert "--emit-pytest" in done.stderr
    assert existing.read_text() == "# mine\n"
    assert sorted(p.name for p in out.iterdir()) == [
        "directory.py", "test_device.py", "test_existing.py"
    ]  # fmt: skip


# --- the API without an engine --------------------------------------------------------


def test_docker_problem_is_one_line_without_an_engine() -> None:
    problem = api.docker_problem(engine=NO_ENGINE)
    assert problem is not None and "Docker is not running" in problem and "\n" not in problem


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({"fault": ["payments=down"]}, "unknown 'fault'"),
        ({"faults": "payments=down"}, "a list of strings"),
        ({"concurrency": "4"}, "str is not accepted"),
        ({"concurrency": True}, "bool is not accepted"),
        ({"faults": ["payments=sideways"]}, "--fault payments"),
    ],
)
def test_the_api_checks_its_conditions(conditions: dict[str, Any], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        api.replay_incident("x.yaml", "prod.json", conditions=conditions, engine=NO_ENGINE)


def test_the_api_reads_names_in_its_workdir_and_reports_bad_input_as_repro_errors(
    tmp_path: Path,
) -> None:
    before = Path.cwd()
    with pytest.raises(ReproError, match=r"missing\.yaml"):
        api.replay_incident("missing.yaml", "prod.json", workdir=tmp_path, engine=NO_ENGINE)
    assert Path.cwd() == before  # the working directory is restored
    with pytest.raises(UsageError, match="workdir"):
        api.replay_incident("a.yaml", "prod", workdir=tmp_path / "nope", engine=NO_ENGINE)
