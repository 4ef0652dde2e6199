"""The HTML report's charts as inline SVG, drawn here from numbers: the stages' timeline, the
memory curve against the limit, the load's latency histogram. No script and no library: the
page must open anywhere, offline, and show the same thing in a screenshot.

Every text is passed through the page's escaper (``esc``) and every number is formatted here
(finite, rounded), so nothing from the outcome reaches the markup unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from repro.replay.conditions.load import LoadReport
from repro.replay.conditions.resources import MemoryReport, human_bytes
from repro.replay.outcome import Stage

Escape = Callable[[str], str]

WIDTH = 960  # the SVG's own coordinates; it scales to the page (viewBox)
LEFT, RIGHT = 70, 20  # room for the axis labels
PERCENTILE_LINES = ("p50", "p90", "p99")


def _n(value: float) -> str:
    """A coordinate: finite, one decimal."""
    return f"{value if math.isfinite(value) else 0.0:.1f}"


def _finite(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def _svg(height: int, label: str, body: list[str], esc: Escape, css: str) -> str:
    return (
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{esc(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round axis steps from 0 to at least ``top``."""
    if top <= 0:
        return [0.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(top / step) + 1)]


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def stage_timeline(stages: Sequence[Stage], esc: Escape) -> str:
    """One row per stage, its bar starting where the one before ended (the stages run one
    after the other), on a common axis in seconds."""
    row, top_pad = 28, 10
    height = top_pad + row * len(stages) + 34
    durations = [_finite(s.seconds) for s in stages]
    total = sum(durations)
    ticks = _ticks(total) if total > 0 else [0.0, 1.0]
    scale_top = ticks[-1] or 1.0
    label_w = 130
    plot_w = WIDTH - label_w - RIGHT

    def x(t: float) -> float:
        return label_w + plot_w * t / scale_top

    body: list[str] = []
    start = 0.0
    for i, (stage, seconds) in enumerate(zip(stages, durations, strict=True)):
        y = top_pad + i * row
        width = max(plot_w * seconds / scale_top, 2.0)  # a 0 s stage is still seen
        title = f"{stage.name}: {seconds:.2f} s" + (f" ({stage.detail})" if stage.detail else "")
        body.append(
            f'<text class="stage-name" x="{label_w - 8}" y="{_n(y + 18)}" '
            f'text-anchor="end">{esc(stage.name)}</text>'
            f'<rect class="stage-bar" data-stage="{esc(stage.name)}" x="{_n(x(start))}" '
            f'y="{_n(y + 4)}" width="{_n(width)}" height="{row - 8}" rx="3">'
            f"<title>{esc(title)}</title></rect>"
            f'<text class="stage-seconds" x="{_n(x(start) + width + 6)}" y="{_n(y + 18)}">'
            f"{esc(_seconds(seconds))}</text>"
        )
        start += seconds
    axis_y = top_pad + row * len(stages) + 4
    body.append(
        f'<line class="axis" x1="{label_w}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}"/>'
    )
    for tick in ticks:
        body.append(
            f'<text class="tick" x="{_n(x(tick))}" y="{axis_y + 18}" text-anchor="middle">'
            f"{tick:g} s</text>"
        )
    return _svg(height, f"stages, {total:.2f} s in all", body, esc, "timeline")


