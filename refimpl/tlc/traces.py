"""Trace validation: TLC checks that replica runs are behaviours of spec/PBFT.tla.

A run of the replicas (``refimpl.consensus``) is a *trace*: plain data in the format of
:mod:`refimpl.consensus.trace`::

    {"constants": {"companies": [...], "replicas": [...], "master": {company: replica},
                   "voting_nodes": {replica: [node, ...]}, "faulty": [...], "silent": [...],
                   "f": int, "max_height": int, "max_view": int,
                   "valid_blocks": [...], "invalid_blocks": [...]},
     "steps": [{"action": "Init", "params": {}, "state": S0}, {"action": ..., ...}, ...]}

where every step record has the shape :mod:`refimpl.tlc.abstract_state` defines (the action,
its parameters and the spec's six variables after the step). Other keys (``"meta"``) are
ignored.

:func:`validate_traces` checks many traces in one TLC run. It writes a root module
``MCTrace_<k>.tla`` (and its ``.cfg``) into the run's temporary folder, never into ``spec/``:
the module defines the traces as TLA+ values and instantiates the hand-written
``spec/TraceValidation.tla`` once per distinct set of constants (so runs with different
faulty or silent replicas share one TLC run). A behaviour of that module replays one trace
and takes a step only if the next record is a step of PBFT's ``Next`` reaching exactly the
recorded state. Every trace ends in a stuttering step that prints its verdict, so one run
reports every trace: accepted, or rejected at a named record, with the reason ``"Init"``
(the first state is not the spec's initial state), ``"guard"`` (the action is not enabled
with the recorded parameters) or ``"state"`` (it is, but reaches another state). TLC runs
with its deadlock check on: every state of the module has a successor, so a deadlock is a
bug of the module, reported as an error. A record whose *shape* is wrong is rejected in
Python (reason ``"shape"``) and not sent to TLC.

The TLC run goes through :func:`refimpl.tlc.runner.run_model` with an unregistered
:class:`~refimpl.tlc.models.Model` and the generated files passed as ``replaced`` files.

Rerun from the command line (the traces come from :func:`refimpl.consensus.scenarios.generate_traces`)::

    python -m refimpl.tlc.traces --traces 100 --seed 0
    python -m refimpl.tlc.traces --traces 20 --seed 0 --broken   # commit quorum F + 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from refimpl.tlc.abstract_state import INIT_ACTION, step_errors
from refimpl.tlc.errors import TLCError
from refimpl.tlc.models import Model
from refimpl.tlc.runner import CheckResult, RunOptions, run_model

__all__ = [
    "CONSTANT_KEYS",
    "REASONS",
    "Verdict",
    "TLCRun",
    "ValidationResult",
    "constants_errors",
    "trace_module",
    "validate_traces",
    "tla_value",
    "main",
]

#: The keys of a trace's ``constants`` (the spec's CONSTANTS, see the module docstring).
CONSTANT_KEYS = ("companies", "replicas", "master", "voting_nodes", "faulty", "silent", "f",
                 "max_height", "max_view", "valid_blocks", "invalid_blocks")

#: The spec's variables, in the order of PBFT.tla's VARIABLES.
_SPEC_VARS = ("chain", "view", "proposals", "prepares", "commits", "viewChanges")

#: Reasons for rejecting a trace.
REASONS = ("shape", "Init", "guard", "state")


@attrs.frozen
class Verdict:
    """TLC's verdict on one trace.

    ``index`` is the trace's position in the list given to :func:`validate_traces`, ``steps``
    its number of records (the Init record included). A rejected trace names
    ``failed_step``, the index (0-based, Init = 0) of the first record the spec does not
    allow, with that record's ``action`` and ``params`` and the ``reason`` (one of
    :data:`REASONS`); ``detail`` says it in words.
    """

    index: int
    accepted: bool
    steps: int
    failed_step: int | None = None
    action: str | None = None
    params: dict[str, Any] | None = None
    reason: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain data."""
        return attrs.asdict(self)


