"""`make bench`: run every benchmark and write the results to BENCHMARKS.md.

Each benchmark module exports ``run() -> dict`` with a ``title``, a ``target`` sentence and
``rows`` (label -> value). Machine and date are recorded with the results, since numbers mean
nothing without them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "snapshot_local",
    "snapshot_start",
    "snapshot_database",
    "diff_start",
    "diff_bench",
    "data_generate",
    "data_anonymize",
    "replay_bench",
    "replay_evidence",
    "import_bench",
    "replay_load",
    "bisect_bench",
]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.node()} · {cpu} · {os.cpu_count()} cores · {mem_gib:.0f} GiB · "
        f"{platform.system()} {platform.release()} · Python {platform.python_version()}"
    )


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python benchmarks/run.py`); numbers are from the run below,",
        "on the machine below. Re-run to refresh.",
        "",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} (a section re-run on its own,"
        " `python benchmarks/run.py NAME`, carries its own Measured line)",
        f"- Machine: {machine()}",
        "",
    ]
    for result in results:
        if "kept" in result:  # a section of an earlier run, not re-run this time
            lines += [result["kept"].rstrip("\n"), ""]
            continue
        lines += [f"## {result['title']}", "", f"Target: {result.get('target', '—')}", ""]
        lines += [f"Measured: {result['measured']}", ""] if result.get("measured") else []
        lines += ["| measurement | value |", "| --- | --- |"]
        for label, value in result.get("rows", {}).items():
            lines.append(f"| {label} | {value} |")
        if result.get("verdict"):
            lines += ["", f"**Result:** {result['verdict']}"]
        if result.get("notes"):
            lines += ["", str(result["notes"])]
        lines.append("")
    return "\n".join(lines)


def _merge(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Some benchmarks re-run (``run.py NAME...``): the other sections of BENCHMARKS.md are
    kept as they were, in place, each with its own Measured line when it had one."""
    path = ROOT / "BENCHMARKS.md"
    if not path.exists():
        return results
    fresh = {r["title"]: r for r in results}
    merged: list[dict[str, Any]] = []
    for section in path.read_text(encoding="utf-8").split("\n## ")[1:]:
        title = section.split("\n", 1)[0].strip()
        merged.append(fresh.pop(title, {"kept": "## " + section}))
    return merged + list(fresh.values())


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    selected = argv or BENCHMARKS
    results: list[dict[str, Any]] = []
    failed = False
    for name in selected:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(name)
            result = module.run()
            result.setdefault("measured", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
            results.append(result)
        except Exception as exc:
            failed = True
            traceback.print_exc()
            results.append({"title": name, "rows": {"error": f"{type(exc).__name__}: {exc}"}})
    if argv:
        results = _merge(results)
    text = render(results)
    (ROOT / "BENCHMARKS.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
