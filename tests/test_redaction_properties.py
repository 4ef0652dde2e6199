"""Property tests (hypothesis) for the one secret detector, the scrubber and the crash handler:
the scrubber never raises on any input and never lets a known or secret-shaped value through;
the crash log and the error line never hold an unscrubbed message, chained ones included."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.crashlog import scrubbed_traceback
from repro.detector import judge_name, secret_spans, value_looks_secret
from repro.errorhandler import handle_errors
from repro.errors import IncidentError
from repro.redaction import RedactionKey, Redactor, scrub_all, scrub_shapes

FAST = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SECRET = st.text(
    alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=12, max_size=40
).map(lambda s: "Zq8" + s)  # distinctive: mixed classes, long
NOISE = st.text(max_size=200)
URLISH = st.builds(
    lambda scheme, user, pw, host, port, rest: f"{scheme}://{user}:{pw}@{host}:{port}/{rest}",
    st.sampled_from(["https", "postgresql", "redis", "amqp", "x+y"]),
    st.text(alphabet="abcxyz_-.", max_size=8),
    SECRET,
    st.text(alphabet="abc.-_[]:", min_size=1, max_size=12),
    st.text(max_size=6).filter(
        lambda p: "/" not in p and "@" not in p and not any(c.isspace() for c in p)
    ),
    st.text(max_size=20),
)


def redactor() -> Redactor:
    return Redactor(RedactionKey.from_bytes(b"prop-key", "test"))


@FAST
@given(st.one_of(NOISE, st.binary().map(lambda b: b.decode("latin-1")), URLISH))
def test_scrubbers_never_raise(text: str) -> None:
    r = redactor()
    assert isinstance(r.scrub(text), str)
    assert isinstance(scrub_shapes(text), str)
    assert isinstance(scrub_all(text, [r]), str)
    r.redact_scalar("SOME_NAME", text)
    r.redact_tree({"a": [text, {"b": text}]})
    value_looks_secret(text)
    secret_spans(text)
    judge_name(text)


@FAST
@given(URLISH, NOISE, NOISE)
def test_url_passwords_never_survive_any_port_or_host(url: str, before: str, after: str) -> None:
    password = url.split(":")[2].rsplit("@", 1)[0]
    text = f"{before} {url} {after}"
    assert password not in scrub_shapes(text) or password in before + after
    assert password not in redactor().scrub(text) or password in before + after
    out = redactor().redact_scalar("ANY", url)
    assert password not in str(out)


@FAST
@given(SECRET, NOISE, NOISE)
def test_a_remembered_value_is_scrubbed_everywhere(secret: str, before: str, after: str) -> None:
    r = redactor()
    r.redact_value(secret)
    assert secret not in r.scrub(before + secret + after)
    tree = r.scrub_tree({"x": [before + secret + after], "y": secret})
    assert secret not in repr(tree)


@FAST
@given(
    SECRET,
    st.sampled_from(
        ["DB_PASSWORD", "api_key", "X-Auth-Token", "sessionid", "client_secret", "accessToken"]
    ),
)
def test_secret_names_hide_any_value_and_the_value_elsewhere(secret: str, name: str) -> None:
    r = redactor()
    doc = r.redact_document({name: secret, "command": f"run --flag {secret}", "other": secret})
    assert secret not in repr(doc)


@FAST
@given(SECRET, NOISE)
def test_crash_log_and_error_line_never_hold_a_secret(secret: str, noise: str) -> None:
    r = redactor()
    r.remember(secret)
    url = f"https://u:{secret}@h:abc/ {noise}"

    def chained() -> None:
        try:
            raise ValueError(f"first {secret} {noise}")
        except ValueError as first:
            raise RuntimeError(f"second {url}") from first

    try:
        chained()
    except RuntimeError as exc:
        text = scrubbed_traceback(exc, r.scrub)
    assert secret not in text

    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit), handle_errors(r.scrub):
        raise IncidentError(f"log: bad line {url}")
    assert secret not in err.getvalue()


def test_a_failing_scrubber_withholds_instead_of_printing(tmp_path: Path) -> None:
    def broken(text: str) -> str:
        raise ValueError("scrubber bug")

    os.environ["REPRO_LOG_DIR"] = str(tmp_path)
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit), handle_errors(broken):
        raise IncidentError("token=CANARYwithheld01 in a message")
    assert "CANARYwithheld01" not in err.getvalue() and "withheld" in err.getvalue()
    with redirect_stderr(err), pytest.raises(SystemExit), handle_errors(broken):
        raise KeyError("CANARYwithheld02")
    logs = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "CANARYwithheld02" not in logs + err.getvalue()
