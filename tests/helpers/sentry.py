"""A small failing app that reports to Sentry with the real sentry-sdk, run in a subprocess:
the sink's tests read the events it sends, the traceback tests the tracebacks it prints."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The real SDK is a test dependency (pip install sentry-sdk); only the tests running it skip.
needs_sdk = pytest.mark.skipif(
    importlib.util.find_spec("sentry_sdk") is None, reason="sentry-sdk is not installed"
)

EVENT_TIMEOUT = 10.0

APP_FILES = {
    "shop/__init__.py": "",
    "shop/errors.py": """
        class PricingError(Exception):
            pass


        class UndefinedFunction(Exception):
            pass
        """,
    "shop/pricing.py": """
        RATES = {"EUR": 1.1}


        def rate_for(currency):
            return RATES[currency]


        def total(order):
            rate = rate_for(order["currency"])
            return order["amount"] * rate
        """,
    "shop/db.py": """
        from shop.errors import UndefinedFunction


        def query(sql):
            raise UndefinedFunction(
                "function foo(integer) does not exist\\n"
                "LINE 1: SELECT foo(1)\\n"
                "               ^\\n"
                "HINT:  No function matches the given name and argument types."
            )
        """,
    "shop/views.py": """
        from shop import db, pricing
        from shop.errors import PricingError


        def checkout(order):
            total = pricing.total(order)
            return {"total": total}


        def checkout_wrapped(order):
            try:
                return checkout(order)
            except KeyError as exc:
                raise PricingError(f"no rate for {order['currency']}") from exc


        def refund(order):
            try:
                return pricing.total(order)
            except KeyError:
                return order["amount"] + None


        def report():
            return db.query("SELECT foo(1)")
        """,
    "shop/main.py": """
        import logging
        import sys
        import traceback

        import sentry_sdk

        from shop import views

        SCENARIOS = {
            "keyerror": lambda: views.checkout({"amount": 3, "currency": "GBP"}),
            "cause": lambda: views.checkout_wrapped({"amount": 3, "currency": "GBP"}),
            "context": lambda: views.refund({"amount": 3, "currency": "GBP"}),
            "multiline": lambda: views.report(),
        }


        def run(scenario, style):
            logging.basicConfig(
                stream=sys.stderr,
                format="[%(asctime)s] %(levelname)s in %(module)s: %(message)s",
            )
            print("[2026-01-02 10:00:00 +0000] [7] [INFO] Booting worker", file=sys.stderr)
            try:
                SCENARIOS[scenario]()
            except Exception:
                sentry_sdk.capture_exception()
                if style == "log":
                    logging.getLogger("app").exception("Exception on /checkout [POST]")
                else:
                    traceback.print_exc()
            print('127.0.0.1 - - [02/Jan/2026 10:00:01] "POST /checkout HTTP/1.1" 500 -',
                  file=sys.stderr)
        """,
}

RUNNER = """
import sys
import sentry_sdk
sentry_sdk.init(dsn=sys.argv[1] or None)
from shop.main import run
run(sys.argv[2], sys.argv[3])
sentry_sdk.flush(timeout=10)
"""


def write_app(root: Path) -> Path:
    for name, text in APP_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def run_app(root: Path, dsn: str, scenario: str, style: str = "print") -> str:
    """Run a scenario of the app with the real sentry-sdk; its stderr (the tracebacks)."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, dsn, scenario, style],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr
