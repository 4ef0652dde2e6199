"""The package's layers, read from every import in repro/ (inside functions and under
TYPE_CHECKING too), in the spirit of pip-tools' tests/test_circular_imports.py: an import runs
down a layer or stays in its own package, never up or sideways, and no modules or packages
import each other in a circle. A module used by two features lives below both (README,
"Where things live")."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest first; the packages of one line are siblings: replay may use diff, synth and mask,
# but mask may not use synth. Modules at the top of repro/ (errors, console...) are the
# foundation; cli.py and __main__.py are the top. bisect drives replay over diff's findings.
LAYERS = [
    "targets", "profile", "pg", "snapshot", "diff synth mask", "replay", "bisect", "commands",
    "cli",
]  # fmt: skip
RANK = {unit: rank for rank, line in enumerate(["foundation", *LAYERS]) for unit in line.split()}


def sources() -> dict[str, str]:
    """Module name -> source text, for every module of the package."""
    out = {}
    for path in sorted((ROOT / "repro").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path.read_text()
    return out


def imports(modules: dict[str, str]) -> set[tuple[str, str]]:
    """(importer, imported module) for every import of a repro module, wherever it stands."""
    edges = set()
    for name, text in modules.items():
        package = (
            name if any(m.startswith(f"{name}.") for m in modules) else name[: name.rfind(".")]
        )
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from . import x, from ..pg import y
                    up = package.split(".")[: package.count(".") + 2 - node.level]
                    base = ".".join([*up, base] if base else up)
                # `from package import module` imports that module
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]  # fmt: skip
            else:
                continue
            edges |= {(name, t) for t in targets if t.split(".")[0] == "repro" and t != name}
    return edges


def unit(module: str) -> str:
    """repro.pg.session -> pg; repro.__main__ -> cli; repro.errors -> foundation."""
    name = module.split(".")[1] if "." in module else ""
    return "cli" if name == "__main__" else name if name in RANK else "foundation"


def violations(modules: dict[str, str]) -> list[str]:
    return sorted(
        f"{a} -> {b}: {unit(a)} may not import {unit(b)}"
        for a, b in imports(modules)
        if unit(a) != unit(b) and RANK[unit(b)] >= RANK[unit(a)]
    )


def circle(edges: set[tuple[str, str]]) -> list[str]:
    """A circle of the graph, or [] when it has none."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def packages(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The same imports between packages: a subpackage is part of its package (diff.rules
    uses diff.model and diff.engine uses diff.rules), a module at the top is its own."""
    top = {m: ".".join(m.split(".")[:2]) for edge in edges for m in edge}
    return {(top[a], top[b]) for a, b in edges if top[a] != top[b]}


def test_every_import_runs_down_a_layer() -> None:
    assert {init.parent.name for init in ROOT.glob("repro/*/__init__.py")} <= set(RANK)
    assert violations(sources()) == []


def test_no_circle_of_modules_or_packages() -> None:
    edges = imports(sources())
    assert circle(edges) == []
    assert circle(packages(edges)) == []


def plant(modules: dict[str, str], module: str, statement: str) -> None:
    """An import inside a function, where one hides best."""
    modules[module] += f"\n\ndef _planted() -> None:\n    {statement}\n"


@pytest.mark.parametrize(
    ("module", "statement", "expected"),
    [
        ("repro.pg.session", "from repro.snapshot.file import Snapshot", "pg may not import"),
        ("repro.mask.anonymize", "import repro.synth.plan", "mask may not import synth"),
        ("repro.diff.engine", "from ..replay import runner", "diff may not import replay"),
        ("repro.errors", "from .cli import app", "foundation may not import cli"),
    ],
)
def test_a_planted_upward_import_fails(module: str, statement: str, expected: str) -> None:
    modules = sources()
    plant(modules, module, statement)
    assert [line for line in violations(modules) if line.startswith(module) and expected in line]


def test_a_planted_circle_is_found() -> None:
    modules = sources()
    plant(modules, "repro.pg.types", "from repro.pg import tables")
    assert set(circle(imports(modules))) == {"repro.pg.types", "repro.pg.tables"}
    modules = sources()
    plant(modules, "repro.targets.base", "import repro.profile.file")
    assert set(circle(packages(imports(modules)))) == {"repro.targets", "repro.profile"}


def test_no_test_module_is_imported_as_a_library() -> None:
    """Shared test code lives in tests/helpers/, never in a module pytest also collects."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.startswith("tests.") and n.split(".")[-1].startswith("test_") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
