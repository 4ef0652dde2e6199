"""How much of anything repro takes in: every bound has a one-line error and a reason.

Snapshots, incidents, HARs and config files come from other machines, so their size, their
nesting and (for YAML) their alias expansion are bounded before anything walks them: a
100,000-deep JSON array or a "billion laughs" YAML is a one-line ``repro: error``, never a
RecursionError, a hang or gigabytes of memory.

* Input files: ``REPRO_MAX_INPUT_MB`` (default :data:`DEFAULT_INPUT_MB`), checked by
  :mod:`repro.inputfile`.
* Nesting: :data:`MAX_DEPTH` levels for every JSON and YAML document (snapshots nest about 10,
  Sentry events about 20: the SDKs cut their data at 10).
* YAML: at most :data:`MAX_YAML_NODES` nodes once aliases are expanded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from itertools import compress
from typing import Any

import yaml

from repro.errors import UsageError

INPUT_MB_ENV = "REPRO_MAX_INPUT_MB"
DEFAULT_INPUT_MB = 256  # a snapshot of 12,000 tables with statistics is about 230 MB
MAX_DEPTH = 100
MAX_YAML_NODES = 1_000_000

ErrorClass = Callable[[str], Exception]


def max_input_bytes() -> int:
    raw = os.environ.get(INPUT_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_INPUT_MB * 1024 * 1024
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1
    if not megabytes > 0:
        raise UsageError(f"{INPUT_MB_ENV}={raw}: expected a positive number of megabytes")
    return int(megabytes * 1024 * 1024)


def too_large(size: int, limit: int) -> str:
    """The reason a file is refused for its size, with the knob that raises the limit."""
    return (
        f"{megabytes(size)} is more than the {megabytes(limit)} input limit "
        f"(set {INPUT_MB_ENV} to raise it)"
    )


def megabytes(size: float) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    return f"{size / 1024**2:.1f} MB" if size >= 1024**2 else f"{int(size)} bytes"


def too_deep(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """True when containers nest deeper than ``max_depth``. Iterative (no recursion), level
    by level, and picking a level's containers out of its values in C (compress over
    ``map(type, ...)``): a 30 MB snapshot takes about 0.1 s."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return True
        deeper: list[Any] = []
        for node in level:
            values = node.values() if type(node) is dict else node
            deeper.extend(compress(values, map(_is_container, map(type, values))))
        level = deeper
    return False


_CONTAINERS = frozenset({dict, list})
_is_container = _CONTAINERS.__contains__


def nesting_error(label: str) -> str:
    return f"{label}: nested deeper than {MAX_DEPTH} levels"


def load_json(data: str | bytes, label: str, error: ErrorClass) -> Any:
    """``json.loads`` with the nesting bound. A syntax error stays json.JSONDecodeError (and
    invalid UTF-8 UnicodeDecodeError) for the caller to word; too deep is ``error``."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise error(nesting_error(label)) from None
    if too_deep(value):
        raise error(nesting_error(label))
    return value


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents whose alias expansion or nesting is too big
    (aliases share one object when built; whoever walks the result pays for the expansion).
    Pure Python on purpose: libyaml's C composer recurses on the C stack, so a deeply nested
    hostile document would crash the process instead of raising RecursionError."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_yaml_graph(node)
        return super().construct_document(node)


class YamlLimitError(yaml.YAMLError):
    pass


def _check_yaml_graph(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}  # expanded size per shared node, computed once
    depths: dict[int, int] = {}
    # Iterative post-order walk: children first, then the node.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not expanded:
            if key in on_path:
                raise YamlLimitError("a recursive alias")
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        on_path.discard(key)
        sizes[key] = 1 + sum(sizes.get(id(c), 0) for c in children)
        depths[key] = 1 + max((depths.get(id(c), 0) for c in children), default=0)
        if sizes[key] > MAX_YAML_NODES:
            raise YamlLimitError(f"more than {MAX_YAML_NODES:,} values once aliases are expanded")
        if depths[key] > MAX_DEPTH:
            raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(text: str, label: str, error: ErrorClass) -> Any:
    """``yaml.safe_load`` with the bounds; a syntax error stays yaml.YAMLError for the caller
    to word, a bound is ``error``."""
    try:
        return yaml.load(text, Loader=_BoundedLoader)
    except YamlLimitError as exc:
        raise error(f"{label}: {exc}") from None
    except RecursionError:
        raise error(nesting_error(label)) from None


def load_yaml_all(text: str, label: str, error: ErrorClass) -> list[Any]:
    """Every document of a multi-document YAML stream, with the bounds."""
    try:
        return list(yaml.load_all(text, Loader=_BoundedLoader))
    except YamlLimitError as exc:
        raise error(f"{label}: {exc}") from None
    except RecursionError:
        raise error(nesting_error(label)) from None


# --- memory ----------------------------------------------------------------------------------

# A loaded snapshot takes about 3.5 times its file size in memory (measured on a 230 MB one:
# 780 MB); the lower bound before anything is measured.
LOAD_FACTOR = 3.0


def available_memory() -> int | None:
    """Bytes this process can still take: the kernel's MemAvailable, or less when a cgroup
    (a container's memory limit) allows less. None where unknown (not Linux)."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as handle:
            limit = handle.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as handle:
            current = int(handle.read().strip())
        if limit.isdigit():
            found.append(max(int(limit) - current, 0))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def resident_memory() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def ensure_memory(needed: int, what: str, error: ErrorClass) -> None:
    """Refuse work that would not fit in memory, before starting it, saying why."""
    available = available_memory()
    if available is not None and needed > available:
        raise error(
            f"{what} needs about {megabytes(needed)} of memory; {megabytes(available)} is "
            "available (free some, or compare smaller snapshots)"
        )
