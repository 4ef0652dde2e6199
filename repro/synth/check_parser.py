"""CHECK constraint definitions turned into rules a data generator can satisfy.

Input is the text ``pg_get_constraintdef(oid)`` returns for a check constraint (PostgreSQL
13, 15 and 17 deparse the forms below identically), e.g.::

    CHECK (((status)::text = ANY ((ARRAY['new'::character varying])::text[])))
    CHECK (((discount IS NULL) OR ((discount >= 0) AND (discount <= 100))))

A small tokenizer and recursive-descent parser read the deparsed subset; casts (``::type``)
are parsed and ignored for the meaning. What is understood:

* comparisons ``col op literal`` and ``literal op col`` (normalised), op in
  ``< <= > >= = <> !=``; negative numbers (``'-1'::integer``, ``(- 1)``);
* ``BETWEEN`` (PostgreSQL stores it as ``>= AND <=``), ``col = ANY (ARRAY[...])``,
  ``col <> ALL (ARRAY[...])``, ``col [NOT] IN (...)``, ``NOT (...)`` of those;
* ``col IS NOT NULL``; ``col ~ 'regex'``;
* ``char_length/character_length/length/octet_length(col) op integer``;
* ``jsonb_typeof(col) = 'object'`` (and ``json_typeof``): the JSON value's shape;
* ``col op col`` (a :class:`PairRule`);
* ``AND`` (rules merged); ``OR`` only as ``col IS NULL OR <conditions on col>``.

Anything else (other functions, arithmetic, LIKE, CASE, OR of other shapes...) raises
:class:`UnsupportedCheck` with a one-line reason naming the part not understood. Garbage
input raises :class:`UnsupportedCheck` too, never anything else, and parsing is linear.

Semantics follow PostgreSQL: a CHECK passes when its expression is NULL, so a NULL value
satisfies every rule except ``not_null`` (``null_allowed_escape`` records that the
definition said so explicitly). Rules are not tied to column types: bounds are compared as
numbers when both parse as numbers and as text otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from repro.text import one_line

__all__ = [
    "Bound",
    "ColumnRule",
    "PairRule",
    "ParsedCheck",
    "UnsupportedCheck",
    "admits",
    "merge",
    "parse_check",
]


@dataclass(frozen=True)
class Bound:
    """One end of a range: the literal's text (unquoted, unescaped) and whether it is allowed."""

    value: str
    inclusive: bool


@dataclass
class ColumnRule:
    """What the checks of a table (or domain, column ``VALUE``) require of one column."""

    lower: Bound | None = None
    upper: Bound | None = None
    allowed: list[str] | None = None
    excluded: set[str] = field(default_factory=set)
    # octet_length is treated as a character count: exact for ASCII values only.
    min_length: int | None = None
    max_length: int | None = None
    not_null: bool = False
    null_allowed_escape: bool = False
    patterns: list[str] = field(default_factory=list)
    json_type: str | None = None  # jsonb_typeof(col) = ...: object, array, string...


@dataclass(frozen=True)
class PairRule:
    """``left op right`` between two columns; op is one of ``< <= > >= = <>``."""

    left: str
    op: str
    right: str


@dataclass
class ParsedCheck:
    """Rules of one or more CHECK constraints: per column, and between columns."""

    columns: dict[str, ColumnRule] = field(default_factory=dict)
    pairs: list[PairRule] = field(default_factory=list)


class UnsupportedCheck(Exception):
    """The definition uses a construct the parser does not understand (one-line message)."""


# --------------------------------------------------------------------------------- tokens

_T = TypeVar("_T", str, PairRule)
_OP_CHARS = frozenset("+-*/<>=~!@#%^&|`?")
_OP_NONTRIVIAL = frozenset("~!@#%^&|`?")
_PUNCT = frozenset("()[],.;")
_MAX_DEPTH = 40  # deparsed checks nest a few levels; ~15 Python frames per level
_SNIPPET = 80


@dataclass(frozen=True)
class _Tok:
    kind: str  # ident, qident, string, number, op, punct, eof
    value: str  # identifier name / literal text / operator / punctuation
    start: int
    end: int

    def is_kw(self, *words: str) -> bool:
        return self.kind == "ident" and self.value.upper() in words


def _snippet(text: str) -> str:
    flat = one_line(text)
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 3] + "..."


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ord(ch) >= 128


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or ord(ch) >= 128


