"""The importer corpus: one input per real-world shape, written for this project after the
formats' documentation and the SDKs'/tools' sources (Sentry events of each SDK, HARs of each
browser and proxy, curl pastes of each browser and shell, each log format), each compared field
by field with the incident it must give (``<input>.expected.yaml``) or the line that refuses it
(``<input>.refused``).

After a deliberate change, regenerate the expectations and REVIEW the diff:
``python -m tests.replay.test_corpus --update``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from repro.errors import IncidentError
from repro.redaction import RedactionKey, Redactor
from repro.replay.importers import IMPORTERS, ImportOptions
from repro.replay.incident import Incident

CORPUS = Path(__file__).parent / "corpus"
KEY = b"corpus-key"
# Options a user would pass for that input (the rest import with none).
OPTIONS: dict[str, dict[str, Any]] = {
    "har/insomnia-export.har#entry0": {"entry": 0},
    "sentry/transaction.json#status200": {"status": 200},
}
CANARY_MARKERS = ("CANARY",)


def inputs() -> list[str]:
    names = [
        f"{p.parent.name}/{p.name}"
        for p in sorted(CORPUS.glob("*/*"))
        if not p.name.endswith((".expected.yaml", ".refused"))
    ]
    return names + sorted(OPTIONS)


def run(case: str) -> tuple[Incident | None, str | None, list[str]]:
    name, _, _variant = case.partition("#")
    path = CORPUS / name
    options = ImportOptions(
        redactor=Redactor(RedactionKey.from_bytes(KEY, "test")),
        file=path.name,
        **OPTIONS.get(case, {}),
    )
    try:
        incident = IMPORTERS[path.parent.name].parse(path.read_bytes(), options=options)
    except IncidentError as exc:
        return None, exc.one_line(), options.notes
    return incident, None, options.notes


def expected_paths(case: str) -> tuple[Path, Path]:
    name, _, variant = case.partition("#")
    stem = CORPUS / (f"{name}.{variant}" if variant else name)
    return Path(f"{stem}.expected.yaml"), Path(f"{stem}.refused")


@pytest.mark.parametrize("case", inputs())
def test_corpus_input_gives_exactly_the_expected_incident(case: str) -> None:
    incident, refused, _notes = run(case)
    yaml_path, refused_path = expected_paths(case)
    if refused is not None:
        assert refused_path.exists(), f"{case} was refused: {refused}"
        assert refused == refused_path.read_text().strip()
        assert not any(marker in refused for marker in CANARY_MARKERS)
        return
    assert incident is not None
    assert yaml_path.exists(), f"{case}: no {yaml_path.name}"
    expected = Incident.from_yaml(yaml_path.read_text(), str(yaml_path))
    # every field: request, signature, provenance and lost, fingerprints included
    assert incident.to_dict() == expected.to_dict()
    text = incident.to_yaml()
    assert not any(marker in text for marker in CANARY_MARKERS), text
    assert Incident.from_yaml(text).to_dict() == incident.to_dict()  # loads back


def test_every_class_is_in_the_corpus() -> None:
    names = inputs()
    for needed in (
        "sentry/java-spring-get-params.json",
        "sentry/dotnet-aspnetcore-thread.json",
        "sentry/php-laravel-multipart.json",
        "sentry/ruby-rails-form.json",
        "sentry/node-express-json.json",
        "sentry/go-gin-error.json",
        "sentry/python-message-stacktrace.json",
        "sentry/python-content-length-no-data.json",
        "sentry/transaction.json",
        "har/firefox-json-post.har",
        "har/safari-form.har",
        "har/charles-put.har",
        "har/insomnia-export.har",
        "har/mitmproxy-multipart.har",
        "curl/firefox-posix.sh",
        "curl/powershell.txt",
        "curl/edge-cmd-form.txt",
        "log/aws-alb.log",
        "log/heroku-router.log",
        "log/json-lines.log",
        "log/mixed-paste.log",
    ):
        assert needed in names


def update() -> None:
    for case in inputs():
        incident, refused, _notes = run(case)
        yaml_path, refused_path = expected_paths(case)
        yaml_path.unlink(missing_ok=True)
        refused_path.unlink(missing_ok=True)
        if refused is not None:
            refused_path.write_text(refused + "\n")
        else:
            assert incident is not None
            yaml_path.write_text(incident.to_yaml())
        print(f"{case}: {'refused' if refused else 'incident'}")


if __name__ == "__main__" and "--update" in sys.argv:
    update()
