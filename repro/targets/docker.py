"""A running container, reached through the Docker API (``docker exec`` without the CLI).

Commands run with the exec API over a raw socket rather than ``exec_run``: that is the only way
to feed stdin and to stop waiting after a timeout (``exec_run`` blocks in an untimed poll).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import time
from collections.abc import Sequence
from typing import Any

from repro.errors import ProfileError, TargetError
from repro.targets.base import COMMAND_NOT_FOUND, DEFAULT_TIMEOUT, CommandResult
from repro.text import one_line

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# Docker reports every failure to start the process as exit code 126 with an OCI message on
# stdout; LocalTarget says 127 for a missing command, and facets rely on that.
_NOT_FOUND_MARKERS = ("executable file not found", "no such file or directory")
_EXEC_FAILED_MARKER = "OCI runtime exec failed"
_HEADER = struct.Struct(">BxxxL")  # stream id, 3 pad bytes, payload length


def engine_unavailable(exc: BaseException, engine: str | None = None) -> TargetError:
    """One line saying why the engine did not answer, without the urllib3 retry noise."""
    where = engine or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    text = str(exc)
    lowered = text.lower()
    if "filenotfounderror" in lowered or "no such file" in lowered:
        why = "no such socket"
    elif "permission" in lowered:
        why = "permission denied on the socket"
    elif "refused" in lowered:
        why = "connection refused"
    elif "timed out" in lowered or "timeout" in lowered:
        why = "timed out"
    else:
        why = one_line(text)[:200]
    return TargetError(
        f"Docker is not running ({where}: {why}); start the engine or set DOCKER_HOST"
    )


def engine_environment(engine: str | None) -> dict[str, str] | None:
    """The environment a docker SDK client reads to reach ``engine`` (a DOCKER_HOST value:
    ``unix://``, ``tcp://``, ``ssh://``), or None: this process's own (DOCKER_HOST)."""
    if engine is None:
        return None
    return {**os.environ, "DOCKER_HOST": engine}


def engine_client(timeout: int = 30, engine: str | None = None) -> Any:
    """A docker SDK client whose engine answered a ping; TargetError in one line otherwise.
    ``engine``: another engine than DOCKER_HOST's (``repro bisect --engine``)."""
    import docker

    try:
        client = docker.from_env(timeout=timeout, environment=engine_environment(engine))
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:  # requests' errors are OSErrors
        raise engine_unavailable(exc, engine) from None
    return client


class DockerTarget:
    kind = "docker"
    OPTIONS: dict[str, type] = {"container": str, "user": str}

    def __init__(self, container: str, user: str | None = None, *, client: Any = None) -> None:
        self.container_ref = container
        self.user = user
        self._client = client
        self._own_client = client is None
        self._container: Any = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DockerTarget:
        container = options.get("container")
        if not container:
            raise ProfileError("docker target: 'container' (a name or id) is required")
        target = cls(container, options.get("user"))
        target.connect()  # fail at open time with one clear line, not once per facet
        return target

    # --- connection ---------------------------------------------------------------------

    def connect(self) -> Any:
        """The running container object; raises TargetError if the engine or it is missing."""
        if self._container is not None:
            return self._container
        import docker

        if self._client is None:
            self._client = engine_client()
        try:
            container = self._client.containers.get(self.container_ref)
        except docker.errors.NotFound:
            raise TargetError(f"docker target: no container named {self.container_ref!r}") from None
        except docker.errors.DockerException as exc:
            raise engine_unavailable(exc) from None
        except OSError as exc:
            raise engine_unavailable(exc) from None
        if container.status != "running":
            raise TargetError(
                f"docker target: container {self.container_ref!r} is {container.status}, "
                "not running"
            )
        self._container = container
        return container

    def describe(self) -> dict[str, str]:
        container = self.connect()
        config = container.attrs.get("Config") or {}
        image = config.get("Image") or ""
        return {
            "kind": self.kind,
            "identity": f"{container.name} ({image})" if image else container.name,
            "user": self.user or config.get("User") or "root",
        }

    def native_environment(self) -> dict[str, str] | None:
        """What the container's main process was started with (image env + run-time env)."""
        container = self.connect()
        container.reload()
        env: dict[str, str] = {}
        for item in (container.attrs.get("Config") or {}).get("Env") or []:
            name, sep, value = str(item).partition("=")
            if sep:
                env[name] = value
        return env

    # --- commands -------------------------------------------------------------------------

    def run(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> CommandResult:
        import docker

        container = self.connect()
        api = self._client.api
        try:
            exec_id = api.exec_create(
                container.id, list(argv), stdin=stdin is not None, user=self.user or ""
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
            try:
                stdout, stderr, timed_out = _exchange(sock, stdin, timeout)
            finally:
                sock.close()
            if timed_out:
                # The process may still run in the container; the API cannot signal an exec.
                return CommandResult(
                    tuple(argv), 124, stdout, stderr + f"timed out after {timeout:g}s".encode()
                )
            code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.NotFound:
            raise TargetError(f"docker target: container {self.container_ref!r} is gone") from None
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # "container ... is not running"
                raise TargetError(
                    f"docker target: container {self.container_ref!r} is not running"
                ) from None
            raise TargetError(f"docker target: {exc.explanation or exc}") from None
        except OSError as exc:
            raise engine_unavailable(exc) from None
        return _result(tuple(argv), code, stdout, stderr)

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None
        self._container = None


def _result(argv: tuple[str, ...], code: int | None, stdout: bytes, stderr: bytes) -> CommandResult:
    if code is None:  # exec_inspect says still running: cannot happen after EOF, but be safe
        code = -1
    if code == 126 and _EXEC_FAILED_MARKER.encode() in stdout:
        # The runtime's own message arrives on stdout; it belongs on stderr.
        message = stdout.decode("utf-8", "replace")
        stdout, stderr = b"", stderr + stdout
        if any(marker in message for marker in _NOT_FOUND_MARKERS):
            code = COMMAND_NOT_FOUND
    return CommandResult(argv, code, stdout, stderr)


def _exchange(sock: Any, stdin: bytes | None, timeout: float) -> tuple[bytes, bytes, bool]:
    """Send stdin, read the multiplexed stdout/stderr frames until EOF or the deadline."""
    raw: socket.socket = getattr(sock, "_sock", sock)
    deadline = time.monotonic() + timeout
    if stdin is not None:
        raw.sendall(stdin)
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_WR)  # EOF on the process's stdin
    buffer = bytearray()
    streams: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _drain_frames(buffer, streams)
            return bytes(streams[1]), bytes(streams[2]), True
        readable, _, _ = select.select([raw], [], [], remaining)
        if not readable:
            continue
        chunk = raw.recv(65536)
        if not chunk:
            break
        buffer += chunk
        _drain_frames(buffer, streams)
    _drain_frames(buffer, streams)
    return bytes(streams[1]), bytes(streams[2]), False


def _drain_frames(buffer: bytearray, streams: dict[int, bytearray]) -> None:
    while len(buffer) >= _HEADER.size:
        stream, length = _HEADER.unpack_from(buffer)
        if len(buffer) < _HEADER.size + length:
            return
        payload = bytes(buffer[_HEADER.size : _HEADER.size + length])
        del buffer[: _HEADER.size + length]
        streams[2 if stream == 2 else 1] += payload