_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape_e(body: str, pos: int) -> str:
    """Backslash escapes of an E'...' literal (quotes already undoubled)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 >= len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            assert m is not None
            out.append(chr(int(m.group(), 8)))
            i += 1 + len(m.group())
        elif nxt == "x" and re.match(r"[0-9A-Fa-f]", body[i + 2 : i + 3]):
            m = re.match(r"[0-9A-Fa-f]{1,2}", body[i + 2 :])
            assert m is not None
            out.append(chr(int(m.group(), 16)))
            i += 2 + len(m.group())
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            digits = body[i + 2 : i + 2 + width]
            if not re.fullmatch(r"[0-9A-Fa-f]+", digits) or len(digits) != width:
                raise UnsupportedCheck(f"invalid unicode escape in E'' string at position {pos}")
            try:
                out.append(chr(int(digits, 16)))
            except (ValueError, OverflowError):
                raise UnsupportedCheck(
                    f"invalid unicode escape in E'' string at position {pos}"
                ) from None
            i += 2 + width
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "eE" and i + 1 < n and text[i + 1] == "'":
            body, i = _quoted_e(text, i + 1)
            toks.append(_Tok("string", _unescape_e(body, start), start, i))
        elif ch == "'":
            body, i = _quoted(text, i, "'", "string literal")
            toks.append(_Tok("string", body, start, i))
        elif ch == '"':
            body, i = _quoted(text, i, '"', "quoted identifier")
            if not body:
                raise UnsupportedCheck(f"empty quoted identifier at position {start}")
            toks.append(_Tok("qident", body, start, i))
        elif _is_ident_start(ch):
            while i < n and _is_ident_char(text[i]):
                i += 1
            toks.append(_Tok("ident", text[start:i], start, i))
        elif ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = re.compile(r"\d*\.?\d*(?:[eE][+-]?\d+)?").match(text, i)
            assert m is not None
            i = m.end()
            toks.append(_Tok("number", m.group(), start, i))
        elif text.startswith("::", i):
            i += 2
            toks.append(_Tok("op", "::", start, i))
        elif ch in _PUNCT:
            i += 1
            toks.append(_Tok("punct", ch, start, i))
        elif ch in _OP_CHARS:
            while i < n and text[i] in _OP_CHARS:
                i += 1
            op = text[start:i]
            if "--" in op or "/*" in op:
                raise UnsupportedCheck(f"SQL comment at position {start} is not supported")
            # PostgreSQL: a multi-character operator cannot end in + or - unless it holds
            # one of ~ ! @ # % ^ & | ` ? (so "<-1" lexes as "<" and "-").
            while len(op) > 1 and op[-1] in "+-" and not (_OP_NONTRIVIAL & set(op)):
                op = op[:-1]
            i = start + len(op)
            toks.append(_Tok("op", op, start, i))
        else:
            raise UnsupportedCheck(f"unexpected character {ch!r} at position {i}")
    toks.append(_Tok("eof", "", n, n))
    return toks


def _quoted_e(text: str, i: int) -> tuple[str, int]:
    """Raw body of an E'...' literal at ``text[i] == "'"``: backslash pairs kept for
    :func:`_unescape_e`, doubled quotes undoubled."""
    out: list[str] = []
    j, n = i + 1, len(text)
    while j < n:
        ch = text[j]
        if ch == "\\" and j + 1 < n:
            out.append(text[j : j + 2])
            j += 2
        elif ch == "'" and text.startswith("''", j):
            out.append("\\'")
            j += 2
        elif ch == "'":
            return "".join(out), j + 1
        else:
            out.append(ch)
            j += 1
    raise UnsupportedCheck(f"unterminated string literal starting at position {i}")


def _quoted(text: str, i: int, quote: str, what: str) -> tuple[str, int]:
    """Body of a quoted token starting at ``text[i] == quote`` (doubled quotes undoubled)."""
    out: list[str] = []
    j = i + 1
    while True:
        k = text.find(quote, j)
        if k < 0:
            raise UnsupportedCheck(f"unterminated {what} starting at position {i}")
        out.append(text[j:k])
        if text.startswith(quote * 2, k):
            out.append(quote)
            j = k + 2
        else:
            return "".join(out), k + 1


# ----------------------------------------------------------------------------------- AST


@dataclass
class _Node:
    start: int
    end: int


@dataclass
class _Col(_Node):
    name: str


@dataclass
class _Lit(_Node):
    value: str | None  # None: NULL
    kind: str  # number, string, bool, null


@dataclass
class _Func(_Node):
    name: str
    args: list[_Node]


@dataclass
class _Array(_Node):
    items: list[_Node]


@dataclass
class _BinOp(_Node):
    op: str
    left: _Node
    right: _Node


@dataclass
class _Quant(_Node):
    op: str
    quant: str  # ANY or ALL
    left: _Node
    right: _Node


@dataclass
class _IsTest(_Node):
    operand: _Node
    what: str  # NULL, TRUE, FALSE, UNKNOWN, DISTINCT FROM
    negated: bool


@dataclass
class _Between(_Node):
    operand: _Node
    low: _Node
    high: _Node
    negated: bool
    symmetric: bool


@dataclass
class _InList(_Node):
    operand: _Node
    items: list[_Node]
    negated: bool


@dataclass
class _BoolOp(_Node):
    op: str  # AND, OR
    items: list[_Node]


@dataclass
class _Not(_Node):
    item: _Node


@dataclass
class _Unary(_Node):
    op: str
    operand: _Node


_COMPARISON = frozenset({"<", "<=", ">", ">=", "=", "<>", "!="})
_ADDITIVE = frozenset({"+", "-"})
_MULTIPLICATIVE = frozenset({"*", "/", "%"})
# Words that may continue a type name after "::" (character varying, double precision,
# timestamp with time zone, interval day to second).
_TYPE_WORDS = frozenset(
    {"precision", "varying", "with", "without", "time", "zone"}
    | {"year", "month", "day", "hour", "minute", "second", "to"}
)
# Reserved words the deparser never prints unquoted as identifiers.
_RESERVED = frozenset(
    {
        "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "IN", "ANY", "ALL",
        "SOME", "ARRAY", "LIKE", "ILIKE", "SIMILAR", "CASE", "WHEN", "THEN", "ELSE", "END",
        "CHECK", "COLLATE", "ISNULL", "NOTNULL", "SYMMETRIC", "ASYMMETRIC", "DISTINCT",
        "FROM", "OVERLAPS", "SELECT", "EXISTS", "CAST", "CURRENT_DATE", "CURRENT_TIME",
        "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "CURRENT_USER", "SESSION_USER",
        "USER", "CURRENT_ROLE", "CURRENT_CATALOG", "CURRENT_SCHEMA",
    }
)  # fmt: skip
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def peek(self, ahead: int = 1) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def is_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.value == ch

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def expect_punct(self, ch: str, context: str) -> _Tok:
        if not self.is_punct(ch):
            raise self.unexpected(f"expected {ch!r} {context}")
        return self.advance()

    def expect_kw(self, word: str, context: str) -> _Tok:
        if not self.tok.is_kw(word):
            raise self.unexpected(f"expected {word} {context}")
        return self.advance()

    def unexpected(self, why: str) -> UnsupportedCheck:
        tok = self.tok
        shown = "end of input" if tok.kind == "eof" else repr(_snippet(self.text[tok.start :]))
        return UnsupportedCheck(f"{why}, found {shown} at position {tok.start}")

    def unsupported(self, what: str, start: int) -> UnsupportedCheck:
        return UnsupportedCheck(
            f"{what} is not supported: {_snippet(self.text[start:])!r} (position {start})"
        )

    def nested(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise UnsupportedCheck(f"expression nested deeper than {_MAX_DEPTH} levels")

    # -- grammar (PostgreSQL precedence, lowest first)
    def parse_definition(self) -> _Node:
        if self.tok.is_kw("CHECK"):
            self.advance()
            self.expect_punct("(", "after CHECK")
            node = self.expr()
            self.expect_punct(")", "closing CHECK (")
            # Suffixes pg_get_constraintdef may add; they do not change the rule.
            while self.tok.is_kw("NOT", "NO") and self.peek().is_kw("VALID", "INHERIT"):
                self.advance()
                self.advance()
        else:
            node = self.expr()
        if self.tok.kind != "eof":
            raise self.unexpected("expected end of the definition")
        return node

    def expr(self) -> _Node:
        self.nested()
        try:
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> _Node:
        first = self.and_expr()
        items = [first]
        while self.tok.is_kw("OR"):
            self.advance()
            items.append(self.and_expr())
        if len(items) == 1:
            return first
        return _BoolOp(first.start, items[-1].end, "OR", items)

    def and_expr(self) -> _Node:
        first = self.not_expr()
        items = [first]
        while self.tok.is_kw("AND"):
            self.advance()
            items.append(self.not_expr())
        if len(items) == 1:
            return first
        return _BoolOp(first.start, items[-1].end, "AND", items)

    def not_expr(self) -> _Node:
        if self.tok.is_kw("NOT"):
            start = self.advance().start
            self.nested()
            try:
                item = self.not_expr()
            finally:
                self.depth -= 1
            return _Not(start, item.end, item)
        return self.is_expr()

    def is_expr(self) -> _Node:
        node = self.cmp_expr()
        while True:
            if self.tok.is_kw("ISNULL", "NOTNULL"):
                tok = self.advance()
                node = _IsTest(node.start, tok.end, node, "NULL", tok.is_kw("NOTNULL"))
                continue
            if not self.tok.is_kw("IS"):
                return node
            self.advance()
            negated = False
            if self.tok.is_kw("NOT"):
                self.advance()
                negated = True
            tok = self.tok
            if tok.is_kw("NULL", "TRUE", "FALSE", "UNKNOWN"):
                self.advance()
                node = _IsTest(node.start, tok.end, node, tok.value.upper(), negated)
            elif tok.is_kw("DISTINCT"):
                raise self.unsupported("IS DISTINCT FROM", node.start)
            else:
                raise self.unexpected("expected NULL, TRUE, FALSE or UNKNOWN after IS")

    def cmp_expr(self) -> _Node:
        left = self.in_expr()
        if not self.is_op(*_COMPARISON):
            return left
        op = self.advance().value
        op = "<>" if op == "!=" else op
        if self.tok.is_kw("ANY", "SOME", "ALL"):
            quant = "ALL" if self.advance().is_kw("ALL") else "ANY"
            self.expect_punct("(", f"after {quant}")
            inner = self.expr()
            end = self.expect_punct(")", f"closing {quant} (").end
            return _Quant(left.start, end, op, quant, left, inner)
        right = self.in_expr()
        node: _Node = _BinOp(left.start, right.end, op, left, right)
        if self.is_op(*_COMPARISON):
            raise self.unsupported("chained comparison", left.start)
        return node

    def in_expr(self) -> _Node:
        node = self.other_expr()
        while True:
            negated = False
            if self.tok.is_kw("NOT") and self.peek().is_kw(
                "BETWEEN", "IN", "LIKE", "ILIKE", "SIMILAR"
            ):
                self.advance()
                negated = True
            tok = self.tok
            if tok.is_kw("BETWEEN"):
                self.advance()
                symmetric = False
                if self.tok.is_kw("SYMMETRIC", "ASYMMETRIC"):
                    symmetric = self.advance().is_kw("SYMMETRIC")
                low = self.other_expr()
                self.expect_kw("AND", "in BETWEEN")
                high = self.other_expr()
                node = _Between(node.start, high.end, node, low, high, negated, symmetric)
            elif tok.is_kw("IN"):
                self.advance()
                self.expect_punct("(", "after IN")
                items = [self.expr()]
                while self.is_punct(","):
                    self.advance()
                    items.append(self.expr())
                end = self.expect_punct(")", "closing IN (").end
                node = _InList(node.start, end, node, items, negated)
            elif tok.is_kw("LIKE", "ILIKE", "SIMILAR"):
                raise self.unsupported(tok.value.upper(), node.start)
            else:
                return node

    def other_expr(self) -> _Node:
        node = self.add_expr()
        while (
            self.tok.kind == "op"
            and self.tok.value not in _COMPARISON | _ADDITIVE | _MULTIPLICATIVE | {"::", "^"}
        ):
            op = self.advance().value
            if self.tok.is_kw("ANY", "SOME", "ALL"):
                raise self.unsupported(f"operator {op!r} with ANY/ALL", node.start)
            right = self.add_expr()
            node = _BinOp(node.start, right.end, op, node, right)
        return node

    def add_expr(self) -> _Node:
        node = self.mul_expr()
        while self.is_op(*_ADDITIVE):
            op = self.advance().value
            right = self.mul_expr()
            node = _BinOp(node.start, right.end, op, node, right)
        return node

    def mul_expr(self) -> _Node:
        node = self.pow_expr()
        while self.is_op(*_MULTIPLICATIVE):
            op = self.advance().value
            right = self.pow_expr()
            node = _BinOp(node.start, right.end, op, node, right)
        return node

    def pow_expr(self) -> _Node:
        node = self.unary()
        while self.is_op("^"):
            op = self.advance().value
            right = self.unary()
            node = _BinOp(node.start, right.end, op, node, right)
        return node

    def unary(self) -> _Node:
        if self.is_op("-", "+"):
            tok = self.advance()
            self.nested()
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            if (
                isinstance(operand, _Lit)
                and operand.value is not None
                and (_NUMBER_RE.fullmatch(operand.value))
            ):
                value = operand.value
                if tok.value == "-":
                    value = value[1:] if value.startswith("-") else "-" + value.lstrip("+")
                return _Lit(tok.start, operand.end, value, "number")
            return _Unary(tok.start, operand.end, tok.value, operand)
        return self.postfix()

    def postfix(self) -> _Node:
        node = self.primary()
        while True:
            if self.is_op("::"):
                self.advance()
                end = self.type_name()
                node = _retype(node, end)
            elif self.is_punct("["):
                raise self.unsupported("array subscript", node.start)
            elif self.tok.is_kw("COLLATE"):
                raise self.unsupported("COLLATE", node.start)
            else:
                return node

    def type_name(self) -> int:
        """Consume a type name after ``::``; return its end position (the type is ignored)."""
        tok = self.tok
        if tok.kind not in ("ident", "qident"):
            raise self.unexpected("expected a type name after '::'")
        end = self.advance().end
        while self.is_punct(".") and self.peek().kind in ("ident", "qident"):
            self.advance()
            end = self.advance().end
        for _ in range(2):  # words, then modifiers, then words again: "timestamp(3) with..."
            while self.tok.kind == "ident" and self.tok.value.lower() in _TYPE_WORDS:
                end = self.advance().end
            if self.is_punct("("):
                self.advance()
                while self.tok.kind == "number" or self.is_punct(","):
                    self.advance()
                end = self.expect_punct(")", "closing type modifiers").end
        while self.is_punct("["):
            self.advance()
            if self.tok.kind == "number":
                self.advance()
            end = self.expect_punct("]", "in array type").end
        return end

    def primary(self) -> _Node:
        tok = self.tok
        if tok.kind == "punct" and tok.value == "(":
            self.advance()
            inner = self.expr()
            end = self.expect_punct(")", "closing parenthesis").end
            return _retype(inner, end, start=tok.start)
        if tok.kind == "number":
            self.advance()
            return _Lit(tok.start, tok.end, tok.value, "number")
        if tok.kind == "string":
            self.advance()
            return _Lit(tok.start, tok.end, tok.value, "string")
        if tok.kind == "qident":
            return self.name_or_call()
        if tok.kind == "ident":
            word = tok.value.upper()
            if word == "NULL":
                self.advance()
                return _Lit(tok.start, tok.end, None, "null")
            if word in ("TRUE", "FALSE"):
                self.advance()
                return _Lit(tok.start, tok.end, word.lower(), "bool")
            if word == "ARRAY":
                return self.array()
            if word in _RESERVED:
                raise self.unsupported(f"{word} here", tok.start)
            return self.name_or_call()
        if tok.kind == "eof":
            raise self.unexpected("expected an operand")
        raise self.unexpected("expected an operand")

    def array(self) -> _Node:
        start = self.advance().start
        if not self.is_punct("["):
            raise self.unsupported("ARRAY subquery", start)
        self.advance()
        items: list[_Node] = []
        if not self.is_punct("]"):
            items.append(self.expr())
            while self.is_punct(","):
                self.advance()
                items.append(self.expr())
        end = self.expect_punct("]", "closing ARRAY[").end
        return _Array(start, end, items)

    def name_or_call(self) -> _Node:
        first = self.advance()
        parts = [first.value]
        end = first.end
        while self.is_punct(".") and self.peek().kind in ("ident", "qident"):
            self.advance()
            tok = self.advance()
            parts.append(tok.value)
            end = tok.end
        if self.is_punct("("):
            self.advance()
            args: list[_Node] = []
            if self.tok.is_kw("DISTINCT", "ALL") or self.is_op("*"):
                raise self.unsupported("aggregate-style call", first.start)
            if not self.is_punct(")"):
                args.append(self.expr())
                while self.is_punct(","):
                    self.advance()
                    args.append(self.expr())
            end = self.expect_punct(")", "closing function call").end
            return _Func(first.start, end, ".".join(parts), args)
        if len(parts) > 1:
            raise self.unsupported("qualified column name", first.start)
        return _Col(first.start, end, first.value)


def _retype(node: _Node, end: int, *, start: int | None = None) -> _Node:
    """The same node with a wider source span (parentheses, casts): meaning unchanged."""
    copy = type(node)(**{**node.__dict__, "end": end})
    if start is not None:
        copy.start = start
    return copy


# ------------------------------------------------------------------------ interpretation

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "<>", "<>": "="}
_LENGTH_FUNCS = frozenset({"char_length", "character_length", "length", "octet_length"})
_JSON_TYPE_FUNCS = frozenset({"jsonb_typeof", "json_typeof"})
_JSON_TYPES = frozenset({"object", "array", "string", "number", "boolean", "null"})


class _Interpreter:
    def __init__(self, text: str) -> None:
        self.text = text

    def snippet(self, node: _Node) -> str:
        return repr(_snippet(self.text[node.start : node.end]))

    def fail(self, what: str, node: _Node) -> UnsupportedCheck:
        return UnsupportedCheck(f"{what}: {self.snippet(node)} (position {node.start})")

    def rules(self, node: _Node) -> ParsedCheck:
        if isinstance(node, _BoolOp):
            if node.op == "OR":
                return self.disjunction(node)
            return _conjoin(self.rules(item) for item in node.items)
        if isinstance(node, _Not):
            return self.rules(self.negate(node.item, node))
        if isinstance(node, _BinOp):
            if node.op in _FLIP:
                return self.comparison(node)
            return self.binary(node)
        if isinstance(node, _Quant):
            return self.quantified(node)
        if isinstance(node, _InList):
            return self.in_list(node)
        if isinstance(node, _Between):
            if node.negated:
                raise self.fail("NOT BETWEEN is not supported", node)
            if node.symmetric:
                raise self.fail("BETWEEN SYMMETRIC is not supported", node)
            low = _BinOp(node.start, node.end, ">=", node.operand, node.low)
            high = _BinOp(node.start, node.end, "<=", node.operand, node.high)
            return _conjoin((self.comparison(low), self.comparison(high)))
        if isinstance(node, _IsTest):
            col = self.column(node.operand, "IS test")
            if node.what == "NULL" and node.negated:
                return ParsedCheck({col: ColumnRule(not_null=True)})
            if node.what == "NULL":
                raise self.fail("'IS NULL' outside '<col> IS NULL OR ...' is not supported", node)
            raise self.fail(
                f"IS {'NOT ' if node.negated else ''}{node.what} is not supported", node
            )
        if isinstance(node, _Lit):
            if node.kind == "bool" and node.value == "true":
                return ParsedCheck()
            raise self.fail("constant condition is not supported", node)
        if isinstance(node, _Col):
            raise self.fail("bare boolean column as a condition is not supported", node)
        raise self.fail(f"{self.describe(node)} used as a condition is not supported", node)

    def describe(self, node: _Node) -> str:
        if isinstance(node, _Func):
            return f"function {node.name}()"
        if isinstance(node, _BinOp | _Unary):
            return f"operator {node.op!r}"
        if isinstance(node, _Array):
            return "array"
        if isinstance(node, _Lit):
            return "literal"
        if isinstance(node, _Col):
            return "column"
        return "subexpression"

    def column(self, node: _Node, context: str) -> str:
        if isinstance(node, _Col):
            return node.name
        raise self.fail(
            f"{self.describe(node)} in {context} is not supported (need a column)", node
        )

    def literal(self, node: _Node, context: str) -> str:
        if isinstance(node, _Lit):
            if node.value is None:
                raise self.fail(f"NULL in {context} is not supported", node)
            return node.value
        raise self.fail(
            f"{self.describe(node)} in {context} is not supported (need a literal)", node
        )

    def negate(self, node: _Node, whole: _Not) -> _Node:
        if isinstance(node, _BinOp) and node.op in _NEGATE:
            return _BinOp(node.start, node.end, _NEGATE[node.op], node.left, node.right)
        if isinstance(node, _Quant) and (node.op, node.quant) in (("=", "ANY"), ("<>", "ALL")):
            op, quant = ("<>", "ALL") if node.op == "=" else ("=", "ANY")
            return _Quant(node.start, node.end, op, quant, node.left, node.right)
        if isinstance(node, _InList):
            return _InList(node.start, node.end, node.operand, node.items, not node.negated)
        if isinstance(node, _IsTest) and node.what == "NULL":
            return _IsTest(node.start, node.end, node.operand, node.what, not node.negated)
        if isinstance(node, _Not):
            return node.item
        raise self.fail("NOT of this expression is not supported", whole)

    def disjunction(self, node: _BoolOp) -> ParsedCheck:
        shape = "OR is only supported as '<col> IS NULL OR <conditions on that column>'"
        escapes = [
            item
            for item in node.items
            if isinstance(item, _IsTest)
            and item.what == "NULL"
            and not item.negated
            and isinstance(item.operand, _Col)
        ]
        if len(node.items) != 2 or len(escapes) != 1:
            raise self.fail(shape, node)
        escape = escapes[0]
        assert isinstance(escape.operand, _Col)
        col = escape.operand.name
        other = node.items[1] if node.items[0] is escape else node.items[0]
        inner = self.rules(other)
        foreign = {name for name in inner.columns if name != col}
        for pair in inner.pairs:
            if col not in (pair.left, pair.right):  # NULL in col would not make it pass
                foreign |= {pair.left, pair.right}
        if foreign:
            raise self.fail(
                f"{shape}; other side also constrains {', '.join(sorted(foreign))}", node
            )
        rule = _copy_rule(inner.columns.get(col, ColumnRule()))
        # NULL satisfies the whole OR, so "col IS NOT NULL" inside it requires nothing.
        rule.not_null = False
        rule.null_allowed_escape = True
        return ParsedCheck({col: rule}, list(inner.pairs))

    def comparison(self, node: _BinOp) -> ParsedCheck:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, _Lit) and not isinstance(right, _Lit):
            op, left, right = _FLIP[op], right, left
        if isinstance(left, _Col) and isinstance(right, _Col):
            return ParsedCheck(pairs=[PairRule(left.name, op, right.name)])
        if isinstance(left, _Col):
            value = self.literal(right, "comparison")
            rule = ColumnRule()
            if op in (">", ">="):
                rule.lower = Bound(value, op == ">=")
            elif op in ("<", "<="):
                rule.upper = Bound(value, op == "<=")
            elif op == "=":
                rule.allowed = [value]
            else:
                rule.excluded = {value}
            return ParsedCheck({left.name: rule})
        if isinstance(left, _Func) and left.name.lower() in _JSON_TYPE_FUNCS:
            return ParsedCheck({self.json_column(left): self.json_rule(op, right, node)})
        if isinstance(left, _Func):
            col = self.length_column(left)
            return ParsedCheck({col: self.length_rule(op, right, node)})
        if isinstance(left, _Lit):
            raise self.fail("comparison between two literals is not supported", node)
        raise self.fail(f"{self.describe(left)} in comparison is not supported", left)

    def length_column(self, func: _Func) -> str:
        name = func.name.lower().removeprefix("pg_catalog.")
        if name not in _LENGTH_FUNCS:
            raise self.fail(
                f"function {func.name}() is not supported "
                "(only char_length/character_length/length/octet_length of a column)",
                func,
            )
        if len(func.args) != 1:
            raise self.fail(f"{func.name}() with {len(func.args)} arguments is not supported", func)
        return self.column(func.args[0], f"{func.name}()")

    def json_column(self, func: _Func) -> str:
        if len(func.args) != 1:
            raise self.fail(f"{func.name}() with {len(func.args)} arguments is not supported", func)
        return self.column(func.args[0], f"{func.name}()")

    def json_rule(self, op: str, right: _Node, node: _Node) -> ColumnRule:
        value = self.literal(right, "JSON type comparison")
        if op != "=" or value not in _JSON_TYPES:
            raise self.fail("only '= <JSON type>' is supported for a JSON value's type", node)
        return ColumnRule(json_type=value)

    def length_rule(self, op: str, right: _Node, node: _Node) -> ColumnRule:
        text = self.literal(right, "length comparison")
        if not re.fullmatch(r"[+-]?\d+", text):
            raise self.fail("length compared with a non-integer is not supported", node)
        n = int(text)
        rule = ColumnRule()
        if op == ">":
            rule.min_length = max(n + 1, 0)
        elif op == ">=":
            rule.min_length = max(n, 0)
        elif op == "<":
            rule.max_length = n - 1
        elif op == "<=":
            rule.max_length = n
        elif op == "=":
            rule.min_length, rule.max_length = max(n, 0), n
        else:
            raise self.fail("'<>' on a length is not supported", node)
        return rule

    def binary(self, node: _BinOp) -> ParsedCheck:
        if node.op == "~":
            col = self.column(node.left, "regular expression match")
            return ParsedCheck({col: ColumnRule(patterns=[self.literal(node.right, "pattern")])})
        names = {"~~": "LIKE", "~~*": "ILIKE", "!~~": "NOT LIKE", "!~~*": "NOT ILIKE"}
        what = f"operator {node.op!r}" + (f" ({names[node.op]})" if node.op in names else "")
        raise self.fail(f"{what} is not supported", node)

    def array_values(self, node: _Node, context: str) -> list[str]:
        if isinstance(node, _Array):
            return [self.literal(item, context) for item in node.items]
        if isinstance(node, _Lit) and node.kind == "string" and node.value is not None:
            body = node.value.strip()
            if not (body.startswith("{") and body.endswith("}")) or re.search(
                r'["\\{}]', body[1:-1]
            ):
                raise self.fail(f"array literal in {context} is not supported", node)
            items = [item.strip() for item in body[1:-1].split(",")] if body[1:-1].strip() else []
            if any(item.upper() == "NULL" for item in items):
                raise self.fail(f"NULL in {context} is not supported", node)
            return items
        raise self.fail(
            f"{self.describe(node)} in {context} is not supported (need ARRAY[...])", node
        )

    def quantified(self, node: _Quant) -> ParsedCheck:
        if (node.op, node.quant) not in (("=", "ANY"), ("<>", "ALL")):
            raise self.fail(f"'{node.op} {node.quant}' is not supported", node)
        col = self.column(node.left, f"{node.op} {node.quant}")
        values = self.array_values(node.right, f"{node.op} {node.quant}")
        if node.quant == "ANY":
            return ParsedCheck({col: ColumnRule(allowed=_dedup(values))})
        return ParsedCheck({col: ColumnRule(excluded=set(values))})

    def in_list(self, node: _InList) -> ParsedCheck:
        context = "NOT IN" if node.negated else "IN"
        col = self.column(node.operand, context)
        values = [self.literal(item, f"{context} list") for item in node.items]
        if node.negated:
            return ParsedCheck({col: ColumnRule(excluded=set(values))})
        return ParsedCheck({col: ColumnRule(allowed=_dedup(values))})


# ---------------------------------------------------------------------------- public API


def parse_check(definition: str) -> ParsedCheck:
    """Rules of one ``pg_get_constraintdef`` CHECK definition (``CHECK`` prefix optional).

    Raises :class:`UnsupportedCheck` (one-line message) for anything not understood.
    """
    if not isinstance(definition, str):
        raise UnsupportedCheck(f"definition must be a string, not {type(definition).__name__}")
    try:
        tree = _Parser(definition).parse_definition()
        return _Interpreter(definition).rules(tree)
    except RecursionError:  # pragma: no cover - _MAX_DEPTH keeps well below the limit
        raise UnsupportedCheck("expression nested too deeply") from None


def merge(a: ParsedCheck, b: ParsedCheck) -> ParsedCheck:
    """Both sets of rules at once (several checks on one table): bounds tightened, ``allowed``
    intersected, exclusions/patterns/pairs united. The inputs are not modified."""
    return _conjoin((a, b))


def admits(rule: ColumnRule, value: str | None, *, numeric: bool) -> bool:
    """Whether ``value`` (text form; None is NULL) satisfies ``rule``.

    NULL satisfies everything but ``not_null`` (a CHECK passes when it yields NULL).
    ``numeric=True`` compares bounds and ``allowed``/``excluded`` as :class:`Decimal` (a value
    that is not a number is rejected; a bound that is not a number raises ValueError).
    Otherwise comparison is by code point, which is right for numbers-free text only under
    the "C" collation, and for dates/timestamps only when the value has the bound's exact
    format (ISO, same precision and zone suffix): '2030-01-01' < '2030-01-01 00:00:00' as
    text but not as timestamps. Lengths count characters (octet_length too: exact for ASCII).
    Patterns use Python's ``re.search``, close to but not identical with PostgreSQL's regular
    expressions; a pattern Python cannot compile rejects the value.
    """
    if value is None:
        return not rule.not_null
    order: Callable[[str], int]  # sign of (value - rule value)
    if numeric:
        number = _number(value)
        if number is None:
            return False

        def order(other: str) -> int:
            bound = _bound_decimal(other)
            return (number > bound) - (number < bound)

    else:

        def order(other: str) -> int:
            return (value > other) - (value < other)

    if rule.lower is not None:
        sign = order(rule.lower.value)
        if sign < 0 or (sign == 0 and not rule.lower.inclusive):
            return False
    if rule.upper is not None:
        sign = order(rule.upper.value)
        if sign > 0 or (sign == 0 and not rule.upper.inclusive):
            return False
    if rule.allowed is not None and not any(order(v) == 0 for v in rule.allowed):
        return False
    if any(order(v) == 0 for v in rule.excluded):
        return False
    if rule.min_length is not None and len(value) < rule.min_length:
        return False
    if rule.max_length is not None and len(value) > rule.max_length:
        return False
    for pattern in rule.patterns:
        try:
            if re.search(pattern, value) is None:
                return False
        except re.error:
            return False
    return rule.json_type is None or json_type_of(value) == rule.json_type


def json_type_of(text: str) -> str | None:
    """What ``jsonb_typeof`` says of a JSON text (None: not JSON)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}.get(type(value))


