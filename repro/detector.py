"""The one secret detector: is this name a secret's name, is this value secret-shaped, where in
a free text are the secrets. Snapshots, importers, reports, logs and error messages all ask it
(through :class:`repro.redaction.Redactor`), so a secret is judged the same everywhere.

Names are judged by their *words* (``authLoginDomain`` is auth/login/domain, ``DB_PASSWORD`` is
db/password), not by substrings: ``author``, ``passenger`` or ``ccShowCookieIcon`` hold no
secret. Three verdicts:

* ``SECRET``: the value is a secret whatever it looks like (``password``, ``api_key``,
  ``sessionid``, ``Authorization``);
* ``MAYBE``: the name hints at one (``cookie``, ``login``, ``sso``): the value is a secret when
  it looks like a token (long, mixed characters), so ``otherCookie=2`` stays as it is;
* ``PLAIN``: only a secret-shaped value is a secret.

Shapes: URL passwords, JWTs, PEM private keys, cloud and SaaS keys (AWS, GCP, Azure, GitHub,
GitLab, Slack, Stripe, SendGrid, npm, PyPI, OpenAI, Anthropic, Shopify, Twilio, Mailgun...),
``Bearer``/``Basic`` credentials and high-entropy tokens.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from enum import Enum


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


class NameVerdict(Enum):
    SECRET = "secret"
    MAYBE = "maybe"
    PLAIN = "plain"


# Whole words that make a name a secret's name.
_STRONG_WORDS = _words(
    "password passwd pwd passphrase passcode secret secrets token tokens apikey credential "
    "credentials creds bearer jwt privatekey accesskey secretkey dsn conninfo sessionid "
    "sessid sid csrf xsrf csrftoken xsrftoken signature salt otp authorization authtoken "
    "accesstoken refreshtoken idtoken clientsecret apitoken csrfmiddlewaretoken"
)
# Stems that make a glued word (``dbpassword``, ``jsessionid``) a secret's name.
_STRONG_STEMS = tuple(
    sorted(
        _words(
            "password passwd secret token apikey sessid sessionid credential passphrase "
            "privatekey accesskey"
        )
    )
)
# Words with a strong stem inside that are not secrets.
_STEM_EXCEPTIONS = _words(
    "secretary secretariat tokenize tokenizer tokenizers tokenization tokenized passwordless"
)
# As the LAST word only: ``DB_PASS``, ``X-Auth``, ``laravel_session``, ``STRIPE_KEY``, ``sig``.
_STRONG_LAST = _words("pass pw auth session sess key sig cookie")
# ``key`` as the last word names no secret after these: ``sort_key``, ``public_key``.
_KEY_INNOCENT = _words(
    "public primary sort foreign partition hot cache idempotency routing shard unique "
    "object composite natural surrogate lookup hash dedup dedupe group map index row "
    "registry translation i18n label feature flag config setting s3 bucket monkey"
)
# Words that hint at a secret: the value decides.
_WEAK_WORDS = _words(
    "auth cookie cookies login remember sso saml oauth identity session sess key keys "
    "signin hmac nonce ticket license"
)
# A last word that says the value *describes* a secret rather than being one: ``TOKEN_URL``,
# ``password_min_length``, ``SESSION_COOKIE_NAME``, ``authLoginDomain``, ``key_id``.
_INNOCENT_LAST = _words(
    "name names domain domains path paths url urls uri endpoint host hostname port timeout "
    "ttl lifetime expiry expires expiration expire age length len size count min max "
    "minimum maximum policy type types mode method methods header field param format "
    "enabled enable disabled disable required file files dir directory icon id ids version "
    "algorithm algo encryption scheme provider issuer audience prefix suffix location store "
    "backend engine class handler secure httponly samesite rotation strength hint reset "
    "changed updated created at on lock locked attempts retries label text title level "
    "limit interval days hours minutes seconds ms bits index usage server service region "
    "realm user username email owner fingerprint hash digest sha md5 checksum conf cfg yaml "
    "yml json txt ini toml xml log properties seq sequence idx pkey fkey"
)
# Whole names that hold no secret although a word in them sounds like one.
_INNOCENT_NAMES = _words(
    "keyid keys monkey author authors authority authored passenger compass bypass keyboard "
    "keyword keywords turnkey hotkey sessions session_count cookieconsent cookie_consent "
    "cookiesaccepted cookies_accepted cookielawinfo cookieconsentstatus keyfile tokenizer"
)
# The hash of a secret is as good as the secret to an attacker of some schemes, but a digest
# *of a document* is not: ``password_hash`` is redacted (strong word, and hash is innocent only
# as the last word of MAYBE names).
_KEEP_WHEN_STRONG = _words("hash digest fingerprint")

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    """``X-Api-Key`` -> [x, api, key]; ``authLoginDomain`` -> [auth, login, domain];
    ``DB_PASSWORD`` -> [db, password]; ``stripe.secret_key`` -> [stripe, secret, key]."""
    words: list[str] = []
    for chunk in _WORD_SPLIT.split(name):
        if not chunk:
            continue
        if chunk.isupper() or chunk.islower() or chunk.isdigit():
            words.append(chunk.lower())
        else:
            words.extend(part.lower() for part in _CAMEL.findall(chunk))
    return words


def _glued(words: list[str]) -> list[str]:
    """Two-word secrets written as two words: api key, access token, session id..."""
    out = list(words)
    for a, b in itertools.pairwise(words):
        joined = a + b
        if joined in _STRONG_WORDS:
            out.append(joined)
    return out


def judge_name(name: str) -> NameVerdict:
    """How much a key, header, cookie or parameter name says about its value."""
    last_component = re.split(r"[/\[\]]", name.strip("/[]"))[-1] if name else ""
    words = name_words(last_component)
    if not words:
        return NameVerdict.PLAIN
    if "_".join(words) in _INNOCENT_NAMES or "".join(words) in _INNOCENT_NAMES:
        return NameVerdict.PLAIN
    last = words[-1]
    tail = words[-2] + last if len(words) > 1 else last
    if _strong_word(last) or tail in _STRONG_WORDS:
        return NameVerdict.SECRET  # the name ends with what the value is: DB_PASSWORD, sid
    if "session" in words[:-1] and last in ("cookie", "key", "id", "token", "data"):
        return NameVerdict.SECRET
    strong = any(_strong_word(w) for w in _glued(words))
    if last in _INNOCENT_LAST and not (strong and last in _KEEP_WHEN_STRONG):
        return NameVerdict.PLAIN  # describes a secret: TOKEN_URL, password_min_length
    if last in ("key", "keys") and len(words) > 1 and words[-2] in _KEY_INNOCENT:
        return NameVerdict.PLAIN
    if strong:
        return NameVerdict.SECRET
    if last in _STRONG_LAST and (last != "cookie" or len(words) == 1):
        return NameVerdict.SECRET
    if any(w in _WEAK_WORDS for w in words):
        return NameVerdict.MAYBE
    return NameVerdict.PLAIN


def _strong_word(word: str) -> bool:
    if word in _STRONG_WORDS:
        return True
    return word not in _STEM_EXCEPTIONS and any(stem in word for stem in _STRONG_STEMS)


# -- shapes ------------------------------------------------------------------------------------

# Each pattern matches the secret itself (what a scrub masks), never more context than needed.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
        (
            "aws access key",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[0-9A-Z]{16}\b",
        ),
        ("gcp api key", r"\bAIza[0-9A-Za-z_-]{30,}"),
        ("gcp oauth token", r"\bya29\.[0-9A-Za-z_-]{20,}"),
        ("gcp client secret", r"\bGOCSPX-[0-9A-Za-z_-]{20,}"),
        ("azure client secret", r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{31,34}"),
        ("azure account key", r"(?i)(?<=AccountKey=)[A-Za-z0-9+/]{40,}={0,2}"),
        ("azure sas signature", r"(?<=[?&]sig=)[A-Za-z0-9%+/]{20,}={0,2}"),
        ("github token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}"),
        ("github fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
        ("gitlab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("slack app token", r"\bxapp-[0-9]-[A-Za-z0-9-]{10,}"),
        ("slack webhook", r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
        ("stripe key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"),
        ("stripe webhook secret", r"\bwhsec_[A-Za-z0-9]{20,}"),
        ("sendgrid key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{20,}"),
        ("npm token", r"\bnpm_[A-Za-z0-9]{30,}"),
        ("pypi token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}"),
        ("anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
        ("openai key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}"),
        ("shopify token", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),
        ("twilio key", r"\bSK[0-9a-f]{32}\b"),
        ("mailgun key", r"\bkey-[0-9a-f]{32}\b"),
        ("digitalocean token", r"\bdo[opr]_v1_[a-f0-9]{64}"),
        ("hashicorp vault token", r"\bhv[sb]\.[A-Za-z0-9_-]{20,}"),
        (
            "private key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)",
        ),
    )
)
# Literal text each shape must contain: checked with ``in`` (C speed) before any regex runs, so
# a 50 MB body without them costs milliseconds, not the seconds Python's regex engine takes.
_ANCHORS: dict[str, tuple[str, ...]] = {
    "jwt": ("eyJ",),
    "aws access key": (
        "AKIA",
        "ASIA",
        "AGPA",
        "AIDA",
        "AROA",
        "ANPA",
        "ANVA",
        "AIPA",
        "ABIA",
        "ACCA",
    ),
    "gcp api key": ("AIza",),
    "gcp oauth token": ("ya29.",),
    "gcp client secret": ("GOCSPX-",),
    "azure client secret": ("8Q~",),
    "azure account key": ("ccountKey=", "CCOUNTKEY=", "ccountkey="),
    "azure sas signature": ("sig=",),
    "github token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "github fine-grained token": ("github_pat_",),
    "gitlab token": ("glpat-",),
    "slack token": ("xox",),
    "slack app token": ("xapp-",),
    "slack webhook": ("hooks.slack.com",),
    "stripe key": ("_live_", "_test_"),
    "stripe webhook secret": ("whsec_",),
    "sendgrid key": ("SG.",),
    "npm token": ("npm_",),
    "pypi token": ("pypi-",),
    "anthropic key": ("sk-ant-",),
    "openai key": ("sk-",),
    "shopify token": ("shpat_", "shpss_", "shpca_", "shppa_"),
    "twilio key": ("SK",),
    "mailgun key": ("key-",),
    "digitalocean token": ("_v1_",),
    "hashicorp vault token": ("hvs.", "hvb."),
    "private key": ("-----BEGIN",),
}
_NAMED_ANCHORS = ("password", "passwd", "pwd", "secret", "token", "key", "session", "credential")
_AUTH_ANCHORS = (
    "bearer",
    "basic",
    "token",
    "digest",
    "negotiate",
    "ntlm",
    "oauth",
    "apikey",
    "api-key",
    "aws4-hmac",
    "sharedkey",
    "sapisidhash",
)


def _present(text: str, anchors: tuple[str, ...]) -> bool:
    return any(anchor in text for anchor in anchors)


_PEM_FLAGS_SHAPE = re.compile(_SHAPES[-1][1].pattern, re.DOTALL)
_URL_USERINFO = re.compile(
    r"\b(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,30}://)(?P<user>[^\s/@:?#]*):(?P<password>[^\s/?#]*)@"
    r"(?=[^\s@]*(?:[\s/?#]|$))"
)
_AUTH_SCHEME = re.compile(
    r"\b(?P<scheme>(?i:Bearer|Basic|Token|Digest|Negotiate|NTLM|OAuth|ApiKey|Api-Key|"
    r"AWS4-HMAC-SHA256|SharedKey|SAPISIDHASH))\s+"
    # a credential has a digit, base64 punctuation or a capital inside: "Basic authentication
    # failed" holds none
    r"(?P<token>(?=[A-Za-z0-9._~+/=:,\-\"]*[0-9+/=]|[A-Za-z0-9._~+/=:,\-\"]+[A-Z])"
    r"[A-Za-z0-9._~+/=:,\-\"]{6,})"
)
# ``password=hunter2``, ``"api_key": "x"``, ``token: abc`` inside free text (a conninfo in an
# error message, a JSON fragment in a log line).
_NAMED_KEYWORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "accesskey",
    "private_key",
    "privatekey",
    "sessionid",
    "session_id",
    "credential",
)
_NAME_CHARS = re.compile(r"[\w.-]*")
# "name=value", "name: value", '"name": "value"' — never "x::regclass" (a SQL cast) or "a::b"
_NAMED_TAIL = re.compile(
    r"(?P<sep>[\"']?\s*(?:=|:(?!:))\s*[\"']?)(?P<value>[^\s\"'&;,<>(){}\[\]:][^\s\"'&;,<>(){}\[\]]{0,511})"
)
_TOKEN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/=_\-.~])[A-Za-z0-9+/=_\-.~]{20,4096}")
_WHOLE_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_\-.~%]{20,4096}")
_HEX_ID = re.compile(r"[0-9a-fA-F-]+")
_CLASSES = (
    re.compile(r"[a-z]"),
    re.compile(r"[A-Z]"),
    re.compile(r"[0-9]"),
    re.compile(r"[+/=_\-.~%:]"),
)


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_high_entropy(text: str) -> bool:
    """A long token with mixed character classes and high entropy: likely a key or password.
    Numbers, UUIDs and hex ids (trace ids, hashes, ETags) are ids, not secrets."""
    if not _WHOLE_CANDIDATE.fullmatch(text):
        return False
    if text.isdigit() or _HEX_ID.fullmatch(text):
        return False
    if text.startswith(("/", "./", "~/", "../")) and _path_like(text):
        return False
    if sum(bool(p.search(text)) for p in _CLASSES) < 3:
        return False
    return shannon_entropy(text) >= 4.0


def looks_tokenish(text: str) -> bool:
    """Weaker than high entropy, for values under a name that hints at a secret: a run of 12+
    token characters with letters and digits (``s%3Aabc123...``, ``4f9a0c11e2b7``)."""
    stripped = text.strip()
    return (
        len(stripped) >= 12
        and bool(re.fullmatch(r"[A-Za-z0-9+/=_\-.~%:|]+", stripped))
        and bool(re.search(r"[A-Za-z]", stripped))
        and bool(re.search(r"[0-9]", stripped))
    ) or looks_high_entropy(stripped)


def shape_of(text: str) -> str | None:
    """The name of the secret shape found in ``text`` (anywhere in it), or None."""
    try:
        for label, pattern in _SHAPES:
            if _present(text, _ANCHORS[label]) and pattern.search(text):
                return label
        if "://" in text and url_password(text) is not None:
            return "url password"
        if _AUTH_SCHEME.match(text.strip()):
            return "authorization credential"
        if looks_high_entropy(text.strip()):
            return "high-entropy token"
    except (RecursionError, MemoryError):  # pragma: no cover - pathological input: say secret
        return "unjudgeable"
    return None


def value_looks_secret(text: str) -> bool:
    return shape_of(text) is not None


def value_is_secret(name: str, value: str) -> bool:
    """The verdict for one named value (env var, header, cookie, parameter, JSON field)."""
    if not value:
        return False
    verdict = judge_name(name)
    if verdict is NameVerdict.SECRET:
        return True
    if verdict is NameVerdict.MAYBE and looks_tokenish(value):
        return True
    return value_looks_secret(value)


def url_password(text: str) -> tuple[int, int] | None:
    """Where the password of the first ``scheme://user:password@host`` URL is, or None.
    Never parses ports or hosts: a malformed URL is still masked."""
    match = _URL_USERINFO.search(text)
    if match is None or not match.group("password"):
        return None
    return match.start("password"), match.end("password")


def secret_spans(text: str, *, entropy: bool = True, named: bool = True) -> list[tuple[int, int]]:
    """Every secret-shaped substring of a free text, merged and sorted. ``named``: also the
    values of ``password=...``-like pairs (messages and request bodies; not a snapshot's
    schema text, where ``CHECK (token = 'x')`` is a definition, not a secret)."""
    spans: list[tuple[int, int]] = []
    for label, pattern in _SHAPES:
        if _present(text, _ANCHORS[label]):
            flags_pattern = _PEM_FLAGS_SHAPE if label == "private key" else pattern
            spans.extend(m.span() for m in flags_pattern.finditer(text))
    if "://" in text:
        spans.extend(
            (m.start("password"), m.end("password"))
            for m in _URL_USERINFO.finditer(text)
            if m.group("password")
        )
    lowered = _lower_same_length(text)
    if _present(lowered, _AUTH_ANCHORS):
        spans.extend((m.start("token"), m.end("token")) for m in _AUTH_SCHEME.finditer(text))
    if named and _present(lowered, _NAMED_ANCHORS):
        spans.extend(_named_values(text, lowered))
    if entropy:
        for m in _TOKEN_CANDIDATE.finditer(text):
            token = m.group(0)
            if _path_like(token) or not _all_alnum_classes(token):
                continue  # in free text only mixed-case alphanumerics: ids and paths abound
            if looks_high_entropy(token):
                spans.append(m.span())
    return _merge(spans)


def _lower_same_length(text: str) -> str:
    """``text.lower()`` with every index kept (``"İ".lower()`` is two characters)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _named_values(text: str, lowered: str) -> list[tuple[int, int]]:
    """``password=hunter2``, ``"api_key": "x"``: found from each keyword with ``str.find``
    (a regex starting anywhere is far too slow on a large body)."""
    spans: list[tuple[int, int]] = []
    starts: set[int] = set()
    for keyword in _NAMED_KEYWORDS:
        at = lowered.find(keyword)
        while at >= 0:
            start = at
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
                start -= 1
            if start not in starts and not (start > 0 and text[start - 1] in "/\\"):
                # (a path's last part, /run/secrets/db_password, names a file, not a value)
                starts.add(start)
                name_match = _NAME_CHARS.match(text, at)
                name_end = name_match.end() if name_match else at
                tail = _NAMED_TAIL.match(text, name_end)
                name = text[start:name_end]
                if (
                    tail is not None
                    and not tail.group("value").startswith(("$", "/", "<", "*"))
                    and judge_name(name) is NameVerdict.SECRET
                ):
                    spans.append((tail.start("value"), tail.end("value")))
            at = lowered.find(keyword, at + len(keyword))
    return spans


def _all_alnum_classes(token: str) -> bool:
    return all(p.search(token) for p in _CLASSES[:3])


def _path_like(token: str) -> bool:
    """``/usr/lib/python3.11/site-packages/x.py``: a path, not a token, when no segment is
    itself high-entropy and it has none of base64's ``+``/``=``."""
    if "/" not in token or "+" in token or "=" in token:
        return False
    return not any(looks_high_entropy(seg) and _all_alnum_classes(seg) for seg in token.split("/"))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def auth_parts(value: str) -> list[str]:
    """The pieces of a credential that are secrets on their own: the token of ``Bearer x``,
    the decoded ``user:password`` of ``Basic`` and its password."""
    import base64
    import binascii

    match = _AUTH_SCHEME.match(value.strip())
    if match is None:
        return []
    parts = [match.group("token")]
    if match.group("scheme").lower() == "basic":
        try:
            decoded = base64.b64decode(match.group("token"), validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            decoded = ""
        if decoded:
            parts.append(decoded)
            password = decoded.partition(":")[2]
            if password:
                parts.append(password)
    return parts
