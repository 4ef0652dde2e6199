"""Several releases in one sandbox (``--candidate``, ``--baseline``): the database is put back
as it was before the first request, so every release meets the same rows.

Right after the data is loaded (before the app starts) the database is copied to a template
(``CREATE DATABASE ... TEMPLATE``: a file copy, well under a second at sandbox sizes); before
each further run the database is dropped and made again from that template under its own name.
Settings are the server's (``-c`` at start), roles the cluster's, grants and ownership inside
the copied database: all of it survives the copy.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from repro.errors import ReproError
from repro.pg.ddl import quote_ident
from repro.pg.target_db import connect_target
from repro.redaction import Redactor

PRISTINE_SUFFIX = "_repro_pristine"


def _admin_dsn(dsn: str) -> tuple[str, str]:
    """The DSN of the server's ``postgres`` database, and the sandbox database's name."""
    parts = urlsplit(dsn)
    name = unquote(parts.path.lstrip("/"))
    return urlunsplit(parts._replace(path="/postgres")), name


def _pristine_name(name: str) -> str:
    return (name[: 63 - len(PRISTINE_SUFFIX)] + PRISTINE_SUFFIX)[:63]


def _drop_sessions(conn: Any, name: str) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def _as_admin(dsn: str, redactor: Redactor, failure: str, statements: list[str]) -> float:
    """Run ``statements`` on the sandbox server as its admin, after ending the sessions of
    ``dsn``'s database; the seconds it took. A failure is one line: ``failure``: why."""
    started = time.perf_counter()
    admin, name = _admin_dsn(dsn)
    try:
        with connect_target(admin, redactor, what="the sandbox database") as conn:
            conn.autocommit = True
            _drop_sessions(conn, name)
            for statement in statements:
                conn.execute(statement)
    except Exception as exc:
        raise ReproError(f"{failure}: {_line(exc)}") from None
    return time.perf_counter() - started


def keep_pristine(dsn: str, redactor: Redactor) -> float:
    """Copy the loaded database to its template; the seconds it took."""
    name = _admin_dsn(dsn)[1]
    copy = f"CREATE DATABASE {quote_ident(_pristine_name(name))} TEMPLATE {quote_ident(name)}"
    return _as_admin(dsn, redactor, "could not keep a copy of the sandbox's data", [copy])


def reset_to_pristine(dsn: str, redactor: Redactor) -> float:
    """The database as it was when :func:`keep_pristine` copied it; the seconds it took."""
    name = _admin_dsn(dsn)[1]
    return _as_admin(dsn, redactor, "could not reset the sandbox's data", [
        f"DROP DATABASE IF EXISTS {quote_ident(name)}",
        f"CREATE DATABASE {quote_ident(name)} TEMPLATE {quote_ident(_pristine_name(name))}",
    ])  # fmt: skip


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
