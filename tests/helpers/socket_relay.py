"""A second address for a Docker engine: a Unix socket whose connections are relayed, byte for
byte, to the engine's own socket.

``repro bisect --engine A --engine B`` spreads its steps over the engines it is given; a test
of that needs two addresses. Where no second engine runs (CI starts one engine), this gives
the same engine a second address, so the spreading, the per-engine clean-up and the report's
per-engine counts are exercised on real sandboxes. It is a plain stream relay (HTTP, and the
hijacked streams of attach and exec, pass through unchanged), not a mock of the engine.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

_CHUNK = 64 * 1024


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(_CHUNK):
            sink.sendall(chunk)
    except OSError:
        pass  # the other direction closed both ends
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _serve_one(client: socket.socket, target: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(target)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


@contextlib.contextmanager
def relayed_engine(target_socket: str, folder: Path) -> Iterator[str]:
    """A ``unix://`` address for the engine at ``target_socket`` (a socket path), valid
    inside the ``with`` block."""
    path = folder / "engine-relay.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(64)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed: the block ended
            threading.Thread(target=_serve_one, args=(client, target_socket), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"unix://{path}"
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        acceptor.join(timeout=5)
        path.unlink(missing_ok=True)