def memory_curve(memory: MemoryReport, esc: Escape) -> str:
    """The samples as a line, the limit as a dashed line above it, the peak marked."""
    samples = [(_finite(t), _finite(b)) for t, b in memory.samples]
    height, top, bottom = 260, 20, 220
    limit = _finite(memory.limit_bytes or 0)
    peak = max((b for _t, b in samples), default=0.0)
    y_top = max(limit, peak) * 1.1 or 1.0
    x_top = max((t for t, _b in samples), default=0.0) or 1.0
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + plot_w * t / x_top

    def y(b: float) -> float:
        return bottom - (bottom - top) * b / y_top

    body = [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{bottom}" text-anchor="end">0</text>',
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{bottom + 18}" text-anchor="end">'
        f"{x_top:.1f} s</text>",
    ]
    if limit:
        body.append(
            f'<line class="memory-limit" x1="{LEFT}" y1="{_n(y(limit))}" x2="{WIDTH - RIGHT}" '
            f'y2="{_n(y(limit))}"/><text class="limit-label" x="{LEFT + 6}" '
            f'y="{_n(y(limit) - 5)}">limit {esc(human_bytes(limit))}</text>'
        )
    if samples:
        points = " ".join(f"{_n(x(t))},{_n(y(b))}" for t, b in samples)
        body.append(f'<polyline class="memory-line" points="{points}"/>')
        peak_t = next(t for t, b in samples if b == peak)
        # The label beside the mark, on whichever side has room for it.
        left_side = x(peak_t) > LEFT + 160
        label_x, anchor = (x(peak_t) - 10, "end") if left_side else (x(peak_t) + 10, "start")
        body.append(
            f'<circle class="memory-peak" cx="{_n(x(peak_t))}" cy="{_n(y(peak))}" r="5">'
            f"<title>peak {esc(human_bytes(peak))} at {peak_t:.1f} s</title></circle>"
            f'<text class="peak-label" x="{_n(label_x)}" y="{_n(y(peak) + 18)}" '
            f'text-anchor="{anchor}">peak {esc(human_bytes(peak))}</text>'
        )
        if memory.oom_killed:
            last_t, last_b = samples[-1]
            body.append(
                f'<text class="oom-mark" x="{_n(min(x(last_t), WIDTH - 120))}" '
                f'y="{_n(max(y(last_b) - 24, top + 12))}">OOM-killed</text>'
            )
    return _svg(height, f"memory: {memory.summary()}", body, esc, "memory")


def latency_histogram(load: LoadReport, esc: Escape) -> str:
    """Equal-width buckets of request latency (ms), with the percentiles as vertical lines."""
    buckets = [(_finite(bound), max(0, count)) for bound, count in load.histogram]
    height, top, bottom = 260, 24, 210
    x_top = max((bound for bound, _c in buckets), default=0.0)
    for name in PERCENTILE_LINES:
        x_top = max(x_top, _finite(load.latency_ms.get(name, 0.0)))
    x_top = x_top or 1.0
    y_top = max((c for _b, c in buckets), default=0) or 1
    plot_w = WIDTH - LEFT - RIGHT

    def x(ms: float) -> float:
        return LEFT + plot_w * ms / x_top

    body = [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
        f'<text class="tick" x="{LEFT}" y="{bottom + 18}" text-anchor="middle">0 ms</text>',
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{bottom + 18}" text-anchor="end">'
        f"{x_top:g} ms</text>",
        f'<text class="tick" x="{LEFT - 6}" y="{top + 4}" text-anchor="end">{y_top}</text>',
    ]
    low = 0.0
    for bound, count in buckets:
        bar_h = (bottom - top) * count / y_top
        body.append(
            f'<rect class="latency-bar" x="{_n(x(low) + 1)}" y="{_n(bottom - bar_h)}" '
            f'width="{_n(max(x(bound) - x(low) - 2, 1.0))}" height="{_n(bar_h)}">'
            f"<title>{low:g}–{bound:g} ms: {count} requests</title></rect>"
        )
        low = bound
    for i, name in enumerate(PERCENTILE_LINES):
        if name not in load.latency_ms:
            continue
        value = _finite(load.latency_ms[name])
        # The label right of its line, or left of it near the chart's right edge.
        near_edge = x(value) > WIDTH - RIGHT - 110
        label_x, anchor = (x(value) - 4, "end") if near_edge else (x(value) + 4, "start")
        body.append(
            f'<line class="percentile" data-percentile="{name}" x1="{_n(x(value))}" y1="{top}" '
            f'x2="{_n(x(value))}" y2="{bottom}"/><text class="percentile-label" '
            f'x="{_n(label_x)}" y="{top + 12 + 14 * i}" text-anchor="{anchor}">'
            f"{name} {value:g} ms</text>"
        )
    return _svg(height, f"latency of {load.requests} requests", body, esc, "latency")
