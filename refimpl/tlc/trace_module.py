"""The TLA+ root module of a trace-validation run: traces written as TLA+ values.

:func:`trace_module` writes ``(id, trace)`` pairs as a root module that defines each trace
(every distinct value of a variable once) and instantiates ``spec/TraceValidation.tla`` once
per distinct set of constants. :func:`tla_value` is the plain-data-to-TLA+ translation it
uses. The trace format is :mod:`refimpl.consensus.trace`'s; :mod:`refimpl.tlc.traces` checks
the shape before anything is written here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from refimpl.tlc.abstract_state import INIT_ACTION
from refimpl.tlc.errors import TLCError

__all__ = ["CONSTANT_KEYS", "constants_key", "tla_value", "trace_module"]

#: The keys of a trace's ``constants`` (the spec's CONSTANTS, see refimpl.tlc.traces).
CONSTANT_KEYS = ("companies", "replicas", "master", "voting_nodes", "faulty", "silent", "f",
                 "max_height", "max_view", "valid_blocks", "invalid_blocks")

#: Parameters that hold sets of replicas (written as TLA+ sets, not sequences).
_SET_PARAMS = frozenset({"voters"})


def _string(text: str) -> str:
    """A TLA+ string literal."""
    if not isinstance(text, str) or any(ord(c) < 32 or ord(c) > 126 for c in text):
        raise TLCError("E_TLC_VALUE", "trace strings must be printable ASCII", received=text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tla_value(value: Any) -> str:
    """A TLA+ expression for plain data: str -> string, int, bool, list -> sequence,
    dict -> function from its keys (strings or ints), frozenset/set -> set."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "<<" + ", ".join(tla_value(v) for v in value) + ">>"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(tla_value(v) for v in value)) + "}"
    if isinstance(value, Mapping):
        if not value:
            return "[x \\in {} |-> 0]"
        pairs = [f"{tla_value(k)} :> {tla_value(v)}" for k, v in sorted(value.items())]
        return "(" + " @@ ".join(pairs) + ")"
    raise TLCError("E_TLC_VALUE", "no TLA+ form for this value", received=repr(value)[:80])


def _votes(records: Iterable[Mapping[str, Any]]) -> str:
    """A set of Vote records: {V(h, v, b, src), ...}."""
    items = sorted({f"V({r['h']}, {r['v']}, {_string(r['b'])}, {_string(r['src'])})"
                    for r in records})
    return "{" + ", ".join(items) + "}"


def _view_changes(records: Iterable[Mapping[str, Any]]) -> str:
    """A set of view-change records: {VC(h, v, src, {C(view, block)}), ...}."""
    items = set()
    for r in records:
        certs = sorted({f"C({c['view']}, {_string(c['block'])})" for c in r["prepared"]})
        items.add(f"VC({r['h']}, {r['v']}, {_string(r['src'])}, {{{', '.join(certs)}}})")
    return "{" + ", ".join(sorted(items)) + "}"


def _params(action: str, params: Mapping[str, Any]) -> str:
    """A record's parameters: a TLA+ record ([r |-> .., b |-> ..]); <<>> for Init."""
    if action == INIT_ACTION or not params:
        return "<<>>"
    fields = [f"{k} |-> {tla_value(set(v) if k in _SET_PARAMS else v)}"
              for k, v in sorted(params.items())]
    return "[" + ", ".join(fields) + "]"


class _Shared:
    """Names for repeated values of one trace, so each distinct value is written once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: dict[str, str] = {}
        self.lines: list[str] = []

    def name(self, expression: str) -> str:
        """The name of a definition whose body is ``expression`` (added if new)."""
        if expression not in self.names:
            name = f"{self.prefix}_{len(self.names)}"
            self.names[expression] = name
            self.lines.append(f"{name} == {expression}")
        return self.names[expression]


def _trace_definitions(number: int, trace_id: int, trace: Mapping[str, Any]) -> list[str]:
    """The definitions of one trace: its distinct variable values, then the trace itself.

    The variables change a few at a time, so every distinct value of a variable is defined
    once (``X<number>_<k>``) and the records refer to it.
    """
    shared = _Shared(f"X{number}")
    steps: Sequence[Mapping[str, Any]] = trace["steps"]
    records = []
    for step in steps:
        state = step["state"]
        parts = [shared.name(tla_value(state["chain"])), shared.name(tla_value(state["view"])),
                 shared.name(_votes(state["proposals"])), shared.name(_votes(state["prepares"])),
                 shared.name(_votes(state["commits"])),
                 shared.name(_view_changes(state["viewChanges"]))]
        records.append(f"R({_string(step['action'])}, {_params(step['action'], step['params'])}, "
                       f"S({', '.join(parts)}))")
    body = ",\n    ".join(records)
    progress = trace.get("progress", 0)
    head = f"Trace{number} == [id |-> {trace_id}, progress |-> {progress}, steps |-> <<"
    return [*shared.lines, f"{head}\n    {body}>>]"]


def constants_key(constants: Mapping[str, Any]) -> str:
    """A canonical text of a trace's constants (traces with equal keys share an instance)."""
    return json.dumps({k: constants[k] for k in CONSTANT_KEYS}, sort_keys=True)


