"""The files facet against real files with real owners and modes (needs root to create them).

The tree lives in a world-traversable directory under /tmp (pytest's tmp_path is 0700, which
would make every path untraversable for the app user and hide what is being tested). A
throw-away user and group are created for the supplementary-group case and removed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repro.errors import ReproError
from repro.profile.facets import validate_options
from repro.profile.file import AppSpec, Profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.base import CaptureContext, sorted_tree
from repro.snapshot.file import FacetResult
from repro.snapshot.files import FACET, AppUser, Stat, allowed, ancestors
from repro.targets.base import Target
from repro.targets.local import LocalTarget

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="creating root-owned files needs root")


def capture(
    target: Target,
    paths: list[str],
    *,
    app_user: str | None = None,
    workdir: str | None = None,
    **options: Any,
) -> FacetResult:
    """As repro.snapshot.capture.capture_facet does (its registry imports every facet)."""
    red = Redactor(key=RedactionKey.from_bytes(b"test-team-key", "test"))
    ctx = CaptureContext(
        target=target,
        profile=Profile(name="test", path=None, app=AppSpec(user=app_user, workdir=workdir)),
        options=validate_options(FACET, {"paths": paths, **options}, "test"),
        redactor=red,
    )
    try:
        result = FACET.capture(ctx)
    except ReproError as exc:
        result = FacetResult(status="error", message=exc.one_line())
    result.data = sorted_tree(red.redact_tree(result.data))
    return result


@dataclass
class Account:
    user: str
    group: str
    gid: int


@pytest.fixture(scope="module")
def account() -> Iterator[Account]:
    """A user whose only way into ``shared.txt`` is a supplementary group."""
    if not IS_ROOT or not shutil.which("useradd"):
        pytest.skip("needs root and useradd")
    name = f"rt{uuid.uuid4().hex[:8]}"
    group = f"{name}g"
    subprocess.run(["groupadd", group], check=True)
    try:
        subprocess.run(
            ["useradd", "-M", "-N", "-g", "nogroup", "-G", group, "-s", "/usr/sbin/nologin", name],
            check=True,
        )
        try:
            gid = int(
                subprocess.run(
                    ["getent", "group", group], capture_output=True, text=True, check=True
                ).stdout.split(":")[2]
            )
            yield Account(user=name, group=group, gid=gid)
        finally:
            subprocess.run(["userdel", name], check=False)
    finally:
        subprocess.run(["groupdel", group], check=False)


@pytest.fixture
def tree(account: Account) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="repro-files-", dir="/tmp"))
    base.chmod(0o755)
    try:
        (base / "secret.txt").write_text("root only\n")
        (base / "secret.txt").chmod(0o600)
        (base / "public.txt").write_text("anyone\n")
        (base / "public.txt").chmod(0o644)
        (base / "shared.txt").write_text("group\n")
        os.chown(base / "shared.txt", 0, account.gid)
        (base / "shared.txt").chmod(0o640)
        (base / "run.sh").write_text("#!/bin/sh\n")
        (base / "run.sh").chmod(0o755)
        (base / "private").mkdir(mode=0o700)
        (base / "private").chmod(0o700)
        (base / "private" / "inside.txt").write_text("readable, but behind a 0700 dir\n")
        (base / "private" / "inside.txt").chmod(0o644)
        (base / "conf.d").mkdir(mode=0o755)
        for name in ("a.yaml", "b.yaml", "with space.yaml"):
            (base / "conf.d" / name).write_text(f"{name}: 1\n")
        (base / "link").symlink_to("public.txt")
        (base / "dangling").symlink_to("nowhere")
        yield base
    finally:
        shutil.rmtree(base)


# --- pure logic ------------------------------------------------------------------------------


def test_ancestors_are_the_directories_the_kernel_searches() -> None:
    assert ancestors("/a/b/c") == ["/a/b", "/a", "/"]
    assert ancestors("/a/b/") == ["/a", "/"]
    assert ancestors("rel/x") == ["rel"]
    assert ancestors("/") == []


def test_only_one_permission_class_applies() -> None:
    user = AppUser(name="app", uid=1000, gid=1000, groups={"app": 1000, "adm": 4})
    # The owner's bits apply to the owner even if others may read.
    assert not allowed(Stat(0o100077, 1000, 0, 0, "app", "root"), user, 4)
    # A supplementary group counts like the primary one.
    assert allowed(Stat(0o100640, 0, 4, 0, "root", "adm"), user, 4)
    assert not allowed(Stat(0o100640, 0, 4, 0, "root", "adm"), user, 2)
    root = AppUser(name="root", uid=0, gid=0, groups={"root": 0})
    assert allowed(Stat(0o100000, 5, 5, 0, None, None), root, 2)
    assert not allowed(Stat(0o100644, 5, 5, 0, None, None), root, 1)  # no x bit at all
    assert allowed(Stat(0o100744, 5, 5, 0, None, None), root, 1)
    assert allowed(Stat(0o040000, 5, 5, 0, None, None), root, 1)  # directories: always


def test_facet_shape() -> None:
    assert FACET.name == "files"
    assert set(FACET.options) == {"paths", "sha256", "max_hash_bytes"}
    defaults = validate_options(FACET, {}, "test")
    assert defaults["paths"] == [] and defaults["sha256"] is False


# --- real files ------------------------------------------------------------------------------


@needs_root
def test_app_user_nobody_sees_what_it_may_do(tree: Path) -> None:
    result = capture(LocalTarget(), [f"{tree}/*.txt", f"{tree}/run.sh"], app_user="nobody")
    assert result.status == "ok", result.problems
    assert result.data["app_user"] == {
        "name": "nobody",
        "uid": 65534,
        "gid": 65534,
        "groups": {"nogroup": 65534},
    }
    paths = result.data["paths"]
    secret = paths[f"{tree}/secret.txt"]
    assert secret["exists"] is True
    assert secret["type"] == "file"
    assert secret["mode"] == "0600"
    assert (secret["owner"], secret["uid"], secret["group"], secret["gid"]) == (
        "root",
        0,
        "root",
        0,
    )
    assert secret["size"] == len("root only\n")
    assert secret["access"] == {
        "read": False,
        "write": False,
        "execute": False,
        "path_traversable": True,
    }
    assert paths[f"{tree}/public.txt"]["access"]["read"] is True
    assert paths[f"{tree}/public.txt"]["access"]["write"] is False
    assert paths[f"{tree}/shared.txt"]["access"]["read"] is False  # not in the group
    assert paths[f"{tree}/run.sh"]["access"]["execute"] is True
    assert "sha256" not in secret  # only when asked


@needs_root
def test_a_supplementary_group_grants_read(tree: Path, account: Account) -> None:
    result = capture(LocalTarget(), [f"{tree}/shared.txt"], app_user=account.user)
    assert result.status == "ok", result.problems
    assert result.data["app_user"]["groups"] == {"nogroup": 65534, account.group: account.gid}
    shared = result.data["paths"][f"{tree}/shared.txt"]
    assert shared["group"] == account.group
    assert shared["mode"] == "0640"
    assert shared["access"]["read"] is True
    assert shared["access"]["write"] is False


@needs_root
def test_a_file_behind_a_0700_directory_is_unreadable(tree: Path) -> None:
    inside = f"{tree}/private/inside.txt"
    as_nobody = capture(LocalTarget(), [inside], app_user="nobody").data["paths"][inside]
    assert as_nobody["mode"] == "0644"
    assert as_nobody["access"] == {
        "read": False,
        "write": False,
        "execute": False,
        "path_traversable": False,
    }
    as_root = capture(LocalTarget(), [inside]).data["paths"][inside]  # app user: current (root)
    assert as_root["access"]["path_traversable"] is True
    assert as_root["access"]["read"] is True


@needs_root
def test_root_reads_and_writes_everything_but_executes_only_with_an_x_bit(tree: Path) -> None:
    result = capture(LocalTarget(), [f"{tree}/secret.txt", f"{tree}/run.sh"])
    assert result.data["app_user"]["uid"] == 0
    secret = result.data["paths"][f"{tree}/secret.txt"]["access"]
    assert (secret["read"], secret["write"], secret["execute"]) == (True, True, False)
    assert result.data["paths"][f"{tree}/run.sh"]["access"]["execute"] is True


@needs_root
def test_globs_missing_paths_and_odd_names(tree: Path) -> None:
    result = capture(
        LocalTarget(),
        [f"{tree}/conf.d/*.yaml", f"{tree}/*.nomatch", f"{tree}/absent.txt", f"{tree}/conf.d"],
        app_user="nobody",
    )
    assert result.status == "ok"
    paths = result.data["paths"]
    for name in ("a.yaml", "b.yaml", "with space.yaml"):
        assert paths[f"{tree}/conf.d/{name}"]["exists"] is True
    assert paths[f"{tree}/*.nomatch"] == {"exists": False, "matched": 0}
    assert paths[f"{tree}/absent.txt"] == {"exists": False}
    directory = paths[f"{tree}/conf.d"]
    assert directory["type"] == "directory"
    assert "size" not in directory  # directory sizes differ by filesystem, not by meaning
    assert directory["access"]["execute"] is True


@needs_root
def test_symlinks_record_their_target(tree: Path) -> None:
    result = capture(LocalTarget(), [f"{tree}/link", f"{tree}/dangling"], app_user="nobody")
    link = result.data["paths"][f"{tree}/link"]
    assert link["type"] == "symlink"
    assert link["target"] == "public.txt"
    assert link["resolved"]["type"] == "file"
    assert link["resolved"]["mode"] == "0644"
    assert link["access"]["read"] is True
    dangling = result.data["paths"][f"{tree}/dangling"]
    assert dangling["resolved"] == {"exists": False}
    assert dangling["access"]["read"] is False


@needs_root
def test_sha256(tree: Path) -> None:
    result = capture(
        LocalTarget(), [f"{tree}/public.txt", f"{tree}/conf.d"], app_user="nobody", sha256=True
    )
    expected = hashlib.sha256(b"anyone\n").hexdigest()
    assert result.data["paths"][f"{tree}/public.txt"]["sha256"] == expected
    assert "sha256" not in result.data["paths"][f"{tree}/conf.d"]  # directories are not hashed
    small = capture(LocalTarget(), [f"{tree}/public.txt"], sha256=True, max_hash_bytes=3)
    entry = small.data["paths"][f"{tree}/public.txt"]
    assert entry["sha256"] is None
    assert "max_hash_bytes" in entry["sha256_note"]
    assert small.status == "ok"


@needs_root
def test_unreadable_file_cannot_be_hashed(tree: Path) -> None:
    result = capture(LocalTarget(user="nobody"), [f"{tree}/secret.txt"], sha256=True)
    assert result.status == "partial"
    assert result.problems == [f"{tree}/secret.txt: cannot hash (permission denied)"]
    entry = result.data["paths"][f"{tree}/secret.txt"]
    assert entry["sha256"] is None and entry["mode"] == "0600"


@needs_root
def test_capturing_user_that_cannot_see_a_path_gives_partial(tree: Path) -> None:
    inside = f"{tree}/private/inside.txt"
    result = capture(LocalTarget(user="nobody"), [inside, f"{tree}/public.txt"])
    assert result.status == "partial"
    assert result.problems == [f"{inside}: permission denied"]
    assert result.data["paths"][inside] == {"error": "permission denied"}
    assert result.data["app_user"]["name"] == "nobody"  # the target's own user
    assert result.data["paths"][f"{tree}/public.txt"]["access"]["read"] is True


@needs_root
def test_unknown_app_user_is_a_problem_not_a_crash(tree: Path) -> None:
    result = capture(LocalTarget(), [f"{tree}/public.txt"], app_user="no-such-user-x")
    assert result.status == "partial"
    assert result.problems == ["app user 'no-such-user-x': no such user on the target"]
    assert result.data["app_user"] == {"name": "no-such-user-x", "error": "no such user"}
    assert "access" not in result.data["paths"][f"{tree}/public.txt"]


@needs_root
def test_relative_paths_use_the_app_workdir(tree: Path) -> None:
    result = capture(LocalTarget(), ["public.txt"], app_user="nobody", workdir=str(tree))
    assert result.data["paths"][f"{tree}/public.txt"]["exists"] is True


@needs_root
def test_two_captures_are_identical_and_hold_no_times(tree: Path) -> None:
    paths = [f"{tree}/*", f"{tree}/private/inside.txt"]
    first = capture(LocalTarget(), paths, app_user="nobody", sha256=True)
    (tree / "public.txt").touch()  # a new mtime/atime must not show
    second = capture(LocalTarget(), paths, app_user="nobody", sha256=True)
    assert json.dumps(first.data, sort_keys=True) == json.dumps(second.data, sort_keys=True)
    text = json.dumps(first.data)
    for word in ("time", "inode", 'ino"', 'dev"'):
        assert word not in text


def test_a_dead_shell_is_a_clean_error() -> None:
    class Broken:
        kind = "broken"

        def describe(self) -> dict[str, str]:
            return {"kind": "broken"}

        def run(self, argv: Any, *, timeout: float = 60, stdin: bytes | None = None) -> Any:
            from repro.targets.base import CommandResult

            return CommandResult(tuple(argv), 127, b"", b"sh: not found")

        def close(self) -> None:
            return None

    result = capture(Broken(), ["/etc/passwd"])
    assert result.status == "error"
    assert "sh: not found" in (result.message or "")


# --- in a container --------------------------------------------------------------------------

IMAGE = "repro/python-app:bookworm"


@pytest.mark.docker
def test_files_in_a_container(docker_client: Any) -> None:
    from repro.targets.docker import DockerTarget
    from tests.helpers import session_labels
    from tests.helpers.dockerutil import require_image

    require_image(docker_client, IMAGE)
    container = docker_client.containers.run(
        IMAGE,
        ["sleep", "infinity"],
        entrypoint=[],
        detach=True,
        labels=session_labels(),
        network_mode="none",
    )
    try:
        root = DockerTarget(container.id, client=docker_client)
        setup = root.run(
            [
                "sh",
                "-c",
                "mkdir -p /srv/app/private && echo s > /srv/app/secret && chmod 600 /srv/app/secret"
                " && echo p > /srv/app/public && chmod 644 /srv/app/public"
                " && echo i > /srv/app/private/in && chmod 700 /srv/app/private",
            ]
        )
        assert setup.ok, setup.error_text
        paths = ["/srv/app/*", "/srv/app/private/in"]
        result = capture(root, paths, app_user="nobody", sha256=True)
        assert result.status == "ok", result.problems
        data = result.data["paths"]
        assert data["/srv/app/secret"]["access"]["read"] is False
        assert data["/srv/app/public"]["access"]["read"] is True
        assert data["/srv/app/public"]["sha256"] == hashlib.sha256(b"p\n").hexdigest()
        assert data["/srv/app/private/in"]["access"]["path_traversable"] is False

        as_nobody = capture(DockerTarget(container.id, "nobody", client=docker_client), paths)
        assert as_nobody.status == "partial"
        assert as_nobody.data["paths"]["/srv/app/private/in"] == {"error": "permission denied"}
    finally:
        container.remove(force=True, v=True)