# ------------------------------------------------------------------------------- helpers


def _conjoin(parts: Iterable[ParsedCheck]) -> ParsedCheck:
    """All ``parts`` at once, in one pass (linear in their size); ``parts`` are not modified."""
    columns: dict[str, ColumnRule] = {}
    pairs: list[PairRule] = []
    for part in parts:
        for name, rule in part.columns.items():
            known = columns.get(name)
            columns[name] = _copy_rule(rule) if known is None else _merge_rules(known, rule)
        pairs.extend(part.pairs)
    return ParsedCheck(columns, _dedup(pairs))


def _bound_decimal(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"rule value {text!r} is not a number") from None


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return None if number.is_nan() else number


def _compare(a: str, b: str) -> int:
    """Order of two rule values: as numbers when both are, else as text."""
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    return (a > b) - (a < b)


def _tighter(a: Bound | None, b: Bound | None, *, lower: bool) -> Bound | None:
    if a is None or b is None:
        return a if b is None else b
    order = _compare(a.value, b.value)
    if order == 0:
        return a if not a.inclusive else b
    if lower:
        return a if order > 0 else b
    return a if order < 0 else b


def _merge_rules(a: ColumnRule, b: ColumnRule) -> ColumnRule:
    allowed: list[str] | None
    if a.allowed is not None and b.allowed is not None:
        allowed = [v for v in a.allowed if v in b.allowed]
    else:
        source = a.allowed if a.allowed is not None else b.allowed
        allowed = None if source is None else list(source)
    not_null = a.not_null or b.not_null
    return ColumnRule(
        lower=_tighter(a.lower, b.lower, lower=True),
        upper=_tighter(a.upper, b.upper, lower=False),
        allowed=allowed,
        excluded=a.excluded | b.excluded,
        min_length=_pick(max, a.min_length, b.min_length),
        max_length=_pick(min, a.max_length, b.max_length),
        not_null=not_null,
        null_allowed_escape=(a.null_allowed_escape or b.null_allowed_escape) and not not_null,
        patterns=_dedup([*a.patterns, *b.patterns]),
        json_type=_same(a.json_type, b.json_type),
    )


def _same(a: str | None, b: str | None) -> str | None:
    """Two JSON type rules on one column: they must agree ("none" when they cannot)."""
    if a is None or b is None or a == b:
        return a if b is None else b
    return "none"


def _pick(choose: Callable[[int, int], int], a: int | None, b: int | None) -> int | None:
    if a is None or b is None:
        return a if b is None else b
    return choose(a, b)


def _copy_rule(rule: ColumnRule) -> ColumnRule:
    return ColumnRule(
        lower=rule.lower,
        upper=rule.upper,
        allowed=None if rule.allowed is None else list(rule.allowed),
        excluded=set(rule.excluded),
        min_length=rule.min_length,
        max_length=rule.max_length,
        not_null=rule.not_null,
        null_allowed_escape=rule.null_allowed_escape,
        patterns=list(rule.patterns),
        json_type=rule.json_type,
    )


def _dedup(items: list[_T]) -> list[_T]:
    return list(dict.fromkeys(items))
