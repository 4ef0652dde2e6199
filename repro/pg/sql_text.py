"""SQL text from a snapshot is hostile until shown otherwise: before a definition captured on
another machine is executed (a function, a CHECK judged against candidate rows), it must be
exactly one statement, or one expression, as PostgreSQL's lexer would read it.

The lexer knows what can hide a semicolon or a parenthesis from a naive scan: string
literals ('', E'' with backslash escapes, U&''), quoted identifiers, dollar-quoted bodies
($$ ... $$, $tag$ ... $tag$) and comments (-- and nested /* */). Anything it cannot close
(an unterminated literal or comment) is rejected, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
MAX_TEXT = 4 * 1024 * 1024  # characters: a definition larger than this is refused unread


class SqlTextError(ValueError):
    """The text is not what it must be (one line, no SQL echoed back)."""


def _string_end(text: str, i: int, backslashes: bool) -> int:
    """Index after the literal whose opening quote is at ``text[i]``."""
    j, n = i + 1, len(text)
    while j < n:
        ch = text[j]
        if backslashes and ch == "\\":
            j += 2
            continue
        if ch == "'":
            if j + 1 < n and text[j + 1] == "'":
                j += 2
                continue
            return j + 1
        j += 1
    raise SqlTextError(f"unterminated string literal at position {i}")


def _quoted_end(text: str, i: int) -> int:
    j = i + 1
    while True:
        k = text.find('"', j)
        if k < 0:
            raise SqlTextError(f"unterminated quoted identifier at position {i}")
        if text.startswith('""', k):
            j = k + 2
            continue
        return k + 1


def _comment_end(text: str, i: int) -> int:
    depth, j, n = 0, i, len(text)
    while j < n:
        if text.startswith("/*", j):
            depth += 1
            j += 2
        elif text.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    raise SqlTextError(f"unterminated comment at position {i}")


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pieces: ``literal`` (strings, quoted identifiers, dollar-quoted bodies),
    ``comment``, ``punct`` (one of ``( ) ;``) and ``other`` (everything else, a character
    at a time or a run of plain characters)."""
    if len(text) > MAX_TEXT:
        raise SqlTextError(f"SQL text of {len(text):,} characters (at most {MAX_TEXT:,})")
    i, n = 0, len(text)
    plain_start = 0
    while i < n:
        ch = text[i]
        end = -1
        kind = "literal"
        if ch == "'":
            prefix = text[plain_start:i]
            backslashes = bool(re.search(r"(?<![\w$])[eE]$", prefix))
            end = _string_end(text, i, backslashes)
        elif ch == '"':
            end = _quoted_end(text, i)
        elif ch == "$":
            match = _DOLLAR_TAG.match(text, i)
            # $1 is a parameter; "a$b" continues an identifier: neither opens a body
            continues_word = i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")
            if match is not None and not continues_word:
                close = text.find(match.group(0), match.end())
                if close < 0:
                    raise SqlTextError(f"unterminated dollar-quoted text at position {i}")
                end = close + len(match.group(0))
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            end, kind = (n if newline < 0 else newline + 1), "comment"
        elif text.startswith("/*", i):
            end, kind = _comment_end(text, i), "comment"
        elif ch in "();":
            end, kind = i + 1, "punct"
        if end < 0:
            i += 1
            continue
        if plain_start < i:
            yield "other", text[plain_start:i]
        yield kind, text[i:end]
        i = plain_start = end
    if plain_start < n:
        yield "other", text[plain_start:]


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_ROUTINE = re.compile(r"\s*CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\b", re.IGNORECASE)


def check_statement(text: str) -> None:
    """Raise :class:`SqlTextError` unless ``text`` is one statement (a final ``;`` allowed).
    An SQL-standard function body (``BEGIN ATOMIC ... END``, PostgreSQL 14+) holds
    statements of its own: its semicolons do not end the statement."""
    seen_end = False
    atomic = 0  # inside BEGIN ATOMIC: its END, and those of CASE inside it
    previous = ""
    routine = bool(_ROUTINE.match(text))  # only a function's body is BEGIN ATOMIC
    for kind, piece in tokens(text):
        if seen_end and kind != "comment" and piece.strip():
            raise SqlTextError("more than one statement")
        if kind == "other":
            for word in _WORD.findall(piece):
                upper = word.upper()
                opens = upper == "ATOMIC" and previous == "BEGIN" and routine
                if opens or (atomic and upper == "CASE"):
                    atomic += 1
                elif atomic and upper == "END":
                    atomic -= 1
                previous = upper
        elif kind == "punct" and piece == ";" and not atomic:
            seen_end = True
    if atomic:
        raise SqlTextError("unterminated BEGIN ATOMIC body")


def check_expression(text: str) -> None:
    """Raise :class:`SqlTextError` unless ``text`` is one expression: no statement end, no
    comment (which could swallow what follows it), parentheses that balance and never
    close one they did not open."""
    depth = 0
    for kind, piece in tokens(text):
        if kind == "comment":
            raise SqlTextError("a comment in an expression")
        if kind != "punct":
            continue
        if piece == ";":
            raise SqlTextError("a statement end in an expression")
        depth += 1 if piece == "(" else -1
        if depth < 0:
            raise SqlTextError("a parenthesis closed that was not opened")
    if depth != 0:
        raise SqlTextError("unbalanced parentheses")
    if not text.strip():
        raise SqlTextError("an empty expression")