@attrs.frozen
class TLCRun:
    """One TLC run of a batch: how many traces and sets of constants, and TLC's figures."""

    traces: int
    groups: int
    steps: int
    states_generated: int | None
    distinct_states: int | None
    seconds: float
    command: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The run as plain data."""
        return attrs.asdict(self)


@attrs.frozen
class ValidationResult:
    """The verdicts on every trace (in input order) and the TLC runs that produced them."""

    verdicts: tuple[Verdict, ...]
    runs: tuple[TLCRun, ...]
    seconds: float

    @property
    def accepted(self) -> list[Verdict]:
        """The verdicts of the accepted traces."""
        return [v for v in self.verdicts if v.accepted]

    @property
    def rejected(self) -> list[Verdict]:
        """The verdicts of the rejected traces."""
        return [v for v in self.verdicts if not v.accepted]

    @property
    def steps(self) -> int:
        """The records of all traces (Init records included)."""
        return sum(v.steps for v in self.verdicts)

    @property
    def states_generated(self) -> int:
        """TLC's states generated, summed over the runs."""
        return sum(r.states_generated or 0 for r in self.runs)

    @property
    def distinct_states(self) -> int:
        """TLC's distinct states, summed over the runs."""
        return sum(r.distinct_states or 0 for r in self.runs)

    def summary(self) -> dict[str, Any]:
        """The figures of the validation as plain data."""
        return {
            "traces": len(self.verdicts),
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "steps": self.steps,
            "tlc_runs": len(self.runs),
            "states_generated": self.states_generated,
            "distinct_states": self.distinct_states,
            "tlc_seconds": round(sum(r.seconds for r in self.runs), 1),
            "seconds": self.seconds,
        }

    def as_dict(self) -> dict[str, Any]:
        """The whole result as plain data."""
        return {**self.summary(), "verdicts": [v.as_dict() for v in self.verdicts],
                "runs": [r.as_dict() for r in self.runs]}


# --------------------------------------------------------------------------- TLA+ values


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
    return "[" + ", ".join(f"{k} |-> {tla_value(v)}" for k, v in sorted(params.items())) + "]"


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


def _trace_definitions(number: int, trace_id: int, steps: Sequence[Mapping[str, Any]]) -> list[str]:
    """The definitions of one trace: its distinct variable values, then the trace itself.

    The variables change a few at a time, so every distinct value of a variable is defined
    once (``X<number>_<k>``) and the records refer to it.
    """
    shared = _Shared(f"X{number}")
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
    return shared.lines + [f"Trace{number} == [id |-> {trace_id}, steps |-> <<\n    {body}>>]"]


# --------------------------------------------------------------------------- constants


def constants_errors(constants: Any) -> list[str]:
    """What is wrong with the shape of a trace's constants ([] if nothing)."""
    if not isinstance(constants, Mapping):
        return ["constants: expected an object"]
    missing = [k for k in CONSTANT_KEYS if k not in constants]
    if missing:
        return [f"constants: missing {missing}"]
    errors = []
    for key in ("f", "max_height", "max_view"):
        if not isinstance(constants[key], int) or isinstance(constants[key], bool):
            errors.append(f"constants: {key} must be an integer")
    for key in ("master", "voting_nodes"):
        if not isinstance(constants[key], Mapping):
            errors.append(f"constants: {key} must be an object")
    for key in ("companies", "replicas", "faulty", "silent", "valid_blocks", "invalid_blocks"):
        if not isinstance(constants[key], list) or not all(map(_is_text, constants[key])):
            errors.append(f"constants: {key} must be a list of printable ASCII strings")
    return errors


def _constants_key(constants: Mapping[str, Any]) -> str:
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
\\* variables and R a trace record [action, params, state]; g is the set of constants of
\\* the trace being replayed.
EXTENDS Integers, Sequences, TLC

VARIABLES chain, view, proposals, prepares, commits, viewChanges, t, i, g

allVars == <<chain, view, proposals, prepares, commits, viewChanges, t, i, g>>

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
        groups.setdefault(_constants_key(trace["constants"]), []).append((trace_id, trace))
    rule = f"{'-' * 28} MODULE {name} {'-' * 28}"
    lines = [_HEADER.format(rule=rule, traces=len(traces), groups=len(groups))]
    number = 0
    inits, nexts = [], []
    for g, members in enumerate(groups.values(), start=1):
        names = []
        for trace_id, trace in members:
            number += 1
            lines += _trace_definitions(number, trace_id, trace["steps"])
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


# --------------------------------------------------------------------------- checking


def _is_text(value: Any) -> bool:
    """A string TLA+ can hold as it is: printable ASCII."""
    return isinstance(value, str) and all(32 <= ord(c) <= 126 for c in value)


