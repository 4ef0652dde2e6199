"""The kubectl target. There is no Kubernetes cluster on these machines (and no registry to
run one from), so a live `kubectl exec` cannot be tested: the tests pin the exact command
lines, the missing-binary error, and — with the real kubectl, when installed — that an
unreachable API server is a TargetError rather than a command result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from repro.errors import ProfileError, TargetError
from repro.targets.kubectl import (
    KubectlSpec,
    KubectlTarget,
    kubectl_argv,
    kubectl_failure,
    spec_from_options,
)
from tests.helpers.wait import free_port


def test_full_command_line() -> None:
    spec = spec_from_options(
        {
            "pod": "app-0",
            "namespace": "shop",
            "container": "web",
            "context": "prod",
            "kubeconfig": "/k",
        }
    )
    assert kubectl_argv(spec, ["env"]) == [
        "kubectl",
        "--context",
        "prod",
        "--kubeconfig",
        "/k",
        "-n",
        "shop",
        "exec",
        "app-0",
        "-c",
        "web",
        "--",
        "env",
    ]
    assert spec.identity == "prod:shop/app-0/web"


def test_minimal_command_line_with_stdin() -> None:
    # argv after "--" is passed as is: kubectl exec runs no shell in between.
    assert kubectl_argv(KubectlSpec(pod="p"), ["sh", "-c", "cat $1"], stdin=True) == [
        "kubectl",
        "exec",
        "-i",
        "p",
        "--",
        "sh",
        "-c",
        "cat $1",
    ]


def test_pod_is_required() -> None:
    with pytest.raises(ProfileError, match="'pod' is required"):
        spec_from_options({"namespace": "x"})


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no kubectl
    with pytest.raises(TargetError, match=r"kubectl target: 'kubectl' is not installed"):
        KubectlTarget.from_options({"pod": "app-0"})


def test_own_failures_are_told_apart_from_the_command_s() -> None:
    assert kubectl_failure(b'Error from server (NotFound): pods "x" not found\n') == (
        'Error from server (NotFound): pods "x" not found'
    )
    assert kubectl_failure(b"cat: /x: No such file or directory\n") is None


def test_unreachable_cluster_is_a_target_error(tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl not installed")
    # A kubeconfig naming a closed port on this machine: kubectl fails before any exec.
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
        f"clusters: [{{name: t, cluster: {{server: 'http://127.0.0.1:{free_port()}'}}}}]\n"
        "contexts: [{name: t, context: {cluster: t, user: t}}]\n"
        "users: [{name: t, user: {}}]\n"
    )
    target = KubectlTarget.from_options({"pod": "app-0", "kubeconfig": str(config)})
    with pytest.raises(TargetError, match=r"^kubectl app-0: .*(refused|Unable to connect)"):
        target.run(["true"], timeout=60)


def test_missing_command_in_the_pod_is_127(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in kubectl printing what a real one prints for a missing binary (containerd):
    # the only part of this file that fakes kubectl, because only a cluster could produce it.
    fake = tmp_path / "kubectl"
    fake.write_text(
        "#!/bin/sh\necho 'error: Internal error occurred: error executing command in container:"
        " failed to exec in container: OCI runtime exec failed: exec failed: unable to start"
        ' container process: exec: "nope": executable file not found in $PATH: unknown\' >&2\n'
        "exit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    target = KubectlTarget.from_options({"pod": "app-0"})
    assert target.run(["nope"]).returncode == 127
