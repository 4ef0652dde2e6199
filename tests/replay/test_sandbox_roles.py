"""Production's app role in the sandbox, from the privileges a snapshot declares."""

from __future__ import annotations

from typing import Any

from repro.replay.sandbox_roles import role_statements


def database(**extra: Any) -> dict[str, Any]:
    return {
        "roles": {
            "app": {"exists": True, "login": True, "inherit": True, "member_of": ["readers"]},
        },
        "schemas": {"public": {"owner": "postgres", "privileges": {"PUBLIC": ["USAGE"]}}},
        "tables": {
            "public.orders": {
                "kind": "table",
                "owner": "postgres",
                "privileges": {
                    "app": ["INSERT", "SELECT WITH GRANT OPTION"],
                    "readers": ["SELECT"],
                    "reporting": ["SELECT"],  # not the app's: not granted
                    "PUBLIC": ["TRUNCATE"],
                },
                "columns": {"email": {"privileges": {"app": ["UPDATE"]}}},
            }
        },
        "sequences": {"public.orders_id_seq": {"privileges": {"app": ["USAGE", "DROP"]}}},
        **extra,
    }


def test_grants_what_production_granted_the_role_its_groups_and_public() -> None:
    statements = role_statements(database(), "app", "pw")
    assert statements[0].startswith('CREATE ROLE "app" LOGIN NOCREATEDB')
    assert 'GRANT "readers" TO "app"' in statements
    assert 'GRANT INSERT, SELECT ON TABLE "public"."orders" TO "app"' in statements
    assert 'GRANT SELECT ON TABLE "public"."orders" TO "readers"' in statements
    assert 'GRANT TRUNCATE ON TABLE "public"."orders" TO PUBLIC' in statements
    assert 'GRANT UPDATE ("email") ON TABLE "public"."orders" TO "app"' in statements
    # DROP is no privilege GRANT knows: a hostile snapshot cannot smuggle SQL through it
    assert 'GRANT USAGE ON SEQUENCE "public"."orders_id_seq" TO "app"' in statements
    assert 'GRANT USAGE ON SCHEMA "public" TO PUBLIC' in statements
    assert not [s for s in statements if "reporting" in s]


def test_hostile_names_are_quoted() -> None:
    data = database()
    data["tables"] = {
        'public.x"; DROP TABLE t; --': {"privileges": {"app": ["SELECT"]}},
        "public.y": {"privileges": {"app": ["SELECT; DROP TABLE t"], 'app"; --': ["SELECT"]}},
    }
    statements = role_statements(data, "app", "pw")
    assert 'GRANT SELECT ON TABLE "public"."x""; DROP TABLE t; --" TO "app"' in statements
    assert not [s for s in statements if '"y"' in s]


def test_older_snapshots_grant_the_effective_privileges() -> None:
    data = database(grants={"public.orders": {"app": ["SELECT", "UPDATE"]}})
    statements = role_statements(data, "app", "pw")
    assert 'GRANT SELECT, UPDATE ON TABLE "public"."orders" TO "app"' in statements
    assert not [s for s in statements if 'readers"' in s and s.startswith("GRANT SELECT")]
