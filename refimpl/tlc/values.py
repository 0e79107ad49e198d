"""TLA+ values as TLC prints them, read into plain (JSON-able) Python data.

TLC prints a value in TLA+ syntax. The mapping to Python:

* integers -> ``int``; ``TRUE``/``FALSE`` -> ``bool``; strings ``"..."`` -> ``str``;
* model values (bare names such as ``b1``) -> ``str`` (their name);
* sequences ``<<a, b>>`` (and functions whose domain is 1..n, which TLC prints so) -> ``list``;
* sets ``{a, b}`` -> ``list`` in TLC's order; intervals ``1..3`` -> ``list`` of ``int``;
* records ``[f |-> v, ...]`` -> ``dict``;
* functions ``(k1 :> v1 @@ k2 :> v2)`` -> ``dict`` when every key is a string, an integer or a
  boolean, else a ``list`` of ``[key, value]`` pairs.

:func:`parse_value` reads one value; :func:`parse_values` reads several in a row (the output
of successive ``Print`` calls). Text that is not a value raises ``E_TLC_VALUE``.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from refimpl.tlc.errors import TLCError

__all__ = ["parse_value", "parse_values"]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<int>-?\d+)
  | (?P<punct><<|>>|\|->|:>|@@|\.\.|[{}\[\](),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "f": "\f"}


@attrs.frozen
class _Token:
    """One lexical token: its kind, its text and where it starts."""

    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    """Split ``text`` into tokens, dropping white space."""
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TLCError("E_TLC_VALUE", f"unexpected character at offset {pos}",
                           received=text[pos:pos + 40])
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return out


def _unquote(literal: str) -> str:
    """The string a TLA+ string literal denotes (TLC's escapes undone)."""
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _function_as_data(pairs: list[tuple[Any, Any]]) -> Any:
    """A function's pairs as a dict when the keys allow it, else as [key, value] pairs."""
    if all(isinstance(k, (str, int, bool)) for k, _ in pairs):
        return dict(pairs)
    return [[k, v] for k, v in pairs]


class _Parser:
    """A recursive-descent reader over the tokens of one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> _Token | None:
        """The token ``offset`` places ahead, or None at the end."""
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at_end(self) -> bool:
        """No tokens are left."""
        return self.pos >= len(self.tokens)

    def fail(self, what: str) -> TLCError:
        """An ``E_TLC_VALUE`` error at the current token."""
        token = self.peek()
        where = token.at if token else len(self.text)
        return TLCError("E_TLC_VALUE", f"{what} at offset {where}",
                        received=self.text[max(0, where - 20):where + 40])

    def take(self, text: str | None = None) -> _Token:
        """Consume the next token, which must be ``text`` if given."""
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise self.fail(f"expected {text!r}" if text else "unexpected end")
        self.pos += 1
        return token

    def accept(self, text: str) -> bool:
        """Consume the next token if it is ``text``."""
        token = self.peek()
        if token is not None and token.text == text:
            self.pos += 1
            return True
        return False

    def items(self, closing: str) -> list[Any]:
        """Comma-separated values up to ``closing`` (consumed)."""
        out: list[Any] = []
        if self.accept(closing):
            return out
        while True:
            out.append(self.value())
            if self.accept(closing):
                return out
            self.take(",")

    def record(self) -> dict[str, Any]:
        """The fields of ``[f |-> v, ...]`` after the opening bracket."""
        out: dict[str, Any] = {}
        while True:
            name = self.take()
            if name.kind != "name":
                raise self.fail("expected a field name")
            self.take("|->")
            out[name.text] = self.value()
            if self.accept("]"):
                return out
            self.take(",")

    def function(self) -> Any:
        """The pairs of ``(k :> v @@ ...)`` after the opening parenthesis."""
        pairs: list[tuple[Any, Any]] = []
        while True:
            key = self.value()
            if not self.accept(":>"):
                if not pairs and self.accept(")"):
                    return key  # a parenthesised value
                raise self.fail("expected ':>'")
            pairs.append((key, self.value()))
            if self.accept(")"):
                return _function_as_data(pairs)
            self.take("@@")

    def atom(self, token: _Token) -> Any:
        """An integer, string, boolean or model value."""
        if token.kind == "int":
            return int(token.text)
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "name":
            return {"TRUE": True, "FALSE": False}.get(token.text, token.text)
        self.pos -= 1
        raise self.fail("expected a value")

    def value(self) -> Any:
        """One value (with an optional ``..`` making an interval)."""
        token = self.take()
        if token.text == "<<":
            result: Any = self.items(">>")
        elif token.text == "{":
            result = self.items("}")
        elif token.text == "[":
            result = self.record()
        elif token.text == "(":
            result = self.function()
        else:
            result = self.atom(token)
        if self.accept(".."):
            upper = self.atom(self.take())
            if not (isinstance(result, int) and isinstance(upper, int)):
                raise self.fail("an interval needs integer bounds")
            result = list(range(result, upper + 1))
        return result


def parse_value(text: str) -> Any:
    """The one TLA+ value ``text`` prints; raises ``E_TLC_VALUE`` if it is not exactly one."""
    parser = _Parser(text)
    value = parser.value()
    if not parser.at_end():
        raise parser.fail("text after the value")
    return value


def parse_values(text: str) -> list[Any]:
    """All the TLA+ values printed one after the other in ``text``."""
    parser = _Parser(text)
    out: list[Any] = []
    while not parser.at_end():
        out.append(parser.value())
    return out
