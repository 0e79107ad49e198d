"""Trace validation: TLC checks that replica runs are behaviours of spec/PBFT.tla, and safe.

A run of the replicas (``refimpl.consensus``) is a *trace*: plain data in the format of
:mod:`refimpl.consensus.trace`::

    {"constants": {"companies": [...], "replicas": [...], "master": {company: replica},
                   "voting_nodes": {replica: [node, ...]}, "faulty": [...], "silent": [...],
                   "f": int, "max_height": int, "max_view": int,
                   "valid_blocks": [...], "invalid_blocks": [...]},
     "progress": int,
     "steps": [{"action": "Init", "params": {}, "state": S0}, {"action": ..., ...}, ...]}

where every step record has the shape :mod:`refimpl.tlc.abstract_state` defines (the action,
its parameters and the spec's six recorded variables after the step); ``"Byzantine"``
records say what a Byzantine replica sent, ``Commit`` and ``Decide`` records name the
``voters`` the replica counted, and ``progress`` is the number of heights every honest
replica promises to have decided by the end (0 if absent). Other keys (``"meta"``) are
ignored here.

:func:`validate_traces` checks many traces in one TLC run. It writes a root module
``MCTrace_<k>.tla`` (and its ``.cfg``, :mod:`refimpl.tlc.trace_module`) into the run's
temporary folder, never into ``spec/``: the module defines the traces as TLA+ values and
instantiates the hand-written ``spec/TraceValidation.tla`` once per distinct set of
constants. A behaviour of that module replays one trace and takes a step only if the next
record is a step of PBFT's ``Next`` (or a Byzantine send) reaching exactly the recorded
state, the votes it counted were really sent, and the state it reaches satisfies Agreement
and Validity. Every trace ends in a stuttering step that prints its verdict, so one run
reports every trace: accepted, or rejected at a named record with one of the reasons in
:data:`REASONS`. TLC runs with its deadlock check on: every state of the module has a
successor, so a deadlock is a bug of the module, reported as an error. A record whose
*shape* is wrong is rejected in Python (reason ``"shape"``) and not sent to TLC, and so is
a trace whose constants do not match its scenario (reason ``"constants"``, when the caller
passes a ``scenario_check``).

The TLC run goes through :func:`refimpl.tlc.runner.run_model` with an unregistered
:class:`~refimpl.tlc.models.Model` and the generated files passed as ``replaced`` files.
From the command line: ``chargechain spec traces``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from refimpl.tlc.abstract_state import INIT_ACTION, step_errors
from refimpl.tlc.errors import TLCError
from refimpl.tlc.models import Model
from refimpl.tlc.runner import CheckResult, RunOptions, run_model
from refimpl.tlc.trace_module import CONSTANT_KEYS, constants_key, trace_module

__all__ = [
    "CONSTANT_KEYS",
    "REASONS",
    "Verdict",
    "TLCRun",
    "ValidationResult",
    "constants_errors",
    "validate_traces",
]

#: Reasons for rejecting a trace.
#: Why a trace is rejected: in Python before TLC ("shape", "constants"), or by TLC (the rest,
#: in the order spec/TraceValidation.tla's Reason tries them).
REASONS = ("shape", "constants", "Init", "fault bound", "progress", "forged", "guard", "state",
           "voters", "unsent", "Agreement", "Validity")

#: What each reason means, for a rejection's detail (TLC's reasons; see TraceValidation.tla).
_MEANING = {
    "forged": "is a Byzantine send in the name of a replica that is not Byzantine",
    "guard": "is not enabled in the state before it",
    "state": "is enabled but does not lead to the recorded state",
    "voters": "counted voters that are not a quorum of votes really sent",
    "unsent": "prepares a Byzantine primary's proposal that was never sent",
    "Agreement": "reaches a state where two honest replicas decided different blocks",
    "Validity": "reaches a state where a decided block is invalid or not its view's proposal",
}


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
    strings += [params[k] for k in ("r", "b", "src", "kind") if k in params]
    voters = params.get("voters", [])
    strings += voters if isinstance(voters, list) else [voters]
    ints = [m[k] for m in state["viewChanges"] for k in ("h", "v")]
    ints += [c["view"] for m in state["viewChanges"] for c in m["prepared"]]
    ints += [params[k] for k in ("w", "h", "v") if k in params]
    errors = [f"{s!r} is not a printable ASCII string" for s in strings if not _is_text(s)]
    return errors + [f"{n!r} is not an integer" for n in ints if not _is_int(n)]


def _shape_verdict(index: int, trace: Any) -> Verdict | None:
    """A rejection for a trace whose constants or records are malformed, else None."""
    if not isinstance(trace, Mapping) or not isinstance(trace.get("steps"), list):
        return Verdict(index, False, 0, 0, None, None, "shape", "a trace has constants and steps")
    steps = trace["steps"]
    progress = trace.get("progress", 0)
    if not _is_int(progress) or progress < 0:
        return Verdict(index, False, len(steps), 0, None, None, "shape",
                       f"progress must be an integer >= 0, got {progress!r}")
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
            # 1-based position = the next record's 0-based index; the end for "progress"
            failed = {"Init": 0, "fault bound": 0, "progress": len(steps) - 1}.get(reason, position)
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
    if reason == "fault bound":
        return "record 0: the constants make more nodes faulty than F (FaultsWithinBound)"
    if reason == "progress":
        return (f"the trace ends at record {failed} before every honest replica decided the "
                "heights it promised")
    params = ", ".join(f"{k}={v}" for k, v in sorted(record["params"].items()))
    return f"record {failed}: {record['action']}({params}) {_MEANING[reason]}"


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
    groups = len({constants_key(trace["constants"]) for _, trace in batch})
    run = TLCRun(traces=len(batch), groups=groups, steps=sum(len(t["steps"]) for _, t in batch),
                 states_generated=result.states_generated, distinct_states=result.distinct_states,
                 seconds=result.seconds, command=result.command)
    return verdicts, run


def _constants_verdict(index: int, trace: Mapping[str, Any],
                       scenario_check: Callable[[Mapping[str, Any]], list[str]] | None
                       ) -> Verdict | None:
    """A rejection for a trace whose declared constants are not its scenario's, else None."""
    errors = scenario_check(trace) if scenario_check is not None else []
    if not errors:
        return None
    return Verdict(index, False, len(trace["steps"]), 0, "Init", {}, "constants",
                   "the declared constants are not the scenario's: " + "; ".join(errors))


def validate_traces(traces: Sequence[Mapping[str, Any]], *, batch_size: int | None = None,
                    workers: int = 1, timeout_s: float | None = 600,
                    scenario_check: Callable[[Mapping[str, Any]], list[str]] | None = None
                    ) -> ValidationResult:
    """TLC's verdict on every trace, with as few TLC runs as ``batch_size`` allows (None: one).

    Malformed traces are rejected in Python (reason ``"shape"``), and so are traces whose
    constants ``scenario_check`` finds wrong for their scenario (``"constants"``); the others
    go to TLC in batches of at most ``batch_size`` traces, whatever their constants.
    ``E_TLC_RUN`` if a TLC run fails, finds a deadlock, or does not report a verdict for
    every trace.
    """
    started = time.monotonic()
    verdicts: dict[int, Verdict] = {}
    checkable: list[tuple[int, Mapping[str, Any]]] = []
    for index, trace in enumerate(traces):
        shape = _shape_verdict(index, trace)
        shape = shape or _constants_verdict(index, trace, scenario_check)
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