def _is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _value_errors(step: Mapping[str, Any]) -> list[str]:
    """Type errors abstract_state's shape check leaves to the checker: replica ids and blocks
    are strings, heights and views integers (TLC cannot compare a string with an integer)."""
    state, params = step["state"], step["params"]
    strings = [*state["chain"], *(b for c in state["chain"].values() for b in c)]
    strings += [m[k] for name in ("proposals", "prepares", "commits") for m in state[name]
                for k in ("b", "src")]
    strings += [m["src"] for m in state["viewChanges"]]
    strings += [c["block"] for m in state["viewChanges"] for c in m["prepared"]]
    strings += [params[k] for k in ("r", "b") if k in params]
    ints = [m[k] for m in state["viewChanges"] for k in ("h", "v")]
    ints += [c["view"] for m in state["viewChanges"] for c in m["prepared"]]
    ints += [params["w"]] if "w" in params else []
    errors = [f"{s!r} is not a printable ASCII string" for s in strings if not _is_text(s)]
    return errors + [f"{n!r} is not an integer" for n in ints if not _is_int(n)]


def _shape_verdict(index: int, trace: Any) -> Verdict | None:
    """A rejection for a trace whose constants or records are malformed, else None."""
    if not isinstance(trace, Mapping) or not isinstance(trace.get("steps"), list):
        return Verdict(index, False, 0, 0, None, None, "shape", "a trace has constants and steps")
    steps = trace["steps"]
    errors = constants_errors(trace.get("constants"))
    if errors:
        return Verdict(index, False, len(steps), 0, None, None, "shape", "; ".join(errors))
    if not steps:
        return Verdict(index, False, 0, 0, None, None, "shape",
                       "a trace has at least the Init record")
    for k, step in enumerate(steps):
        errors = step_errors(step) if isinstance(step, Mapping) else ["a record is an object"]
        errors = errors or _value_errors(step)
        if not errors and (k == 0) != (step["action"] == INIT_ACTION):
            errors = ["Init is the first record and only the first"]
        if errors:
            action = step.get("action") if isinstance(step, Mapping) else None
            params = step.get("params") if isinstance(step, Mapping) else None
            return Verdict(index, False, len(steps), k, action, params, "shape",
                           f"record {k}: {'; '.join(errors)}")
    return None


def _verdicts_from_tlc(batch: Sequence[tuple[int, Mapping[str, Any]]],
                       result: CheckResult) -> list[Verdict]:
    """Each trace's verdict from the values TLC printed (every trace must have exactly one)."""
    by_id = dict(batch)
    found: dict[int, Verdict] = {}
    for value in result.printed:
        if not (isinstance(value, list) and value and value[0] in ("accepted", "rejected")):
            continue
        trace_id = value[1]
        steps = by_id[trace_id]["steps"]
        if value[0] == "accepted":
            verdict = Verdict(trace_id, True, len(steps))
        else:
            position, reason = value[2], value[3]
            failed = 0 if reason == "Init" else position  # 1-based position = next 0-based index
            record = steps[failed]
            verdict = Verdict(trace_id, False, len(steps), failed, record["action"],
                              dict(record["params"]), reason,
                              _detail(failed, record, reason))
        if found.setdefault(trace_id, verdict) != verdict:
            raise TLCError("E_TLC_RUN", "TLC printed two verdicts for one trace", received=trace_id)
    missing = sorted(set(by_id) - set(found))
    if missing:
        raise TLCError("E_TLC_RUN", "TLC printed no verdict for some traces", received=missing)
    return [found[trace_id] for trace_id, _ in batch]


def _detail(failed: int, record: Mapping[str, Any], reason: str) -> str:
    """A rejection in words."""
    if reason == "Init":
        return "record 0: the first state is not the spec's Init"
    params = ", ".join(f"{k}={v}" for k, v in sorted(record["params"].items()))
    what = {"guard": "is not enabled in the state before it",
            "state": "is enabled but does not lead to the recorded state"}[reason]
    return f"record {failed}: {record['action']}({params}) {what}"


