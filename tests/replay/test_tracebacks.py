"""parse_tracebacks on real Python stderr, checked against the Sentry event of the same failure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.replay.sentry_sink import SentrySink, signature_from_event
from repro.replay.tracebacks import module_from_filename, parse_tracebacks
from tests.helpers.sentry import EVENT_TIMEOUT, needs_sdk, run_app, write_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_app(tmp_path_factory.mktemp("tb") / "app")


def _same_failure(app: Path, scenario: str, style: str = "print") -> tuple[str, Signature]:
    """The app's stderr for one scenario, and the signature of the event the SDK sent."""
    with SentrySink(host="127.0.0.1") as sink:
        log = run_app(app, sink.dsn_for("127.0.0.1"), scenario, style)
        event = sink.wait_for_event(EVENT_TIMEOUT)
    assert event is not None, "the SDK's event never arrived"
    return log, signature_from_event(event, 500)


@needs_sdk
@pytest.mark.parametrize(
    ("scenario", "types"),
    [
        ("keyerror", ["KeyError"]),
        ("cause", ["KeyError", "shop.errors.PricingError"]),
        ("context", ["KeyError", "TypeError"]),
        ("multiline", ["shop.errors.UndefinedFunction"]),
    ],
)
def test_real_traceback_matches_the_sentry_signature(
    app: Path, scenario: str, types: list[str]
) -> None:
    log, from_sentry = _same_failure(app, scenario)

    chains = parse_tracebacks(log, roots=(str(app),))

    assert len(chains) == 1, log
    from_log = Signature(500, chains[0])
    assert [e.type for e in from_log.exceptions] == types
    assert from_log.key() == from_sentry.key()
    assert [e.value for e in from_log.exceptions] == [e.value for e in from_sentry.exceptions]
    assert [f.lineno for f in from_log.exceptions[-1].frames] == [
        f.lineno for f in from_sentry.exceptions[-1].frames
    ]


@needs_sdk
def test_multiline_message_ends_at_the_next_log_record(app: Path) -> None:
    log, _ = _same_failure(app, "multiline")
    (chain,) = parse_tracebacks(log, roots=(str(app),))
    assert chain[-1].value == (
        "function foo(integer) does not exist\n"
        "LINE 1: SELECT foo(1)\n"
        "               ^\n"
        "HINT:  No function matches the given name and argument types."
    )


@needs_sdk
def test_flask_style_logged_traceback(app: Path) -> None:
    log, from_sentry = _same_failure(app, "context", style="log")
    assert re.search(r"^\[\d{4}-.*\] ERROR in main: Exception on /checkout", log, re.M), log

    (chain,) = parse_tracebacks(log, roots=(str(app),))
    assert Signature(500, chain).key() == from_sentry.key()


@needs_sdk
def test_every_line_prefixed_like_docker_timestamps_or_compose(app: Path) -> None:
    log, from_sentry = _same_failure(app, "cause")
    stamped = "\n".join(
        f"2026-01-02T10:00:{i % 60:02d}.{i:06d}Z {line}" for i, line in enumerate(log.splitlines())
    )
    composed = "\n".join(f"web-1  | {line}" for line in log.splitlines())
    for text in (stamped, composed):
        (chain,) = parse_tracebacks(text, roots=(str(app),))
        assert Signature(500, chain).key() == from_sentry.key()
        assert chain[-1].value == "no rate for GBP"


