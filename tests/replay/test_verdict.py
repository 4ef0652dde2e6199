"""compare() and decide(): literal signatures in, verdicts out (no I/O)."""

from __future__ import annotations

import pytest

from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.replay.verdict import Attempt, Decision, Verdict, compare, decide

FLASK = Frame("flask.app", "dispatch_request", "return view(**args)", in_app=False)
VIEW = Frame("shop.views", "checkout", "total = pricing.total(order)", "/app/shop/views.py", 12)
TOTAL = Frame("shop.pricing", "total", "total = order.amount * rate", "/app/shop/pricing.py", 30)
RATE = Frame("shop.pricing", "rate_for", "return RATES[currency]", "/app/shop/pricing.py", 5)
WRAP = Frame("shop.views", "checkout_wrapped", "raise PricingError(msg) from exc")


def exc(type_: str, *frames: Frame, value: str | None = "boom") -> ExceptionInfo:
    return ExceptionInfo(type=type_, value=value, frames=frames)


def sig(status: int | None, *exceptions: ExceptionInfo) -> Signature:
    return Signature(status=status, exceptions=exceptions)


def moved(frame: Frame, **changes: object) -> Frame:
    fields = {**frame.__dict__, **changes}
    return Frame(**fields)  # type: ignore[arg-type,unused-ignore]


PROD = sig(500, exc("KeyError", FLASK, VIEW, TOTAL, RATE))
PROD_CHAIN = sig(500, exc("KeyError", VIEW, TOTAL, RATE), exc("shop.errors.PricingError", WRAP))


@pytest.mark.parametrize(
    ("expected", "got", "ok", "reason"),
    [
        pytest.param(
            PROD, PROD, True, "status 500, KeyError through the same 3 in-app frames", id="same"
        ),
        pytest.param(
            PROD,
            sig(500, exc("KeyError", moved(VIEW, lineno=99), moved(TOTAL, lineno=1), RATE)),
            True,
            "",
            id="line-numbers-and-library-frames-ignored",
        ),
        pytest.param(
            PROD,
            sig(
                500, exc("KeyError", VIEW, Frame("shop.audit", "log", "audit(order)"), TOTAL, RATE)
            ),
            True,
            "",
            id="sandbox-superset",
        ),
        pytest.param(
            PROD, sig(500, exc("KeyError", TOTAL, RATE)), True, "", id="sandbox-stack-starts-lower"
        ),
        pytest.param(
            PROD,
            sig(500, exc("KeyError", VIEW, moved(TOTAL, in_app=False), RATE)),
            True,
            "",
            id="in-app-detection-differs",
        ),
        pytest.param(
            PROD,
            sig(
                500,
                exc(
                    "KeyError",
                    moved(VIEW, module="__main__"),
                    TOTAL,
                    moved(RATE, context_line=None),
                ),
            ),
            True,
            "",
            id="main-module-and-missing-source",
        ),
        pytest.param(
            PROD,
            sig(
                500,
                exc(
                    "KeyError",
                    moved(VIEW, context_line="total  =  pricing.total(order)"),
                    TOTAL,
                    RATE,
                ),
            ),
            True,
            "",
            id="whitespace-in-source",
        ),
        pytest.param(PROD, sig(200), False, "status 200 vs 500 in production", id="status-differs"),
        pytest.param(
            PROD, sig(None), False, "status none vs 500 in production", id="status-unknown"
        ),
        pytest.param(
            PROD,
            sig(500, exc("TypeError", VIEW, TOTAL, RATE)),
            False,
            "exception TypeError vs KeyError in production",
            id="type-differs",
        ),
        pytest.param(
            PROD,
            sig(500),
            False,
            "no exception in the sandbox (KeyError in production)",
            id="no-exception-evidence",
        ),
        pytest.param(
            PROD_CHAIN,
            sig(500, exc("ValueError", VIEW), exc("PricingError", WRAP)),
            False,
            "exception chain ValueError -> PricingError vs "
            "KeyError -> shop.errors.PricingError in production",
            id="chain-differs",
        ),
        pytest.param(
            PROD_CHAIN,
            sig(500, exc("KeyError", VIEW, TOTAL, RATE), exc("PricingError", WRAP)),
            True,
            "",
            id="qualified-vs-bare-type",
        ),
        pytest.param(
            PROD_CHAIN,
            sig(500, exc("KeyError", VIEW, TOTAL, RATE), exc("other.PricingError", WRAP)),
            False,
            "exception other.PricingError vs shop.errors.PricingError in production",
            id="two-qualified-types-differ",
        ),
        pytest.param(
            PROD,
            sig(500, exc("KeyError", VIEW, TOTAL, moved(RATE, context_line="return RATES[code]"))),
            False,
            "frame shop.pricing.rate_for 'return RATES[currency]' not reached",
            id="other-line-in-same-function",
        ),
        pytest.param(
            PROD,
            sig(500, exc("KeyError", VIEW, Frame("shop.cart", "add", "items[sku]"))),
            False,
            "frame shop.pricing.total 'total = order.amount * rate' not reached",
            id="other-path",
        ),
        pytest.param(
            PROD,
            sig(500, exc("KeyError", Frame("jobs.worker", "run", "job()"), TOTAL, RATE)),
            False,
            "frame shop.views.checkout 'total = pricing.total(order)' not reached",
            id="other-caller",
        ),
        pytest.param(
            PROD_CHAIN,
            sig(
                500,
                exc("KeyError", VIEW, Frame("shop.cart", "add", "x")),
                exc("PricingError", WRAP),
            ),
            False,
            "frame shop.pricing.total 'total = order.amount * rate' not reached "
            "(in the chained KeyError)",
            id="chained-frames-differ",
        ),
        pytest.param(
            sig(500),
            sig(500, exc("KeyError")),
            True,
            "status 500 as in production",
            id="har-status-decides",
        ),
        pytest.param(
            sig(500), sig(502), False, "status 502 vs 500 in production", id="har-status-differs"
        ),
        pytest.param(sig(None), sig(503), True, "", id="nothing-known-any-failure"),
        pytest.param(sig(None), sig(200), False, "", id="nothing-known-success"),
        pytest.param(
            sig(None, exc("KeyError", RATE)),
            sig(404, exc("KeyError", RATE)),
            True,
            "",
            id="prod-status-unknown",
        ),
    ],
)
def test_compare(expected: Signature, got: Signature, ok: bool, reason: str) -> None:
    matched, why = compare(expected, got)
    assert (matched, bool(why)) == (ok, True)
    assert "\n" not in why
    if reason:
        assert why == reason


