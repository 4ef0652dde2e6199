"""The ``packages`` facet: what software the app runs on.

One shell round trip prints three sections: the app interpreter's Python distributions (via
``importlib.metadata``), the OS package database (dpkg, apk or rpm, whichever exists) and runtime
versions (python, openssl, libc).

Data shape::

    python:  {interpreter, version, distributions: {normalized-name: version}}
    os:      {manager: "dpkg" | "apk" | "rpm", packages: {name: version}}
    runtime: {python, openssl, libc}

A missing interpreter or package manager is a problem (status ``partial``), never a crash and
never an empty-but-"ok" facet that a diff would call equal.
"""

from __future__ import annotations

import json
import re
from typing import Any

from repro.snapshot.base import CaptureContext, Option
from repro.snapshot.model import FacetResult
from repro.targets.base import run_shell

_PY_PROBE = (
    "import json, platform, ssl, sys\n"
    "from importlib import metadata\n"
    "d = {}\n"
    "for dist in metadata.distributions():\n"
    "    name = dist.metadata.get('Name')\n"
    "    if name:\n"
    "        d[name.lower().replace('_', '-').replace('.', '-')] = dist.version\n"
    "print(json.dumps({'version': platform.python_version(), 'executable': sys.executable,\n"
    "                  'openssl': ssl.OPENSSL_VERSION, 'distributions': d}))\n"
)

# Sections are separated by marker lines; each command's absence is reported, not guessed.
_SCRIPT = r"""
py="$1"; want_python="$2"; want_os="$3"
echo "@@python"
if [ "$want_python" = 1 ]; then
  if command -v "$py" >/dev/null 2>&1; then "$py" -c "$4" 2>/dev/null || echo "!failed";
  else echo "!missing"; fi
fi
echo "@@os"
if [ "$want_os" = 1 ]; then
  if command -v dpkg-query >/dev/null 2>&1; then
    echo "dpkg"; dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Abbrev}\n' 2>/dev/null
  elif command -v apk >/dev/null 2>&1; then echo "apk"; apk info -v 2>/dev/null
  elif command -v rpm >/dev/null 2>&1; then
    echo "rpm"; rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' 2>/dev/null
  else echo "none"; fi
fi
echo "@@libc"
if command -v getconf >/dev/null 2>&1 && getconf GNU_LIBC_VERSION 2>/dev/null; then :
elif command -v ldd >/dev/null 2>&1; then ldd --version 2>&1 | head -n 1; fi
echo "@@openssl"
if command -v openssl >/dev/null 2>&1; then openssl version 2>/dev/null; fi
"""


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            sections[current] = []
        elif current:
            sections[current].append(line)
    return sections


def parse_os_packages(manager: str, lines: list[str]) -> dict[str, str]:
    packages: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        if manager == "dpkg":
            parts = line.split("\t")
            if len(parts) >= 3 and not parts[2].startswith("ii"):
                continue  # removed / config-files only: not installed
            if len(parts) >= 2:
                packages[parts[0]] = parts[1]
        elif manager == "rpm":
            name, _, version = line.partition("\t")
            packages[name] = version
        elif manager == "apk":
            # "musl-1.2.4-r2": name, then version-release after the last two dashes
            match = re.match(r"^(.+)-([^-]+-r\d+)$", line.strip())
            if match:
                packages[match.group(1)] = match.group(2)
    return packages


def parse_libc(lines: list[str]) -> str | None:
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith("glibc") or line.startswith("GNU libc"):
            return line
        if "musl" in line.lower():
            return "musl " + (line.split()[-1] if line.split() else "")
        match = re.search(r"(GLIBC|GNU libc)[^0-9]*([0-9.]+)", line)
        if match:
            return f"glibc {match.group(2)}"
        return line
    return None


class PackagesFacet:
    name = "packages"
    summary = "Python distributions, OS packages and runtime versions"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {
            "managers": Option(list, ["python", "os"], "which to capture: python, os", str),
        }

    def capture(self, ctx: CaptureContext) -> FacetResult:
        managers = set(ctx.options.get("managers") or [])
        interpreter = ctx.profile.app.python or "python3"
        result = run_shell(
            ctx.target,
            _SCRIPT,
            interpreter,
            "1" if "python" in managers else "0",
            "1" if "os" in managers else "0",
            _PY_PROBE,
        )
        sections = _sections(result.text)
        data: dict[str, Any] = {}
        problems: list[str] = []
        runtime: dict[str, Any] = {"python": None, "openssl": None, "libc": None}

        if "python" in managers:
            lines = [line for line in sections.get("python", []) if line.strip()]
            first = lines[0] if lines else "!failed"
            if first == "!missing":
                problems.append(f"python: interpreter {interpreter!r} not found")
            elif first.startswith("!"):
                problems.append(f"python: {interpreter} could not list its distributions")
            else:
                try:
                    probe = json.loads(first)
                except json.JSONDecodeError:
                    problems.append(f"python: unreadable output from {interpreter}")
                else:
                    data["python"] = {
                        "interpreter": interpreter,
                        "version": probe.get("version"),
                        "distributions": dict(sorted(probe.get("distributions", {}).items())),
                    }
                    runtime["python"] = probe.get("version")
                    runtime["openssl"] = probe.get("openssl")

        if "os" in managers:
            lines = sections.get("os", [])
            manager = lines[0].strip() if lines else "none"
            if manager == "none":
                problems.append("os: no OS package manager found (dpkg, apk, rpm)")
            else:
                data["os"] = {"manager": manager, "packages": parse_os_packages(manager, lines[1:])}

        runtime["libc"] = parse_libc(sections.get("libc", []))
        if runtime["openssl"] is None:
            openssl = [line for line in sections.get("openssl", []) if line.strip()]
            runtime["openssl"] = openssl[0].strip() if openssl else None
        data["runtime"] = runtime

        if not result.ok and not data.get("python") and not data.get("os"):
            problems.append(f"package probe failed: {result.error_text or result.returncode}")
        if problems:
            return FacetResult(status="partial", data=data, problems=problems)
        return FacetResult(status="ok", data=data)


FACET = PackagesFacet()
