"""Every importer, in one place. Adding one: one module, one line here."""

from __future__ import annotations

from repro.replay.importers import curl, har, log, sentry
from repro.replay.importers.base import Importer, ImportOptions

IMPORTERS: dict[str, Importer] = {
    "sentry": sentry.IMPORTER,
    "har": har.IMPORTER,
    "curl": curl.IMPORTER,
    "log": log.IMPORTER,
}

__all__ = ["IMPORTERS", "ImportOptions", "Importer"]