def test_long_source_lines_are_shortened_in_the_reason() -> None:
    long = Frame("m", "f", "x = " + "a" * 200)
    _ok, why = compare(sig(500, exc("E", long)), sig(500, exc("E", Frame("m", "f", "y"))))
    assert why.startswith("frame m.f 'x = aaa") and why.endswith("...' not reached")
    assert len(why) < 100


def ok(seconds: float = 0.1) -> Attempt:
    return Attempt(status=500, signature=PROD, error=None, seconds=seconds)


def other_failure() -> Attempt:
    return Attempt(status=500, signature=sig(500, exc("TypeError", VIEW)), error=None, seconds=0.1)


def success(status: int = 200) -> Attempt:
    return Attempt(status=status, signature=None, error=None, seconds=0.1)


def refused() -> Attempt:
    return Attempt(
        status=None, signature=None, error="connection refused\n(port 8000)", seconds=2.0
    )


@pytest.mark.parametrize(
    ("expected", "attempts", "sandbox_ok", "verdict", "matched", "rate"),
    [
        pytest.param(PROD, [ok()], False, Verdict.ENV_ERROR, 0, 0.0, id="sandbox-failed"),
        pytest.param(PROD, [], True, Verdict.ENV_ERROR, 0, 0.0, id="no-attempts"),
        pytest.param(
            PROD, [refused(), refused()], True, Verdict.ENV_ERROR, 0, 0.0, id="all-transport"
        ),
        pytest.param(PROD, [ok(), ok(), ok()], True, Verdict.REPRODUCED, 3, 1.0, id="always"),
        pytest.param(
            PROD, [success(), ok(), other_failure()], True, Verdict.REPRODUCED, 1, 1 / 3, id="flaky"
        ),
        pytest.param(PROD, [refused(), ok()], True, Verdict.REPRODUCED, 1, 0.5, id="one-refused"),
        pytest.param(
            PROD,
            [other_failure(), success()],
            True,
            Verdict.DIFFERENT_FAILURE,
            0,
            0.0,
            id="different",
        ),
        pytest.param(
            PROD,
            [Attempt(502, None, None, 0.1)],
            True,
            Verdict.DIFFERENT_FAILURE,
            0,
            0.0,
            id="5xx-without-exception",
        ),
        pytest.param(
            PROD,
            [Attempt(200, sig(None, exc("TypeError", VIEW)), None, 0.1)],
            True,
            Verdict.DIFFERENT_FAILURE,
            0,
            0.0,
            id="exception-behind-200",
        ),
        pytest.param(
            PROD, [success(), success()], True, Verdict.NOT_REPRODUCED, 0, 0.0, id="fixed"
        ),
        pytest.param(
            sig(403), [success(404)], True, Verdict.NOT_REPRODUCED, 0, 0.0, id="4xx-differs"
        ),
        pytest.param(sig(403), [success(403)], True, Verdict.REPRODUCED, 1, 1.0, id="4xx-same"),
        pytest.param(
            sig(403),
            [Attempt(500, None, None, 0.1)],
            True,
            Verdict.DIFFERENT_FAILURE,
            0,
            0.0,
            id="4xx-vs-5xx",
        ),
    ],
)
def test_decide(
    expected: Signature,
    attempts: list[Attempt],
    sandbox_ok: bool,
    verdict: Verdict,
    matched: int,
    rate: float,
) -> None:
    decision = decide(expected, attempts, sandbox_ok=sandbox_ok)
    assert (decision.verdict, decision.matched, decision.attempts) == (
        verdict,
        matched,
        len(attempts),
    )
    assert decision.rate == pytest.approx(rate)
    assert decision.reason and "\n" not in decision.reason


