"""The sandbox's answer to "where is api.example.com?": nowhere, at once, and noted.

The app container's resolver (Docker's embedded DNS) forwards names it does not know (anything
but the sandbox's own containers) to this responder on the network's gateway; every one gets
NXDOMAIN immediately, so a call to an outside service the profile does not stub fails fast
instead of waiting out the resolver's timeouts (10 s on Docker's resolver), and the report can
list the outside names the app tried to reach. Services that are stubbed never get here: their
names are in the app's /etc/hosts.

DNS listens on port 53 only (Docker's ``dns`` option takes an address, not a port): a
process that may not bind it (not root) runs without the responder and the report says so.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

from repro.replay.background_server import POLL_S

log = logging.getLogger(__name__)

DNS_PORT = 53
MAX_NAMES = 1000  # distinct names kept
_TYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV", 65: "HTTPS"}


@dataclass
class Lookup:
    name: str
    kind: str  # "A", "AAAA"...
    first_at: float  # seconds since the responder (or its last clear) started
    count: int = 1


def question(packet: bytes) -> tuple[str, int, int] | None:
    """(name, qtype, end offset of the question) of a standard query, or None for anything
    else (a response, several questions, compression in the question, a label over 63)."""
    if len(packet) < 17 or packet[2] & 0x80 or packet[2] & 0x78:
        return None  # too short, a response, or not a standard query
    if int.from_bytes(packet[4:6], "big") != 1:
        return None
    labels: list[str] = []
    pos = 12
    while True:
        if pos >= len(packet):
            return None
        size = packet[pos]
        pos += 1
        if size == 0:
            break
        if size > 63 or pos + size > len(packet) or sum(map(len, labels)) + size > 253:
            return None
        label = packet[pos : pos + size]
        if not all(32 < b < 127 for b in label):
            return None
        labels.append(label.decode("ascii"))
        pos += size
    if pos + 4 > len(packet):
        return None
    qtype = int.from_bytes(packet[pos : pos + 2], "big")
    return ".".join(labels).lower(), qtype, pos + 4


def nxdomain(packet: bytes, end: int) -> bytes:
    """The answer to ``packet``'s question: the name does not exist (RCODE 3)."""
    flags = 0x8000 | (int.from_bytes(packet[2:4], "big") & 0x0100) | 0x0080 | 3  # QR, RD, RA
    return (
        packet[:2]
        + flags.to_bytes(2, "big")
        + b"\x00\x01\x00\x00\x00\x00\x00\x00"
        + (packet[12:end])
    )


class NameResponder:
    """NXDOMAIN for every name, on ``host``:53 (UDP); names asked are kept."""

    def __init__(self, host: str, port: int = DNS_PORT) -> None:
        self.host, self.requested_port = host, port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._lookups: dict[tuple[str, str], Lookup] = {}
        self._epoch = time.monotonic()
        self._stop = threading.Event()

    def start(self) -> NameResponder:
        """Raises OSError when the port cannot be bound (PermissionError when not root)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(POLL_S)  # how soon stop() is noticed
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="sandbox-dns", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
        self._sock = self._thread = None

    def __enter__(self) -> NameResponder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def lookups(self) -> list[Lookup]:
        with self._lock:
            return sorted(self._lookups.values(), key=lambda item: item.first_at)

    def clear(self) -> None:
        with self._lock:
            self._lookups.clear()
            self._epoch = time.monotonic()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                packet, peer = self._sock.recvfrom(1500)
            except TimeoutError:
                continue
            except OSError:
                return
            asked = question(packet)
            if asked is None:
                continue
            name, qtype, end = asked
            self._note(name, _TYPES.get(qtype, str(qtype)))
            try:
                self._sock.sendto(nxdomain(packet, end), peer)
            except OSError:
                log.debug("sandbox dns: could not answer %s", peer, exc_info=True)

    def _note(self, name: str, kind: str) -> None:
        with self._lock:
            found = self._lookups.get((name, kind))
            if found is not None:
                found.count += 1
            elif len(self._lookups) < MAX_NAMES:
                at = round(time.monotonic() - self._epoch, 3)
                self._lookups[(name, kind)] = Lookup(name, kind, at)
