"""The demo shop's prod and staging configurations on top of tests.helpers.demo_env: its
database (db-setup.sql + schema.sql + seed.sql at a chosen scale) and containers of its
release images (fixtures/demo/build-images.sh) configured as prod or staging.

Shared by the shop's production-condition tests (tests/replay/test_demo_conditions.py) and the
incident capture (tests/replay/capture_incidents.py).
"""

from __future__ import annotations

import io
import secrets
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.helpers.demo_env import ROOT, App, Net, psql_vars

DEMO = ROOT / "fixtures" / "demo"
APP_SRC = ROOT / "fixtures" / "demo_app"
PAYMENTS_STUB = DEMO / "payments_provider.py"
PAYMENTS_ALIAS = "payments"
PAYMENTS_PORT = 9000
SHOP = "repro/demo-shop"
# The demo password of every seeded login (fixtures/demo/seed.sql).
DEMO_PASSWORD = "demo-shop-password"
APP_GID = 10001


@dataclass(frozen=True)
class ShopData:
    customers: int
    orders: int
    null_email_every: int
    tickets_every: int
    hstore_version: str | None


# What `repro replay` generates from the prod snapshot at its default cap of 100,000 rows: prod's
# large tables (20,000 customers, ~19,000 users, 50,000 orders, ~100,000 order items, ~1,900
# support tickets) scaled by about 0.52 (repro.replay.sandbox_db.sandbox_rows).
PROD_SANDBOX_SCALE = ShopData(10_000, 26_000, 20, 10, "1.4")
STAGING_DATA = ShopData(3, 4, 0, 1, None)


@dataclass(frozen=True)
class ShopConfig:
    """How one environment runs the shop (fixtures/demo/up.sh's planted differences)."""

    name: str
    memory: str
    settings_mode: int
    settings_group: str  # root or app
    env: dict[str, str] = field(default_factory=dict)


PROD = ShopConfig(
    "prod",
    "128m",
    0o600,
    "root",
    {
        "FEATURE_NEW_CHECKOUT": "1",
        "WEB_CONCURRENCY": "8",
        "PAYMENTS_API_URL": f"http://{PAYMENTS_ALIAS}:{PAYMENTS_PORT}/v1",
    },
)
STAGING = ShopConfig("staging", "512m", 0o640, "app")


def seed_sql(data: ShopData, app_password: str) -> str:
    values: dict[str, Any] = {
        "app_password": app_password,
        "customers": data.customers,
        "orders": data.orders,
        "null_email_every": data.null_email_every,
        "tickets_every": data.tickets_every,
    }
    if data.hstore_version:
        values["hstore_version"] = data.hstore_version
    parts = [DEMO / "db-setup.sql", APP_SRC / "app" / "schema.sql", DEMO / "seed.sql"]
    return psql_vars(**values) + "".join(p.read_text(encoding="utf-8") for p in parts)


def seed(net: Net, data: ShopData) -> str:
    """Load the shop's database; returns the app role's password."""
    password = secrets.token_hex(16)
    net.psql(seed_sql(data, password))
    return password


def settings_tar(config: ShopConfig) -> bytes:
    """/etc/demo-app/settings.yaml with the environment's mode and group."""
    data = (APP_SRC / "settings.yaml").read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("etc/demo-app/settings.yaml")
        info.size, info.mode = len(data), config.settings_mode
        info.uid, info.gid = 0, APP_GID if config.settings_group == "app" else 0
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def shop_env(
    config: ShopConfig, app_password: str, extra: Mapping[str, str] | None
) -> dict[str, str]:
    env = {
        "DATABASE_URL": f"postgresql://app:{app_password}@db:5432/shop",
        "SECRET_KEY": secrets.token_hex(20),
        "DEMO_SIGNING_SALT": secrets.token_hex(20),
        "DEMO_SETTINGS": "/etc/demo-app/settings.yaml",
        "DEMO_INSTANCE_ID": f"{config.name}-1",
        **config.env,
        **(extra or {}),
    }
    if "PAYMENTS_API_URL" in env:
        env.setdefault("PAYMENTS_API_KEY", secrets.token_hex(16))
    return env


def shop_app(
    net: Net,
    tag: str,
    config: ShopConfig,
    app_password: str,
    *,
    name: str,
    extra_env: Mapping[str, str] | None = None,
) -> App:
    """A container of ``repro/demo-shop:<tag>`` configured as ``config`` (not started)."""
    return net.app(
        f"{SHOP}:{tag}",
        env=shop_env(config, app_password, extra_env),
        port=8000,
        name=name,
        memory=config.memory,
        tar=settings_tar(config),
    )


def payments_stub(net: Net, mode: str, hang_s: int = 30) -> Any:
    return net.service(
        PAYMENTS_ALIAS,
        PAYMENTS_STUB,
        {"PAYMENTS_STUB_MODE": mode, "PAYMENTS_STUB_HANG_S": str(hang_s)},
        PAYMENTS_PORT,
    )
