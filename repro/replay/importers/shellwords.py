"""Split a pasted command line into words the way the shell would — without running anything.

Two dialects, because browsers' "Copy as cURL" offers both:

* POSIX shells (bash): ``'...'``, ``"..."`` with backslash escapes, ``$'...'`` ANSI-C quoting,
  backslash escapes and backslash-newline continuations outside quotes.
* Windows cmd (Chrome's "Copy as cURL (cmd)"): ``^`` escapes every special character, ``^`` at a
  line end continues the line, ``"`` quotes and ``\\"`` is a literal quote.

Nothing is expanded: ``$VAR``, ``$(...)`` and backticks stay literal text.
"""

from __future__ import annotations

import re

from repro.errors import IncidentError

_ANSI_SIMPLE = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
    "E": "\x1b",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def looks_like_cmd(text: str) -> bool:
    return bool(re.search(r'\^"|\s\^\r?\n', text)) or text.lstrip().lower().startswith("curl.exe")


def split_words(text: str, label: str) -> list[str]:
    return _split_cmd(text, label) if looks_like_cmd(text) else _split_posix(text, label)


def _split_posix(text: str, label: str) -> list[str]:
    words: list[str] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
            continue
        in_word = True
        if c == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                i += 2  # continuation
                if not word:
                    in_word = False
                continue
            if i + 2 < n and text[i + 1] == "\r" and text[i + 2] == "\n":
                i += 3
                if not word:
                    in_word = False
                continue
            if i + 1 < n:
                word.append(text[i + 1])
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise IncidentError(f"{label}: unterminated ' quote at character {i + 1}")
            word.append(text[i + 1 : end])
            i = end + 1
        elif c == "$" and i + 1 < n and text[i + 1] == "'":
            i = _ansi_c(text, i + 2, word, label)
        elif c == '"':
            i = _double(text, i + 1, word, label)
        else:
            word.append(c)
            i += 1
    if in_word:
        words.append("".join(word))
    return words


def _double(text: str, i: int, word: list[str], label: str) -> int:
    start = i - 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return i + 1
        if c == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                word.append(text[i + 1])
            i += 2
            continue
        word.append(c)
        i += 1
    raise IncidentError(f'{label}: unterminated " quote at character {start + 1}')


def _ansi_c(text: str, i: int, word: list[str], label: str) -> int:
    start = i - 2
    n = len(text)
    while i < n:
        c = text[i]
        if c == "'":
            return i + 1
        if c != "\\":
            word.append(c)
            i += 1
            continue
        if i + 1 >= n:
            break
        e = text[i + 1]
        if e in _ANSI_SIMPLE:
            word.append(_ANSI_SIMPLE[e])
            i += 2
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            m = re.match(rf"[0-9a-fA-F]{{1,{size}}}", text[i + 2 :])
            if not m:
                word.append("\\" + e)
                i += 2
                continue
            code = int(m.group(0), 16)
            if e == "x":
                word.append(_latin_or_utf8(code))
            elif code <= 0x10FFFF:
                word.append(chr(code))
            i += 2 + len(m.group(0))
        elif e in "01234567":
            digits = re.match(r"[0-7]{1,3}", text[i + 1 :])
            octal = digits.group(0) if digits else e
            word.append(_latin_or_utf8(int(octal, 8) & 0xFF))
            i += 1 + len(octal)
        elif e == "c" and i + 2 < n:
            word.append(chr(ord(text[i + 2]) & 0x1F))
            i += 3
        else:
            word.append("\\" + e)
            i += 2
    raise IncidentError(f"{label}: unterminated $' quote at character {start + 1}")


def _latin_or_utf8(code: int) -> str:
    # \xHH is one byte; browsers only emit it for control characters, which are ASCII.
    return chr(code)


def _split_cmd(text: str, label: str) -> list[str]:
    # Layer 1, cmd.exe: ^X is a literal X; ^ before a line end joins the lines, and the first
    # character of the next line is then literal (Chrome writes a newline as ^ + 2 newlines).
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "^" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "\r\n":
                i += 2 if text[i + 1 : i + 3] != "\r\n" else 3
                if i < n:
                    out.append(text[i])
                    i += 1
                continue
            out.append(nxt)  # ^" still quotes for the argument parser below
            i += 2
            continue
        out.append(c)
        i += 1
    line = "".join(out)
    # Layer 2, the program's argument parser: whitespace splits outside quotes, " toggles,
    # \" is a literal quote and \\ a backslash (Chrome doubles every backslash).
    words: list[str] = []
    word: list[str] = []
    in_word = in_quote = False
    i, n = 0, len(line)
    quote_start = 0
    while i < n:
        c = line[i]
        if c in " \t\r\n" and not in_quote:
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
            continue
        in_word = True
        if c == "\\" and i + 1 < n and line[i + 1] in '"\\':
            word.append(line[i + 1])
            i += 2
        elif c == '"':
            if in_quote and i + 1 < n and line[i + 1] == '"':
                word.append('"')  # Firefox writes "" for a quote inside quotes
                i += 2
                continue
            in_quote = not in_quote
            quote_start = i
            i += 1
        else:
            word.append(c)
            i += 1
    if in_quote:
        raise IncidentError(f'{label}: unterminated " quote at character {quote_start + 1}')
    if in_word:
        words.append("".join(word))
    return words
