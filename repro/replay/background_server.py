"""A socketserver serving from a daemon thread: started and stopped the same way by repro's
Sentry sink and by the third parties' stubs."""

from __future__ import annotations

import socketserver
import threading

# How often a server looks for shutdown: every stop waits up to this long, and a sandbox stops
# several servers one after another while the user waits for the exit.
POLL_S = 0.05


def serve_in_background(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Serve ``server`` from a daemon thread (polling for shutdown every 0.05 s)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_S}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(
    server: socketserver.BaseServer | None, thread: threading.Thread | None
) -> None:
    """Stop and close ``server`` (when running) and wait up to 5 s for its thread."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=5)
