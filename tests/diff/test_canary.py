"""Canary secrets: snapshots made by the real redactor from canary values hold only their
fingerprints; no output of the diff (any format, ignored items, fix script) may contain a
canary — nothing downstream may invent or reassemble a secret."""

from __future__ import annotations

from typing import Any

import pytest

from repro.diff import FORMATS, render, render_fix_script
from repro.redaction import RedactionKey, Redactor
from tests.helpers.builders import Side, baseline, diff

CANARIES = {
    "prod": {
        "SECRET_KEY": "CANARY-prod-secret-key-7f3a9b2c",
        "db_password": "CANARYprodDbPw91x",
        "smtp": "CANARY-prod-smtp-4d4d",
        "token": "CANARY-prod-api-token-e5e5e5",
    },
    "staging": {
        "SECRET_KEY": "CANARY-staging-secret-key-1a1a",
        "db_password": "CANARYstagingDbPw22y",
        "smtp": "CANARY-staging-smtp-8b8b",
        "token": "CANARY-staging-api-token-c3c3",
    },
}


MISSED = "CANARY-missed-by-capture-9q9q"


def redacted_side(profile: str) -> Side:
    canary = CANARIES[profile]
    redactor = Redactor(RedactionKey.from_bytes(b"team-key", "test"))
    data = baseline()
    data["env"]["vars"].update(
        {
            "SECRET_KEY": canary["SECRET_KEY"],
            "DATABASE_URL": f"postgresql://app:{canary['db_password']}@{profile}-db:5432/shop",
            "API_TOKEN": canary["token"],
        }
    )
    data["config"]["files"]["/etc/demo-app/settings.yaml"]["keys"]["mail.smtp_password"] = canary[
        "smtp"
    ]
    # As the database facet does: a setting named like a secret is fingerprinted by name.
    data["database"]["settings"]["app.api_token"] = {
        "value": redactor.redact_value(canary["token"]),
        "unit": None,
        "source": "database",
    }
    # A secret one side's capture missed (a name and shape no rule knows), while the other
    # side fingerprinted its value: the diff must withhold the plain one.
    if profile == "prod":
        data["env"]["vars"]["GATEWAY_REF"] = MISSED
    else:
        data["env"]["vars"]["GATEWAY_REF"] = redactor.redact_value("whatever-staging-has")
    if profile == "prod":
        data["schedules"]["jobs"]["cron:/etc/cron.d/backup:pg_dump"] = {
            "command": f"pg_dump postgresql://backup:{canary['db_password']}@db/shop",
            "schedule": "0 3 * * *",
            "source": "/etc/cron.d/backup",
            "user": "root",
        }
        data["env"]["vars"]["ONLY_PROD_TOKEN"] = canary["token"]
    else:
        data["env"]["vars"]["ONLY_STAGING_PASSWORD"] = canary["db_password"]
    redacted: dict[str, Any] = {name: redactor.redact_tree(facet) for name, facet in data.items()}
    return Side(profile, redacted, key_id=redactor.key.key_id)


def all_outputs() -> dict[str, str]:
    result = diff(redacted_side("prod"), redacted_side("staging"))
    assert any(d.path == "env.vars.SECRET_KEY" for d in result.discrepancies)
    outputs = {
        f"{fmt} {ignored}": render(result, fmt, min_severity="info", show_ignored=ignored)
        for fmt in FORMATS
        for ignored in (False, True)
    }
    outputs["fix script"] = render_fix_script(result)
    outputs["table color"] = render(result, "table", color=True)
    return outputs


def test_snapshots_hold_no_canary() -> None:
    for profile in CANARIES:
        text = repr(redacted_side(profile).data)
        for value in CANARIES[profile].values():
            assert value not in text


@pytest.mark.parametrize("name", sorted(all_outputs()))
def test_no_canary_in_any_output(name: str) -> None:
    text = all_outputs()[name]
    for profile, canary in CANARIES.items():
        for what, value in canary.items():
            assert value not in text, f"{profile} {what} leaked into {name}"
            assert value[:12] not in text, f"a prefix of {profile} {what} leaked into {name}"
    assert MISSED[:12] not in text, f"the secret prod's capture missed leaked into {name}"
