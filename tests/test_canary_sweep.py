"""The canary sweep: secrets planted under secret AND innocent names, in the environment, config
files, headers, cookies, query strings, bodies and URLs (also in URLs a parser chokes on), then
every command that outputs something is run — snapshot, show (summary, JSON, one facet), diff in
every format and its fix script, import of a Sentry event, a HAR, a curl command and a log paste
(and an import that fails on a canary), the replay report in every format (rendered from an
outcome holding canaries in the sandbox's answers, as the replay command renders it) and data
scan — and every file written, every stdout and stderr and every crash log is searched for every
canary. None may appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from repro.redaction import RedactionKey, Redactor
from repro.replay.incident import ExceptionInfo, Frame, Signature
from tests.helpers.pg import fresh_database

ROOT = Path(__file__).resolve().parents[1]
MARK = "CANARY"
OTHER = "CANARZ"  # staging's canaries: same shapes, other values
# One per secret shape the detector must know without a telling name, plus named ones.
SHAPES = {
    "NOTE_AWS": "AKIACANARY0SWEEP0001",
    "BUILD_REF": "ghp_CANARYsweep0000000000000000000000001",
    "CHAT_HOOK": "https://hooks.slack.com/services/T0CANARY/B0CANARY/CANARYsweepHook01",
    "PAY_CFG": "sk_live_CANARYsweepStripe0001",
    "CALLBACK_NOTE": "eyJhbGciOiJIUzI1NiJ9.eyJDQU5BUlki.CANARYsweepJwtSig01",
    "BACKUP_TARGET": "postgresql://backup:CANARYsweepUrlPw01@db.internal:5432/shop",
    "BROKEN_URL": "https://u:CANARYsweepBadPort01@h:abc/ x",
    "THEME_SEED": "CANARYq8ZpW3xV9tLm2Rk7Yb4Nc6",
    "GCP_THING": "AIzaCANARYsweep0000000000000000000001",
}
NAMED = {"DB_PASSWORD": "CANARYsweepDbPw01", "API_TOKEN": "CANARYsweepApiTok01"}


def run(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "repro.cli", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return f"{result.stdout}\n{result.stderr}"  # (the command line itself holds canaries)


def environment(tmp_path: Path, side: str) -> dict[str, str]:
    env = {
        **os.environ,
        "REPRO_HOME": str(tmp_path / ".repro"),
        "REPRO_LOG_DIR": str(tmp_path / "logs"),
        "REPRO_REDACTION_KEY": "sweep-team-key",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    for name, value in {**SHAPES, **NAMED}.items():
        env[name] = value if side == "prod" else value.replace(MARK, OTHER)
    # the named password again, under an innocent name, inside a longer text
    env["STARTUP_CMD"] = f"psql --host db --pw {env['DB_PASSWORD']} shop"
    return env


def write_profiles(tmp_path: Path) -> None:
    for side in ("prod", "staging"):
        app = tmp_path / side
        app.mkdir()
        canary = MARK if side == "prod" else OTHER
        (app / "settings.yaml").write_text(
            f"database:\n  password: {canary}sweepCfgPw01\n  pool: 5\n"
            f"integrations:\n  note: AKIA{canary}0SWEEPCFG1\n"
            f"  webhook: https://hooks.slack.com/services/T0{canary}/B0X/{canary}sweepCfgHook\n"
            f"auth:\n  loginDomain: local\n"
        )
        (tmp_path / "profiles").mkdir(exist_ok=True)
        (tmp_path / "profiles" / f"{side}.yaml").write_text(
            "target: {kind: local}\n"
            "facets:\n  env: {}\n"
            f"  config: {{paths: ['{app}/settings.yaml']}}\n"
        )


def importer_inputs(tmp_path: Path) -> list[list[str]]:
    event = {
        "event_id": "c" * 32,
        "platform": "python",
        "request": {
            "url": "https://shop.example.com/api/checkout?ref=ghp_CANARYsweepQuery0000000000000001",
            "method": "POST",
            "headers": {
                "X-Note": "AKIACANARY0SWEEPHDR1",
                "Content-Type": "application/json",
                "Referer": "https://shop.example.com/?access_token=CANARYsweepRefTok01",
            },
            "cookies": {"pref": "eyJhbGciOiJIUzI1NiJ9.eyJDQU5BUlki.CANARYsweepCookie1"},
            "data": '{"note": "sk_live_CANARYsweepBody0001", "password": "CANARYsweepBodyPw"}',
        },
        "exception": {
            "values": [
                {
                    "type": "OperationalError",
                    "value": "connect to postgresql://app:CANARYsweepExcPw01@db:5432/x failed",
                    "stacktrace": {"frames": [{"filename": "app/db.py", "function": "go"}]},
                }
            ]
        },
    }
    sentry = tmp_path / "event.json"
    sentry.write_text(json.dumps(event))
    har = tmp_path / "session.har"
    har.write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        {
                            "request": {
                                "method": "POST",
                                "url": "https://shop.example.com/x?sig=CANARYsweepHarSig0001abc",
                                "headers": [
                                    {"name": "Cookie", "value": "sessionid=CANARYsweepHarSess1"},
                                    {"name": "X-Copy", "value": "CANARYsweepHarSess1"},
                                ],
                                "postData": {
                                    "mimeType": "application/x-www-form-urlencoded",
                                    "text": "user=a&pw=CANARYsweepHarPw1&note=CANARYsweepHarSess1",
                                },
                            },
                            "response": {"status": 500},
                        }
                    ]
                }
            }
        )
    )
    curl = (
        "curl 'https://u:CANARYsweepCurlUrl1@shop.example.com/x?token=CANARYsweepCurlQ1' "
        "-H 'X-Trace: xoxb-CANARY-000000000000-sweepSlackTok1' "
        "-b 'otherCookie=2; sid=CANARYsweepCurlSid1' "
        '--data-raw \'{"k": "-----BEGIN RSA PRIVATE KEY-----\\nCANARYsweepPem\\n'
        "-----END RSA PRIVATE KEY-----\"}'"
    )
    log = (
        '10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /x?api_key=CANARYsweepLogKey1 HTTP/1.1"'
        ' 500 5 "https://shop/?api_key=CANARYsweepLogKey1" "agent"\n'
        '10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /y?t=CANARYsweepLog999 HTTP/1.1" 999 5'
    )
    out = tmp_path / "incidents"
    out.mkdir()
    return [
        ["import", "sentry", str(sentry), "-o", str(out / "sentry.yaml")],
        ["import", "sentry", str(sentry)],
        ["import", "har", str(har), "-o", str(out / "har.yaml")],
        ["import", "curl", curl, "-o", str(out / "curl.yaml")],
        ["import", "curl", curl, "--status", "500"],
        ["import", "log", log, "-o", str(out / "log.yaml")],
        ["import", "log", "https://u:CANARYsweepErrUrl1@h:abc/ x"],  # refused: error line
        ["import", "curl", "curl -H 'X: AKIACANARY0SWEEPERR1' --frobnicate http://h/"],
    ]


def replay_reports() -> str:
    """The replay report in every format, rendered as ``repro replay`` renders it (scrubbed by
    the run's redactor, which knows the stand-ins and --secrets values) from an outcome whose
    sandbox answers hold canaries. (A full replay needs images; tests/replay cover it.)"""
    import contextlib
    import html
    import io
    import tempfile

    from rich.console import Console

    from repro.commands.replay import _render, _render_rich
    from repro.commands.replay_html import write_html
    from repro.replay.options import ReplayOptions
    from tests.helpers.outcomes import different_failure, env_error

    redactor = Redactor(RedactionKey.from_bytes(b"sweep", "test"))
    redactor.remember("CANARYsweepStandIn01")  # an --auth value
    leaky = Signature(
        500,
        (
            ExceptionInfo(
                "psycopg.OperationalError",
                "password authentication failed: postgresql://app:CANARYsweepSbxPw1@db/x "
                "token=CANARYsweepSbxTok1 key AKIACANARY0SWEEPSBX1",
                (Frame("shop.db", "connect", "return connect('CANARYsweepStandIn01')"),),
            ),
        ),
    )
    texts = []
    for make in (different_failure, env_error):
        outcome = make()
        outcome.app_log_tail = [
            "Authorization: Bearer CANARYsweepLogBearer1",
            "db url postgresql://u:CANARYsweepTailPw1@db:5x/y",
        ]
        for evidence in outcome.evidence:
            evidence.attempt.signature = leaky
        for fmt in ("json", "markdown"):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                _render(outcome, fmt, redactor)
            texts.append(buffer.getvalue())
        buffer = io.StringIO()
        _render_rich(outcome, Console(file=buffer, width=120, force_terminal=True), redactor)
        texts.append(buffer.getvalue())
        with tempfile.TemporaryDirectory() as tmp:  # --html FILE, unescaped to be searched
            page = Path(tmp) / "report.html"
            write_html(outcome, ReplayOptions(incident="i.yaml", html=str(page)), redactor)
            texts.append(html.unescape(page.read_text(encoding="utf-8")))
    return "\n".join(texts)


def test_no_canary_in_any_output(tmp_path: Path, local_postgres: Any) -> None:
    write_profiles(tmp_path)
    prod_env, staging_env = environment(tmp_path, "prod"), environment(tmp_path, "staging")
    out: list[str] = []
    out.append(run(["snapshot", "prod", "-o", "prod.json"], tmp_path, prod_env))
    out.append(run(["snapshot", "staging", "-o", "staging.json"], tmp_path, staging_env))
    assert (tmp_path / "prod.json").exists() and (tmp_path / "staging.json").exists()
    for args in (
        ["show", "prod.json"],
        ["show", "prod.json", "--json"],
        ["show", "prod.json", "--facet", "env"],
        ["show", "prod.json", "--facet", "config"],
    ):
        out.append(run(args, tmp_path, prod_env))
    for fmt in ("table", "json", "markdown", "junit"):
        out.append(run(["diff", "prod.json", "staging.json", "--format", fmt], tmp_path, prod_env))
    out.append(run(["diff", "prod.json", "staging.json", "--fix-script"], tmp_path, prod_env))
    for args in importer_inputs(tmp_path):
        out.append(run(args, tmp_path, prod_env))
    out.append(replay_reports())
    with fresh_database(local_postgres.dsn) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id int primary key, memo text, cfg text)")
        conn.execute(
            "INSERT INTO notes SELECT g, 'AKIACANARY0SWEEPDB01', "
            "'postgresql://x:CANARYsweepDbUrl1@h/db' FROM generate_series(1, 50) g"
        )
        out.append(run(["data", "scan", dsn], tmp_path, prod_env))
        out.append(run(["data", "scan", dsn, "--json", "-o", "rules.yaml"], tmp_path, prod_env))
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "profiles" not in p.parts]
    written = [p for p in written if p.parent.name not in ("prod", "staging")]  # the inputs
    written = [p for p in written if p.name not in ("event.json", "session.har")]
    assert any(p.name == "sentry.yaml" for p in written)
    if os.environ.get("SWEEP_DUMP"):
        Path(os.environ["SWEEP_DUMP"]).write_text("\n=====\n".join(out))
    everything = "\n".join(out) + "".join(p.read_text(errors="replace") for p in written)
    leaks = sorted({line for line in everything.splitlines() if MARK in line or OTHER in line})
    assert not leaks, "\n".join(leaks[:20])
