"""The demo ledger (fixtures/demo_ledger) as prod and staging on tests.helpers.demo_env: its
database (role, empty database; the app's start migrates it; then seed.sql) and containers of
``repro/demo-ledger``. Shared by tests/replay/test_demo_ledger.py and the incident capture."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tests.helpers.demo_env import ROOT, App, Net, app_role_sql, psql_vars

LEDGER = ROOT / "fixtures" / "demo_ledger"
IMAGE = "repro/demo-ledger:3.4.1"
HEAD = "9e4f2d71a6b8"  # the newest migration (fixtures/demo_ledger/migrations/versions)


@dataclass(frozen=True)
class LedgerEnv:
    name: str
    timezone: str  # the database server's TimeZone
    clients: int
    invoices: int
    days: int  # invoices are issued over this many days from 2025-01-01


PROD = LedgerEnv("prod", "Europe/Berlin", 3000, 60_000, 365)
STAGING = LedgerEnv("staging", "UTC", 12, 400, 180)


def create_database(net: Net) -> str:
    """The app role and its empty database; returns the role's password."""
    password = secrets.token_hex(16)
    net.psql(app_role_sql(password, "ledger"))
    return password


def seed(net: Net, env: LedgerEnv) -> None:
    """The demo rows, once the app's migrations made the schema."""
    sql = psql_vars(clients=env.clients, invoices=env.invoices, days=env.days)
    sql += "SET ROLE app;\n" + (LEDGER / "seed.sql").read_text(encoding="utf-8")
    net.psql(sql, database="ledger")


def db_env(password: str, **overrides: str) -> dict[str, str]:
    """The separate database variables the ledger reads (ledger/config.py)."""
    return {
        "DB_HOST": "db",
        "DB_PORT": "5432",
        "DB_USER": "app",
        "DB_PASSWORD": password,
        "DB_NAME": "ledger",
        **overrides,
    }


def ledger_app(net: Net, password: str, *, name: str, **env: str) -> App:
    return net.app(IMAGE, env=db_env(password, **env), port=8000, name=name, memory="256m")


def pg_settings(env: LedgerEnv) -> dict[str, Any]:
    return {"timezone": env.timezone}
