"""A container in a Kubernetes pod, reached with ``kubectl exec`` (the user's kubeconfig and
credentials just work, as with ``ssh``).

The command lines come from :func:`kubectl_argv`, a pure function: there is no cluster on the
test machines (no image registry to pull one from), so tests pin the exact command lines, the
missing-binary error and the real kubectl's unreachable-cluster error instead of a live exec.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from repro.errors import ProfileError, TargetError
from repro.targets.base import (
    COMMAND_NOT_FOUND,
    DEFAULT_TIMEOUT,
    CommandResult,
    not_an_option,
    run_command,
)

# kubectl passes the remote exit code through, so only its own messages tell "could not reach
# the pod" apart from "the command failed". These are the prefixes kubectl and the API use.
_KUBECTL_FAILURE = re.compile(
    r"^(?:error: |Error from server|Unable to connect to the server|The connection to the server"
    r"|error dialing backend).*$",
    re.MULTILINE,
)
# The runtime's "cannot start the process" messages: a missing command, 127 as elsewhere.
_NOT_FOUND = re.compile(
    r'executable file not found|exec: "?[^"\s]+"?: (?:stat \S+: )?(?:not found|no such file)'
)


@dataclass(frozen=True)
class KubectlSpec:
    pod: str
    namespace: str | None = None
    container: str | None = None
    context: str | None = None
    kubeconfig: str | None = None

    @property
    def identity(self) -> str:
        where = f"{self.namespace}/{self.pod}" if self.namespace else self.pod
        if self.container:
            where = f"{where}/{self.container}"
        return f"{self.context}:{where}" if self.context else where


def kubectl_argv(
    spec: KubectlSpec, argv: Sequence[str], *, stdin: bool = False, binary: str = "kubectl"
) -> list[str]:
    """``kubectl [--context C] [--kubeconfig F] [-n NS] exec [-i] POD [-c C] -- argv``."""
    out = [binary]
    if spec.context:
        out += ["--context", spec.context]
    if spec.kubeconfig:
        out += ["--kubeconfig", spec.kubeconfig]
    if spec.namespace:
        out += ["-n", spec.namespace]
    out.append("exec")
    if stdin:
        out.append("-i")  # without it kubectl does not forward stdin at all
    out.append(spec.pod)
    if spec.container:
        out += ["-c", spec.container]
    out += ["--", *argv]
    return out


def spec_from_options(options: dict[str, Any]) -> KubectlSpec:
    pod = options.get("pod")
    if not pod:
        raise ProfileError("kubectl target: 'pod' is required")
    for key in ("pod", "namespace", "container", "context"):
        not_an_option("kubectl", key, options.get(key))
    kubeconfig = options.get("kubeconfig")
    return KubectlSpec(
        pod=pod,
        namespace=options.get("namespace"),
        container=options.get("container"),
        context=options.get("context"),
        kubeconfig=os.path.expanduser(kubeconfig) if kubeconfig else None,
    )


def kubectl_failure(stderr: bytes) -> str | None:
    """kubectl's own error line (not the remote command's), or None.

    klog lines ("E1128 17:30:36.125 memcache.go:265] ...") come before the summary kubectl
    prints last, which is the line worth showing.
    """
    text = stderr.decode("utf-8", "replace")
    lines = [m.group(0).strip() for m in _KUBECTL_FAILURE.finditer(text)]
    return lines[-1] if lines else None


class KubectlTarget:
    kind = "kubectl"
    OPTIONS: dict[str, type] = {
        "pod": str,
        "namespace": str,
        "container": str,
        "context": str,
        "kubeconfig": str,
    }

    def __init__(self, spec: KubectlSpec, *, binary: str = "kubectl") -> None:
        self.spec = spec
        self.binary = binary
        self._remote_user: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> KubectlTarget:
        target = cls(spec_from_options(options))
        target.check_binary()
        return target

    def check_binary(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise TargetError(
                f"kubectl target: {self.binary!r} is not installed or not on PATH "
                "(install kubectl to capture a pod)"
            )
        return path

    def describe(self) -> dict[str, str]:
        if self._remote_user is None:  # the image decides the user: ask the container
            result = self.run(["id", "-un"], timeout=30)
            self._remote_user = result.text.strip() if result.ok else "unknown"
        return {"kind": self.kind, "identity": self.spec.identity, "user": self._remote_user}

    def run(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> CommandResult:
        full = kubectl_argv(self.spec, argv, stdin=stdin is not None, binary=self.binary)
        try:
            result = run_command(full, argv, timeout=timeout, stdin=stdin)
        except FileNotFoundError:
            self.check_binary()
            raise TargetError(f"kubectl target: cannot run {self.binary!r}") from None
        if not result.ok:  # a timeout's own message ("timed out after") is no kubectl failure
            stderr = result.stderr.decode("utf-8", "replace")
            if _NOT_FOUND.search(stderr):
                return CommandResult(tuple(argv), COMMAND_NOT_FOUND, result.stdout, result.stderr)
            # kubectl adds this line when the remote command ran and failed: not our failure.
            ran = "command terminated with exit code" in stderr
            failure = None if ran else kubectl_failure(result.stderr)
            if failure is not None:
                raise TargetError(f"kubectl {self.spec.identity}: {failure}")
        return result

    def close(self) -> None:
        return None