def _substitutions(constants: Mapping[str, Any]) -> list[str]:
    """PBFT's constants as INSTANCE substitutions."""
    c = constants
    return [
        f"Companies <- {tla_value(list(c['companies']))}",
        f"Replicas <- {tla_value(set(c['replicas']))}",
        f"Master <- {tla_value(dict(c['master']))}",
        f"VotingNodes <- {tla_value({r: set(n) for r, n in c['voting_nodes'].items()})}",
        f"Byzantine <- {tla_value(set(c['faulty']))}",
        f"Crashed <- {tla_value(set(c['silent']))}",
        f"F <- {c['f']}",
        f"MaxHeight <- {c['max_height']}",
        f"MaxView <- {c['max_view']}",
        f"ValidBlocks <- {tla_value(set(c['valid_blocks']))}",
        f"InvalidBlocks <- {tla_value(set(c['invalid_blocks']))}",
    ]


# --------------------------------------------------------------------------- the root module

_HEADER = """\
{rule}
\\* Generated by refimpl.tlc.traces for one TLC run: {traces} trace(s) of replica runs in
\\* {groups} set(s) of constants, each set checked by an instance of TraceValidation.tla.
\\* V, C, VC are PBFT's vote, certificate and view-change records; S is a state of the six
\\* recorded variables (stable is FALSE throughout) and R a trace record [action, params,
\\* state]; g is the set of constants of the trace being replayed.
EXTENDS Integers, Sequences, TLC

VARIABLES chain, view, proposals, prepares, commits, viewChanges, stable, t, i, byzantineSent, g

allVars == <<chain, view, proposals, prepares, commits, viewChanges, stable, t, i,
            byzantineSent, g>>

V(hh, vv, bb, ss) == [h |-> hh, v |-> vv, b |-> bb, src |-> ss]
C(ww, bb) == [view |-> ww, block |-> bb]
VC(hh, vv, ss, cc) == [h |-> hh, v |-> vv, src |-> ss, prepared |-> cc]
S(c1, c2, c3, c4, c5, c6) ==
    [chain |-> c1, view |-> c2, proposals |-> c3, prepares |-> c4, commits |-> c5,
     viewChanges |-> c6]
R(aa, pp, ss) == [action |-> aa, params |-> pp, state |-> ss]
"""


def trace_module(name: str, traces: Sequence[tuple[int, Mapping[str, Any]]]) -> tuple[str, str]:
    """The root module ``name`` and its configuration for ``(id, trace)`` pairs.

    The traces must have well-formed records and constants (see :func:`validate_traces`).
    """
    groups: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for trace_id, trace in traces:
        groups.setdefault(constants_key(trace["constants"]), []).append((trace_id, trace))
    rule = f"{'-' * 28} MODULE {name} {'-' * 28}"
    lines = [_HEADER.format(rule=rule, traces=len(traces), groups=len(groups))]
    number = 0
    inits, nexts = [], []
    for g, members in enumerate(groups.values(), start=1):
        names = []
        for trace_id, trace in members:
            number += 1
            lines += _trace_definitions(number, trace_id, trace)
            names.append(f"Trace{number}")
            lines.append("")
        lines.append(f"Traces{g} == <<{', '.join(names)}>>")
        subs = _substitutions(members[0][1]["constants"]) + [f"Traces <- Traces{g}"]
        lines.append(f"G{g} == INSTANCE TraceValidation WITH\n    " + ",\n    ".join(subs))
        lines.append("")
        inits.append(f"    \\/ g = {g} /\\ G{g}!TraceInit")
        nexts.append(f"       \\/ g = {g} /\\ G{g}!TraceStep")
    lines.append("Init ==\n" + "\n".join(inits))
    lines.append("Next ==\n    /\\ g' = g\n    /\\ \\/ FALSE\n" + "\n".join(nexts))
    lines.append("Spec == Init /\\ [][Next]_allVars")
    lines.append("=" * len(rule))
    cfg = "\\* Generated by refimpl.tlc.traces (deadlock checking stays on).\nSPECIFICATION Spec\n"
    return "\n".join(lines) + "\n", cfg
