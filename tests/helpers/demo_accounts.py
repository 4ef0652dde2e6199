"""The Node.js demo service (fixtures/demo_accounts) as prod and staging on
tests.helpers.demo_env: its database (schema.sql + seed.sql) and containers of
``repro/demo-accounts``. Shared by tests/replay/test_demo_accounts.py and the incident capture."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from tests.helpers.demo_env import ROOT, App, Net, app_role_sql, psql_vars

ACCOUNTS = ROOT / "fixtures" / "demo_accounts"
VERSION = json.loads((ACCOUNTS / "package.json").read_text(encoding="utf-8"))["version"]
IMAGE = f"repro/demo-accounts:{VERSION}"
PORT = 3000


@dataclass(frozen=True)
class AccountsEnv:
    name: str
    users: int
    sso_every: int  # one user in N was provisioned by the identity provider (no profile); 0: none


PROD = AccountsEnv("prod", 8000, 16)
STAGING = AccountsEnv("staging", 5, 0)


def seed(net: Net, env: AccountsEnv) -> str:
    """Role, database, schema and rows; returns the app role's password."""
    password = secrets.token_hex(16)
    sql = app_role_sql(password, "accounts") + "SET ROLE app;\n"
    sql += psql_vars(users=env.users, sso_every=env.sso_every)
    sql += (ACCOUNTS / "schema.sql").read_text(encoding="utf-8")
    sql += (ACCOUNTS / "seed.sql").read_text(encoding="utf-8")
    net.psql(sql)
    return password


def accounts_app(net: Net, env: AccountsEnv, password: str, *, name: str, **extra: str) -> App:
    return net.app(
        IMAGE,
        env={
            "DATABASE_URL": f"postgresql://app:{password}@db:5432/accounts",
            "APP_ENV": env.name,
            **extra,
        },
        port=PORT,
        name=name,
        memory="256m",
    )
