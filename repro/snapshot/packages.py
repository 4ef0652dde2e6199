"""The ``packages`` facet: what software the app runs on.

One shell round trip prints every section: the app interpreter's Python distributions (via
``importlib.metadata``), the OS package database (dpkg, apk or rpm, whichever exists) and the
runtime versions (python, openssl, libc). Over ssh or docker a round trip costs more than the
commands, so there is exactly one.

Data shape::

    python:  {interpreter, version, distributions: {normalized-name: version}}
             # interpreter: profile app.python (default "python3"); names PEP 503-normalized
    os:      {manager: "dpkg" | "apk" | "rpm", packages: {name: version}}
             # installed packages only; a package installed for two architectures appears
             # as "name:arch" twice
    runtime: {python: "3.11.2" | null, openssl: "OpenSSL 3.0.11 19 Sep 2023" | null,
              libc: "glibc 2.36" | "musl 1.2.4" | null}

``python`` / ``os`` are absent when not requested (option ``managers``) *or* when they could not
be read; the latter is a problem (status ``partial``) — never an empty-but-"ok" section that a
diff would call equal.
"""

from __future__ import annotations

import json
import re
from typing import Any

from repro.profile.facets import Option
from repro.snapshot.base import CaptureContext
from repro.snapshot.file import FacetResult
from repro.targets.base import run_shell

MANAGERS = ("python", "os")
NO_OS_MANAGER = "no OS package manager found (dpkg, apk, rpm)"

# Runs in the app's interpreter, so it must work on any Python 3. '' (the target's working
# directory) is dropped from the path: stray *.dist-info there would look installed.
_PY_PROBE = r"""
import json, re, sys
out = {'version': '%d.%d.%d' % tuple(sys.version_info[:3])}
try:
    import ssl
    out['openssl'] = ssl.OPENSSL_VERSION
except Exception:
    out['openssl'] = None
try:
    from importlib import metadata
except ImportError:
    out['error'] = 'importlib.metadata needs Python 3.8 or later'
else:
    dists = {}
    for dist in metadata.distributions(path=[p for p in sys.path if p not in ('', '.')]):
        # Name and Version from the header block by hand: the email parser behind
        # dist.metadata is most of the probe's time, and it parses once per attribute.
        text = dist.read_text('METADATA') or dist.read_text('PKG-INFO') or ''
        head = dict(re.findall(r'(?m)^(Name|Version):[ \t]*(\S+)', text.split('\n\n', 1)[0]))
        if len(head) < 2:
            head = {'Name': dist.metadata['Name'], 'Version': dist.metadata['Version']}
        if head['Name']:
            dists.setdefault(re.sub(r'[-_.]+', '-', head['Name']).lower(), head['Version'])
    out['distributions'] = dists
print(json.dumps(out))
"""

# "$1" interpreter, "$2" want python (1/0), "$3" want os (1/0), "$4" the probe.
_SCRIPT = r"""
s() { echo "@@$1"; }
if [ "$2" = 1 ]; then
  s python
  if command -v "$1" >/dev/null 2>&1; then
    "$1" -c "$4" 2>&1 || echo "!exit $?"
  else echo "!missing"; fi
fi
if [ "$3" = 1 ]; then
  s os
  # A manager counts only with its database: busybox has `rpm` and `dpkg` applets that
  # cannot list anything.
  if command -v dpkg-query >/dev/null 2>&1 && [ -e /var/lib/dpkg/status ]; then
    echo dpkg
    dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n' 2>&1
  elif command -v apk >/dev/null 2>&1 && [ -e /lib/apk/db/installed ]; then
    echo apk; apk info -v 2>&1
  elif command -v rpm >/dev/null 2>&1 && { [ -d /var/lib/rpm ] || [ -d /usr/lib/sysimage/rpm ]; }
  then
    echo rpm; rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n' 2>&1
  else echo none; true; fi
  echo "!exit $?"
fi
s libc
musl=""
for f in /lib/ld-musl-*.so.1; do [ -e "$f" ] && musl="$f"; done
if [ -n "$musl" ]; then echo "musl $("$musl" 2>&1 | sed -n 's/^Version //p')"
elif getconf GNU_LIBC_VERSION 2>/dev/null; then :
elif command -v ldd >/dev/null 2>&1; then ldd --version 2>&1 | head -n 1; fi
s openssl
if command -v openssl >/dev/null 2>&1; then openssl version 2>/dev/null; fi
"""


