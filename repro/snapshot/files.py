"""The ``files`` facet: the files the app needs, and whether the app's user can really use them.

"Works in staging, EACCES in prod" is one of the commonest production-only bugs, so the point of
this facet is the ``access`` block: what the *app's* user (``app.user`` in the profile, else the
target's current user) may do with each path, computed from the mode bits, the owner, the group
and the user's uid, primary gid and supplementary gids, including whether every parent directory
is searchable. POSIX ACLs, capabilities other than root's, SELinux/AppArmor and read-only mounts
are not modelled.

Everything is gathered in one shell round trip (POSIX sh + ``stat -c``, GNU or busybox); the
profile's paths reach the script as positional arguments and globs are expanded on the target.
Relative paths are taken relative to ``app.workdir`` when the profile sets one.

Data shape::

    app_user: {name, uid, gid, groups: {group_name: gid}}     # or {name, error}
    paths:
      "/etc/app/config.yaml":
        exists: true
        type: "file" | "directory" | "symlink" | "socket" | "fifo" | "other"
        mode: "0640"                 # permission bits incl. setuid/setgid/sticky, 4 octal digits
        owner: "root", uid: 0, group: "app", gid: 1001    # owner/group null if no name
        size: 1234                   # regular files only (directory sizes are fs noise)
        sha256: "<hex>" | null       # only with the sha256 option; null + sha256_note if not hashed
        target: "../x"               # symlinks only: the link text, and what it resolves to:
        resolved: {exists, type, mode, owner, uid, group, gid, size}
        access: {read, write, execute, path_traversable}   # absent if the app user is unknown
      "/etc/app/*.d": {exists: false, matched: 0}            # a glob matching nothing
      "/etc/app/missing": {exists: false}
      "/root/secret": {error: "permission denied"}           # the capturing user cannot see it

``read``/``write``/``execute`` are *effective*: false when a parent directory is not searchable
(``path_traversable`` says so). For symlinks they describe the file the link resolves to. Times
and inode numbers are deliberately absent: they differ on every deploy without meaning anything.
"""

from __future__ import annotations

import posixpath
import stat as statmod
from dataclasses import dataclass
from typing import Any

from repro.errors import CaptureError
from repro.profile.facets import Option
from repro.snapshot.base import CaptureContext
from repro.snapshot.file import FacetResult
from repro.targets.base import run_shell
from repro.text import one_line

DEFAULT_MAX_HASH_BYTES = 64 * 1024 * 1024
GLOB_CHARS = frozenset("*?[")

# Records are NUL-separated fields, so any file name without a newline survives the trip.
# U name uid gid groups group_names | M pattern_index path rc stat | L path link rc stat(-L)
# H path rc sha256 | D dir rc stat(-L). Directory stats follow symlinks because the kernel
# searches the directory a link points to. Ancestors are walked textually ("/a/b" -> "/a" ->
# "/"), which is also how the kernel walks them; a symlinked file's own target directories
# are not walked.
_SCRIPT = r"""
export LC_ALL=C
user=$1 hash=$2 max=$3
shift 3
FMT='%f %u %g %s %U %G'
ida() { if [ -n "$user" ]; then id "$1" -- "$user" 2>&1; else id "$1" 2>&1; fi; }
if [ -n "$user" ]; then u=$user; else u=$(id -un 2>&1); fi
printf 'U\0%s\0%s\0%s\0%s\0%s\0' "$u" "$(ida -u)" "$(ida -g)" "$(ida -G)" "$(ida -Gn)"
one() {
  idx=$1
  shift
  for f in "$@"; do
    out=$(stat -c "$FMT" -- "$f" 2>&1); rc=$?
    printf 'M\0%s\0%s\0%s\0%s\0' "$idx" "$f" "$rc" "$out"
    [ "$rc" = 0 ] || continue
    if [ -L "$f" ]; then
      lt=$(readlink -- "$f" 2>&1)
      out=$(stat -L -c "$FMT" -- "$f" 2>&1); rc=$?
      printf 'L\0%s\0%s\0%s\0%s\0' "$f" "$lt" "$rc" "$out"
    fi
    if [ "$hash" = 1 ] && [ -f "$f" ]; then
      sz=$(stat -L -c %s -- "$f" 2>/dev/null)
      if [ -n "$sz" ] && [ "$sz" -gt "$max" ]; then
        out="larger than max_hash_bytes ($max)" rc=skipped
      else
        out=$( (sha256sum <"$f") 2>&1); rc=$?
      fi
      printf 'H\0%s\0%s\0%s\0' "$f" "$rc" "$out"
    fi
    d=$f
    while [ "$d" != / ]; do
      case $d in */) d=${d%/}; continue ;; esac
      case $d in */*) d=${d%/*}; [ -n "$d" ] || d=/ ;; *) break ;; esac
      out=$(stat -L -c "$FMT" -- "$d" 2>&1); rc=$?
      printf 'D\0%s\0%s\0%s\0' "$d" "$rc" "$out"
    done
  done
}
IFS='
'
i=0
for pat in "$@"; do
  one "$i" $pat
  i=$((i + 1))
done
"""
_FIELDS = {"U": 5, "M": 4, "L": 4, "H": 3, "D": 3}