def test_several_tracebacks_and_interleaved_noise() -> None:
    log = """\
[2026-01-02 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7
[2026-01-02 10:00:01,000] ERROR in app: Exception on /a [GET]
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/flask/app.py", line 880, in full_dispatch_request
    rv = self.dispatch_request()
[2026-01-02 10:00:01 +0000] [8] [INFO] Booting worker with pid: 8
  File "/app/shop/views.py", line 42, in checkout
    total = order.amount * rate
            ~~~~~~~~~~~~~^~~~~~
TypeError: unsupported operand type(s) for *: 'decimal.Decimal' and 'float'
127.0.0.1 - - [02/Jan/2026 10:00:01] "GET /a HTTP/1.1" 500 -
WARNING: something unrelated
Traceback (most recent call last):
  File "/srv/shop/__init__.py", line 3, in <module>
    import missing
ModuleNotFoundError: No module named 'missing'
"""
    first, second = parse_tracebacks(log)
    assert first == (
        ExceptionInfo(
            type="TypeError",
            value="unsupported operand type(s) for *: 'decimal.Decimal' and 'float'",
            frames=(
                Frame(
                    module="flask.app",
                    function="full_dispatch_request",
                    context_line="rv = self.dispatch_request()",
                    filename="/usr/lib/python3/dist-packages/flask/app.py",
                    lineno=880,
                    in_app=False,
                ),
                Frame(
                    module="shop.views",
                    function="checkout",
                    context_line="total = order.amount * rate",
                    filename="/app/shop/views.py",
                    lineno=42,
                    in_app=True,
                ),
            ),
        ),
    )
    assert second[0].type == "ModuleNotFoundError"
    assert second[0].frames[0].module == "shop"


def test_chained_exception_without_traceback_and_bare_type() -> None:
    log = """\
ValueError: inner

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/x.py", line 1, in f
KeyboardInterrupt
"""
    # The cause was never raised: no "Traceback" header of its own, printed before the marker.
    (chain,) = parse_tracebacks(log)
    assert [(e.type, e.value, len(e.frames)) for e in chain] == [
        ("ValueError", "inner", 0),
        ("KeyboardInterrupt", None, 1),
    ]
    assert chain[1].frames[0].context_line is None

    log = """\
Traceback (most recent call last):
  File "/app/x.py", line 1, in f
    g()
ValueError: inner

During handling of the above exception, another exception occurred:

RuntimeError: never raised, so no traceback
"""
    (chain,) = parse_tracebacks(log)
    assert [(e.type, len(e.frames)) for e in chain] == [("ValueError", 1), ("RuntimeError", 0)]


def test_truncated_and_junk_logs_do_not_crash() -> None:
    assert parse_tracebacks("") == []
    assert parse_tracebacks("Traceback (most recent call last):") == []
    assert parse_tracebacks('Traceback (most recent call last):\n  File "/app/a.py", line 1') == []
    junk = "Traceback (most recent call last):\n" + "noise line\n" * 100 + "KeyError: 1\n"
    assert parse_tracebacks(junk) == []


@pytest.mark.parametrize(
    ("filename", "roots", "module"),
    [
        ("/app/shop/views.py", ("/app",), "shop.views"),
        ("/app/shop/__init__.py", ("/app",), "shop"),
        ("/usr/src/app/shop/views.py", None, "shop.views"),
        ("/srv/app/views.py", ("/srv", "/srv/app"), "views"),
        ("/usr/lib/python3/dist-packages/flask/app.py", None, "flask.app"),
        ("/usr/local/lib/python3.11/site-packages/psycopg/cursor.py", None, "psycopg.cursor"),
        ("/usr/lib/python3.11/json/decoder.py", None, "json.decoder"),
        ("/home/me/proj/shop/views.py", None, "home.me.proj.shop.views"),
        ("<string>", None, "__main__"),
        ("<frozen importlib._bootstrap>", None, None),
    ],
)
def test_module_from_filename(filename: str, roots: tuple[str, ...] | None, module: str) -> None:
    got = module_from_filename(filename) if roots is None else module_from_filename(filename, roots)
    assert got == module


def test_real_cause_that_was_never_raised(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "def f():\n    raise KeyError('k') from ValueError('never raised')\nf()\n"
    script = tmp_path / "app" / "job.py"
    script.parent.mkdir()
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    (chain,) = parse_tracebacks(done.stderr, roots=(str(tmp_path / "app"),))
    assert [(e.type, e.value) for e in chain] == [
        ("ValueError", "never raised"),
        ("KeyError", "'k'"),
    ]
    assert [(f.module, f.function, f.context_line) for f in chain[-1].frames] == [
        ("job", "<module>", "f()"),
        ("job", "f", "raise KeyError('k') from ValueError('never raised')"),
    ]
