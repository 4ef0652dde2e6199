"""``repro import`` of a HAR whose failing request has a 50 MB JSON body, end to end, and the
incident write alone (libyaml's emitter) against the pure-Python emitter the incident writer
used before; the anchor is a plain Python process that reads the same HAR and writes the body
to a file (the floor under any importer).

Target (2-core machine): writing an incident with a 50 MB body under 3 s.
``python benchmarks/import_bench.py`` prints the result; ``benchmarks/run.py`` collects it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
TARGET_MB = 50


def _har(directory: Path) -> tuple[Path, int]:
    items = []
    size = 0
    i = 0
    while size < TARGET_MB * 1_000_000:
        item = {"sku": f"SKU-{i:08d}", "qty": i % 7, "note": "line\nbreak", "price": i / 100}
        items.append(item)
        size += len(json.dumps(item)) + 1
        i += 1
    body = json.dumps({"items": items})
    entry = {
        "startedDateTime": "2026-10-10T13:55:36.100Z",
        "request": {
            "method": "POST",
            "url": "https://shop.example.com/api/import",
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "postData": {"mimeType": "application/json", "text": body},
        },
        "response": {"status": 500},
    }
    path = directory / "big.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    return path, len(body)


def _timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=ROOT, timeout=600)
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import yaml

    from repro.redaction import RedactionKey, Redactor
    from repro.replay import incident as incident_module
    from repro.replay.importers import IMPORTERS, ImportOptions

    with tempfile.TemporaryDirectory(prefix="repro-bench-import-") as tmp:
        directory = Path(tmp)
        har, body_size = _har(directory)
        out = directory / "incident.yaml"
        anchor_code = (
            "import json,sys; d=json.load(open(sys.argv[1])); "
            "open(sys.argv[2],'w').write(d['log']['entries'][0]['request']['postData']['text'])"
        )
        anchor = [
            _timed([sys.executable, "-c", anchor_code, str(har), str(directory / "body.txt")])
            for _ in range(RUNS)
        ]
        whole = [
            _timed(
                [
                    sys.executable,
                    "-m",
                    "repro.cli",
                    "import",
                    "har",
                    str(har),
                    "-o",
                    str(out),
                    "--force",
                ]
            )
            for _ in range(RUNS)
        ]
        options = ImportOptions(redactor=Redactor(RedactionKey.from_bytes(b"bench", "bench")))
        incident = IMPORTERS["har"].parse(har.read_bytes(), options=options)
        writes = []
        for _ in range(RUNS):
            started = time.perf_counter()
            incident_module.write_incident(incident, out)
            writes.append(time.perf_counter() - started)
        started = time.perf_counter()
        yaml.dump(
            incident.to_dict(),
            Dumper=incident_module._Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
        pure_python = time.perf_counter() - started
    write = statistics.median(writes)
    total = statistics.median(whole)
    floor = statistics.median(anchor)
    return {
        "title": "repro import of a 50 MB body",
        "target": "writing an incident with a 50 MB body under 3 s",
        "rows": {
            "body": f"{body_size / 1e6:.1f} MB JSON in a HAR",
            "runs": RUNS,
            "write_incident (libyaml emitter), median": f"{write:.2f} s",
            "same incident, pure-Python emitter (before)": f"{pure_python:.2f} s",
            "repro import har, whole process, median": f"{total:.2f} s",
            "anchor: python reads the HAR, writes the body": f"{floor:.2f} s",
            "import / anchor": f"{total / floor:.1f}x",
        },
        "verdict": ("met" if write < 3 else "missed") + f" ({write:.2f} s to write)",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