_TYPES = {
    statmod.S_IFREG: "file",
    statmod.S_IFDIR: "directory",
    statmod.S_IFLNK: "symlink",
    statmod.S_IFSOCK: "socket",
    statmod.S_IFIFO: "fifo",
}


@dataclass(frozen=True)
class Stat:
    raw_mode: int
    uid: int
    gid: int
    size: int
    owner: str | None
    group: str | None

    @property
    def type(self) -> str:
        return _TYPES.get(statmod.S_IFMT(self.raw_mode), "other")

    @property
    def perm(self) -> int:
        return statmod.S_IMODE(self.raw_mode)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "exists": True,
            "type": self.type,
            "mode": f"{self.perm:04o}",
            "owner": self.owner,
            "uid": self.uid,
            "group": self.group,
            "gid": self.gid,
        }
        if self.type == "file":
            out["size"] = self.size
        return out


@dataclass(frozen=True)
class AppUser:
    name: str
    uid: int
    gid: int
    groups: dict[str, int]

    @property
    def gids(self) -> frozenset[int]:
        return frozenset({self.gid, *self.groups.values()})

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "uid": self.uid, "gid": self.gid, "groups": self.groups}


def parse_stat(text: str) -> Stat | None:
    parts = text.split(" ")
    if len(parts) != 6:
        return None
    try:
        raw_mode, uid, gid, size = int(parts[0], 16), int(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        return None
    # stat prints UNKNOWN for ids without a name in /etc/passwd or /etc/group.
    owner = None if parts[4] == "UNKNOWN" else parts[4]
    group = None if parts[5] == "UNKNOWN" else parts[5]
    return Stat(raw_mode, uid, gid, size, owner, group)


def stat_error(text: str) -> str:
    """A stat/sh error reduced to its reason; 'missing' for paths that do not exist."""
    if "Permission denied" in text:
        return "permission denied"
    if "No such file" in text or "Not a directory" in text:
        return "missing"
    reason = text.strip().rsplit(": ", 1)[-1]
    return one_line(reason) or "unknown error"


def allowed(st: Stat, user: AppUser, bit: int) -> bool:
    """May ``user`` read (4), write (2) or execute/search (1) ``st``, by its mode bits alone."""
    if user.uid == 0:
        # CAP_DAC_OVERRIDE: everything, except executing a file with no x bit at all.
        if bit == 1 and st.type != "directory":
            return bool(st.perm & 0o111)
        return True
    # Linux picks exactly one class: the owner's bits apply to the owner even when the group's
    # or others' bits would grant more.
    if st.uid == user.uid:
        shift = 6
    elif st.gid in user.gids:
        shift = 3
    else:
        shift = 0
    return bool((st.perm >> shift) & bit)


def ancestors(path: str) -> list[str]:
    """The directories the kernel searches to reach path, nearest first (mirrors the script)."""
    out: list[str] = []
    d = path
    while d != "/":
        if d.endswith("/"):
            d = d[:-1]
            continue
        if "/" not in d:
            break
        d = d.rsplit("/", 1)[0] or "/"
        out.append(d)
    return out


def access(
    st: Stat | None, path: str, user: AppUser, dirs: dict[str, Stat | None]
) -> dict[str, Any]:
    traversable: bool | None = True
    for d in ancestors(path):
        dst = dirs.get(d)
        if dst is None:
            traversable = None  # the capturing user could not stat it either: unknown
        elif not allowed(dst, user, 1):
            traversable = False
            break
    ok = traversable is not False and st is not None
    return {
        "read": ok and st is not None and allowed(st, user, 4),
        "write": ok and st is not None and allowed(st, user, 2),
        "execute": ok and st is not None and allowed(st, user, 1),
        "path_traversable": traversable,
    }


def parse_app_user(fields: list[str]) -> tuple[AppUser | None, dict[str, Any], str | None]:
    name, uid, gid, gids, names = fields
    try:
        gid_list = [int(g) for g in gids.split()]
        user = AppUser(name=name, uid=int(uid), gid=int(gid), groups={})
    except ValueError:
        reason = "no such user" if "no such user" in uid.lower() else one_line(uid)
        return None, {"name": name, "error": reason}, f"app user {name!r}: {reason} on the target"
    name_list = names.split()
    if len(name_list) != len(gid_list) or any(n.isdigit() for n in name_list):
        name_list = [str(g) for g in gid_list]
    user = AppUser(user.name, user.uid, user.gid, dict(zip(name_list, gid_list, strict=True)))
    return user, user.to_json(), None


def split_records(blob: bytes) -> list[tuple[str, list[str]]]:
    tokens = blob.decode("utf-8", "surrogateescape").split("\0")
    records: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(tokens):
        tag = tokens[i]
        width = _FIELDS.get(tag)
        if width is None or i + width >= len(tokens):
            break  # trailing empty token after the last NUL, or a truncated stream
        records.append((tag, tokens[i + 1 : i + 1 + width]))
        i += 1 + width
    return records


def is_glob(pattern: str) -> bool:
    return any(c in GLOB_CHARS for c in pattern)


class FilesFacet:
    name = "files"
    summary = "existence, type, mode, owner and the app user's access for the app's paths"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {
            "paths": Option(list, [], "paths or globs the app needs", item_kind=str),
            "sha256": Option(bool, False, "also record each regular file's sha256"),
            "max_hash_bytes": Option(
                int, DEFAULT_MAX_HASH_BYTES, "skip hashing files larger than this"
            ),
        }

    def capture(self, ctx: CaptureContext) -> FacetResult:
        workdir = ctx.profile.app.workdir or ""
        patterns = self._patterns(ctx.options["paths"], workdir)
        result = run_shell(
            ctx.target,
            _SCRIPT,
            ctx.app_user or "",
            "1" if ctx.options["sha256"] else "0",
            str(ctx.options["max_hash_bytes"]),
            *patterns,
            timeout=120,
        )
        if not result.stdout.startswith(b"U\0"):
            reason = result.error_text or f"exit code {result.returncode}"
            raise CaptureError(f"cannot inspect files on the target: {reason}")
        return self._build(patterns, split_records(result.stdout))

    @staticmethod
    def _patterns(paths: list[str], workdir: str) -> list[str]:
        out: list[str] = []
        for path in paths:
            if not path or "\n" in path:
                continue  # the script splits globs on newlines; such a path cannot be asked
            if workdir and not path.startswith("/"):
                path = posixpath.join(workdir, path)
            out.append(path)
        return list(dict.fromkeys(out))

    def _build(self, patterns: list[str], records: list[tuple[str, list[str]]]) -> FacetResult:
        problems: list[str] = []
        user: AppUser | None = None
        user_json: dict[str, Any] = {}
        matches: list[tuple[int, str, str, str]] = []
        links: dict[str, tuple[str, str, str]] = {}
        hashes: dict[str, tuple[str, str]] = {}
        dirs: dict[str, Stat | None] = {}
        for tag, fields in records:
            if tag == "U":
                user, user_json, problem = parse_app_user(fields)
                if problem:
                    problems.append(problem)
            elif tag == "M":
                matches.append((int(fields[0]), fields[1], fields[2], fields[3]))
            elif tag == "L":
                links[fields[0]] = (fields[1], fields[2], fields[3])
            elif tag == "H":
                hashes[fields[0]] = (fields[1], fields[2])
            elif tag == "D":
                dirs[fields[0]] = parse_stat(fields[2]) if fields[1] == "0" else None

        paths: dict[str, Any] = {}
        for index, path, rc, out in matches:
            pattern = patterns[index]
            st = parse_stat(out) if rc == "0" else None
            if st is None:
                reason = stat_error(out) if rc != "0" else "unreadable stat output"
                if reason == "missing" and is_glob(pattern):
                    paths[pattern] = {"exists": False, "matched": 0}
                elif reason == "missing":
                    paths[path] = {"exists": False}
                else:
                    paths[path] = {"error": reason}
                    problems.append(f"{path}: {reason}")
                continue
            entry = st.to_json()
            target_st: Stat | None = st
            if path in links:
                link, lrc, lout = links[path]
                entry["target"] = link
                resolved = parse_stat(lout) if lrc == "0" else None
                entry["resolved"] = resolved.to_json() if resolved else {"exists": False}
                target_st = resolved
            if path in hashes:
                self._hash(entry, path, *hashes[path], problems)
            if user is not None:
                entry["access"] = access(target_st, path, user, dirs)
            paths[path] = entry
        # Patterns whose expansion produced no record at all (cannot happen with a sane shell,
        # but never drop a requested path silently).
        seen = {patterns[i] for i, *_ in matches}
        for pattern in patterns:
            if pattern not in seen:
                paths[pattern] = {"error": "not inspected"}
                problems.append(f"{pattern}: not inspected (the target's shell gave no answer)")
        data = {"app_user": user_json, "paths": paths}
        return FacetResult(status="partial" if problems else "ok", data=data, problems=problems)

    @staticmethod
    def _hash(entry: dict[str, Any], path: str, rc: str, out: str, problems: list[str]) -> None:
        digest = out.split()[0] if out.split() else ""
        if rc == "0" and len(digest) == 64:
            entry["sha256"] = digest
            return
        entry["sha256"] = None
        if rc == "skipped":
            entry["sha256_note"] = out
            return
        reason = stat_error(out)
        entry["sha256_note"] = reason
        problems.append(f"{path}: cannot hash ({reason})")


FACET = FilesFacet()