def test_decide_reasons() -> None:
    assert decide(PROD, [ok(), success()], sandbox_ok=True) == Decision(
        Verdict.REPRODUCED,
        "reproduced in 1/2 attempts: status 500, KeyError through the same 3 in-app frames",
        matched=1,
        attempts=2,
        rate=0.5,
    )
    assert decide(PROD, [refused()], sandbox_ok=True).reason == (
        "every attempt failed before an answer (connection refused (port 8000))"
    )
    assert decide(PROD, [other_failure(), refused()], sandbox_ok=True).reason == (
        "failed differently in 1/2 attempts: exception TypeError vs KeyError in production; "
        "1 failed at transport level"
    )
    assert decide(PROD, [success()], sandbox_ok=True).reason == (
        "did not fail in 1/1 attempts: status 200 vs 500 in production"
    )
    assert (
        decide(PROD, [ok()], sandbox_ok=False).reason == "the sandbox failed: no verdict on the bug"
    )
    assert isinstance(Verdict.REPRODUCED, str) and Verdict("reproduced") is Verdict.REPRODUCED


def test_a_status_only_match_is_weak_and_names_the_sandboxs_exception() -> None:
    attempt = Attempt(500, sig(500, exc("psycopg.OperationalError", VIEW)), None, 0.1)
    decision = decide(sig(500), [attempt], sandbox_ok=True)
    assert (decision.verdict, decision.weak) == (Verdict.REPRODUCED, True)
    assert decision.reason == (
        "reproduced in 1/1 attempts: status 500 as in production (weak: status only: "
        "production recorded no exception; the sandbox raised psycopg.OperationalError)"
    )
    full = decide(PROD, [ok()], sandbox_ok=True)
    assert full.weak is False


def test_require_signature_makes_a_status_only_match_unconfirmed() -> None:
    decision = decide(sig(500), [Attempt(500, None, None, 0.1)], sandbox_ok=True,
                      require_signature=True)  # fmt: skip
    assert (decision.verdict, decision.matched, decision.weak) == (Verdict.UNCONFIRMED, 0, True)
    assert "--require-signature" in decision.reason and "--traceback FILE" in decision.reason
    assert "the sandbox showed no exception" in decision.reason
    # a real signature is unaffected
    assert decide(PROD, [ok()], sandbox_ok=True, require_signature=True).verdict is (
        Verdict.REPRODUCED
    )


def test_a_broken_sandbox_is_env_error_even_when_the_status_matches() -> None:
    broken = Attempt(500, None, None, 0.1, fault="the app cannot use the sandbox database: x")
    decision = decide(sig(500), [broken, Attempt(500, None, None, 0.1)], sandbox_ok=True)
    assert decision.verdict is Verdict.ENV_ERROR
    assert decision.reason == (
        "the sandbox is broken, no verdict on the bug: the app cannot use the sandbox "
        "database: x (1/2 attempts)"
    )


@pytest.mark.parametrize(
    ("sentry", "log"),
    [
        ("routes:users", "srv.app.src.routes.users"),  # @sentry/node vs a path
        ("Admin::UsersController", "Admin::UsersController"),
        ("auth", "accounts.src.auth"),
    ],
)
def test_module_separators_of_other_sdks(sentry: str, log: str) -> None:
    prod = sig(500, exc("TypeError", Frame(sentry, "toPrincipal", None)))
    got = sig(500, exc("TypeError", Frame(log, "toPrincipal", None)))
    assert compare(prod, got)[0] and compare(got, prod)[0]


def test_an_anonymous_javascript_function_matches_a_named_place() -> None:
    prod = sig(500, exc("TypeError", Frame("users", "?", None), Frame("auth", "f", None)))
    got = sig(500, exc("TypeError", Frame("src.users", None, None), Frame("src.auth", "f", None)))
    assert compare(prod, got)[0]
