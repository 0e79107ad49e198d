"""TLC's tool-mode output (``-tool``), read into messages, states and run statistics.

With ``-tool`` every message of TLC is framed::

    @!@!@STARTMSG 2110:1 @!@!@
    Invariant Agreement is violated.
    @!@!@ENDMSG 2110 @!@!@

``code`` is one of TLC's message codes (``tlc2.output.EC``) and ``class`` its severity (0 info,
1 error, 2 TLC bug, 3 warning, 4 state). A message may start in the middle of a line and may
nest inside another. Text outside every frame is what the spec printed (``Print``/``PrintT``)
or what the parser SANY reports. :class:`MessageReader` reads the output line by line as it
arrives; the functions below turn the messages into states of a counterexample and figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from refimpl.tlc.errors import TLCError
from refimpl.tlc.values import parse_value, parse_values

__all__ = [
    "EC",
    "Message",
    "MessageReader",
    "TraceState",
    "Figures",
    "Violation",
    "read_messages",
    "parse_state",
    "parse_figures",
    "find_violation",
    "collect_trace",
    "collect_errors",
    "collect_printed",
]


class EC:
    """The TLC 2.15 message codes this module reads (names as in ``tlc2.output.EC``)."""

    GENERAL = 1000
    TLC_ASSUMPTION_FALSE = 2104
    TLC_ASSUMPTION_EVALUATION_ERROR = 2105
    TLC_INVARIANT_VIOLATED_INITIAL = 2107
    TLC_PROPERTY_VIOLATED_INITIAL = 2108
    TLC_INVARIANT_VIOLATED_BEHAVIOR = 2110
    TLC_INVARIANT_EVALUATION_FAILED = 2111
    TLC_ACTION_PROPERTY_VIOLATED_BEHAVIOR = 2112
    TLC_DEADLOCK_REACHED = 2114
    TLC_TEMPORAL_PROPERTY_VIOLATED = 2116
    TLC_BEHAVIOR_UP_TO_THIS_POINT = 2121
    TLC_BACK_TO_STATE = 2122
    TLC_STARTING = 2185
    TLC_FINISHED = 2186
    TLC_MODE_MC = 2187
    TLC_MODE_SIMU = 2188
    TLC_COMPUTING_INIT = 2189
    TLC_INIT_GENERATED1 = 2190
    TLC_CHECKING_TEMPORAL_PROPS = 2192
    TLC_SUCCESS = 2193
    TLC_SEARCH_DEPTH = 2194
    TLC_STATS = 2199
    TLC_PROGRESS_STATS = 2200
    TLC_PROGRESS_SIMU = 2209
    TLC_STATE_PRINT1 = 2216
    TLC_CONFIG_ID_HAS_VALUE = 2230
    TLC_STATE_PRINT2 = 2217
    TLC_STATE_PRINT3 = 2218
    TLC_SANY_END = 2219
    TLC_SANY_START = 2220
    TLC_VERSION = 2262
    TLC_COUNTER_EXAMPLE = 2264


#: Severity of an error message (the classes are those of ``tlc2.output.MP``).
SEVERITY_ERROR = 1
#: Severity of a message about a bug in TLC itself.
SEVERITY_TLCBUG = 2
#: Severity of a warning.
SEVERITY_WARNING = 3
#: Severity of a message that prints a state.
SEVERITY_STATE = 4

#: Violation messages: code -> kind of the violated property.
VIOLATION_KINDS: dict[int, str] = {
    EC.TLC_INVARIANT_VIOLATED_INITIAL: "invariant",
    EC.TLC_INVARIANT_VIOLATED_BEHAVIOR: "invariant",
    EC.TLC_PROPERTY_VIOLATED_INITIAL: "property",
    EC.TLC_ACTION_PROPERTY_VIOLATED_BEHAVIOR: "action-property",
    EC.TLC_TEMPORAL_PROPERTY_VIOLATED: "property",
    EC.TLC_DEADLOCK_REACHED: "deadlock",
    EC.TLC_ASSUMPTION_FALSE: "assumption",
}

_MARKER = re.compile(r"@!@!@STARTMSG (\d+):(\d+) @!@!@|@!@!@ENDMSG (\d+) @!@!@")


@attrs.frozen
class Message:
    """One framed TLC message (``code`` None: text outside every frame)."""

    code: int | None
    severity: int
    text: str


class MessageReader:
    """Reads tool-mode output incrementally; :meth:`feed` returns the messages it completed."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, int, list[str]]] = []
        self._loose: list[str] = []
        self._partial = ""

    def _close_loose(self, out: list[Message]) -> None:
        """Emit the text gathered outside every frame as one message."""
        text = "".join(self._loose)
        self._loose = []
        if text.strip():
            out.append(Message(None, 0, text))

    def _append(self, text: str) -> None:
        """Add text to the innermost open message, or to the loose text."""
        if text:
            (self._stack[-1][2] if self._stack else self._loose).append(text)

    def feed(self, chunk: str) -> list[Message]:
        """Consume output (any number of whole or partial lines); the messages completed."""
        text = self._partial + chunk
        cut = text.rfind("\n") + 1
        self._partial = text[cut:]
        return self._lines(text[:cut])

    def _lines(self, chunk: str) -> list[Message]:
        """Consume whole lines (markers never span lines)."""
        out: list[Message] = []
        pos = 0
        for match in _MARKER.finditer(chunk):
            self._append(chunk[pos:match.start()])
            pos = match.end() + (chunk.startswith("\n", match.end()))  # the marker's line end
            if match.group(1) is not None:
                if not self._stack:
                    self._close_loose(out)
                self._stack.append((int(match.group(1)), int(match.group(2)), []))
            elif self._stack:
                code, severity, parts = self._stack.pop()
                out.append(Message(code, severity, "".join(parts).strip("\n")))
        self._append(chunk[pos:])
        return out

    def close(self) -> list[Message]:
        """End of output: loose text and any message left open (TLC died mid-message)."""
        out = self._lines(self._partial)
        self._partial = ""
        while self._stack:
            code, severity, parts = self._stack.pop()
            out.append(Message(code, severity, "".join(parts).strip("\n")))
        self._close_loose(out)
        return out


