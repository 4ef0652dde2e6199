"""Split a pasted command line into commands and words the way the shell would — without
running anything.

Three dialects, because browsers' "Copy as cURL" and people's pastes use them:

* POSIX shells (bash): ``'...'``, ``"..."`` with backslash escapes, ``$'...'`` ANSI-C quoting,
  backslash escapes and backslash-newline continuations outside quotes; ``#`` comments (an
  apostrophe in one quotes nothing); ``;``, ``&&``, ``||``, ``|`` and ``&`` between commands;
  redirections (``< file``, ``> out``, ``2>&1``) that are not arguments; here-documents
  (``<<EOF``, ``<<'EOF'``, ``<<-EOF``) and here-strings (``<<<``), whose text is what the
  command reads on its standard input; a trailing backslash at the very end is ignored.
* Windows cmd (Chrome's "Copy as cURL (cmd)"): ``^`` escapes every special character, ``^`` at a
  line end continues the line, ``"`` quotes and ``\\"`` is a literal quote.
* PowerShell (``curl.exe`` pasted with backtick continuations): ``'...'`` literal (``''`` is a
  quote), ``"..."`` with backtick escapes, a backtick at a line end continues the line.

Nothing is expanded: ``$VAR``, ``$(...)`` and backticks stay literal text, and nothing is run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


@dataclass
class Command:
    """One simple command: its words and where its standard input comes from."""

    words: list[str] = field(default_factory=list)
    stdin_file: str | None = None  # < FILE
    stdin_text: str | None = None  # a here-document or here-string
    piped_from: Command | None = None  # the command before "|"


def looks_like_cmd(text: str) -> bool:
    return bool(re.search(r'\^"|\s\^\r?\n', text)) or (
        text.lstrip().lower().startswith("curl.exe") and not looks_like_powershell(text)
    )


def looks_like_powershell(text: str) -> bool:
    return bool(re.search(r"\s`\r?\n", text))


def split_words(text: str, label: str) -> list[str]:
    """The words of the first command (kept for callers that need only words)."""
    commands = parse_commands(text, label)
    return commands[0].words if commands else []


def parse_commands(text: str, label: str) -> list[Command]:
    if looks_like_powershell(text):
        return [Command(_split_powershell(text, label))]
    if looks_like_cmd(text):
        return [Command(_split_cmd(text, label))]
    return _Posix(text, label).parse()


class _Posix:
    def __init__(self, text: str, label: str) -> None:
        self.text = text
        self.label = label
        self.i = 0
        self.commands: list[Command] = []
        self.current = Command()
        self.heredocs: list[tuple[Command, str, bool]] = []  # (command, delimiter, strip tabs)
        self.pipe_pending = False

    def parse(self) -> list[Command]:
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\n":
                self.i += 1
                self._read_heredocs()
                self._end_command(pipe=False)
            elif c == "#":
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
            elif c == "\\" and text[self.i + 1 : self.i + 2] == "\n":
                self.i += 2
            elif c == "\\" and text[self.i + 1 : self.i + 3] == "\r\n":
                self.i += 3
            elif c == "\\" and self.i + 1 >= n:
                self.i += 1  # a trailing backslash pasted along: nothing follows it
            elif c in ";&|":
                self._operator()
            elif c in "<>" or (c.isdigit() and self._fd_redirect()):
                self._redirect()
            else:
                self.current.words.append(self._word())
        self._end_command(pipe=False)
        if self.heredocs:
            delimiter = self.heredocs[0][1]
            raise IncidentError(f"{self.label}: here-document not closed by a {delimiter!r} line")
        return [c for c in self.commands if c.words]

    def _fd_redirect(self) -> bool:
        m = re.match(r"\d+[<>]", self.text[self.i :])
        return m is not None

    def _end_command(self, pipe: bool) -> None:
        if self.current.words or self.current.stdin_file or self.current.stdin_text is not None:
            self.commands.append(self.current)
        previous = self.current
        self.current = Command()
        if pipe and previous.words:
            self.current.piped_from = previous

    def _operator(self) -> None:
        text = self.text
        two = text[self.i : self.i + 2]
        if two in ("&&", "||", ";;"):
            self.i += 2
            self._end_command(pipe=False)
        elif two == "&>":
            self._redirect()
        elif text[self.i] == "|":
            self.i += 1 + (two == "|&")
            self._end_command(pipe=True)
        else:
            self.i += 1
            self._end_command(pipe=False)

    def _redirect(self) -> None:
        m = re.match(r"(\d*)(<<<|<<-|<<|<>|<&|>&|>>|>\||&>>|&>|<|>)", self.text[self.i :])
        assert m is not None
        op = m.group(2)
        self.i += m.end()
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1
        if op in ("<&", ">&") and re.match(r"\d+|-", self.text[self.i :]):
            self.i += len(re.match(r"\d+|-", self.text[self.i :]).group(0))  # type: ignore[union-attr]
            return
        if self.i >= len(self.text) or self.text[self.i] in "\n;&|":
            raise IncidentError(f"{self.label}: redirection {op!r} has no target")
        if op in ("<<", "<<-"):
            start = self.i
            delimiter = self._word()
            quoted = any(q in self.text[start : self.i] for q in "'\"\\")
            del quoted  # the body is never expanded here, quoted or not
            self.heredocs.append((self.current, delimiter, op == "<<-"))
            return
        target = self._word()
        if op == "<<<":
            self.current.stdin_text = target + "\n"
        elif op == "<" and m.group(1) in ("", "0"):
            self.current.stdin_file = target
        # output redirections change nothing about the request

    def _read_heredocs(self) -> None:
        for command, delimiter, strip_tabs in self.heredocs:
            lines: list[str] = []
            while True:
                if self.i >= len(self.text):
                    raise IncidentError(
                        f"{self.label}: here-document not closed by a {delimiter!r} line"
                    )
                end = self.text.find("\n", self.i)
                line = self.text[self.i : end if end >= 0 else len(self.text)]
                self.i = len(self.text) if end < 0 else end + 1
                if strip_tabs:
                    line = line.lstrip("\t")
                if line.rstrip("\r") == delimiter:
                    break
                lines.append(line + "\n")
            command.stdin_text = "".join(lines)
        self.heredocs = []

    def _word(self) -> str:
        text, n = self.text, len(self.text)
        word: list[str] = []
        while self.i < n:
            c = text[self.i]
            if c in " \t\r\n;&|<>":
                break
            if c == "\\":
                if text[self.i + 1 : self.i + 2] == "\n":
                    self.i += 2
                    continue
                if text[self.i + 1 : self.i + 3] == "\r\n":
                    self.i += 3
                    continue
                if self.i + 1 < n:
                    word.append(text[self.i + 1])
                self.i += 2
            elif c == "'":
                end = text.find("'", self.i + 1)
                if end < 0:
                    raise IncidentError(
                        f"{self.label}: unterminated ' quote at character {self.i + 1}"
                    )
                word.append(text[self.i + 1 : end])
                self.i = end + 1
            elif c == "$" and text[self.i + 1 : self.i + 2] == "'":
                self.i = _ansi_c(text, self.i + 2, word, self.label)
            elif c == '"':
                self.i = _double(text, self.i + 1, word, self.label)
            else:
                word.append(c)
                self.i += 1
        return "".join(word)


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


def _split_powershell(text: str, label: str) -> list[str]:
    words: list[str] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)
    escapes = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "e": "\x1b"}
    while i < n:
        c = text[i]
        if c == "`" and text[i + 1 : i + 2] in ("\n", "\r"):
            i += 3 if text[i + 1 : i + 3] == "\r\n" else 2
            continue
        if c in " \t\r\n":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
            continue
        in_word = True
        if c == "`" and i + 1 < n:
            word.append(text[i + 1])
            i += 2
        elif c == "'":
            i += 1
            while True:
                end = text.find("'", i)
                if end < 0:
                    raise IncidentError(f"{label}: unterminated ' quote at character {i}")
                word.append(text[i:end])
                if text[end + 1 : end + 2] == "'":
                    word.append("'")
                    i = end + 2
                    continue
                i = end + 1
                break
        elif c == '"':
            start = i
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "`" and i + 1 < n:
                    word.append(escapes.get(text[i + 1], text[i + 1]))
                    i += 2
                else:
                    word.append(text[i])
                    i += 1
            if i >= n:
                raise IncidentError(f'{label}: unterminated " quote at character {start + 1}')
            i += 1
        else:
            word.append(c)
            i += 1
    if in_word:
        words.append("".join(word))
    return words