def split_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@"):
            current = sections.setdefault(line[2:].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def _keyed(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    """name -> version; names installed for several architectures become name:arch."""
    counts: dict[str, int] = {}
    for name, _, _ in rows:
        counts[name] = counts.get(name, 0) + 1
    return {
        (f"{name}:{arch}" if counts[name] > 1 and arch else name): version
        for name, version, arch in rows
    }


def parse_os_packages(manager: str, lines: list[str]) -> dict[str, str]:
    rows: list[tuple[str, str, str]] = []
    for line in lines:
        if not line.strip():
            continue
        if manager == "dpkg":
            parts = line.split("\t")
            # Status-Abbrev: desired, current, error. Current "i" = installed ("ii", "hi"
            # held); "rc" (config files left) and half-installed ones are not.
            if len(parts) < 4 or len(parts[3]) < 2 or parts[3][1] != "i":
                continue
            rows.append((parts[0], parts[1], parts[2]))
        elif manager == "rpm":
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0] != "gpg-pubkey":  # imported keys, not software
                rows.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
        elif manager == "apk":
            # "musl-1.2.4-r2": the version is the last two dash-separated parts
            match = re.match(r"^(.+)-([^-]+-r\d+)$", line.strip())
            if match:
                rows.append((match.group(1), match.group(2), ""))
    return dict(sorted(_keyed(rows).items()))


def parse_os_section(lines: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """(``{manager, packages}``, problem): the manager line, its output, ``!exit N``."""
    manager = lines[0].strip() if lines else "none"
    if manager == "none":
        return None, NO_OS_MANAGER
    body = [line for line in lines[1:] if not line.startswith("!exit ")]
    status = next((line for line in lines if line.startswith("!exit ")), "!exit 0")
    if status != "!exit 0":
        # Output is stdout and stderr together; the reason is whatever is not a package.
        noise = [line.strip() for line in body if line.strip() and "\t" not in line]
        reason = noise[-1] if noise else status[1:]
        return None, f"os: {manager} could not list the installed packages: {reason}"
    return {"manager": manager, "packages": parse_os_packages(manager, body)}, None


def parse_libc(lines: list[str]) -> str | None:
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("musl"):
            version = line[4:].strip()
            return f"musl {version}" if version else "musl"
        if line.startswith("glibc "):
            return line
        # ldd --version: "ldd (Debian GLIBC 2.36-9+deb12u4) 2.36"
        match = re.search(r"(GLIBC|GNU libc).*?\s(\d+\.\d+(?:\.\d+)?)\s*$", line)
        if match:
            return f"glibc {match.group(2)}"
        return None  # busybox or a static system: no libc to name
    return None


def parse_python(interpreter: str, lines: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """(probe output, problem)."""
    if lines and lines[0] == "!missing":
        return None, f"python: interpreter {interpreter!r} not found"
    for line in lines:
        if line.startswith("{"):
            try:
                probe = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(probe, dict):
                return probe, None
    text = [line.strip() for line in lines if line.strip() and not line.startswith("!exit")]
    reason = text[-1] if text else "no output"
    return None, f"python: {interpreter} could not list its distributions: {reason}"


class PackagesFacet:
    name = "packages"
    summary = "Python distributions, OS packages and runtime versions"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {
            "managers": Option(list, list(MANAGERS), "which to capture: python, os", item_kind=str),
        }

    def capture(self, ctx: CaptureContext) -> FacetResult:
        managers = set(ctx.options.get("managers") or [])
        problems = [f"managers: unknown {m!r} (known: python, os)" for m in managers - {*MANAGERS}]
        interpreter = ctx.profile.app.python or "python3"
        result = run_shell(
            ctx.target,
            _SCRIPT,
            interpreter,
            "1" if "python" in managers else "0",
            "1" if "os" in managers else "0",
            _PY_PROBE,
        )
        sections = split_sections(result.text)
        if "libc" not in sections:
            reason = result.error_text or f"exit code {result.returncode}"
            return FacetResult(status="error", message=f"package probe failed: {reason}")
        data: dict[str, Any] = {}
        probe: dict[str, Any] = {}

        if "python" in managers:
            found, problem = parse_python(interpreter, sections.get("python", []))
            if problem:
                problems.append(problem)
            elif found is not None:
                probe = found
                if "error" in probe:
                    problems.append(f"python: {probe['error']}")
                else:
                    data["python"] = {
                        "interpreter": interpreter,
                        "version": probe.get("version"),
                        "distributions": dict(sorted(probe.get("distributions", {}).items())),
                    }

        if "os" in managers:
            os_data, problem = parse_os_section(sections.get("os", []))
            if problem:
                problems.append(problem)
            else:
                data["os"] = os_data

        openssl_cli = [line.strip() for line in sections.get("openssl", []) if line.strip()]
        data["runtime"] = {
            "python": probe.get("version"),
            # The library the app's interpreter links beats the CLI, which may be another.
            "openssl": probe.get("openssl") or (openssl_cli[0] if openssl_cli else None),
            "libc": parse_libc(sections.get("libc", [])),
        }
        return FacetResult(status="partial" if problems else "ok", data=data, problems=problems)


FACET = PackagesFacet()
