"""Environment variables of the app process."""

from __future__ import annotations

import re

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, fixed, kinds
from repro.diff.values import show
from repro.redacted import is_redacted

# Time and language of the process: the classic "dates are off by a day only in prod".
_LOCALE = re.compile(r"^(TZ|LANG|LANGUAGE|LC_[A-Z_]+)$")
# Where the process looks for programs and writes per-user files: rarely the cause, and they
# differ between any two hosts, so they stay visible but low.
_HOST_PATHS = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR"})
# Kubernetes injects service links (FOO_SERVICE_HOST, FOO_PORT=tcp://...) for every service
# in the namespace; they say which services exist, not how the app is configured.
_SERVICE_LINK = re.compile(
    r"^(KUBERNETES_.*|.+_SERVICE_(HOST|PORT(_.+)?)|.+_PORT(_\d+_(TCP|UDP).*)?)$"
)


def _service_link(change: Change, ctx: Context) -> Assessment | None:
    if not _SERVICE_LINK.match(change.name):
        return None
    value = change.left if change.kind != "only_in_staging" else change.right
    if change.name.endswith("_PORT") and not str(value).startswith(("tcp://", "udp://")):
        return None  # an app's own FOO_PORT=8080 setting, not a service link
    return Assessment("info", f"container service link: {change.name} (which services exist)")


def _locale(change: Change, ctx: Context) -> Assessment | None:
    if not _LOCALE.match(change.name):
        return None
    left, right = show(change.left), show(change.right)
    return Assessment(
        "high",
        f"time zone or locale of the process: {change.name} is {left} in {ctx.left_label}, "
        f"{right} in {ctx.right_label}",
    )


def _host_paths(change: Change, ctx: Context) -> Assessment | None:
    if change.name not in _HOST_PATHS:
        return None
    return Assessment(
        "low",
        f"{change.name} differs between hosts: "
        f"{ctx.left_label} {show(change.left)} vs {ctx.right_label} "
        f"{show(change.right)}",
    )


def _secret_changed(change: Change, ctx: Context) -> Assessment | None:
    if not (is_redacted(change.left) or is_redacted(change.right)):
        return None
    return Assessment(
        "medium",
        f"secret {change.name} differs (compared by fingerprint): {ctx.left_label} "
        f"{show(change.left)} vs {ctx.right_label} {show(change.right)}",
    )


RULES: list[Rule] = [
    Rule("env.service-link", "env.vars.*", _service_link),
    Rule("env.locale", "env.vars.*", _locale),
    Rule("env.host-paths", "env.vars.*", _host_paths),
    Rule(
        "env.only-in-prod",
        "env.vars.*",
        fixed("high", "set only in {L}: {name}={left}"),
        kinds("only_in_prod"),
    ),
    Rule(
        "env.only-in-staging",
        "env.vars.*",
        fixed("medium", "not set in {L} (set in {R}: {name}={right}); the app's default applies"),
        kinds("only_in_staging"),
    ),
    Rule("env.secret-differs", "env.vars.*", _secret_changed, kinds("changed")),
    Rule("env.value-differs", "env.vars.*", fixed("medium", "{name}: {L} {left} vs {R} {right}")),
    Rule("env.source", "env.source", fixed("low", "captured from {L} {left} vs {R} {right}")),
]
