"""The HTML report in a real headless browser (Debian's chromium): it renders to a screenshot
of the size asked for, and the DOM the browser built from the file has the verdict, a bar per
stage, the memory curve and no element that the captured text tried to smuggle in."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from repro.replay.incident import Signature
from repro.replay.renderers.html import render_html
from tests.helpers.browser import dump_dom, png_size, require_chromium, screenshot
from tests.helpers.outcomes_conditions import everything

WINDOW = (1280, 2000)
HOSTILE = "</svg></code><script>document.title='owned'</script><img src=x onerror=alert(1)>"


def test_the_page_in_a_real_browser(tmp_path: Path) -> None:
    chromium = require_chromium()
    outcome = everything()
    main = outcome.incident.signature.exceptions[0]
    signature = Signature(500, (dataclasses.replace(main, value=HOSTILE),))
    outcome.incident.signature = signature
    outcome.stages[0].name = HOSTILE
    page = tmp_path / "report.html"
    page.write_text(render_html(outcome), encoding="utf-8")

    shot = tmp_path / "report.png"
    screenshot(chromium, page, shot, tmp_path / "profile", WINDOW)
    assert png_size(shot) == WINDOW
    # A blank or failed render is a few KB of one colour; the report has text and charts.
    assert shot.stat().st_size > 30_000

    dom = dump_dom(chromium, page, tmp_path / "profile")
    assert re.search(r'<h1 id="verdict-text">REPRODUCED</h1>', dom)
    assert len(re.findall(r'<rect class="stage-bar"', dom)) == len(outcome.stages) == 4
    assert re.search(r'<polyline class="memory-line" points="[\d., ]+">', dom)
    assert len(re.findall(r'<rect class="latency-bar"', dom)) == 20
    assert 'id="oom-killed"' in dom
    # The hostile text is text in the browser's DOM too: no script, no image, the title kept.
    assert "<script" not in dom and "<img" not in dom and "owned" not in dom.split("</title>")[0]
    assert "&lt;/svg&gt;&lt;/code&gt;&lt;script&gt;" in dom
    assert dom.count("<svg") == dom.count("</svg>") == 3
