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
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from repro.errors import ProfileError

# Re-exported (their home is repro.redacted, which the diff reads without the detectors).
from repro.redacted import fingerprint_key_id as fingerprint_key_id
from repro.redacted import is_redacted as is_redacted

ALGORITHM = "hmac-sha256"
KEY_ENV = "REPRO_REDACTION_KEY"
KEY_FILE_ENV = "REPRO_REDACTION_KEY_FILE"
MASK = "***"

# Key names that mean "the value is a secret". Matched on the last path component, lowercased,
# as a word inside the name: DB_PASSWORD, apiKey, stripe.secret_key, session-token...
_SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"(^|[_.-])key$|credential|creds|auth|dsn|conninfo|cookie|session[_-]?id|signature|salt|"
    r"encryption|bearer|client[_-]?secret)",
    re.IGNORECASE,
)
# Names that contain a secret-looking word but hold no secret (avoid hiding useful diffs).
_NOT_SECRET_NAME = re.compile(
    r"(^|[_.-])(key_?id|keyid|public[_-]?key|token[_-]?(url|endpoint|ttl|lifetime|expir\w*)|"
    r"auth[_-]?(url|endpoint|method|type|mode|host|port)|password[_-]?(encryption|min\w*|"
    r"policy|length)|ssl[_-]?key[_-]?file|keyfile|key[_-]?file|monkey\w*|keys?_?count|"
    r"hot_?key\w*|primary[_-]?key\w*|sort[_-]?key|foreign[_-]?key\w*)$",
    re.IGNORECASE,
)

_AWS_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_URL_WITH_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]*:[^\s/@]+@[^\s]+")
_KNOWN_TOKEN_PREFIX = re.compile(
    r"\b(sk_live_|sk_test_|rk_live_|ghp_|gho_|ghs_|github_pat_|xox[baprs]-|glpat-|AIza)"
    r"[A-Za-z0-9_\-]{10,}"
)
_HIGH_ENTROPY_CANDIDATE = re.compile(r"^[A-Za-z0-9+/=_\-.~]{20,}$")
# One cheap pass that every secret shape above needs to match: most strings in a snapshot (type
# names, index definitions, versions) fail it, and skip the nine regexes behind it.
_SECRET_HINT = re.compile(
    r"://|AKIA|ASIA|eyJ|-----BEGIN|sk_live_|sk_test_|rk_live_|gh[ops]_|github_pat_|xox[baprs]-|"
    r"glpat-|AIza"
)


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_high_entropy(text: str) -> bool:
    """A long token with mixed character classes and high entropy: likely a key or password."""
    if not _HIGH_ENTROPY_CANDIDATE.match(text) or len(text) > 4096:
        return False
    if text.isdigit() or re.fullmatch(r"[0-9a-f-]{36}", text):  # numbers and UUIDs are ids
        return False
    classes = sum(bool(re.search(p, text)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[+/=_\-.~]"))
    if classes < 3:
        return False
    return shannon_entropy(text) >= 4.0


def value_looks_secret(text: str) -> bool:
    return bool(
        _AWS_ACCESS_KEY.search(text)
        or _JWT.search(text)
        or _PEM_PRIVATE.search(text)
        or _KNOWN_TOKEN_PREFIX.search(text)
        or looks_high_entropy(text.strip())
    )


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
    _name_cache: dict[str, bool] = field(default_factory=dict)

    def fingerprint(self, value: str) -> str:
        digest = hmac.new(self.key.secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return f"{ALGORITHM}:{self.key.key_id}:{digest.hexdigest()[:32]}"

    def remember(self, value: str) -> None:
        """Known secret text: scrubbed from every message and log from now on."""
        if len(value) >= 4:
            self._seen.add(value)

    def redact_value(self, value: str) -> dict[str, Any]:
        self.remember(value)
        return {"redacted": True, "fingerprint": self.fingerprint(value)}

    def name_is_secret(self, name: str) -> bool:
        cached = self._name_cache.get(name)
        if cached is None:
            cached = self._name_cache[name] = self._judge_name(name)
        return cached

    def _judge_name(self, name: str) -> bool:
        last = re.split(r"[./\[\]]", name.strip("./[]"))[-1] if name else name
        for pattern in self.extra_secret_names:
            if fnmatch.fnmatchcase(name.lower(), pattern.lower()) or fnmatch.fnmatchcase(
                last.lower(), pattern.lower()
            ):
                return True
        if _NOT_SECRET_NAME.search(last):
            return False
        return bool(_SECRET_NAME.search(last))

    def redact_url(self, text: str) -> dict[str, Any] | None:
        """Redact only the password of a URL, keeping scheme, user, host and path visible."""
        match = _URL_WITH_PASSWORD.fullmatch(text.strip())
        if not match:
            return None
        try:
            parts = urlsplit(text.strip())
            password = parts.password
        except ValueError:
            return None
        if not password:
            return None
        self.remember(password)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = parts.username or ""
        masked = urlunsplit((parts.scheme, f"{user}:{MASK}@{host}", parts.path, parts.query, ""))
        return {"redacted": True, "fingerprint": self.fingerprint(password), "masked": masked}

    def redact_scalar(self, name: str, value: Any) -> Any:
        """Redact one leaf value given the name of its key."""
        if is_redacted(value) or value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return self.redact_value(str(value)) if self.name_is_secret(name) else value
        if not isinstance(value, str):
            return value
        if not _SECRET_HINT.search(value) and not _HIGH_ENTROPY_CANDIDATE.match(value.strip()):
            return self.redact_value(value) if value and self.name_is_secret(name) else value
        url = self.redact_url(value)
        if url is not None:
            return url
        if value and (self.name_is_secret(name) or value_looks_secret(value)):
            return self.redact_value(value)
        embedded = self.scrub_embedded(value)
        return embedded

    def scrub_embedded(self, text: str) -> Any:
        """A longer text (a command line, a config line) with a secret inside it."""
        found = False

        def url_sub(match: re.Match[str]) -> str:
            nonlocal found
            redacted = self.redact_url(match.group(0))
            if redacted is None:
                return match.group(0)
            found = True
            return str(redacted["masked"])

        out = _URL_WITH_PASSWORD.sub(url_sub, text)
        for pattern in (_AWS_ACCESS_KEY, _JWT, _KNOWN_TOKEN_PREFIX):
            for match in pattern.finditer(out):
                self.remember(match.group(0))
                found = True
            out = pattern.sub(MASK, out)
        if _PEM_PRIVATE.search(out):
            return self.redact_value(text)
        if not found:
            return text
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

    def scrub(self, text: str) -> str:
        """Remove every known secret (and anything secret-shaped) from free text."""
        for secret in sorted(self._seen, key=len, reverse=True):
            text = text.replace(secret, MASK)
        text = _URL_WITH_PASSWORD.sub(
            lambda m: str((self.redact_url(m.group(0)) or {"masked": m.group(0)})["masked"]), text
        )
        for pattern in (_AWS_ACCESS_KEY, _JWT, _KNOWN_TOKEN_PREFIX):
            text = pattern.sub(MASK, text)
        return text


def scrub_all(text: str, redactors: Iterable[Redactor]) -> str:
    for redactor in redactors:
        text = redactor.scrub(text)
    return text


def scrub_redactor() -> Redactor:
    """A redactor whose only job is scrubbing messages (a DSN's password, say): nothing it
    fingerprints is ever compared, so a throw-away key will do."""
    return Redactor(RedactionKey.from_bytes(os.urandom(32), "ephemeral"))
