"""The ssh target: exact command lines (pure), and for real against the sshd_server fixture."""

from __future__ import annotations

from typing import Any

import pytest

from repro.errors import ProfileError, TargetError
from repro.profile.file import parse_profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.capture import capture_snapshot
from repro.snapshot.registry import FACETS
from repro.targets.ssh import SshSpec, SshTarget, spec_from_options, ssh_argv, ssh_error_line
from tests.helpers.target_contract import check_contract


def options_for(server: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "identity_file": str(server.identity_file),
        "known_hosts_file": str(server.known_hosts),
        "strict_host_key_checking": "yes",
    }


def test_command_line_minimal() -> None:
    assert ssh_argv(SshSpec(host="web-1"), ["cat", "/etc/app conf"]) == [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "web-1",
        "--",
        "cat '/etc/app conf'",
    ]


def test_command_line_full() -> None:
    spec = spec_from_options(
        {
            "host": "10.0.0.5",
            "user": "deploy",
            "port": 2222,
            "identity_file": "/keys/id",
            "known_hosts_file": "/keys/known",
            "strict_host_key_checking": "yes",
            "options": {"ProxyJump": "bastion", "ConnectTimeout": 3},
        }
    )
    assert ssh_argv(spec, ["sh", "-c", "echo $1", "repro", "a'b"]) == [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=3",  # the profile's value wins over the default
        "-o",
        "ProxyJump=bastion",
        "-p",
        "2222",
        "-i",
        "/keys/id",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "UserKnownHostsFile=/keys/known",
        "-o",
        "StrictHostKeyChecking=yes",
        "deploy@10.0.0.5",
        "--",
        "sh -c 'echo $1' repro 'a'\"'\"'b'",
    ]


def test_batch_mode_cannot_be_turned_off() -> None:
    argv = ssh_argv(SshSpec(host="h", options={"batchmode": "no"}), ["true"])
    assert argv[1:3] == ["-o", "BatchMode=yes"] and "batchmode=no" not in argv


def test_master_and_multiplexed_command_lines() -> None:
    master = ssh_argv(SshSpec(host="h"), None, control_path="/tmp/x/cm", master=True)
    assert master[-1] == "h" and "--" not in master
    assert {"-M", "-N", "-f", "ControlMaster=yes", "ControlPath=/tmp/x/cm"} <= set(master)
    client = ssh_argv(SshSpec(host="h"), ["id"], control_path="/tmp/x/cm")
    assert {"ControlMaster=no", "ControlPath=/tmp/x/cm"} <= set(client)
    assert client[-3:] == ["h", "--", "id"]


def test_profile_mistakes_are_profile_errors() -> None:
    with pytest.raises(ProfileError, match="'host' is required"):
        spec_from_options({})
    with pytest.raises(ProfileError, match="strict_host_key_checking"):
        spec_from_options({"host": "h", "strict_host_key_checking": "maybe"})
    with pytest.raises(ProfileError, match=r"options\.Port"):
        spec_from_options({"host": "h", "options": {"Port": ["22"]}})


def test_error_line_skips_warnings() -> None:
    stderr = b"Warning: Permanently added 'h' (ED25519) to the list of known hosts.\r\n"
    assert ssh_error_line(stderr + b"Permission denied (publickey).\r\n") == (
        "Permission denied (publickey)."
    )
    assert ssh_error_line(b"") == "ssh failed without a message"


def test_contract_for_real(sshd_server: Any) -> None:
    target = SshTarget.from_options(options_for(sshd_server))
    try:
        check_contract(target)
        assert target.describe() == {
            "kind": "ssh",
            "identity": f"{sshd_server.host}:{sshd_server.port}",
            "user": "root",
        }
    finally:
        target.close()


def test_user_from_the_host_when_not_configured(sshd_server: Any) -> None:
    # ssh's default user is the local one; here both are root, so ask the host.
    options = {k: v for k, v in options_for(sshd_server).items() if k != "user"}
    target = SshTarget.from_options(options)
    try:
        assert target.describe()["user"] == "root"
    finally:
        target.close()


def test_unknown_host_key_is_refused_with_strict_checking(sshd_server: Any, tmp_path: Any) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = {**options_for(sshd_server), "known_hosts_file": str(empty)}
    with pytest.raises(TargetError, match="Host key verification failed"):
        SshTarget.from_options(options)


def test_unreachable_host_is_a_target_error() -> None:
    with pytest.raises(TargetError, match=r"^ssh 127\.0\.0\.1: .*Connection refused"):
        SshTarget.from_options({"host": "127.0.0.1", "port": 1})


def test_without_multiplexing(sshd_server: Any) -> None:
    target = SshTarget(spec_from_options(options_for(sshd_server)), multiplex=False)
    assert target.run(["echo", "direct"]).text == "direct\n"
    target.close()


def test_snapshot_through_a_profile(sshd_server: Any) -> None:
    options = options_for(sshd_server)
    profile = parse_profile(
        {"target": {"kind": "ssh", **options}}, where="t", default_name="h", catalog=FACETS
    )
    redactor = Redactor(key=RedactionKey.from_bytes(b"team", "test"))
    snapshot = capture_snapshot(profile, redactor, facets=["env", "runtime", "files"])
    statuses = {name: (f.status, f.message, f.problems) for name, f in snapshot.facets.items()}
    assert {s[0] for s in statuses.values()} == {"ok"}, statuses
    assert snapshot.target == {
        "kind": "ssh",
        "identity": f"{sshd_server.host}:{sshd_server.port}",
        "user": "root",
    }