def read_messages(lines: Iterable[str]) -> list[Message]:
    """Every message of a complete output."""
    reader = MessageReader()
    out: list[Message] = []
    for line in lines:
        out.extend(reader.feed(line))
    out.extend(reader.close())
    return out


@attrs.frozen
class TraceState:
    """One state of a counterexample: its number, the action that led to it, its variables.

    ``action`` is the name of the action TLC reports (``"Initial predicate"`` for the first
    state); ``variables`` maps each variable to its value as plain data (see
    :mod:`refimpl.tlc.values`); a value TLC printed in a form this reader does not know is kept
    as its text. ``stuttering`` marks the final "Stuttering" state of a liveness
    counterexample and ``back_to`` the state a lasso loops back to.
    """

    number: int
    action: str | None
    variables: dict[str, Any]
    stuttering: bool = False
    back_to: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The state as plain data."""
        out: dict[str, Any] = {"number": self.number, "action": self.action,
                               "variables": self.variables}
        if self.stuttering:
            out["stuttering"] = True
        if self.back_to is not None:
            out["back_to"] = self.back_to
        return out


_STATE_HEAD = re.compile(r"^(\d+): (.*)$")
_ACTION = re.compile(r"^<(.*?)(?: line \d+, col \d+ to line \d+, col \d+ of module \w+)?>$")
_CONJUNCT = re.compile(r"^/\\ (\w+) = ", re.MULTILINE)
_ASSIGNMENT = re.compile(r"^(\w+) = ", re.MULTILINE)


def _value_or_text(text: str) -> Any:
    """The parsed value, or the text itself if it is not a value this module reads."""
    try:
        return parse_value(text)
    except TLCError:
        return text.strip()


def _parse_assignments(body: str) -> dict[str, Any]:
    """The ``/\\ x = v`` lines of a state (or the single ``x = v`` of a one-variable spec)."""
    pattern = _CONJUNCT if _CONJUNCT.search(body) else _ASSIGNMENT
    matches = list(pattern.finditer(body))
    out: dict[str, Any] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        out[match.group(1)] = _value_or_text(body[match.end():end])
    return out


def _action_name(header: str) -> str:
    """The action's name from TLC's ``<Name line .., col .. of module M>`` header."""
    match = _ACTION.match(header.strip())
    return match.group(1) if match else header.strip()


def parse_state(message: Message) -> TraceState:
    """A state of a counterexample from its 2217 (or 2216/2218/2122) message."""
    head, _, body = message.text.partition("\n")
    match = _STATE_HEAD.match(head.strip())
    if match is None:
        raise TLCError("E_TLC_VALUE", "not a TLC state message", received=head)
    number, rest = int(match.group(1)), match.group(2).strip()
    if message.code == EC.TLC_STATE_PRINT3 or rest == "Stuttering":
        return TraceState(number, None, {}, stuttering=True)
    if message.code == EC.TLC_BACK_TO_STATE or rest.startswith("Back to state"):
        return TraceState(number, _action_name(rest.partition(":")[2]), {}, back_to=number)
    return TraceState(number, _action_name(rest), _parse_assignments(body))


@attrs.frozen
class Figures:
    """The size of a run: states generated, distinct states, depth (None: not reported)."""

    states_generated: int | None = None
    distinct_states: int | None = None
    depth: int | None = None
    queue: int | None = None


_INT = r"(-?[\d,]+)"
_STATS = re.compile(rf"{_INT} states generated.*?{_INT} distinct states found.*?{_INT} states left on queue")
_DEPTH = re.compile(r"depth of the complete state graph search is (\d+)")
_PROGRESS_DEPTH = re.compile(r"Progress\((-?\d+)\)")


def _number(text: str) -> int | None:
    """An integer TLC printed with thousands separators; None for TLC's -1 (not known)."""
    value = int(text.replace(",", ""))
    return None if value < 0 else value