def _run_batch(number: int, batch: Sequence[tuple[int, Mapping[str, Any]]],
               options: RunOptions) -> tuple[list[Verdict], TLCRun]:
    """One TLC run over a batch of well-formed traces."""
    name = f"MCTrace_{number}"
    module, cfg = trace_module(name, batch)
    model = Model(name=f"trace-validation-{number}", module=name, cfg=f"{name}.cfg",
                  mode="exhaustive", expected="holds", workers=options.workers or 1,
                  description="trace validation (generated)", check_deadlock=True)
    result = run_model(model, options, replaced={f"{name}.tla": module, f"{name}.cfg": cfg})
    if result.outcome != "holds":
        what = (f"{result.violation_kind} {result.violated or ''}".strip()
                if result.outcome == "violated" else "error")
        raise TLCError("E_TLC_RUN", f"trace validation run failed ({what})",
                       received=list(result.errors)[:3] or [s.as_dict() for s in result.trace[-2:]])
    verdicts = _verdicts_from_tlc(batch, result)
    groups = len({_constants_key(trace["constants"]) for _, trace in batch})
    run = TLCRun(traces=len(batch), groups=groups, steps=sum(len(t["steps"]) for _, t in batch),
                 states_generated=result.states_generated, distinct_states=result.distinct_states,
                 seconds=result.seconds, command=result.command)
    return verdicts, run


def validate_traces(traces: Sequence[Mapping[str, Any]], *, batch_size: int | None = None,
                    workers: int = 1, timeout_s: float | None = 600) -> ValidationResult:
    """TLC's verdict on every trace, with as few TLC runs as ``batch_size`` allows (None: one).

    Malformed traces are rejected in Python (reason ``"shape"``); the others go to TLC in
    batches of at most ``batch_size`` traces, whatever their constants. ``E_TLC_RUN`` if a
    TLC run fails, finds a deadlock, or does not report a verdict for every trace.
    """
    started = time.monotonic()
    verdicts: dict[int, Verdict] = {}
    checkable: list[tuple[int, Mapping[str, Any]]] = []
    for index, trace in enumerate(traces):
        shape = _shape_verdict(index, trace)
        if shape is None:
            checkable.append((index, trace))
        else:
            verdicts[index] = shape
    size = batch_size or max(len(checkable), 1)
    options = RunOptions(workers=workers, timeout_s=timeout_s)
    runs = []
    for number, start in enumerate(range(0, len(checkable), size), start=1):
        found, run = _run_batch(number, checkable[start:start + size], options)
        verdicts.update((v.index, v) for v in found)
        runs.append(run)
    ordered = tuple(verdicts[k] for k in range(len(traces)))
    return ValidationResult(ordered, tuple(runs), round(time.monotonic() - started, 1))


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m refimpl.tlc.traces``: validate simulator traces and print a summary."""
    parser = argparse.ArgumentParser(prog="python -m refimpl.tlc.traces",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=100, help="number of simulator runs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first run")
    parser.add_argument("--broken", action="store_true",
                        help="deliberately broken replicas: commit after F + 1 prepares")
    parser.add_argument("--batch-size", type=int, default=None, help="traces per TLC run")
    parser.add_argument("--workers", type=int, default=1, help="TLC worker threads")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)

    from refimpl.consensus.scenarios import generate_traces  # the simulator, only for the CLI

    started = time.monotonic()
    traces = generate_traces(args.traces, seed=args.seed,
                             commit_quorum_override=2 if args.broken else None)
    simulated = round(time.monotonic() - started, 1)
    try:
        result = validate_traces(traces, batch_size=args.batch_size, workers=args.workers)
    except TLCError as error:
        print(error.describe(), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**result.as_dict(), "simulation_seconds": simulated}, indent=2))
        return 0 if not result.rejected else 1
    summary = result.summary()
    print(f"traces {summary['traces']} (seeds {args.seed}..{args.seed + args.traces - 1}"
          f"{', broken replicas' if args.broken else ''}): accepted {summary['accepted']}, "
          f"rejected {summary['rejected']}")
    print(f"steps {summary['steps']}; TLC runs {summary['tlc_runs']}, states generated "
          f"{summary['states_generated']}, distinct states {summary['distinct_states']}; "
          f"TLC {summary['tlc_seconds']} s, simulation {simulated} s, validation "
          f"{summary['seconds']} s")
    for verdict in result.rejected:
        meta = traces[verdict.index].get("meta", {})
        print(f"rejected trace {verdict.index} {meta}: {verdict.detail}")
    return 0 if not result.rejected else 1


if __name__ == "__main__":
    sys.exit(main())
