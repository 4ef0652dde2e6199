"""Stack traces of Node.js, the JVM and Ruby parsed from logs into the same signature as a
Python traceback or a Sentry event (repro.replay.traces).

The corpus (tests/replay/stacktraces/) holds real output: Node 20's ``console.error(err)`` and
``err.stack`` (with a ``[cause]`` and a custom error class), OpenJDK 17's ``printStackTrace``
(``Caused by:``, ``... N more``, ``Suppressed:``), Ruby 3.1's report of an uncaught error (with
error_highlight's snippet and a cause), each run for this project; and, written after the
frameworks' formats, Rails' FATAL log (Ruby 3.4 quoting), Spring Boot's logback lines, a pino
JSON line and an ECS JSON line. The Node.js service's own incident (fixtures/incidents/
null-profile) checks the parsed log against the Sentry event @sentry/node sent for the same
failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.replay.incident import ExceptionInfo, Signature
from repro.replay.sentry_sink import signature_from_event
from repro.replay.traces import parse_log_traces
from repro.replay.verdict import compare

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "stacktraces"
NULL_PROFILE = ROOT / "fixtures" / "incidents" / "null-profile"


def _chains(name: str) -> list[tuple[ExceptionInfo, ...]]:
    return parse_log_traces((CORPUS / name).read_text())


def _in_app(exc: ExceptionInfo) -> list[tuple[str | None, str | None, int | None]]:
    return [(f.module, f.function, f.lineno) for f in exc.frames if f.in_app]


def test_node_console_error_callee_last_and_sentry_names() -> None:
    for name in ("node-console-error.log", "node-compose-prefixed.log"):
        (chain,) = _chains(name)
        (error,) = chain
        assert error.type == "TypeError"
        assert error.value == "Cannot read properties of null (reading 'email')"
        assert _in_app(error) == [
            ("app.src.users", "handler", 3),
            ("app.src.users", "toPrincipal", 2),
            ("app.src.users", "Repo.find", 1),
        ]
        native = [f for f in error.frames if not f.in_app]
        assert [(f.function, f.filename) for f in native] == [("Array.map", "<anonymous>")]


def test_node_cause_comes_first_and_the_outer_error_last() -> None:
    (chain,) = _chains("node-cause.log")
    assert [e.type for e in chain] == ["TypeError", "Error"]
    assert chain[-1].value == "loading users failed"
    assert _in_app(chain[0])[-1] == ("app.src.users", "Repo.find", 1)


def test_node_custom_error_after_a_log_record_with_a_two_line_message() -> None:
    (chain,) = _chains("node-custom-error-prefixed.log")
    (error,) = chain
    assert (error.type, error.value) == ("NotFound", "user 7\nsecond line")
    # Object.<anonymous> is named as @sentry/node names it; node:internal is not in-app
    assert _in_app(error) == [("app.src.users", "Object.?", 9), ("app.src.users", "lookup", 9)]
    assert error.frames[0].module == "internal.main.run_main_module"


def test_pino_and_ecs_json_lines_carry_their_stack_in_a_field() -> None:
    (node,) = _chains("node-pino.jsonl")
    assert node[-1].type == "TypeError"
    assert _in_app(node[-1]) == [
        ("accounts.src.users", None, 32),
        ("accounts.src.auth", "toPrincipal", 18),
    ]
    (java,) = _chains("java-ecs.jsonl")
    assert [e.type for e in java] == [
        "java.lang.NullPointerException",
        "java.lang.IllegalStateException",
    ]
    # "... 1 more": the cause's last frame is the enclosing trace's last one
    assert _in_app(java[0])[0] == ("com.example.accounts.web.UserController", "show", 32)


def test_java_caused_by_chain_more_frames_and_suppressed() -> None:
    first, second = _chains("java-caused-by.log")
    assert [e.type for e in first] == [
        "java.lang.NullPointerException",
        "java.lang.IllegalStateException",
        "java.lang.RuntimeException",
    ]
    root = first[0]
    assert _in_app(root) == [
        ("com.example.App", "main", 14),
        ("com.example.App", "load", 6),
        ("com.example.App$Repo", "email", 4),
    ]
    assert len(root.frames) == 11  # 2 printed + "... 9 more" from the enclosing trace
    library = root.frames[1]
    assert not library.in_app and library.module == "java.util.stream.ReferencePipeline"
    # the Suppressed: block is no frame of the outer exception
    assert _in_app(first[-1]) == [("com.example.App", "main", 16)]
    (thread,) = second
    assert thread.type == "java.lang.UnsupportedOperationException"
    assert thread.value == "multi\nline message"


def test_java_logback_after_a_log_record_with_packaging_data() -> None:
    (chain,) = _chains("java-logback-spring.log")
    (npe,) = chain
    assert npe.type == "java.lang.NullPointerException"
    assert _in_app(npe) == [
        ("com.example.accounts.web.UserController", "show", 32),
        ("com.example.accounts.auth.Principals", "toPrincipal", 18),
    ]
    assert npe.frames[0].function == "run" and not npe.frames[0].in_app


def test_ruby_uncaught_with_error_highlight_and_a_cause() -> None:
    (chain,) = _chains("ruby-uncaught.log")
    (error,) = chain
    assert error.type == "NoMethodError"
    assert error.value is not None and error.value.startswith(
        "undefined method `split' for nil:NilClass"
    )
    assert [f.function for f in error.frames] == [
        "<main>",
        "show",
        "map",
        "block in show",
        "email_domain",
    ]
    assert error.frames[-1].module == "app.models.user"
    (chain,) = _chains("ruby-cause.log")
    assert [e.type for e in chain] == ["NoMethodError", "ArgumentError"]
    assert chain[-1].frames[-1].function == "rescue in load_user"


def test_rails_fatal_log_with_ruby_34_labels() -> None:
    (chain,) = _chains("ruby-rails-fatal.log")
    (error,) = chain
    assert (error.type, error.value) == ("NoMethodError", "undefined method 'split' for nil")
    assert _in_app(error) == [
        ("UsersController", "show", 6),
        ("app.controllers.users_controller", "block in UsersController#show", 7),
        ("User", "email_domain", 12),
    ]


def test_node_log_and_the_node_sdk_event_are_the_same_failure() -> None:
    """Production's evidence read from the service's log matches the sandbox's @sentry/node
    event of the same failure, and the other way round."""
    (chain,) = parse_log_traces((NULL_PROFILE / "app.log").read_text())
    from_log = Signature(500, chain)
    event = json.loads((NULL_PROFILE / "sentry-event.json").read_text())
    from_event = signature_from_event(event, 500)
    assert compare(from_log, from_event)[0], compare(from_log, from_event)
    assert compare(from_event, from_log)[0], compare(from_event, from_log)
    auth = [f for f in chain[-1].frames if f.function == "toPrincipal"]
    assert auth and auth[0].module == "accounts.src.auth" and auth[0].in_app


def test_languages_mixed_in_one_log_keep_their_order() -> None:
    python = (
        "Traceback (most recent call last):\n"
        '  File "/app/shop/views.py", line 3, in checkout\n'
        "    total = cart.total()\n"
        "KeyError: 'FR'\n"
    )
    node = (CORPUS / "node-console-error.log").read_text()
    java = (CORPUS / "java-logback-spring.log").read_text()
    chains = parse_log_traces("\n".join([node, python, java]))
    assert [c[-1].type for c in chains] == [
        "TypeError",
        "KeyError",
        "java.lang.NullPointerException",
    ]


LOG_ALPHABET = st.sampled_from(
    [
        "    at ", "\tat ", "\tfrom ", "Caused by: ", "[cause]: ", "Traceback (most recent call "
        "last):\n", "TypeError: x", "java.lang.X: y", " (NoMethodError)", "a.rb:3:in `f'",
        "/srv/a.js:1:2", "(A.java:3)", "com.x.Y.m", "\n", "{", "}", " ", ":", "...", "1 more",
        '{"stack": "Error: e\\n    at f (/a.js:1:1)"}',
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(LOG_ALPHABET, max_size=60).map("".join))
def test_any_log_text_parses_without_error(text: str) -> None:
    for chain in parse_log_traces(text):
        assert chain and all(isinstance(e.type, str) and e.type for e in chain)


def test_a_huge_stack_is_bounded() -> None:
    frames = "".join(f"    at f{i} (/srv/app/a.js:{i}:1)\n" for i in range(20_000))
    (chain,) = parse_log_traces("RangeError: Maximum call stack size exceeded\n" + frames)
    assert len(chain[0].frames) == 200
    # the frames kept are the ones nearest the raise
    assert chain[0].frames[-1].function == "f0"


SDK_EVENTS = Path(__file__).parent / "corpus" / "sentry"


@pytest.mark.parametrize(
    ("event", "log"),
    [
        pytest.param(
            "java-spring-get-params.json",
            'java.lang.NullPointerException: Cannot invoke "com.example.shop.Customer.getEmail()"'
            ' because "customer" is null\n'
            "\tat com.example.shop.invoice.InvoiceRenderer.render(InvoiceRenderer.java:41)\n"
            "\tat com.example.shop.web.InvoiceController.invoice(InvoiceController.java:88)\n"
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n",
            id="java",
        ),
        pytest.param(
            "ruby-rails-form.json",
            "F, [2026-12-04T16:22:53.612740 #1] FATAL -- : [4f1c] ActiveRecord::RecordInvalid "
            "(Validation failed: Shipping address can't be blank):\n"
            "[4f1c]   \n"
            "[4f1c] app/controllers/orders_controller.rb:14:in `create'\n",
            id="ruby",
        ),
    ],
)
def test_a_logged_trace_matches_its_sdks_event(event: str, log: str) -> None:
    """The same failure from a JVM/Ruby log and from that SDK's Sentry event: one signature."""
    from repro.replay.importers import IMPORTERS, ImportOptions

    incident = IMPORTERS["sentry"].parse((SDK_EVENTS / event).read_bytes(), options=ImportOptions())
    (chain,) = parse_log_traces(log)
    from_log = Signature(incident.signature.status, chain)
    assert compare(incident.signature, from_log)[0], compare(incident.signature, from_log)
    assert compare(from_log, incident.signature)[0], compare(from_log, incident.signature)
