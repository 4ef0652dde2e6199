"""A real headless browser for tests of the HTML report: Debian's ``chromium`` (installed by
images/provision.sh). Missing, it skips the test, or fails it under REPRO_REQUIRE_DOCKER=1
(CI provisions it, so a skip there would hide a broken setup), like the Docker fixtures."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from tests.helpers.settings import skip_or_fail

CHROMIUM_NAMES = ("chromium", "chromium-browser")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_S = 60  # a cold start on a busy machine; a page takes about 1.5 s here


def require_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    skip_or_fail("chromium not found (images/provision.sh installs Debian's chromium)")


def _run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No network is needed (the page is a file:// URL); its own profile directory, so runs
    # in parallel or a user's browser state never interfere.
    return subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--hide-scrollbars", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
    )  # fmt: skip


def screenshot(binary: str, page: Path, out: Path, profile: Path, size: tuple[int, int]) -> None:
    done = _run(
        binary, profile, f"--screenshot={out}", f"--window-size={size[0]},{size[1]}",
        page.resolve().as_uri(),
    )  # fmt: skip
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]


def dump_dom(binary: str, page: Path, profile: Path) -> str:
    done = _run(binary, profile, "--dump-dom", page.resolve().as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk, which the format puts first."""
    with path.open("rb") as handle:
        head = handle.read(24)
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", head
    width, height = struct.unpack(">II", head[16:24])
    return width, height
