"""Roles and privileges, for every role: what "permission denied only in prod" depends on.

- ``roles``: every role of the cluster except PostgreSQL's predefined ``pg_*`` ones (which
  still show in ``member_of``): attributes, memberships, and ``used_by`` — why the role
  counts as used: ``app`` (the profile's ``database.role`` or the user the snapshot
  connected as), ``login`` (something logs in as it: an app, a job, a person),
  ``replication``, ``job`` (it owns a pg_cron job), ``member`` (a used role is a member of
  it, so its privileges reach that role).
- ``privileges`` inside each object (tables, views, columns, sequences, functions, schemas,
  types, languages, foreign data wrappers and servers) and ``database.privileges``: the
  declared ACL, ``{grantee: [PRIVILEGE, ...]}`` (``PUBLIC`` for everyone; ``X WITH GRANT
  OPTION`` when the grantee may pass it on). What the owner holds by default is left out
  (ownership is captured as ``owner``): a table nobody granted anything on has ``{}``, a
  function ``{"PUBLIC": ["EXECUTE"]}`` — exactly PostgreSQL's defaults. This is what
  ``pg_dump`` emits as GRANT/REVOKE, read from the catalog's ACLs (no per-role privilege
  checks, so 1,000 tables and 100 roles cost one small query).
- ``default_privileges``: ``ALTER DEFAULT PRIVILEGES``, as ``{role: {schema or "*": {tables |
  sequences | functions | types | schemas: {grantee: [PRIVILEGE, ...]}}}}``.

Effective privileges follow from these and the memberships; the diff compares what was
declared, which is also what a fix would GRANT.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from repro.pg.session import Part, Rows, Session
from repro.snapshot.db.relations import Catalog
from repro.snapshot.db.schema_objects import function_key

# pg_class.relkind -> the acldefault() object type whose defaults apply to it.
_RELATION_ACL_KIND = {"r": "r", "p": "r", "f": "r", "v": "r", "m": "r", "S": "s"}
# Objects whose ACL the snapshot keeps: acldefault() type -> the data sections holding them.
_TYPE_SECTIONS = ("enums", "domains", "composite_types", "range_types", "base_types")
DEFAULT_ACL_OBJECTS = {
    "r": "tables",
    "S": "sequences",
    "f": "functions",
    "T": "types",
    "n": "schemas",
}
PUBLIC = "PUBLIC"
GRANT_OPTION = " WITH GRANT OPTION"


def _privilege(name: str, grantable: bool) -> str:
    return name + GRANT_OPTION if grantable else name


@dataclass
class _Acl:
    """One object's explicit ACL entries, as read."""

    kind: str  # acldefault() object type
    owner: str
    entries: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class PrivilegeReader:
    """Parts for roles, ACLs and default privileges; :meth:`finish` completes the data."""

    session: Session
    catalog: Catalog
    data: dict[str, Any]
    app_roles: list[str]
    # acldefault() type -> (what the owner holds by default, what PUBLIC holds by default)
    defaults: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    acls: dict[tuple[str, ...], _Acl] = field(default_factory=dict)
    cron_readable: bool = False
    job_roles: set[str] = field(default_factory=set)

    def first(self) -> list[Part]:
        """What the other parts depend on: the server's own default ACLs (they changed
        between versions: MAINTAIN in 17), and whether pg_cron's job table is readable."""

        def defaults(rows: Rows) -> None:
            for row in rows:
                self.defaults[row.kind] = (frozenset(row.owner or ()), frozenset(row.public or ()))

        def cron(rows: Rows) -> None:
            self.cron_readable = bool(rows and rows[0].readable)

        return [
            Part(
                "default privileges of each object type",
                """
                SELECT k AS kind,
                       ARRAY(SELECT a.privilege_type
                             FROM pg_catalog.aclexplode(pg_catalog.acldefault(k::"char", 10)) a
                             WHERE a.grantee = 10) AS owner,
                       ARRAY(SELECT a.privilege_type
                             FROM pg_catalog.aclexplode(pg_catalog.acldefault(k::"char", 10)) a
                             WHERE a.grantee = 0) AS public
                FROM pg_catalog.unnest(ARRAY['r', 's', 'f', 'n', 'd', 'T', 'l', 'F', 'S']) k
                """,
                handle=defaults,
            ),
            Part(
                "pg_cron jobs access",
                """
                SELECT pg_catalog.to_regclass('cron.job') IS NOT NULL
                       AND pg_catalog.has_table_privilege('cron.job', 'SELECT') AS readable
                """,
                handle=cron,
            ),
        ]

    def parts(self) -> list[Part]:
        parts = [self._roles(), self._acls(), self._default_acls()]
        if self.cron_readable:
            parts.append(
                Part(
                    "pg_cron job owners",
                    "SELECT DISTINCT username FROM cron.job",
                    handle=lambda rows: self.job_roles.update(r.username for r in rows),
                )
            )
        return parts

    # --- roles ---------------------------------------------------------------------------

    def _roles(self) -> Part:
        def handle(rows: Rows) -> None:
            roles = self.data.setdefault("roles", {})
            for r in rows:
                roles[r.rolname] = {
                    "exists": True,
                    "superuser": r.rolsuper,
                    "inherit": r.rolinherit,
                    "createrole": r.rolcreaterole,
                    "createdb": r.rolcreatedb,
                    "login": r.rolcanlogin,
                    "replication": r.rolreplication,
                    "bypassrls": r.rolbypassrls,
                    "connection_limit": r.rolconnlimit,
                    "valid_until": r.valid_until,
                    "member_of": list(r.member_of),
                }

        # pg_roles masks passwords, and they are not read anyway. A membership granted twice
        # (by two grantors, 16+) is one membership.
        return Part(
            "roles",
            """
            SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
                   r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
                   pg_catalog.to_char(r.rolvaliduntil AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS valid_until,
                   ARRAY(SELECT DISTINCT g.rolname FROM pg_catalog.pg_auth_members m
                         JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                         WHERE m.member = r.oid ORDER BY 1) AS member_of
            FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_'
            """,
            handle=handle,
        )

    def _used_by(self) -> None:
        roles: dict[str, Any] = self.data.get("roles", {})
        reasons: dict[str, set[str]] = {name: set() for name in roles}
        for name, role in roles.items():
            if not role.get("exists"):
                continue
            if name in self.app_roles:
                reasons[name].add("app")
            if role.get("login"):
                reasons[name].add("login")
            if role.get("replication"):
                reasons[name].add("replication")
            if name in self.job_roles:
                reasons[name].add("job")
        # A group's privileges reach its members: used members make it used.
        pending = [name for name, why in reasons.items() if why]
        while pending:
            member = pending.pop()
            for group in roles.get(member, {}).get("member_of") or []:
                if group in reasons and "member" not in reasons[group]:
                    reasons[group].add("member")
                    pending.append(group)
        for name, role in roles.items():
            if role.get("exists"):
                role["used_by"] = sorted(reasons[name])

    # --- ACLs ----------------------------------------------------------------------------

    def _acls(self) -> Part:
        """Only objects with an explicit ACL produce rows: the rest hold the defaults,
        filled in by :meth:`finish` without asking the server."""
        grantee = (
            "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END"
        )
        explode = f"{grantee} AS grantee, a.privilege_type, a.is_grantable"
        return Part(
            "privileges",
            f"""
            SELECT 'relation' AS section, c.relkind::text AS kind,
                   n.nspname || '.' || c.relname AS key, NULL AS sub,
                   pg_catalog.pg_get_userbyid(c.relowner) AS owner, {explode}
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
                 pg_catalog.aclexplode(c.relacl) a
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relacl IS NOT NULL
              AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
            UNION ALL
            SELECT 'column', 'c', n.nspname || '.' || c.relname, at.attname,
                   pg_catalog.pg_get_userbyid(c.relowner), {explode}
            FROM pg_catalog.pg_attribute at
            JOIN pg_catalog.pg_class c ON c.oid = at.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
                 pg_catalog.aclexplode(at.attacl) a
            WHERE c.relnamespace = ANY(%(nsp)s) AND at.attacl IS NOT NULL
              AND at.attnum > 0 AND NOT at.attisdropped
            UNION ALL
            SELECT 'function', 'f', {function_key("p", "n")}, NULL,
                   pg_catalog.pg_get_userbyid(p.proowner), {explode}
            FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace,
                 pg_catalog.aclexplode(p.proacl) a
            WHERE p.pronamespace = ANY(%(nsp)s) AND p.proacl IS NOT NULL
            UNION ALL
            SELECT 'schema', 'n', n.nspname, NULL, pg_catalog.pg_get_userbyid(n.nspowner),
                   {explode}
            FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
            WHERE n.oid = ANY(%(nsp)s) AND n.nspacl IS NOT NULL
            UNION ALL
            SELECT 'type', 'T', n.nspname || '.' || t.typname, NULL,
                   pg_catalog.pg_get_userbyid(t.typowner), {explode}
            FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace,
                 pg_catalog.aclexplode(t.typacl) a
            WHERE t.typnamespace = ANY(%(nsp)s) AND t.typacl IS NOT NULL
            UNION ALL
            SELECT 'database', 'd', '', NULL, pg_catalog.pg_get_userbyid(d.datdba), {explode}
            FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a
            WHERE d.datname = pg_catalog.current_database() AND d.datacl IS NOT NULL
            UNION ALL
            SELECT 'language', 'l', l.lanname, NULL, pg_catalog.pg_get_userbyid(l.lanowner),
                   {explode}
            FROM pg_catalog.pg_language l, pg_catalog.aclexplode(l.lanacl) a
            WHERE l.lanacl IS NOT NULL
            UNION ALL
            SELECT 'foreign_data_wrapper', 'F', w.fdwname, NULL,
                   pg_catalog.pg_get_userbyid(w.fdwowner), {explode}
            FROM pg_catalog.pg_foreign_data_wrapper w, pg_catalog.aclexplode(w.fdwacl) a
            WHERE w.fdwacl IS NOT NULL
            UNION ALL
            SELECT 'foreign_server', 'S', s.srvname, NULL,
                   pg_catalog.pg_get_userbyid(s.srvowner), {explode}
            FROM pg_catalog.pg_foreign_server s, pg_catalog.aclexplode(s.srvacl) a
            WHERE s.srvacl IS NOT NULL
            """,
            self.catalog.params,
            handle=self._acl_rows,
        )

    def _acl_rows(self, rows: Rows) -> None:
        for row in rows:
            kind = (
                _RELATION_ACL_KIND.get(row.kind, row.kind)
                if row.section == "relation"
                else row.kind
            )
            ident = (row.section, row.key, row.sub or "")
            acl = self.acls.get(ident)
            if acl is None:
                acl = self.acls[ident] = _Acl(kind, row.owner)
            acl.entries.setdefault(row.grantee, set()).add(
                _privilege(row.privilege_type, row.is_grantable)
            )

    def _default_acls(self) -> Part:
        def handle(rows: Rows) -> None:
            only = self.catalog.only_schemas
            out = self.data.setdefault("default_privileges", {})
            for row in rows:
                if only is not None and row.nspname is not None and row.nspname not in only:
                    continue
                objects = DEFAULT_ACL_OBJECTS.get(row.defaclobjtype, row.defaclobjtype)
                grantees = (
                    out.setdefault(row.role, {})
                    .setdefault(row.nspname or "*", {})
                    .setdefault(objects, {})
                )
                grantees.setdefault(row.grantee, []).append(
                    _privilege(row.privilege_type, row.is_grantable)
                )
            for grantees in _leaves(out):
                for grantee, privileges in grantees.items():
                    grantees[grantee] = sorted(privileges)

        # An entry without a schema replaces the built-in defaults for that role (so the
        # role's own privileges are listed too); one with a schema adds to them.
        return Part(
            "default privileges",
            """
            SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS role, n.nspname,
                   d.defaclobjtype::text AS defaclobjtype,
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                        ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee,
                   a.privilege_type, a.is_grantable
            FROM pg_catalog.pg_default_acl d
            LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace,
                 pg_catalog.aclexplode(d.defaclacl) a
            """,
            handle=handle,
        )

    # --- completing the data -------------------------------------------------------------

    def finish(self) -> None:
        """Every captured object gets its ``privileges`` (explicit ones as read, the
        defaults otherwise), and every role its ``used_by``."""
        self._used_by()
        data = self.data
        for section in ("tables", "views"):
            for key, entry in data.get(section, {}).items():
                entry["privileges"] = self._privileges(("relation", key, ""), "r")
                for column, column_entry in entry.get("columns", {}).items():
                    acl = self.acls.get(("column", key, column))
                    if acl is not None:
                        column_entry["privileges"] = self._shown(acl)
        for key, entry in data.get("sequences", {}).items():
            entry["privileges"] = self._privileges(("relation", key, ""), "s")
        for key, entry in data.get("functions", {}).items():
            entry["privileges"] = self._privileges(("function", key, ""), "f")
        for key, entry in data.get("schemas", {}).items():
            entry["privileges"] = self._privileges(("schema", key, ""), "n")
        for section in _TYPE_SECTIONS:
            for key, entry in data.get(section, {}).items():
                entry["privileges"] = self._privileges(("type", key, ""), "T")
        for section, kind, sort in (
            ("languages", "l", "language"),
            ("foreign_data_wrappers", "F", "foreign_data_wrapper"),
            ("foreign_servers", "S", "foreign_server"),
        ):
            for key, entry in data.get(section, {}).items():
                entry["privileges"] = self._privileges((sort, key, ""), kind)
        database = data.get("database")
        if isinstance(database, dict):
            database["privileges"] = self._privileges(("database", "", ""), "d")

    def _privileges(self, ident: tuple[str, str, str], kind: str) -> dict[str, list[str]]:
        acl = self.acls.get(ident)
        if acl is not None:
            return self._shown(acl)
        public = self.defaults.get(kind, (frozenset(), frozenset()))[1]
        return {PUBLIC: sorted(public)} if public else {}

    def _shown(self, acl: _Acl) -> dict[str, list[str]]:
        """The ACL without what the owner holds by default."""
        owner_default = self.defaults.get(acl.kind, (frozenset(), frozenset()))[0]
        out: dict[str, list[str]] = {}
        for grantee, privileges in acl.entries.items():
            if grantee == acl.owner and privileges == owner_default:
                continue
            out[grantee] = sorted(privileges)
        return out


def _leaves(tree: dict[str, Any]) -> Iterator[dict[str, list[str]]]:
    """The {grantee: [privileges]} maps of a default_privileges tree."""
    for schemas in tree.values():
        for objects in schemas.values():
            yield from objects.values()
