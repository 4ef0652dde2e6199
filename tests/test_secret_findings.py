"""Issue 12, findings 3 and 4, as they were reported: a URL whose port is not a number crashed
the scrubber (and its chained traceback printed the password, and ``repro snapshot`` aborted);
importers wrote secrets in clear under neutral names or where a value judged secret elsewhere
appeared again."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BAD_PORT = "https://u:SECRETbadPort01@h:abc/ x"


def repro(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "REPRO_REDACTION_KEY": "k", "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
    )


def test_finding3_import_of_a_url_with_a_bad_port_is_one_scrubbed_line(tmp_path: Path) -> None:
    result = repro("import", "log", BAD_PORT, env={"REPRO_LOG_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("repro: error: log: ") and result.stderr.count("\n") == 1
    assert "SECRETbadPort01" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and not list(tmp_path.iterdir())


def test_finding3_snapshot_with_the_value_in_the_environment_is_written(tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    result = repro(
        "snapshot",
        "local",
        "-f",
        "env",
        "-o",
        str(out),
        env={"WEIRD_URL": BAD_PORT, "REPRO_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "SECRETbadPort01" not in text + result.stdout + result.stderr
    assert json.loads(text)["facets"]["env"]["data"]["vars"]["WEIRD_URL"]["redacted"] is True


SHAPES = {
    "x-one": "https://svc:SECRETurlPw0001@api.example.com/v1",
    "x-two": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTRUNSRVQifQ.SECRETjwtSignature01",
    "x-three": "AKIASECRET0AWSKEY001",
    "x-four": "ghp_SECRETgithub00000000000000000000001",
    "x-five": "xoxb-SECRET-000000000000-slackTokenValue",
    "x-six": "sk_live_SECRETstripeKey0000001",
    "x-seven": "AIzaSECRETgcpKey0000000000000000000001",
    "x-eight": "SECRETq8ZpW3xV9tLm2Rk7Yb4Nc6",  # high entropy
}


@pytest.mark.parametrize("where", ["header", "query", "cookie", "json", "form"])
def test_finding4_eight_shapes_under_neutral_names(where: str) -> None:
    args = ["curl", "https://shop.example.com/x"]
    for name, value in SHAPES.items():
        if where == "header":
            args += ["-H", f"{name}: {value}"]
        elif where == "cookie":
            args += ["-b", f"{name}={value}"]
        elif where == "query":
            args[1] += ("&" if "?" in args[1] else "?") + f"{name}={value}"
        elif where == "form":
            args += ["-d", f"{name}={value}"]
    if where == "json":
        args += ["--json", json.dumps(SHAPES)]
    result = repro("import", "curl", shlex.join(args))
    assert result.returncode == 0, result.stderr
    assert "SECRET" not in result.stdout + result.stderr
    assert result.stdout.count("why: 'credential") >= 8  # each one listed as lost


def test_finding4_a_secret_is_scrubbed_wherever_else_it_appears() -> None:
    command = shlex.join(
        [
            "curl",
            "https://shop.example.com/x?access_token=SECRETaccessTok01&page=2",
            "-b",
            "sessionid=SECRETsession0001; otherCookie=2",
            "-H",
            "X-Session-Copy: SECRETsession0001",
            "-H",
            "Referer: https://shop.example.com/?access_token=SECRETaccessTok01",
            "-H",
            "authLoginDomain: local",
            "--data-raw",
            "password=SECRETpassword01&note=my+pw+is+SECRETpassword01",
        ]
    )
    result = repro("import", "curl", command)
    assert result.returncode == 0, result.stderr
    assert "SECRET" not in result.stdout + result.stderr
    assert "[otherCookie, '2']" in result.stdout and "[authLoginDomain, local]" in result.stdout
