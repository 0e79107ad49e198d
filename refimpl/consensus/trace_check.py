"""The Python check of a trace: what spec/TraceValidation.tla checks, record by record.

It is a transcription, a fast pre-check of the traces :mod:`refimpl.consensus.trace` records;
TLC remains the reference. The spec's operators and actions are in
:mod:`refimpl.consensus.trace_spec`. A trace is rejected at its first record that fails one of
these checks, in this order, with the reason TLC gives (:data:`REASONS`):

* ``"shape"``: a record, the constants or ``progress`` are malformed
  (:func:`refimpl.tlc.abstract_state.step_errors`, plus the types TLC needs);
* ``"constants"`` (only with a ``scenario_check``): the declared constants are not the
  scenario's (:func:`refimpl.consensus.scenarios.scenario_constants_errors`);
* ``"Init"``: the first state is not the spec's Init; ``"fault bound"``: the constants make
  more nodes faulty than F (``Power(Byzantine \\cup Crashed) <= F``);
* then for each record: ``"forged"`` (a ``Byzantine`` record whose ``src`` is not
  Byzantine), ``"guard"`` (an honest record whose action is not enabled in the state
  before), ``"state"`` (the recorded state is not the successor; a Byzantine record changes
  nothing), ``"voters"`` (the voters a Commit or Decide names are not replicas, do not make
  a quorum, or include one whose vote was not sent: an honest voter's prepare (commit) for
  (h, v, b) must be in the state before, a Byzantine voter's prepare or proposal (commit)
  in an earlier Byzantine record; a crashed replica sends nothing), ``"unsent"`` (a Prepare
  of a Byzantine primary's block with no traced proposal of it), ``"Agreement"`` and
  ``"Validity"`` on the state reached (``"Validity"`` also covers DecisionFollowsProposal:
  a block decided at h has, in the state before, a commit quorum and its proposal in some
  view w);
* ``"progress"`` (at the last record): an honest replica has decided fewer heights than the
  trace's ``progress`` promises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from refimpl.consensus.trace_spec import (
    INIT,
    TRACE_ACTIONS,
    Change4,
    Vote4,
    _init_errors,
    _Spec,
    _State,
    _successor,
    _validity,
    agreement_errors,
    decision_errors,
    step_errors,
    validity_errors,
)

__all__ = [
    "BYZANTINE",
    "INIT",
    "REASONS",
    "TRACE_ACTIONS",
    "Change4",
    "Rejection",
    "Vote4",
    "agreement_errors",
    "check_trace",
    "decision_errors",
    "first_rejection",
    "step_errors",
    "validity_errors",
]

#: The action of a record that says a Byzantine replica sent a message in its own name.
BYZANTINE = "Byzantine"

#: Why a trace is rejected, in the order the checks are tried (those of
#: refimpl.tlc.traces.REASONS, the same strings).
REASONS = ("shape", "constants", "Init", "fault bound", "progress", "forged", "guard", "state",
           "voters", "unsent", "Agreement", "Validity")

_CONSTANT_KEYS = ("companies", "replicas", "master", "voting_nodes", "faulty", "silent", "f",
                  "max_height", "max_view", "valid_blocks", "invalid_blocks")

#: A Commit counts prepares (a Byzantine replica's proposal is its prepare); a Decide commits.
_COUNTED = {"Commit": ("prepare", ("prepare", "proposal")), "Decide": ("commit", ("commit",))}

Sent5 = tuple[str, int, int, str, str]  # a traced Byzantine send: (kind, h, v, b, src)


@attrs.frozen
class Rejection:
    """The first record a trace fails: its index (Init = 0; the last record for
    ``"progress"``), its action, the reason (one of :data:`REASONS`) and the detail."""

    step: int
    action: str | None
    reason: str
    detail: str

    def line(self) -> str:
        """The rejection as one line: ``step k: detail``."""
        return f"step {self.step}: {self.detail}"


# --------------------------------------------------------------------------- shape


def _is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _value_errors(step: Mapping[str, Any]) -> list[str]:
    """The types of a record's parameters: replicas, blocks and kinds are strings, heights
    and views integers, voters a list of strings."""
    params = step["params"]
    errors = [f"{k} must be a string" for k in ("r", "b", "src", "kind")
              if k in params and not isinstance(params[k], str)]
    errors += [f"{k} must be an integer" for k in ("w", "h", "v")
               if k in params and not _is_int(params[k])]
    if "voters" in params and not all(isinstance(s, str) for s in params["voters"]):
        errors.append("voters must be replica names")
    return errors


def _shape(trace: Any) -> Rejection | None:
    """The first malformed part of a trace, if any."""
    # imported here: the ledger imports this package, and need not load refimpl.tlc
    from refimpl.tlc.abstract_state import step_errors as shape_errors

    if not isinstance(trace, Mapping) or not isinstance(trace.get("steps"), list):
        return Rejection(0, None, "shape", "a trace has constants and steps")
    progress = trace.get("progress", 0)
    if not _is_int(progress) or progress < 0:
        return Rejection(0, None, "shape", f"progress must be an integer >= 0, got {progress!r}")
    constants = trace.get("constants")
    if not isinstance(constants, Mapping) or any(k not in constants for k in _CONSTANT_KEYS):
        return Rejection(0, None, "shape", f"constants need the keys {list(_CONSTANT_KEYS)}")
    if not trace["steps"]:
        return Rejection(0, None, "shape", "a trace has at least the Init record")
    for k, step in enumerate(trace["steps"]):
        errors = shape_errors(step) if isinstance(step, Mapping) else ["a record is an object"]
        errors = errors or _value_errors(step)
        if not errors and (k == 0) != (step["action"] == INIT):
            errors = ["Init is the first record and only the first"]
        if errors:
            action = step.get("action") if isinstance(step, Mapping) else None
            return Rejection(k, action, "shape", f"record {k}: {'; '.join(errors)}")
    return None


# --------------------------------------------------------------------------- one record


def _call(action: str, params: Mapping[str, Any]) -> str:
    """A record as Action(k=v, ...)."""
    return f"{action}({', '.join(f'{k}={params[k]}' for k in sorted(params))})"


def _voters_errors(spec: _Spec, before: _State, sent: set[Sent5], action: str,
                   params: Mapping[str, Any]) -> list[str]:
    """The voters a Commit or Decide counted are replicas whose votes were really sent, and a
    quorum (the spec's implicit Byzantine votes do not count here)."""
    if action not in _COUNTED:
        return []
    kind, byzantine_kinds = _COUNTED[action]
    r, b = params["r"], params["b"]
    h = len(before.chain[r]) + 1
    v = before.view[r] if action == "Commit" else params["w"]
    votes = before.prepares if action == "Commit" else before.commits
    voters = set(params["voters"])
    unknown = sorted(voters - set(spec.replicas))
    if unknown:
        return [f"the voters {unknown} are not replicas"]
    errors = []
    if spec.power(voters) < spec.quorum:
        errors.append(f"{sorted(voters)} have {spec.power(voters)} nodes, fewer than the "
                      f"quorum {spec.quorum}")
    for s in sorted(voters):
        if s in spec.honest:
            if (h, v, b, s) not in votes:
                errors.append(f"{s}'s {kind} for (h={h}, v={v}, {b}) is not in the state")
        elif not any((k, h, v, b, s) in sent for k in byzantine_kinds):
            errors.append(f"{s} ({'Byzantine' if s in spec.faulty else 'crashed'}) was never "
                          f"traced sending a {kind} for (h={h}, v={v}, {b})")
    return errors


def _unsent_errors(spec: _Spec, before: _State, sent: set[Sent5], action: str,
                   params: Mapping[str, Any]) -> list[str]:
    """A Prepare of a Byzantine primary's block follows a traced proposal of that block."""
    if action != "Prepare":
        return []
    r, b = params["r"], params["b"]
    h, v = len(before.chain[r]) + 1, before.view[r]
    primary = spec.primary(h, v)
    if primary in spec.faulty and ("proposal", h, v, b, primary) not in sent:
        missing = f"the Byzantine primary {primary} was never traced proposing {b}"
        return [f"{missing} at (h={h}, v={v})"]
    return []


def _record(spec: _Spec, before: _State, sent: set[Sent5],
            step: Mapping[str, Any]) -> tuple[str, str] | _State:
    """The reason and detail if the record fails a check, else the state it reaches."""
    action, params = step["action"], step["params"]
    recorded = _State(spec, step["state"])
    call = _call(action, params)
    if action == BYZANTINE:
        if params["src"] not in spec.faulty:
            return "forged", f"{call}: {params['src']} is not Byzantine"
        if recorded.key() != before.key():
            return "state", f"{call}: a Byzantine send changes no variable of the state"
        sent.add((params["kind"], params["h"], params["v"], params["b"], params["src"]))
    else:
        errors, after = _successor(spec, before, action, params)
        if after is None:
            return "guard", errors[0]
        if after.key() != recorded.key():
            return "state", f"{call}: the recorded state is not the spec's successor state"
        for reason, found in (("voters", _voters_errors(spec, before, sent, action, params)),
                              ("unsent", _unsent_errors(spec, before, sent, action, params))):
            if found:
                return reason, f"{call}: {'; '.join(found)}"
    plain = step["state"]
    found = agreement_errors(plain)
    if found:
        return "Agreement", f"{call}: {found[0]}"
    found = _validity(spec, recorded) + decision_errors(spec, before, recorded)
    if found:
        return "Validity", f"{call}: {found[0]}"
    return recorded


# --------------------------------------------------------------------------- the check


def first_rejection(trace: Mapping[str, Any], *,
                    scenario_check: Callable[[Mapping[str, Any]], list[str]] | None = None
                    ) -> Rejection | None:
    """The first check the trace fails (see the module), or None if it is accepted.

    ``scenario_check`` (e.g. :func:`refimpl.consensus.scenarios.scenario_constants_errors`)
    compares the declared constants with the trace's scenario: reason ``"constants"``.
    """
    shape = _shape(trace)
    if shape is not None:
        return shape
    if scenario_check is not None:
        errors = scenario_check(trace)
        if errors:
            return Rejection(0, INIT, "constants", "the declared constants are not the "
                             "scenario's: " + "; ".join(errors))
    spec = _Spec(trace["constants"])
    steps = trace["steps"]
    if _init_errors(spec, steps[0]["state"]):
        return Rejection(0, INIT, "Init", "the first state is not the spec's Init")
    if not spec.faults_within_bound():
        return Rejection(0, INIT, "fault bound",
                         f"the faulty and crashed replicas have "
                         f"{spec.power(spec.faulty | spec.silent)} nodes, more than F = {spec.f}")
    state = _State(spec, steps[0]["state"])
    sent: set[Sent5] = set()
    for index in range(1, len(steps)):
        found = _record(spec, state, sent, steps[index])
        if isinstance(found, tuple):
            reason, detail = found
            return Rejection(index, steps[index]["action"], reason, detail)
        state = found
    promised = trace.get("progress", 0)
    behind = sorted(r for r in spec.honest if len(state.chain[r]) < promised)
    if behind:
        last = len(steps) - 1
        counts = ", ".join(f"{r} has {len(state.chain[r])}" for r in behind)
        return Rejection(last, steps[last]["action"], "progress",
                         f"progress: the trace promises {promised} decided heights, but at its "
                         f"last record {counts}")
    return None


def check_trace(trace: Mapping[str, Any]) -> list[str]:
    """[] if the trace passes every check, else its first rejection as ``["step k: ..."]``."""
    rejection = first_rejection(trace)
    return [] if rejection is None else [rejection.line()]
