"""Finding 1 and 2 of issue 12, as a property: whatever a (hostile) snapshot holds in any field
the fix script reads, running the generated script (REPRO_FIX_REVIEWED=1) runs no command but
the intended ones, and each of those gets exactly the intended argv.

The script runs for real in bash against stub commands that log their argv
(tests/helpers/stubs.py). The expected argv is derived here from the planted values and
the discrepancies the diff reported, with the grammars of repro.shellsafe deciding which
tokens are valid (those grammars have their own example tests below).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.diff import render_fix_script
from repro.diff.fixscript import (
    READ_ONLY_SETTINGS,
    shell_sensitive,
    sql_identifier,
    sql_literal,
    sql_setting_name,
)
from repro.diff.model import DiffResult, Discrepancy
from repro.diff.rules.db_server import setting_category
from repro.shellsafe import comment_text, shell_word, valid
from tests.helpers.builders import Side, baseline, diff, secret
from tests.helpers.fixscript import DSN, REVIEWED, shellcheck
from tests.helpers.stubs import run_with_stubs

# Each tries to run `touch pwned` (a logged stub), create ./pwned by redirection, close a
# quote, a heredoc or a comment, or become an option.
HOSTILE = [
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    '"; touch pwned; "',
    "\ntouch pwned\n",
    "x\rtouch pwned",
    "-oDPkg::Pre-Invoke::=touch pwned",
    "--index-url=http://evil.invalid/simple",
    "--reference=/etc/shadow",
    "-R",
    "x\nREPRO_SQL\ntouch pwned\n",
    "'); \\! touch pwned\n--",
    "\\! touch pwned",
    ":'pwned'",
    "${IFS}touch${IFS}pwned",
    ">pwned",
    "|touch pwned",
    "&touch pwned&",
    "$'\\x41' touch pwned",
    "\\",
    "'",
    '"',
    "\u202etouch pwned",
    "\x1b]0;pwned\x07",
    "~root",
    "*",
    "{a,b}",
    "!!",
    "a\x00b",
    "",
    " ",
]
# Valid-looking stems, so hostile suffixes also meet the grammars' edges.
STEMS = ["requests", "libc6", "app.x", "/etc/app.yaml", "root", "1.0", "0600", "APP_MODE", "9"]
text_chars = st.characters(exclude_categories=("Cs",))  # JSON can carry lone surrogates;
# a locale-independent round trip of those through bash is not what this test is about.
hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(STEMS),
    st.builds(lambda a, b: a + b, st.sampled_from(STEMS), st.sampled_from(HOSTILE)),
    st.text(text_chars, max_size=12),
)
USER = "user or group name"
HARNESS = ("REPRO_", "STAGING_DSN", "PYTHON", "BASH_FUNC_")  # the test's own variables
base = baseline()
env_names = hostile.filter(lambda n: n not in base["env"]["vars"] and not n.startswith(HARNESS))


@dataclass
class Plant:
    profiles: tuple[str, str]
    captured_at: str
    manager: str
    interpreter: str
    python: dict[str, str]
    os: dict[str, str]
    env: dict[str, str]
    env_secret: tuple[str, str] | None
    env_staging_only: list[str]
    settings: dict[str, str]
    extensions: dict[str, tuple[str, str]]
    files: dict[str, tuple[str, str, str]]


plants = st.builds(
    Plant,
    profiles=st.tuples(hostile, hostile),
    captured_at=hostile,
    manager=st.one_of(st.sampled_from(["dpkg", "apk", "rpm"]), hostile),
    interpreter=st.one_of(st.just("/usr/bin/python3"), hostile),
    python=st.dictionaries(
        hostile.filter(lambda n: n not in base["packages"]["python"]["distributions"]),
        hostile,
        max_size=3,
    ),
    os=st.dictionaries(
        hostile.filter(lambda n: n not in base["packages"]["os"]["packages"]), hostile, max_size=3
    ),
    env=st.dictionaries(env_names, hostile, max_size=3),
    env_secret=st.one_of(st.none(), st.tuples(env_names, hostile)),
    env_staging_only=st.lists(env_names, max_size=2),
    settings=st.dictionaries(
        hostile.filter(lambda n: n not in base["database"]["settings"]), hostile, max_size=3
    ),
    extensions=st.dictionaries(
        hostile.filter(lambda n: n not in base["database"]["extensions"]),
        st.tuples(hostile, hostile),
        max_size=2,
    ),
    files=st.dictionaries(
        hostile.filter(lambda n: n not in base["files"]["paths"]),
        st.tuples(hostile, hostile, hostile),
        max_size=2,
    ),
)


def _sides(plant: Plant) -> tuple[Side, Side]:
    prod, staging = Side(plant.profiles[0], baseline()), Side(plant.profiles[1], baseline())
    prod.captured_at = plant.captured_at
    for side in (prod, staging):
        side.put("packages", "os", "manager", plant.manager)
    staging.put("packages", "python", "interpreter", plant.interpreter)
    for name, version in plant.python.items():
        prod.put("packages", "python", "distributions", name, version)
    for name, version in plant.os.items():
        prod.put("packages", "os", "packages", name, version)
    for name, value in plant.env.items():
        prod.put("env", "vars", name, value)
    if plant.env_secret:
        name, masked = plant.env_secret
        prod.put("env", "vars", name, secret(name, masked=masked))
    for name in plant.env_staging_only:
        if name not in plant.env:
            staging.put("env", "vars", name, "staging-only")
    for name, value in plant.settings.items():
        prod.put(
            "database", "settings", name,
            {"value": value, "unit": None, "source": "configuration file"},
        )  # fmt: skip
    for name, (schema, version) in plant.extensions.items():
        prod.put("database", "extensions", name, {"schema": schema, "version": version})
    for path, (mode, owner, group) in plant.files.items():
        prod.put(
            "files", "paths", path,
            {"exists": True, "type": "file", "mode": mode, "owner": owner, "group": group},
        )  # fmt: skip
        staging.put(
            "files", "paths", path,
            {"exists": True, "type": "file", "mode": "0644", "owner": "stg", "group": "stg"},
        )  # fmt: skip
    return prod, staging


def _shown(result: DiffResult, facet: str, *keys: str) -> Discrepancy | None:
    for item in result.discrepancies:
        if item.facet == facet and item.keys == keys and item.severity != "info":
            return item
    return None


class Expected:
    """What the script must run, derived from the plant and the discrepancies shown."""

    def __init__(self, plant: Plant, result: DiffResult) -> None:
        self.pip: list[str] = []
        self.os: list[str] = []
        self.chown: list[list[str]] = []
        self.chmod: list[list[str]] = []
        self.sql: list[str] = []
        self.exported: dict[str, str] = {}
        self.unset: list[str] = []
        self._packages(plant, result)
        self._env(plant, result)
        self._database(plant, result)
        self._files(plant, result)

    def _packages(self, plant: Plant, result: DiffResult) -> None:
        for name, version in plant.python.items():
            shown = _shown(result, "packages", "python", "distributions", name)
            name_ok = valid("PEP 508 distribution name", name)
            if shown and version and name_ok and valid("PEP 440 version", version):
                self.pip.append(f"{name}=={version}")
        grammar = {
            "dpkg": ("Debian package name", "Debian version", "{}={}"),
            "apk": ("apk package name", "apk version", "{}={}"),
            "rpm": ("RPM package name", "RPM version", "{}-{}"),
        }.get(plant.manager)
        for name, version in plant.os.items():
            shown = _shown(result, "packages", "os", "packages", name)
            ok = grammar is not None and valid(grammar[0], name) and valid(grammar[1], version)
            if shown and version and grammar and ok:
                self.os.append(grammar[2].format(name, version))

    def _env(self, plant: Plant, result: DiffResult) -> None:
        planted = dict(plant.env)
        withheld = plant.env_secret is not None and (
            plant.env_secret[0] in plant.env_staging_only and plant.env_secret[0] not in plant.env
        )  # a secret in prod, plain in staging: the diff withholds both values
        if plant.env_secret and not withheld:
            name, masked = plant.env_secret
            fingerprint = secret(name)["fingerprint"]
            shape = f" like {masked}" if masked else ""
            planted[name] = comment_text(
                f"<secret: set from your vault{shape}; prod fingerprint {fingerprint}>"
            )
        for name, value in planted.items():
            ok = valid("environment variable name", name) and not shell_sensitive(name)
            if _shown(result, "env", "vars", name) and ok and "\0" not in value:
                self.exported[name] = value
        for name in plant.env_staging_only:
            ok = valid("environment variable name", name) and not shell_sensitive(name)
            if withheld and plant.env_secret and name == plant.env_secret[0]:
                continue
            if name not in planted and _shown(result, "env", "vars", name) and ok:
                self.unset.append(name)

    def _database(self, plant: Plant, result: DiffResult) -> None:
        for name, value in plant.settings.items():
            if not _shown(result, "database", "settings", name) or "\0" in value or "\n" in value:
                continue
            if not valid("PostgreSQL setting name", name) or name in READ_ONLY_SETTINGS:
                continue
            if setting_category(name) != "ops":
                setting = sql_setting_name(name)
                self.sql.append(f"ALTER SYSTEM SET {setting} = {sql_literal(value)};")
        for name, (schema, version) in plant.extensions.items():
            if not (_shown(result, "database", "extensions", name)):
                continue
            if not valid("PostgreSQL identifier", name):
                continue
            if schema and not valid("PostgreSQL identifier", schema):
                continue
            if "\0" in version:
                continue
            statement = f"CREATE EXTENSION IF NOT EXISTS {sql_identifier(name)}"
            statement += f" SCHEMA {sql_identifier(schema)}" if schema else ""
            statement += f" VERSION {sql_literal(version)}" if version else ""
            self.sql.append(statement + ";")
        if any(s.startswith("ALTER SYSTEM") for s in self.sql):
            self.sql.append("SELECT pg_reload_conf();")

    def _files(self, plant: Plant, result: DiffResult) -> None:
        for path, (mode, owner, group) in plant.files.items():
            if not valid("absolute path", path):
                continue
            if _shown(result, "files", "paths", path, "mode") and valid("file mode", mode):
                self.chmod.append(["--", mode, path])
            spec = ""
            if _shown(result, "files", "paths", path, "owner") and valid(USER, owner):
                spec = owner
            if _shown(result, "files", "paths", path, "group") and valid(USER, group):
                spec += f":{group}"
            if spec:
                self.chown.append(["--", spec, path])


def _default_python(text: str, workdir: Path) -> str:
    """What the script's PYTHON default line sets when PYTHON is not given."""
    line = next(x for x in text.splitlines() if x.startswith('if [ -z "$PYTHON" ]'))
    done = subprocess.run(
        ["/bin/bash", "-c", f'PYTHON=; {line}\nprintf %s "$PYTHON"'],
        cwd=workdir, env={"PATH": "/nonexistent"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plant=plants)
def test_hostile_snapshot_fields_run_nothing_but_the_intended_argv(plant: Plant) -> None:
    prod, staging = _sides(plant)
    result = diff(prod, staging)
    text = render_fix_script(result)
    expected = Expected(plant, result)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shellcheck(text)
        env = {**REVIEWED, "PYTHON": "python3", **dict.fromkeys(expected.unset, "x")}
        done = run_with_stubs(text, workdir, env=env)
        assert done.returncode == 0, (done.stderr, text)
        assert done.new_files == [], text  # no redirection ran
        allowed = {"python3", "apt-get", "apk", "dnf", "chown", "chmod", "psql"}
        assert {name for name, _ in done.calls} <= allowed, (done.calls, text)
        pip = [["-m", "pip", "install", "--", *expected.pip]] if expected.pip else []
        assert done.of("python3") == pip, text
        command = {"dpkg": "apt-get", "apk": "apk", "rpm": "dnf"}.get(plant.manager)
        if command is not None:
            options = {
                "apt-get": ["install", "-y", "--allow-downgrades", "--"],
                "apk": ["add", "--"],
                "dnf": ["install", "-y", "--"],
            }[command]
            os_calls = [[*options, *sorted(expected.os)]] if expected.os else []
            assert [[*c[: len(options)], *sorted(c[len(options) :])] for c in done.of(command)] == (
                os_calls
            ), text
        assert sorted(done.of("chown")) == sorted(expected.chown), text
        assert sorted(done.of("chmod")) == sorted(expected.chmod), text
        calls = done.of("psql")
        if expected.sql:
            (call,) = calls
            assert call[:5] == ["-X", "-v", "ON_ERROR_STOP=1", "-d", DSN]
            assert call[5::2] == ["-c"] * len(expected.sql)
            assert sorted(call[6::2]) == sorted(expected.sql), text
        else:
            assert calls == [], text
        for name, value in expected.exported.items():
            assert done.env.get(name) == value, (name, text)
        for name in expected.unset:
            assert name not in done.env, (name, text)
        if expected.pip:
            wanted = plant.interpreter if valid("interpreter", plant.interpreter) else "python3"
            assert _default_python(text, workdir) == wanted


@pytest.mark.parametrize(
    ("grammar", "good", "bad"),
    [
        ("environment variable name", ["PATH", "_x1", "a"], ["1A", "A-B", "A B", "", "é"]),
        (
            "PEP 508 distribution name",
            ["requests", "zope.interface", "a", "Foo_Bar-2"],
            ["-r", "--index-url=x", "a-", ".a", "a b", "a==1", ""],
        ),
        (
            "PEP 440 version",
            ["1.0", "2.1.0rc1", "1!2.0.post3.dev4", "1.0+local.7", "v1.0"],
            ["--pre", "1.0; touch x", "", "latest", "1.0 "],
        ),
        (
            "Debian package name",
            ["libc6", "g++", "libc6:amd64", "python3.11"],
            ["-o", "a", "Libc6", "a b", "a=1"],
        ),
        (
            "Debian version",
            ["2.36-9+deb12u4", "8:6.9.11.60+dfsg-1.6", "1.0~rc1"],
            ["-1", "1.0 x", "1:", ""],
        ),
        ("apk version", ["1.2.4-r2", "3.0.11_rc1-r0"], ["-r1", "x"]),
        ("RPM version", ["3.0.7-24.el9", "1:2.0-1"], ["3.0.7", "-1"]),
        (
            "PostgreSQL setting name",
            ["work_mem", "TimeZone", "app.greeting", "a.b.c"],
            ["app.", "1x", "a b", "a;b", ""],
        ),
        ("PostgreSQL identifier", ["hstore", 'Odd"Name', "a b"], ["", "x" * 64, "a\nb"]),
        ("user or group name", ["root", "www-data", "svc$", "1000"], ["--reference=x", "-R", ""]),
        ("file mode", ["0600", "755"], ["0800", "u+s", "-R"]),
        ("absolute path", ["/etc/x y", "/"], ["etc/x", "-R", "/a\nb", ""]),
        ("interpreter", ["/usr/bin/python3", "python3"], ["-c", "py thon", "python3;x"]),
    ],
)
def test_grammars(grammar: str, good: list[str], bad: list[Any]) -> None:
    assert [g for g in good if not valid(grammar, g)] == []
    assert [b for b in bad if valid(grammar, b)] == []


@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0")))
def test_shell_word_round_trips_through_bash(value: str) -> None:
    word = shell_word(value)
    assert "\n" not in word and word.isprintable()
    done = subprocess.run(
        ["/bin/bash", "-c", f"printf %s {word}"], capture_output=True, env={"LC_ALL": "C"},
        check=True,
    )  # fmt: skip
    assert done.stdout == value.encode("utf-8")


def test_shell_word_refuses_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        shell_word("a\0b")
