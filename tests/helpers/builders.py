"""Literal snapshots for diff tests: one realistic baseline with every facet, and edits.

``pair()`` gives two deep copies of the baseline (prod and staging, equal); tests edit one
side with :func:`put` / :func:`drop` (key tuples, since keys contain dots) and diff.
Fingerprints come from :func:`secret`: made with a key id, never from a secret value — the
diff must work from fingerprints alone.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import date
from typing import Any

from repro.diff.engine import diff_snapshots
from repro.diff.model import DiffResult, Discrepancy
from repro.diff.noise import load_waivers
from repro.snapshot.db.sections import SINCE_PRIVILEGES
from repro.snapshot.file import FacetResult, Snapshot

TEAM_KEY = "0123456789ab"
TODAY = date(2025, 6, 1)


def secret(label: str, *, key_id: str = TEAM_KEY, masked: str | None = None) -> dict[str, Any]:
    digest = hashlib.sha256(f"{key_id}:{label}".encode()).hexdigest()[:32]
    out: dict[str, Any] = {"redacted": True, "fingerprint": f"hmac-sha256:{key_id}:{digest}"}
    if masked is not None:
        out["masked"] = masked
    return out


def _column(
    position: int, type_: str, nullable: bool, default: str | None = None
) -> dict[str, Any]:
    return {
        "collation": None,
        "comment": None,
        "default": default,
        "generated": None,
        "identity": None,
        "inherited": False,
        "nullable": nullable,
        "position": position,
        "type": type_,
    }


def _role(*, login: bool = False, used_by: list[str] | None = None) -> dict[str, Any]:
    return {
        "bypassrls": False,
        "connection_limit": -1,
        "createdb": False,
        "createrole": False,
        "exists": True,
        "inherit": True,
        "login": login,
        "member_of": [],
        "replication": False,
        "superuser": False,
        "used_by": used_by or [],
        "valid_until": None,
    }


def _stats_column(null_frac: float, n_distinct: float, personal: bool = False) -> dict[str, Any]:
    return {
        "analyzed": True,
        "avg_width": 8,
        "correlation": 0.5,
        "histogram": {"bounds": [1, 50, 100], "buckets": 2},
        "mcv": None,
        "n_distinct": n_distinct,
        "null_frac": null_frac,
        "personal": personal,
    }


# Sections a capture always writes, empty in this shop.
EMPTY_SECTIONS = tuple(sorted(SINCE_PRIVILEGES - {"default_privileges"}))


def baseline() -> dict[str, dict[str, Any]]:
    """Facet data of a small shop; both sides start from this."""
    return {
        "env": {
            "source": "process:gunicorn",
            "vars": {
                "DATABASE_URL": secret("db-url", masked="postgresql://app:***@db:5432/shop"),
                "HOME": "/home/app",
                "LANG": "C.UTF-8",
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "SECRET_KEY": secret("secret-key"),
                "WORKERS": "4",
            },
        },
        "packages": {
            "os": {
                "manager": "dpkg",
                "packages": {
                    "libc6": "2.36-9+deb12u4",
                    "openssl": "3.0.11-1~deb12u2",
                    "tzdata": "2024a-0+deb12u1",
                },
            },
            "python": {
                "distributions": {
                    "demo-pricing": "2.1.0",
                    "flask": "2.2.2",
                    "psycopg": "3.1.7",
                    "requests": "2.28.1",
                },
                "interpreter": "/usr/bin/python3",
                "version": "3.11.2",
            },
            "runtime": {
                "libc": "glibc 2.36",
                "openssl": "OpenSSL 3.0.11 19 Sep 2023",
                "python": "3.11.2",
            },
        },
        "database": {
            "connection": {"dbname": "shop", "host": "db", "port": 5432, "user": "postgres"},
            "database": {
                "collate": "en_US.UTF-8",
                "collation_actual_version": "2.36",
                "collation_version": "2.36",
                "connection_limit": -1,
                "ctype": "en_US.UTF-8",
                "encoding": "UTF8",
                "locale": None,
                "locale_provider": "libc",
                "name": "shop",
            },
            "domains": {},
            "enums": {
                "public.order_status": {
                    "comment": None,
                    "labels": ["new", "paid", "shipped"],
                    "name": "order_status",
                    "schema": "public",
                }
            },
            "extensions": {
                "hstore": {"schema": "public", "version": "1.8"},
                "plpgsql": {"schema": "pg_catalog", "version": "1.0"},
            },
            "functions": {
                "public.touch()": {
                    "body_sha256": "aa" * 32,
                    "kind": "function",
                    "language": "plpgsql",
                    "returns": "trigger",
                    "security_definer": False,
                    "volatility": "volatile",
                }
            },
            "default_privileges": {"app": {"public": {"tables": {"reporting": ["SELECT"]}}}},
            **{section: {} for section in EMPTY_SECTIONS},
            "roles": {
                "app": {
                    "bypassrls": False,
                    "connection_limit": -1,
                    "createdb": False,
                    "createrole": False,
                    "exists": True,
                    "inherit": True,
                    "login": True,
                    "member_of": ["readers"],
                    "replication": False,
                    "superuser": False,
                    "used_by": ["app", "login"],
                    "valid_until": None,
                },
                # a login role of a reporting job, its group, and a role nobody uses
                "reporting": _role(login=True, used_by=["login"]),
                "readers": _role(used_by=["member"]),
                "legacy": _role(),
            },
            "schemas": {
                "public": {
                    "comment": "standard public schema",
                    "owner": "pg_database_owner",
                    "privileges": {"app": ["USAGE"]},
                }
            },
            "scoped_settings": {"role:app": {"statement_timeout": "30s"}},
            "sequences": {
                "public.orders_id_seq": {
                    "cache": 1,
                    "cycle": False,
                    "increment": 1,
                    "last_value": 50000,
                    "max": 2147483647,
                    "min": 1,
                    "name": "orders_id_seq",
                    "owned_by": "public.orders.id",
                    "schema": "public",
                    "start": 1,
                    "type": "integer",
                }
            },
            "server": {
                "in_recovery": False,
                "major": 15,
                "version": "PostgreSQL 15.4 (Debian 15.4-1.pgdg120+1) on x86_64-pc-linux-gnu",
                "version_num": 150004,
            },
            "settings": {
                "TimeZone": {"source": "configuration file", "unit": None, "value": "UTC"},
                "data_directory": {
                    "source": "override",
                    "unit": None,
                    "value": "/var/lib/postgresql/15/main",
                },
                "log_min_duration_statement": {
                    "source": "configuration file",
                    "unit": "ms",
                    "value": "-1",
                },
                "random_page_cost": {"source": "default", "unit": None, "value": "4"},
                "statement_timeout": {"source": "default", "unit": "ms", "value": "0"},
                "work_mem": {"source": "default", "unit": "kB", "value": "4096"},
            },
            "statistics": {
                "public.customers": {
                    "columns": {
                        "email": _stats_column(0.05, 19000.0, personal=True),
                        "id": _stats_column(0.0, 20000.0),
                    },
                    "rows_estimate": 20000,
                    "size_bytes": 2_000_000,
                }
            },
            "tables": {
                "public.customers": {
                    "columns": {
                        "email": _column(2, "text", True),
                        "id": _column(1, "bigint", False, "nextval('customers_id_seq')"),
                    },
                    "comment": None,
                    "constraints": {
                        "customers_email_key": {
                            "columns": ["email"],
                            "deferrable": False,
                            "definition": "UNIQUE (email)",
                            "type": "unique",
                            "validated": True,
                        },
                        "customers_pkey": {
                            "columns": ["id"],
                            "deferrable": False,
                            "definition": "PRIMARY KEY (id)",
                            "type": "primary_key",
                            "validated": True,
                        },
                    },
                    "indexes": {
                        "customers_pkey": {
                            "definition": "CREATE UNIQUE INDEX customers_pkey ON "
                            "public.customers USING btree (id)",
                            "unique": True,
                            "valid": True,
                        }
                    },
                    "kind": "table",
                    "name": "customers",
                    "owner": "app",
                    "policies": {},
                    "privileges": {"legacy": ["SELECT"], "readers": ["SELECT"]},
                    "rows_estimate": 20000,
                    "schema": "public",
                    "size_bytes": 2_000_000,
                    "triggers": {
                        "customers_touch": {
                            "definition": "CREATE TRIGGER customers_touch BEFORE UPDATE ON "
                            "public.customers FOR EACH ROW EXECUTE FUNCTION public.touch()",
                            "enabled": "enabled",
                            "function": "public.touch()",
                        }
                    },
                }
            },
            "views": {
                "public.big_customers": {
                    "definition": "SELECT id FROM public.customers",
                    "kind": "view",
                    "owner": "app",
                }
            },
        },
        "files": {
            "app_user": {"gid": 10001, "groups": {"app": 10001}, "name": "app", "uid": 10001},
            "paths": {
                "/etc/demo-app/settings.yaml": {
                    "access": {
                        "execute": False,
                        "path_traversable": True,
                        "read": True,
                        "write": False,
                    },
                    "exists": True,
                    "gid": 10001,
                    "group": "app",
                    "mode": "0640",
                    "owner": "root",
                    "sha256": "ab" * 32,
                    "size": 512,
                    "type": "file",
                    "uid": 0,
                },
                "/var/lib/demo-app": {
                    "access": {
                        "execute": True,
                        "path_traversable": True,
                        "read": True,
                        "write": True,
                    },
                    "exists": True,
                    "gid": 10001,
                    "group": "app",
                    "mode": "0750",
                    "owner": "app",
                    "type": "directory",
                    "uid": 10001,
                },
            },
        },
        "config": {
            "files": {
                "/etc/demo-app/settings.yaml": {
                    "format": "yaml",
                    "keys": {
                        "features.new_checkout": False,
                        "mail.host": "smtp.example.com",
                        "mail.smtp_password": secret("smtp"),
                        "pricing.currency": "EUR",
                    },
                }
            }
        },
        "runtime": {
            "arch": "x86_64",
            "cgroup": {
                "cpu_limit": 2.0,
                "memory_limit_bytes": 512 * 1024 * 1024,
                "pids_limit": None,
                "version": 2,
            },
            "cpu_count": 4,
            "kernel": "6.1.0-18-amd64",
            "locale": {"LANG": "C.UTF-8", "LC_ALL": None, "LC_CTYPE": None},
            "memory_total_bytes": 8 * 1024**3,
            "open_files": {"hard": 524288, "soft": 1024},
            "os": {
                "id": "debian",
                "pretty_name": "Debian GNU/Linux 12 (bookworm)",
                "version_id": "12",
            },
            "timezone": "Etc/UTC",
            "user": {"gid": 10001, "groups": {"app": 10001}, "name": "app", "uid": 10001},
        },
        "schedules": {
            "cron_env": {"/etc/crontab": {"SHELL": "/bin/sh"}},
            "jobs": {
                "cron:/etc/cron.d/logrotate:/usr/sbin/logrotate /etc/logrotate.conf": {
                    "command": "/usr/sbin/logrotate /etc/logrotate.conf",
                    "schedule": "0 4 * * *",
                    "source": "/etc/cron.d/logrotate",
                    "user": "root",
                }
            },
            "systemd_running": False,
        },
    }


class Side:
    """One snapshot under construction: facet data plus statuses."""

    def __init__(self, profile: str, data: dict[str, dict[str, Any]], key_id: str = TEAM_KEY):
        self.profile = profile
        self.data = data
        self.status: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.problems: dict[str, list[str]] = {}
        self.key_id = key_id
        self.captured_at = "2025-06-01T03:00:00Z" if profile == "prod" else "2025-06-01T03:05:00Z"

    def put(self, facet: str, *keys_and_value: Any) -> Side:
        *keys, value = keys_and_value
        node = self.data[facet]
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
        return self

    def drop(self, facet: str, *keys: str) -> Side:
        node = self.data[facet]
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
        return self

    def set_status(
        self, facet: str, status: str, message: str | None = None, problems: list[str] | None = None
    ) -> Side:
        self.status[facet] = status
        if message:
            self.messages[facet] = message
        if problems:
            self.problems[facet] = problems
        return self

    def without(self, facet: str) -> Side:
        del self.data[facet]
        return self

    def build(self) -> Snapshot:
        facets = {
            name: FacetResult(
                status=self.status.get(name, "ok"),  # type: ignore[arg-type]
                data=data,
                message=self.messages.get(name),
                problems=self.problems.get(name, []),
            )
            for name, data in self.data.items()
        }
        return Snapshot(
            profile=self.profile,
            captured_at=self.captured_at,
            target={"kind": "docker", "identity": f"repro-demo-{self.profile}-app"},
            redaction={"algorithm": "hmac-sha256", "key_id": self.key_id},
            facets=facets,
        )


def pair() -> tuple[Side, Side]:
    return Side("prod", baseline()), Side("staging", baseline())


def diff(left: Side, right: Side, **kwargs: Any) -> DiffResult:
    kwargs.setdefault("today", TODAY)
    return diff_snapshots(left.build(), right.build(), **kwargs)


def find(result: DiffResult, path: str) -> Discrepancy:
    found = [d for d in result.discrepancies if d.path == path]
    assert found, f"no discrepancy at {path}; have: " + ", ".join(
        d.path for d in result.discrepancies
    )
    assert len(found) == 1, found
    return found[0]


def paths(result: DiffResult) -> list[str]:
    return [d.path for d in result.discrepancies]


def copy_of(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)


NIGHTLY = "cron:/etc/cron.d/demo-nightly-backup:/usr/local/bin/demo-backup"


def demo_pair() -> tuple[Side, Side]:
    """The demo's planted differences (fixtures/demo/README.md), plus noise of every kind."""
    prod, staging = pair()
    prod.put("env", "vars", "FEATURE_NEW_CHECKOUT", "1")
    staging.put("env", "vars", "SECRET_KEY", secret("staging-secret-key"))
    staging.put(
        "env",
        "vars",
        "DATABASE_URL",
        secret("staging-db-url", masked="postgresql://app:***@staging-db:5432/shop"),
    )
    prod.put("env", "vars", "DEMO_INSTANCE_ID", "a1")
    staging.put("env", "vars", "DEMO_INSTANCE_ID", "b2")
    prod.put("env", "vars", "HOSTNAME", "prod-app")
    staging.put("env", "vars", "HOSTNAME", "staging-app")
    staging.put("packages", "python", "distributions", "demo-pricing", "1.4.2")
    prod.put("database", "server", "major", 13)
    prod.put("database", "server", "version_num", 130011)
    prod.put("database", "server", "version", "PostgreSQL 13.11 (Debian 13.11-0+deb11u1)")
    prod.put("database", "settings", "TimeZone", "value", "America/New_York")
    prod.put("database", "settings", "work_mem", "value", "65536")
    prod.put("database", "settings", "random_page_cost", "value", "1.1")
    prod.put("database", "extensions", "hstore", "version", "1.4")
    staging.put("database", "statistics", "public.customers", "rows_estimate", 3)
    staging.put("database", "statistics", "public.customers", "columns", "email", "null_frac", 0.0)
    staging.put("database", "tables", "public.customers", "rows_estimate", 3)
    staging.put("database", "statistics", "public.customers", "columns", "id", "avg_width", 9)
    prod.put("files", "paths", "/etc/demo-app/settings.yaml", "mode", "0600")
    prod.put("files", "paths", "/etc/demo-app/settings.yaml", "group", "root")
    prod.put("files", "paths", "/etc/demo-app/settings.yaml", "gid", 0)
    prod.put("files", "paths", "/etc/demo-app/settings.yaml", "access", "read", False)
    prod.put("runtime", "cgroup", "memory_limit_bytes", 256 * 1024 * 1024)
    prod.put(
        "schedules",
        "jobs",
        NIGHTLY,
        {
            "command": {
                "redacted": True,
                "fingerprint": secret("backup-cmd")["fingerprint"],
                "masked": "pg_dump postgresql://backup:***@db/shop > /backup/shop.sql",
            },
            "schedule": "0 3 * * *",
            "source": "/etc/cron.d/demo-nightly-backup",
            "user": "root",
        },
    )
    staging.set_status(
        "config", "partial", problems=["/etc/demo-app/local.yaml: permission denied"]
    )
    return prod, staging


DEMO_IGNORE = ["env.vars.DEMO_INSTANCE_ID"]
DEMO_WAIVERS_YAML = """\
- path: database.settings.work_mem*
  reason: prod tuned for reporting queries (OPS-12)
  expires: 2025-12-31
- path: database.settings.random_page_cost.*
  reason: SSD migration in progress (OPS-7)
  expires: 2025-05-01
"""


def demo_result() -> DiffResult:
    prod, staging = demo_pair()
    waivers = load_waivers(DEMO_WAIVERS_YAML, "waivers.yaml")
    return diff(prod, staging, ignore=DEMO_IGNORE, waivers=waivers)
