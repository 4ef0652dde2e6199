"""A tiny Flask shop instrumented with the real sentry-sdk, whose events are captured in memory.

``capture_checkout_event()`` posts a checkout that fails inside a view (a KeyError raised in a
helper, re-raised as RuntimeError) with planted canary credentials, and returns the event
sentry-sdk would have sent. Regenerate the fixture with
``python -c 'import tests.replay.sentry_app as m; m.main()' > \
fixtures/incidents/samples/sentry-sdk-flask.json`` (imported, so frames name the real module).
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from typing import Any

CANARY = {
    "bearer": "CANARYbearerTOKEN0001",
    "api_key": "CANARYapikey0002",
    "session": "CANARYsession0003",
    "query_key": "CANARYquerykey0004",
    "password": "CANARYpassword0005",
}


def capture_checkout_event() -> dict[str, Any]:
    import sentry_sdk
    from flask import Flask, request
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.transport import Transport

    events: list[dict[str, Any]] = []

    class CapturingTransport(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            for item in envelope.items:
                if item.type == "event" and item.payload.json is not None:
                    events.append(item.payload.json)

    # send_default_pii=False is what most production apps run with; newer SDKs call the option
    # deprecated (data_collection) but still honour it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sentry_sdk.init(
            dsn="http://public@127.0.0.1:9/1",
            transport=CapturingTransport,
            send_default_pii=False,
            integrations=[FlaskIntegration()],
            default_integrations=False,
            release="shop@1.4.2",
            environment="production",
        )
    try:
        app = Flask("shop")

        def rate_for(country: str) -> float:
            rates = {"DE": 0.19, "NL": 0.21}
            return rates[country]

        @app.post("/checkout")
        def checkout() -> dict[str, float]:
            order = request.get_json()
            try:
                total = order["amount"] * (1 + rate_for(order["country"]))
            except KeyError as exc:
                raise RuntimeError("pricing failed for this order") from exc
            return {"total": total}

        client = app.test_client()
        client.set_cookie("sessionid", CANARY["session"])
        client.set_cookie("theme", "dark")
        response = client.post(
            f"/checkout?api_key={CANARY['query_key']}&coupon=SPRING",
            json={"amount": 10, "country": "FR", "password": CANARY["password"]},
            headers={
                "Authorization": f"Bearer {CANARY['bearer']}",
                "X-Api-Key": CANARY["api_key"],
                "Accept": "application/json",
            },
        )
        assert response.status_code == 500
        sentry_sdk.flush()
    finally:
        sentry_sdk.get_client().close()
        # back to a disabled client, with no default integration: those patch subprocess
        # (trace headers in every child environment) for the rest of the test session
        sentry_sdk.init(default_integrations=False)
    assert len(events) == 1, events
    return events[0]


def scrub_machine_paths(event: dict[str, Any]) -> dict[str, Any]:
    """Replace this machine's absolute paths (site-packages, the checkout) with stable ones."""
    text = json.dumps(event)
    text = re.sub(r'(?<=")/[^"]*?/site-packages/', "/usr/lib/python3/site-packages/", text)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    text = text.replace(here, "/srv/shop")
    text = text.replace(sys.prefix, "/usr")
    return dict(json.loads(text))


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    print(json.dumps(scrub_machine_paths(capture_checkout_event()), indent=2))
