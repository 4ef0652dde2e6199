"""Throw-away containers for target and facet tests: the app image with planted canary secrets
and limits, and a busybox-only image (no package manager, no python, no libc).

Every container carries the session's repro.managed / repro.test labels and is removed by the
context manager that started it (the session sweep only catches what escapes).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.helpers import session_labels, skip_or_fail
from tests.helpers.dockerutil import require_image
from tests.helpers.wait import GiveUp, wait_until

APP_IMAGE = "repro/python-app:bookworm"
BUSYBOX_IMAGE = "repro-test/busybox:1"

TOKEN_CANARY = "canary-token-Qm7Zr4Kx9"
PASSWORD_CANARY = "canary-pw-Lp3Vd8Nw"
CANARIES = (TOKEN_CANARY, PASSWORD_CANARY)
APP_ENV = {
    "API_TOKEN": TOKEN_CANARY,
    "DATABASE_URL": f"postgresql://app:{PASSWORD_CANARY}@db:5432/app",
    "FEATURE_FLAG": "on",
    "TZ": "Europe/Berlin",
}
MEMORY_LIMIT = 256 * 1024 * 1024


def _running(container: Any) -> bool:
    container.reload()
    if container.status in ("exited", "dead"):
        logs = container.logs(tail=20).decode("utf-8", "replace")
        raise GiveUp(f"container {container.name} exited: {logs}")
    return bool(container.status == "running")


@contextmanager
def running_container(client: Any, image: str, command: list[str], **kwargs: Any) -> Iterator[Any]:
    """Start a labelled container, wait (polling) until it runs, remove it afterwards."""
    require_image(client, image)
    container = client.containers.run(
        image,
        command,
        name=f"repro-test-{uuid.uuid4().hex[:10]}",
        detach=True,
        labels=session_labels(),
        **kwargs,
    )
    try:
        wait_until(lambda: _running(container), timeout=30, what=f"{image} to run")
        yield container
    finally:
        container.remove(force=True, v=True)


@contextmanager
def app_container(client: Any, command: list[str] | None = None, **kwargs: Any) -> Iterator[Any]:
    """The app image with canary secrets, a 256 MiB memory limit, half a CPU, 100 pids."""
    options: dict[str, Any] = {
        "environment": APP_ENV,
        "mem_limit": "256m",
        "nano_cpus": 500_000_000,
        "pids_limit": 100,
        **kwargs,
    }
    with running_container(client, APP_IMAGE, command or ["sleep", "600"], **options) as c:
        yield c


def busybox_image(client: Any) -> str:
    """A one-binary image: the host's static busybox and its applet links, nothing else.

    Built with `docker import` (no registry here); reused once it exists.
    """
    import docker

    try:
        client.images.get(BUSYBOX_IMAGE)
        return BUSYBOX_IMAGE
    except docker.errors.ImageNotFound:
        pass
    busybox = shutil.which("busybox")
    if busybox is None:
        skip_or_fail("busybox missing on the host (apt package busybox-static)")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("bin", "etc", "proc", "sys", "tmp", "dev"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        group = b"root:x:0:\nnogroup:x:65534:\n"
        for name, content in (("etc/passwd", passwd), ("etc/group", group)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    client.api.import_image_from_data(
        buffer.getvalue(),
        repository=BUSYBOX_IMAGE.split(":")[0],
        tag=BUSYBOX_IMAGE.split(":")[1],
        changes=["ENV PATH=/bin", 'CMD ["/bin/sh"]'],
    )
    return BUSYBOX_IMAGE


@contextmanager
def busybox_container(client: Any) -> Iterator[Any]:
    with running_container(client, busybox_image(client), ["sleep", "600"]) as container:
        yield container
