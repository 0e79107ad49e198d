"""The abstract state of spec/PBFT.tla, as a replica simulator must emit it for trace validation.

A simulator of the replicas validates against the spec by emitting one record per step:
the name of the spec action the step is, its parameters, and the values of the spec's six
variables after the step, in the JSON shapes below (the shapes TLC's own counterexamples
have once read by :mod:`refimpl.tlc.values`)::

    {"action": "Prepare", "params": {"r": "PTNE", "b": "b1"},
     "state": {"chain": {...}, "view": {...}, "proposals": [...], "prepares": [...],
               "commits": [...], "viewChanges": [...]}}

The first record has the action ``"Init"`` and no parameters. Replica ids are the strings
the model uses (company names in the one-replica-per-company models); block values are the
model's names (``"b1"``, ``"b2"`` valid, ``"bad"`` invalid), one value per distinct block
proposed at a height.

What the abstract state leaves out:

* Byzantine and crashed replicas have no variables and their messages are not in the
  sets: the spec counts a Byzantine replica as having sent every message it may send. A
  simulated Byzantine replica's sends are not steps of the spec; each one it sends in its
  own name is a ``"Byzantine"`` record (params ``src``, ``kind``, ``h``, ``v``, ``b``) with
  the state unchanged, so trace validation can check the votes replicas counted
  (``Commit`` and ``Decide`` records also name their ``voters``).
* Once every honest replica has decided height h, the prepares, commits and view changes
  of height h are dropped (``ForgetHeight`` in the spec); proposals are kept.
* A proposal (pre-prepare or new view) also counts as its sender's prepare: the step that
  proposes adds the same record to ``proposals`` and ``prepares``.
* An honest replica's prepared certificate is its latest commit at the height; the commit
  is sent in the step in which the replica finds itself prepared.

:data:`refimpl.tlc.abstract_state.PBFT_VARIABLES` and :data:`refimpl.tlc.abstract_state.PBFT_ACTIONS`
list the names, types and meaning; :func:`refimpl.tlc.abstract_state.state_errors` and
:func:`refimpl.tlc.abstract_state.step_errors` check the shape of an emitted record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Variable", "Action", "PBFT_VARIABLES", "PBFT_ACTIONS", "INIT_ACTION",
           "BYZANTINE_ACTION", "BYZANTINE_KINDS", "COUNTED_VOTERS", "state_errors",
           "step_errors"]

#: The action name of the first record of a trace.
INIT_ACTION = "Init"

#: The record of a message a Byzantine replica sent in its own name (no spec variable changes).
BYZANTINE_ACTION = "Byzantine"

#: The parameters of a Byzantine record, and the kinds of message it may name.
BYZANTINE_PARAMS = ("src", "kind", "h", "v", "b")
BYZANTINE_KINDS = ("proposal", "prepare", "commit", "viewChange")

#: The records that also name the voters the replica counted (not parameters of the action:
#: trace validation checks that they make a quorum of votes really sent).
COUNTED_VOTERS = {"Commit": "voters", "Decide": "voters"}


@attrs.frozen
class Variable:
    """One variable of the abstract state: its TLA+ type, its JSON shape and its meaning."""

    name: str
    tla_type: str
    json_shape: str
    meaning: str


@attrs.frozen
class Action:
    """One action of the spec: its parameters, the protocol step it models, what it changes."""

    name: str
    parameters: tuple[str, ...]
    step: str
    changes: tuple[str, ...]


_VOTE = "[h: Heights, v: Views, b: ValidBlocks, src: Honest]"
_VOTE_JSON = 'list of {"h": int, "v": int, "b": block, "src": replica}'

#: The variables of spec/PBFT.tla, in the order of its VARIABLES declaration.
PBFT_VARIABLES: tuple[Variable, ...] = (
    Variable("chain", "[Honest -> Seq(ValidBlocks)]", '{replica: [block, ...]}',
             "the blocks each honest replica decided, height i at position i"),
    Variable("view", "[Honest -> Views]", "{replica: int}",
             "the view each honest replica is in at its current height (0 after a decision)"),
    Variable("proposals", f"SUBSET {_VOTE}", _VOTE_JSON,
             "the pre-prepares (view 0) and new views (view > 0) honest proposers sent"),
    Variable("prepares", f"SUBSET {_VOTE}", _VOTE_JSON,
             "the honest replicas' prepares of the heights some honest replica still works on"),
    Variable("commits", f"SUBSET {_VOTE}", _VOTE_JSON,
             "the honest replicas' commits of the heights some honest replica still works on"),
    Variable("viewChanges",
             "SUBSET [h: Heights, v: Views, src: Honest, prepared: SUBSET [view: Views, block: ValidBlocks]]",
             'list of {"h": int, "v": int, "src": replica, "prepared": [] or [{"view": int, "block": block}]}',
             "the honest replicas' view changes to view v at height h, each with its prepared "
             "certificate (the latest commit of the sender at h)"),
)

#: The actions of an honest replica in spec/PBFT.tla (the disjuncts of HonestStep).
PBFT_ACTIONS: tuple[Action, ...] = (
    Action("PrePrepare", ("r", "b"), "pre-prepare: the view-0 proposer broadcasts a valid block",
           ("proposals", "prepares")),
    Action("NewView", ("r", "b"), "new view: the proposer of view v > 0 proposes what a quorum "
           "of view changes allows", ("proposals", "prepares")),
    Action("Prepare", ("r", "b"), "prepare: a replica accepts the proposal of its view",
           ("prepares",)),
    Action("Commit", ("r", "b"), "commit: a replica that prepared finds a prepare quorum",
           ("commits",)),
    Action("Decide", ("r", "w", "b"), "decide: a commit quorum of view w; the block joins the "
           "chain and the replica starts the next height in view 0",
           ("chain", "view", "prepares", "commits", "viewChanges")),
    Action("ViewChange", ("r",), "view change: the replica's timer expired; it moves to the "
           "next view", ("view", "viewChanges")),
)

_VOTE_KEYS = {"h", "v", "b", "src"}
_VIEW_CHANGE_KEYS = {"h", "v", "src", "prepared"}


def _is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _vote_errors(name: str, records: Any) -> list[str]:
    """Shape errors of a set of Vote records."""
    if not isinstance(records, list):
        return [f"{name}: expected a list"]
    errors = []
    for record in records:
        if not isinstance(record, dict) or set(record) != _VOTE_KEYS:
            errors.append(f"{name}: {record!r} is not a record with fields h, v, b, src")
        elif not (_is_int(record["h"]) and _is_int(record["v"])):
            errors.append(f"{name}: {record!r} needs integer h and v")
    return errors


def _certificate_errors(record: dict[str, Any]) -> list[str]:
    """Shape errors of the prepared certificate of one view change."""
    prepared = record["prepared"]
    if not isinstance(prepared, list) or len(prepared) > 1:
        return [f"viewChanges: {record!r}: prepared is [] or one certificate"]
    if prepared and (not isinstance(prepared[0], dict) or set(prepared[0]) != {"view", "block"}):
        return [f"viewChanges: {record!r}: a certificate has fields view and block"]
    return []


def _view_change_errors(records: Any) -> list[str]:
    """Shape errors of the set of view-change records."""
    if not isinstance(records, list):
        return ["viewChanges: expected a list"]
    errors = []
    for record in records:
        if not isinstance(record, dict) or set(record) != _VIEW_CHANGE_KEYS:
            errors.append(f"viewChanges: {record!r} is not a record with fields h, v, src, prepared")
        else:
            errors += _certificate_errors(record)
    return errors


def _per_replica_errors(state: Mapping[str, Any]) -> list[str]:
    """Shape errors of chain and view, and whether both cover the same replicas."""
    chain, view = state["chain"], state["view"]
    if not isinstance(chain, dict) or not all(isinstance(c, list) for c in chain.values()):
        return ["chain: expected {replica: [block, ...]}"]
    if not isinstance(view, dict) or not all(_is_int(v) and v >= 0 for v in view.values()):
        return ["view: expected {replica: int >= 0}"]
    if set(chain) != set(view):
        return ["chain and view must cover the same honest replicas"]
    return []


def state_errors(state: Mapping[str, Any]) -> list[str]:
    """What is wrong with the shape of an emitted abstract state ([] if nothing)."""
    names = {variable.name for variable in PBFT_VARIABLES}
    if set(state) != names:
        return [f"variables must be exactly {sorted(names)}; got {sorted(state)}"]
    errors = _per_replica_errors(state)
    for name in ("proposals", "prepares", "commits"):
        errors += _vote_errors(name, state[name])
    return errors + _view_change_errors(state["viewChanges"])


def _byzantine_errors(params: Any) -> list[str]:
    """Shape errors of a Byzantine record's parameters."""
    if not isinstance(params, dict) or set(params) != set(BYZANTINE_PARAMS):
        return [f"{BYZANTINE_ACTION} takes parameters {list(BYZANTINE_PARAMS)}"]
    if params["kind"] not in BYZANTINE_KINDS:
        return [f"{BYZANTINE_ACTION}: kind must be one of {list(BYZANTINE_KINDS)}"]
    return []


def _params_errors(name: str, params: Any) -> list[str]:
    """Shape errors of a record's parameters (the action's, and the counted voters)."""
    actions = {action.name: action for action in PBFT_ACTIONS}
    if name == INIT_ACTION:
        return [] if params == {} else ["Init has no parameters"]
    if name == BYZANTINE_ACTION:
        return _byzantine_errors(params)
    if name not in actions:
        return [f"unknown action {name!r}; the actions are "
                f"{sorted([*actions, BYZANTINE_ACTION])}"]
    extra = [COUNTED_VOTERS[name]] if name in COUNTED_VOTERS else []
    expected = [*actions[name].parameters, *extra]
    if not isinstance(params, dict) or set(params) != set(expected):
        return [f"{name} takes parameters {expected}"]
    if name in COUNTED_VOTERS and not isinstance(params[COUNTED_VOTERS[name]], list):
        return [f"{name}: voters must be a list of replicas"]
    return []


def step_errors(step: Mapping[str, Any]) -> list[str]:
    """What is wrong with the shape of an emitted step record ([] if nothing)."""
    if set(step) != {"action", "params", "state"}:
        return ["a step has exactly the keys action, params and state"]
    return _params_errors(step["action"], step["params"]) + state_errors(step["state"])
