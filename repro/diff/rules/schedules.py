"""Cron jobs and timers: what runs without a request (the 3 a.m. job that locks a table)."""

from __future__ import annotations

from typing import Any

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, differs, fixed, kinds
from repro.diff.values import masked_text, show


def job_text(job: Any) -> str:
    """``runs 0 3 * * * as root: backup.sh`` from a job entry."""
    if not isinstance(job, dict):
        return show(job)
    schedule = show(job.get("schedule"), 40)
    user = show(job.get("user"), 20)
    command = masked_text(job.get("command"), 80)
    return f"runs {schedule} as {user}: {command}"


def _job(change: Change, ctx: Context) -> Assessment | None:
    if change.kind == "only_in_prod":
        text = job_text(change.left).replace(": ", f" in {ctx.left_label} only: ", 1)
        return Assessment("medium", text)
    if change.kind == "only_in_staging":
        text = job_text(change.right).replace(": ", f" in {ctx.right_label} only: ", 1)
        return Assessment("low", text)
    return None


def _job_subject(keys: tuple[str, ...]) -> str:
    return f"job {keys[1]}"


RULES: list[Rule] = [
    Rule("schedules.job", "schedules.jobs.*", _job, kinds("only_in_prod", "only_in_staging")),
    Rule("schedules.job", "schedules.jobs.*.**", differs("medium", _job_subject)),
    Rule("schedules.cron-env", "schedules.cron_env.**", fixed("low")),
    Rule(
        "schedules.systemd",
        "schedules.systemd_running",
        fixed("medium", "systemd running: {L} {left} vs {R} {right} (timers fire only with it)"),
    ),
]
