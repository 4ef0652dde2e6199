"""Secrets never leave the host: find them and replace them by keyed fingerprints.

A secret becomes ``{"redacted": true, "fingerprint": "hmac-sha256:<key-id>:<hex>"}``. With the
same team key, two environments holding the same secret get the same fingerprint, so ``repro
diff`` can say "same" or "differs" without either value. Fingerprints made with different keys
carry different key ids and are reported as incomparable.

For URLs only the password is a secret: ``postgresql://app:pw@db:5432/x`` keeps its host visible
as ``{"redacted": true, "fingerprint": ..., "masked": "postgresql://app:***@db:5432/x"}``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.detector import (
    NameVerdict,
    auth_parts,
    judge_name,
    looks_high_entropy,
    looks_tokenish,
    secret_spans,
    shannon_entropy,
    url_password,
    value_looks_secret,
)
from repro.errors import ProfileError

# Re-exported (their home is repro.redacted, which the diff reads without the detectors).
from repro.redacted import fingerprint_key_id as fingerprint_key_id
from repro.redacted import is_redacted as is_redacted

__all__ = [
    "MASK",
    "RedactionKey",
    "Redactor",
    "fingerprint_key_id",
    "is_redacted",
    "looks_high_entropy",
    "scrub_all",
    "scrub_shapes",
    "shannon_entropy",
    "value_looks_secret",
]

ALGORITHM = "hmac-sha256"
KEY_ENV = "REPRO_REDACTION_KEY"
KEY_FILE_ENV = "REPRO_REDACTION_KEY_FILE"
MASK = "***"
WITHHELD = "[text withheld: it could not be checked for secrets]"
# A value judged secret is scrubbed from other places of the same document when it is at least
# this long (shorter ones only where a whole value equals it: "admin" must not mask "admins").
_PROPAGATE_EXACT = 4
_PROPAGATE_SUBSTRING = 8


@dataclass
class RedactionKey:
    secret: bytes
    key_id: str
    source: str  # "env", "file:<path>", "generated:<path>", "ephemeral"

    @classmethod
    def from_bytes(cls, secret: bytes, source: str) -> RedactionKey:
        key_id = hashlib.sha256(b"repro-key-id:" + secret).hexdigest()[:12]
        return cls(secret=secret, key_id=key_id, source=source)


def default_key_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "repro" / "redaction.key"


def load_key(key_file: str | None = None, *, create: bool = True) -> RedactionKey:
    """Find the team key: $REPRO_REDACTION_KEY, a key file, or a per-user generated one.

    A generated key makes snapshots from this user comparable with each other; snapshots from
    machines with other keys get other key ids and their fingerprints are incomparable.
    """
    env_value = os.environ.get(KEY_ENV)
    if env_value:
        return RedactionKey.from_bytes(env_value.encode(), "env")
    path_text = key_file or os.environ.get(KEY_FILE_ENV)
    if path_text:
        path = Path(path_text).expanduser()
        try:
            data = path.read_bytes().strip()
        except OSError as exc:
            raise ProfileError(f"cannot read redaction key file {path}: {exc.strerror}") from None
        if not data:
            raise ProfileError(f"redaction key file {path} is empty")
        return RedactionKey.from_bytes(data, f"file:{path}")
    path = default_key_path()
    try:
        return RedactionKey.from_bytes(path.read_bytes().strip(), f"file:{path}")
    except OSError:
        pass
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_hex(32).encode())
            return RedactionKey.from_bytes(path.read_bytes().strip(), f"generated:{path}")
        except OSError:
            pass
    return RedactionKey.from_bytes(secrets.token_bytes(32), "ephemeral")


@dataclass
class Redactor:
    """Replaces secrets by fingerprints and remembers them, to scrub any later text."""

    key: RedactionKey
    extra_secret_names: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _name_cache: dict[str, NameVerdict] = field(default_factory=dict)
    # The known secrets as one regex, and how many secrets it was built from: ``_seen`` only
    # grows, so a count that differs means a stale pattern (also when another thread
    # remembered a secret while this one was building it).
    _pattern: re.Pattern[str] | None = None
    _pattern_of: int = -1

    def fingerprint(self, value: str) -> str:
        digest = hmac.new(self.key.secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return f"{ALGORITHM}:{self.key.key_id}:{digest.hexdigest()[:32]}"

    def remember(self, value: str) -> None:
        """Known secret text: scrubbed from every message and log from now on (and, when it
        is distinctive enough, from every other place of the document being redacted)."""
        if len(value) >= _PROPAGATE_EXACT and value not in self._seen:
            self._seen.add(value)
            for part in auth_parts(value):  # "Bearer TOKEN": the token alone is secret too
                if part != value and len(part) >= _PROPAGATE_EXACT and part not in _AUTH_WORDS:
                    self._seen.add(part)

    def knows(self, value: str) -> bool:
        return value in self._seen

    def redact_value(self, value: str) -> dict[str, Any]:
        self.remember(value)
        return {"redacted": True, "fingerprint": self.fingerprint(value)}

    def verdict(self, name: str) -> NameVerdict:
        cached = self._name_cache.get(name)
        if cached is None:
            cached = self._name_cache[name] = self._judge_name(name)
        return cached

    def name_is_secret(self, name: str) -> bool:
        """The name alone makes its value a secret (DB_PASSWORD, api_key, Authorization)."""
        return self.verdict(name) is NameVerdict.SECRET

    def is_secret(self, name: str, value: str) -> bool:
        """The verdict for one named value: by its name, by its shape, or because the same
        value was already judged secret elsewhere in this document."""
        if not value:
            return False
        verdict = self.verdict(name)
        if verdict is NameVerdict.SECRET or value in self._seen:
            return True
        if verdict is NameVerdict.MAYBE and looks_tokenish(value):
            return True
        return value_looks_secret(value)

    def _judge_name(self, name: str) -> NameVerdict:
        last = re.split(r"[./\[\]]", name.strip("./[]"))[-1] if name else name
        for pattern in self.extra_secret_names:
            if fnmatch.fnmatchcase(name.lower(), pattern.lower()) or fnmatch.fnmatchcase(
                last.lower(), pattern.lower()
            ):
                return NameVerdict.SECRET
        return judge_name(name)

    def redact_url(self, text: str) -> dict[str, Any] | None:
        """Redact only the password of a URL, keeping scheme, user, host and path visible.
        Never raises: a URL with a bad port or host is masked all the same."""
        stripped = text.strip()
        span = url_password(stripped)
        if span is None or not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://\S*$", stripped):
            return None
        start, end = span
        if stripped.find("@", end) != end:
            return None
        password = stripped[start:end]
        self.remember(password)
        masked = stripped[:start] + MASK + stripped[end:]
        return {"redacted": True, "fingerprint": self.fingerprint(password), "masked": masked}

    def redact_scalar(self, name: str, value: Any) -> Any:
        """Redact one leaf value given the name of its key."""
        if is_redacted(value) or value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return self.redact_value(str(value)) if self.name_is_secret(name) else value
        if not isinstance(value, str) or not value:
            return value
        url = self.redact_url(value)
        if url is not None:
            return url
        if self.is_secret(name, value.strip()) and not _only_embedded(value):
            return self.redact_value(value)
        return self.scrub_embedded(value, prose=name == "comment")

    def scrub_embedded(self, text: str, *, prose: bool = False) -> Any:
        """A longer text (a command line, a config line) with a secret inside it: the text
        with the secrets masked, fingerprinted as a whole; the text itself when clean.
        ``prose``: the text is written for people (a comment), where a high-entropy token is
        a secret too; in code and command lines hashes and ids abound, so only known shapes."""
        spans = secret_spans(text, entropy=prose, named=False)
        if not spans:
            return text
        if any(text[s:e].startswith("-----BEGIN") for s, e in spans):
            return self.redact_value(text)
        out = _mask_spans(text, spans, self.remember)
        return {"redacted": True, "fingerprint": self.fingerprint(text), "masked": out}

    def redact_tree(self, node: Any, name: str = "") -> Any:
        """Walk a JSON-like tree; leaves are judged by their own key name."""
        if is_redacted(node):
            return node
        if isinstance(node, dict):
            return {k: self.redact_tree(v, str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [self.redact_tree(v, name) for v in node]
        return self.redact_scalar(name, node)

    def redact_document(self, node: Any) -> Any:
        """:meth:`redact_tree`, then every value judged secret is scrubbed wherever else it
        appears in the same tree (a password also written into a URL, a token in a log
        line)."""
        return self.scrub_tree(self.redact_tree(node))

    def scrub_tree(self, node: Any) -> Any:
        """Known distinctive secrets out of every string of a tree (redacted leaves stay)."""
        if is_redacted(node) or not self._seen:
            return node
        if isinstance(node, dict):
            return {k: self.scrub_tree(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.scrub_tree(v) for v in node]
        # Only distinctive secrets travel: a short password equal to the database's name
        # must not hide the name (the name is what a diff and a sandbox need).
        pattern = self._known_pattern()
        if isinstance(node, str) and pattern is not None and pattern.search(node):
            return {
                "redacted": True,
                "fingerprint": self.fingerprint(node),
                "masked": pattern.sub(MASK, node),
            }
        return node

    def contains_known(self, text: str) -> bool:
        """Whether a value judged secret elsewhere is this text, or distinctive and in it."""
        if text in self._seen:
            return True
        # ``in`` runs at C speed; a regex alternation over a 50 MB body would take seconds
        return any(secret in text for secret in tuple(self._seen) if _distinctive(secret))

    def replace_known(self, text: str, marker: str = MASK) -> str:
        if text in self._seen:
            return marker
        pattern = self._known_pattern()
        return text if pattern is None else pattern.sub(marker, text)

    def _known_pattern(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if self._pattern_of != len(self._seen):
            seen = tuple(self._seen)  # a copy: another thread may remember a secret meanwhile
            distinctive = sorted(filter(_distinctive, seen), key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, distinctive))) if distinctive else None
            self._pattern, self._pattern_of = pattern, len(seen)
        return pattern

    def scrub(self, text: str) -> str:
        """Remove every known secret (and anything secret-shaped) from free text. Never
        raises: if the text cannot be checked it is withheld whole."""
        try:
            if not isinstance(text, str):
                text = str(text)
            for secret in sorted(tuple(self._seen), key=len, reverse=True):
                text = text.replace(secret, MASK)
            return scrub_shapes(text)
        except Exception:  # a scrubber that raises would print the secret
            return WITHHELD


_AUTH_WORDS = frozenset({"Bearer", "Basic", "Token", "Digest", "bearer", "basic", "token"})


def _distinctive(secret: str) -> bool:
    """Long and mixed enough that finding it inside another text is no coincidence."""
    if len(secret) < _PROPAGATE_SUBSTRING:
        return False
    classes = sum(
        bool(re.search(p, secret)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    return classes >= 2


def _only_embedded(value: str) -> bool:
    """A multi-word text with a secret inside (a command line): masked in place, not whole."""
    return len(value.split()) > 2 and not value.lstrip().startswith("-----BEGIN")


def _mask_spans(
    text: str, spans: list[tuple[int, int]], remember: Callable[[str], None] | None = None
) -> str:
    out: list[str] = []
    last = 0
    for start, end in spans:
        if remember is not None:
            remember(text[start:end])
        out.append(text[last:start])
        out.append(MASK)
        last = end
    out.append(text[last:])
    return "".join(out)


def scrub_shapes(text: str) -> str:
    """Secret-shaped parts of a free text masked, with no redactor (no key) at hand: URL
    passwords, JWTs, cloud keys, PEM keys, ``password=...``, high-entropy tokens. Never
    raises."""
    try:
        spans = secret_spans(text)
        return _mask_spans(text, spans) if spans else text
    except Exception:  # see Redactor.scrub
        return WITHHELD


def scrub_all(text: str, redactors: Iterable[Redactor]) -> str:
    """Scrubbed by every redactor of this run, and by shape even when there is none yet."""
    try:
        for redactor in redactors:
            text = redactor.scrub(text)
        return scrub_shapes(text)
    except Exception:  # see Redactor.scrub
        return WITHHELD


def scrub_redactor() -> Redactor:
    """A redactor whose only job is scrubbing messages (a DSN's password, say): nothing it
    fingerprints is ever compared, so a throw-away key will do."""
    return Redactor(RedactionKey.from_bytes(os.urandom(32), "ephemeral"))
