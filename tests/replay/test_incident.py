"""The incident file: YAML round trip, strict validation, signature matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import IncidentError
from repro.replay.incident import (
    STANDIN,
    ExceptionInfo,
    Frame,
    Incident,
    Lost,
    Provenance,
    Request,
    Signature,
    describe,
    load_incident,
    write_incident,
)


def make_incident() -> Incident:
    frames = (
        Frame("shop.views", "checkout", "total = order.amount * rate", "shop/views.py", 41),
        Frame("flask.app", "dispatch", "return view()", "flask/app.py", 902, in_app=False),
        Frame("shop.pricing", "rate_for", "return RATES[country]", "shop/pricing.py", 12),
    )
    return Incident(
        request=Request(
            method="POST",
            path="/checkout",
            query=[("coupon", "SPRING"), ("coupon", "X: y"), ("api_key", STANDIN)],
            headers=[("Accept", "application/json"), ("Authorization", STANDIN)],
            cookies=[("theme", "dark")],
            body='{"note": "line one\nline two  \n", "n": 1}\n',
            url="https://shop.example.com/checkout?coupon=SPRING",
        ),
        signature=Signature(
            status=500,
            exceptions=(
                ExceptionInfo("KeyError", "'FR'", frames),
                ExceptionInfo("RuntimeError", "pricing failed: 'yes' # no", frames[:1]),
            ),
        ),
        provenance=Provenance(
            source="sentry",
            event_id="abc123",
            timestamp="2026-10-10T13:55:36+00:00",
            release="shop@1.4.2",
            environment="production",
            file="event.json",
        ),
        lost=[
            Lost(
                "header:Authorization",
                "credential: fingerprinted, needs a stand-in",
                "hmac-sha256:0123456789ab:00ff",
            ),
            Lost("body:password", "filtered by Sentry ([Filtered])"),
            Lost("method", "guessed", needs_standin=False),
        ],
    )


def test_round_trip_is_exact_and_stable() -> None:
    incident = make_incident()
    text = incident.to_yaml()
    again = Incident.from_yaml(text)
    assert again == incident
    assert again.to_yaml() == text
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0] not in " -"]
    assert keys == ["schema", "provenance", "request", "signature", "lost"]
    assert "- [Accept, application/json]" in text  # pairs are one readable line


@pytest.mark.parametrize(
    "body",
    ["", " leading", "trailing \n\n", "a\r\nb", "tab\there\n", "ünïcödé ✓\n", "- [x]: y", "null"],
)
def test_round_trip_awkward_bodies(body: str) -> None:
    incident = make_incident()
    incident.request.body = body
    assert Incident.from_yaml(incident.to_yaml()).request.body == body


def test_write_and_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    incident = make_incident()
    path = tmp_path / "sub" / "incident.yaml"
    write_incident(incident, path)
    assert load_incident(path) == incident
    assert [p.name for p in path.parent.iterdir()] == ["incident.yaml"]  # no temporary left
    assert path.stat().st_mode & 0o777 == 0o600  # a production request: private
    write_incident(incident, "-")
    assert capsys.readouterr().out == incident.to_yaml()


def _broken(edit: str, replacement: str) -> str:
    text = make_incident().to_yaml()
    assert edit in text, edit
    return text.replace(edit, replacement, 1)


@pytest.mark.parametrize(
    ("edit", "replacement", "message"),
    [
        ("schema: repro.incident/v1", "schema: repro.snapshot/v1", "schema"),
        ("schema: repro.incident/v1", "schema: repro.incident/v2", "newer repro"),
        ("  method: POST", "  method: 7", "request.method"),
        ("  method: POST", "  method: po st", "request.method"),
        ("  path: /checkout", "  path: checkout?x=1", "request.path"),
        ("  path: /checkout", "  path:", "request.path is missing"),
        ("- [Accept, application/json]", "- [Accept]", "request.headers[0]"),
        ("  status: 500", "  status: '500'", "signature.status"),
        ("  status: 500", "  status: 999", "signature.status"),
        (
            "    - module: shop.views",
            "    - modul: shop.views",
            "signature.exceptions[0].frames[0].modul",
        ),
        ("      lineno: 41", "      lineno: forty", "signature.exceptions[0].frames[0].lineno"),
        ("      in_app: false", "      in_app: maybe", "frames[1].in_app"),
        ("  - type: KeyError", "  - type: ''", "signature.exceptions[0].type"),
        ("  source: sentry", "  source: pcap", "provenance.source"),
        (
            "  timestamp: '2026-10-10T13:55:36+00:00'",
            "  timestamp: yesterday",
            "provenance.timestamp",
        ),
        (
            "  fingerprint: hmac-sha256:0123456789ab:00ff",
            "  fingerprint: hunter2",
            "lost[0].fingerprint",
        ),
        ("  body_base64: null", "  body_base64: '***'", "body_base64"),
        ("lost:", "lost: 3\nx:", "lost"),
    ],
)
def test_from_yaml_is_strict_and_names_the_field(edit: str, replacement: str, message: str) -> None:
    with pytest.raises(IncidentError) as info:
        Incident.from_yaml(_broken(edit, replacement))
    line = info.value.one_line()
    assert message in line
    assert "\n" not in line


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "{{{", "schema: [1", "\x00\x01"])
def test_from_yaml_garbage(text: str) -> None:
    with pytest.raises(IncidentError):
        Incident.from_yaml(text)


def test_newer_minor_version_tolerates_unknown_fields() -> None:
    text = _broken("schema: repro.incident/v1", "schema: repro.incident/v1.3\nfuture: 1")
    assert Incident.from_yaml(text).request.path == "/checkout"


def test_short_hand_written_incident() -> None:
    text = (
        "schema: repro.incident/v1\nprovenance: {source: curl}\n"
        "request: {method: GET, path: /health}\nsignature: {status: 503}\n"
    )
    incident = Incident.from_yaml(text)
    assert incident.request.query == [] and incident.lost == []
    assert incident.signature.key() == (503, ())


def test_signature_key_ignores_line_numbers_paths_and_messages() -> None:
    base = make_incident().signature
    moved = Signature(
        status=500,
        exceptions=tuple(
            ExceptionInfo(
                e.type,
                "another message",
                tuple(
                    Frame(
                        f.module,
                        f.function,
                        f"  {f.context_line}  ",
                        "/elsewhere.py",
                        (f.lineno or 0) + 30,
                        f.in_app,
                    )
                    for f in e.frames
                ),
            )
            for e in base.exceptions
        ),
    )
    assert moved.key() == base.key()
    # library frames (in_app false) do not count either
    first = base.exceptions[0]
    without_lib = ExceptionInfo(first.type, first.value, (first.frames[0], first.frames[2]))
    assert Signature(500, (without_lib, base.exceptions[1])).key() == base.key()


def test_signature_key_sees_code_status_and_type_changes() -> None:
    base = make_incident().signature
    first = base.exceptions[0]
    changed_line = Frame(
        "shop.views", "checkout", "total = order.amount * rate * 2", "shop/views.py", 41
    )
    other_code = ExceptionInfo(first.type, first.value, (changed_line, *first.frames[1:]))
    assert Signature(500, (other_code, base.exceptions[1])).key() != base.key()
    assert Signature(502, base.exceptions).key() != base.key()
    renamed = ExceptionInfo("ValueError", first.value, first.frames)
    assert Signature(500, (renamed, base.exceptions[1])).key() != base.key()
    assert Signature(500, base.exceptions[1:]).key() != base.key()


def test_describe_names_parts_never_values() -> None:
    line = describe(make_incident())
    assert line == (
        "POST /checkout -> 500 RuntimeError; 3 parts lost: header:Authorization (credential), "
        "body:password (filtered), method (guessed)"
    )
    incident = make_incident()
    incident.signature = Signature(None, ())
    incident.lost = []
    assert describe(incident) == "POST /checkout -> status unknown; nothing lost"