def parse_figures(messages: Sequence[Message]) -> Figures:
    """The run's figures: the final statistics, else the last progress report."""
    figures = Figures()
    for message in messages:
        if message.code in (EC.TLC_STATS, EC.TLC_PROGRESS_STATS, EC.TLC_PROGRESS_SIMU):
            match = _STATS.search(message.text)
            if match:
                depth = _PROGRESS_DEPTH.search(message.text)
                figures = attrs.evolve(
                    figures, states_generated=_number(match.group(1)),
                    distinct_states=_number(match.group(2)), queue=_number(match.group(3)),
                    depth=_number(depth.group(1)) if depth else figures.depth)
        elif message.code == EC.TLC_SEARCH_DEPTH:
            match = _DEPTH.search(message.text)
            if match:
                figures = attrs.evolve(figures, depth=int(match.group(1)))
    return figures


@attrs.frozen
class Violation:
    """What TLC found violated: the kind and, when TLC names it, the property's name."""

    kind: str
    name: str | None
    text: str


_VIOLATED_NAME = re.compile(r"(?:Invariant|Action property|Property) (\w+) is violated")
_CONSTANT_FALSE = re.compile(r"The (invariant|property) of (\w+) is equal to FALSE")


def _constant_violation(message: Message) -> Violation | None:
    """A constant-level invariant or property that is FALSE (TLC reports it as a config fact)."""
    match = _CONSTANT_FALSE.search(message.text) if message.code == EC.TLC_CONFIG_ID_HAS_VALUE else None
    return Violation(match.group(1), match.group(2), message.text.strip()) if match else None


def find_violation(messages: Sequence[Message]) -> Violation | None:
    """The first violation message, if any."""
    for message in messages:
        kind = VIOLATION_KINDS.get(message.code or -1)
        if kind is not None:
            match = _VIOLATED_NAME.search(message.text)
            return Violation(kind, match.group(1) if match else None, message.text.strip())
        constant = _constant_violation(message)
        if constant is not None:
            return constant
    return None


def collect_trace(messages: Sequence[Message]) -> list[TraceState]:
    """The states of the counterexample, in order."""
    codes = (EC.TLC_STATE_PRINT1, EC.TLC_STATE_PRINT2, EC.TLC_STATE_PRINT3, EC.TLC_BACK_TO_STATE)
    return [parse_state(m) for m in messages if m.code in codes]


def collect_errors(messages: Sequence[Message]) -> list[str]:
    """The text of every error message that is not a property violation."""
    return [m.text.strip() for m in messages
            if m.severity in (SEVERITY_ERROR, SEVERITY_TLCBUG) and m.code not in VIOLATION_KINDS
            and m.code not in (EC.TLC_BEHAVIOR_UP_TO_THIS_POINT, EC.TLC_COUNTER_EXAMPLE)
            and _constant_violation(m) is None]


def collect_printed(messages: Sequence[Message]) -> list[Any]:
    """The values the spec printed (``Print``/``PrintT``) once the parser SANY was done."""
    out: list[Any] = []
    sany_done = False
    for message in messages:
        if message.code == EC.TLC_SANY_END:
            sany_done = True
        elif message.code is None and sany_done:
            try:
                out.extend(parse_values(message.text))
            except TLCError:
                out.append(message.text.strip())
    return out

