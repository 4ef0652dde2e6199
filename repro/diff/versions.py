"""Tolerant version parsing: enough to tell a major bump from a patch, whatever the format.

Handles PEP 440 (``1!2.0.0rc1.post2+local``), Debian (``1:2.36-9+deb12u4``), RPM
(``3.0.7-24.el9``), Alpine (``1.2.4-r2``) and version strings with words around them
(``OpenSSL 3.0.11 19 Sep 2023``, ``glibc 2.36``). It never raises: an unparsable version
compares as ``other``.

Pre-1.0 versions follow Cargo's reading of SemVer: in ``0.x.y`` the ``x`` is the breaking
part, so ``0.4 -> 0.5`` is *major* and ``0.4.1 -> 0.4.2`` is *minor*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Change = Literal["major", "minor", "patch", "other"]

_VERSION = re.compile(r"(?:(\d+)[:!])?(\d+(?:\.\d+)*)(.*)", re.DOTALL)
_START = re.compile(r"\d")


@dataclass(frozen=True)
class Version:
    epoch: int
    release: tuple[int, ...]
    rest: str  # pre/post/dev/local parts, Debian revision, trailing words

    def padded(self, length: int) -> tuple[int, ...]:
        return self.release + (0,) * (length - len(self.release))


def parse_version(text: object) -> Version | None:
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        return None
    raw = str(text).strip()
    start = _START.search(raw)
    if start is None:
        return None
    match = _VERSION.match(raw, start.start())
    if match is None:  # pragma: no cover - a digit always matches
        return None
    epoch = int(match.group(1)) if match.group(1) else 0
    try:
        release = tuple(int(part) for part in match.group(2).split("."))
    except ValueError:  # pragma: no cover - the regex only lets digits through
        return None
    return Version(epoch=epoch, release=release, rest=match.group(3).strip())


def classify(old: object, new: object) -> Change | None:
    """How far apart two versions are; None when they are the same text."""
    if old == new:
        return None
    a, b = parse_version(old), parse_version(new)
    if a is None or b is None:
        return "other"
    if a.epoch != b.epoch:
        return "major"
    length = max(len(a.release), len(b.release))
    ra, rb = a.padded(length), b.padded(length)
    first = next((i for i in range(length) if ra[i] != rb[i]), None)
    if first is None:
        return "patch"  # same release: a revision, pre/post release or local build differs
    if ra[0] == 0 and rb[0] == 0 and first > 0:
        first -= 1  # 0.x: shift one place (see the module docstring)
    if first == 0:
        return "major"
    return "minor" if first == 1 else "patch"


def compare(old: object, new: object) -> int | None:
    """-1, 0 or 1 by epoch and release; None if either cannot be parsed. Pre-release and
    revision suffixes are not ordered (they only make two versions different)."""
    a, b = parse_version(old), parse_version(new)
    if a is None or b is None:
        return None
    length = max(len(a.release), len(b.release))
    left, right = (a.epoch, a.padded(length)), (b.epoch, b.padded(length))
    return (left > right) - (left < right)
