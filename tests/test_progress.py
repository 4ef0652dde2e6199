"""The progress bars of a long job (repro.progress) end with their stage: once a later stage
starts they stay on screen as they finished and are never redrawn while it runs."""

from __future__ import annotations

import io
import time

from rich.console import Console

from repro.progress import RichProgress


def test_bars_end_with_their_stage() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with RichProgress(console) as progress:
        progress.stage("data")
        with progress.table("public.orders", 10) as advance:
            advance(10)
        progress.stage("app")
        after_stage = len(buffer.getvalue())
        time.sleep(0.5)  # the live display refreshes 10 times a second while it runs
        assert len(buffer.getvalue()) == after_stage
        with progress.table("public.users", 3) as advance:  # a later stage's own bars
            advance(3)
    text = buffer.getvalue()
    assert text.count("repro: app") == 1
    assert text.index("public.orders") < text.index("repro: app") < text.rindex("public.users")
