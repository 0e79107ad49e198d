"""Replica mutants: known bugs of a PBFT replica, to show that trace validation catches them.

Each :class:`ReplicaMutant` is one bug, applied to the replica for the duration of a ``with``
block (:meth:`ReplicaMutant.applied`): it replaces module-level functions of
``refimpl.consensus`` by buggy versions, in every module that holds them, and restores them
afterwards; ``broken-commit-quorum`` uses the committee's own override
(``Committee.commit_quorum_override``) instead. The production code has no branch for them.

:func:`mutant_traces` runs the scenarios in which a mutant shows with the mutant applied
(``meta.mutant`` names it), and :func:`mutant_figures` counts how many of those traces the
Python trace check rejects, and why. The table in docs/replicas.md gives the figures.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from refimpl.consensus import checks, normal_case, view_change
from refimpl.consensus.checks import make_vote_message
from refimpl.consensus.committee import power
from refimpl.consensus.messages import PREPARE
from refimpl.consensus.replica_state import _NO_VOTES, SpecAction, _broadcast, _with_vote
from refimpl.consensus.scenarios import TRACE_SCENARIOS, generate_traces
from refimpl.consensus.trace_check import first_rejection
from refimpl.errors import ChargeChainError

__all__ = [
    "REPLICA_MUTANTS",
    "MutantFigures",
    "ReplicaMutant",
    "mutant_figures",
    "mutant_names",
    "mutant_traces",
]


# --------------------------------------------------------------------------- the buggy functions


def _decidable_one_short(committee: Any, app: Any, state: Any) -> tuple[int, str] | None:
    """normal_case._decidable with a commit threshold of quorum - 1."""
    for (view, block_id), voters in sorted(state.log.commits.items(), key=lambda kv: kv[0]):
        if (power(voters) >= committee.quorum - 1 and block_id in state.log.blocks
                and app.is_valid(state.tip, state.height, state.log.blocks[block_id])):
            return view, block_id
    return None


def _decidable_on_prepares(committee: Any, app: Any, state: Any) -> tuple[int, str] | None:
    """normal_case._decidable reading the prepares instead of the commits."""
    for (view, block_id), voters in sorted(state.log.prepares.items(), key=lambda kv: kv[0]):
        if (power(voters) >= committee.quorum and block_id in state.log.blocks
                and app.is_valid(state.tip, state.height, state.log.blocks[block_id])):
            return view, block_id
    return None


def _commit_unprepared(committee: Any, keys: Any, state: Any, fx: Any) -> Any:
    """normal_case._try_commit without the prepare-quorum check: it commits what it prepared."""
    block_id = state.log.my_prepares.get(state.view)
    if block_id is None or state.view in state.log.my_commits:
        return None
    patched = attrs.evolve(committee, commit_quorum_override=0)
    return _ORIGINAL_TRY_COMMIT(patched, keys, state, fx)


def _prepare_every_proposal(committee: Any, app: Any, keys: Any, state: Any, fx: Any) -> Any:
    """normal_case._try_prepare keeping track of prepared blocks, not of the view: it prepares
    every valid proposal of its view's proposer, a second block too."""
    h, v = state.height, state.view
    for (view, block_id), message in state.log.proposals.items():
        if (view == v and app.is_valid(state.tip, h, message.block)
                and state.name not in state.log.prepares.get((v, block_id), _NO_VOTES)):
            break
    else:
        return None
    prepare = make_vote_message(committee, keys, PREPARE, h, v, block_id)
    log = state.log
    mine = log.my_prepares if v in log.my_prepares else log.my_prepares.set(v, block_id)
    log = attrs.evolve(log, prepares=_with_vote(log.prepares, (v, block_id), prepare.signed_vote()),
                       my_prepares=mine)
    _broadcast(committee, state, prepare, fx)
    fx.actions.append(SpecAction("Prepare", state.name, h, v, block_id))
    return attrs.evolve(state, log=log)


class _AnyProposer:
    """A committee whose proposer of one (height, view) is whoever sent the proposal."""

    def __init__(self, committee: Any, height: int, view: int, sender: str) -> None:
        self._committee, self._slot, self._sender = committee, (height, view), sender

    def __getattr__(self, name: str) -> Any:
        return getattr(self._committee, name)

    def primary(self, height: int, view: int) -> str:
        """The sender for the proposal's own (height, view), else the scheduled proposer."""
        if (height, view) == self._slot:
            return self._sender
        return self._committee.primary(height, view)


def _check_proposal_any_sender(committee: Any, app: Any, keys: Any, message: Any) -> None:
    """checks.check_proposal without the check that the sender is the view's proposer."""
    vote = message.vote
    _ORIGINAL_CHECK_PROPOSAL(_AnyProposer(committee, vote.height, vote.view, vote.sender), app,
                             keys, message)


_ORIGINAL_TRY_COMMIT = normal_case._try_commit
_ORIGINAL_CHECK_PROPOSAL = checks.check_proposal


# --------------------------------------------------------------------------- the catalogue


@attrs.frozen
class ReplicaMutant:
    """One known bug: its name, the bug in one line, the scenarios in which it shows, and the
    patch: module-level functions replaced ((module, name, replacement)) and/or a committee
    override of the commit threshold."""

    name: str
    bug: str
    scenarios: tuple[str, ...]
    patches: tuple[tuple[Any, str, Callable[..., Any]], ...] = ()
    commit_quorum_override: int | None = None

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Replace the patched functions in every ``refimpl.consensus`` module that holds
        them (a module that imported a function by name holds it too); restore them after."""
        undo: list[tuple[Any, str, Any]] = []
        try:
            for module, name, replacement in self.patches:
                original = getattr(module, name)
                for holder in _consensus_modules():
                    for attr, value in list(vars(holder).items()):
                        if value is original:
                            undo.append((holder, attr, value))
                            setattr(holder, attr, replacement)
            yield
        finally:
            for holder, attr, value in reversed(undo):
                setattr(holder, attr, value)


def _consensus_modules() -> list[Any]:
    """The loaded modules of refimpl.consensus but this one (which keeps the originals)."""
    return [m for name, m in sorted(sys.modules.items())
            if m is not None and name != __name__
            and (name == "refimpl.consensus" or name.startswith("refimpl.consensus."))]


#: The replica mutants, by name.
REPLICA_MUTANTS: dict[str, ReplicaMutant] = {m.name: m for m in (
    ReplicaMutant(
        "broken-commit-quorum",
        "commits after F + 1 = 2 prepares instead of a quorum of 3",
        TRACE_SCENARIOS, commit_quorum_override=2),
    ReplicaMutant(
        "decide-without-commit-quorum",
        "decides on the commits of quorum - 1 = 2 replicas",
        ("no-faults",),
        ((normal_case, "_decidable", _decidable_one_short),)),
    ReplicaMutant(
        "skip-prepared-certificate-check",
        "the new-view proposer ignores the prepared certificates reported in view changes and "
        "proposes a block of its own, and the acceptors accept any valid block in a new view",
        ("drops",),
        ((checks, "justified_blocks", lambda view_changes: None),
         (view_change, "_held_proposal", lambda app, state: None))),
    ReplicaMutant(
        "accept-non-scheduled-proposer",
        "accepts (and prepares) a proposal from a replica that is not the view's proposer",
        ("usurping-replica",),
        ((checks, "check_proposal", _check_proposal_any_sender),)),
    ReplicaMutant(
        "prepare-twice",
        "prepares every valid proposal of its view's proposer: a second block in one view",
        ("usurping-replica",),
        ((normal_case, "_try_prepare", _prepare_every_proposal),)),
    ReplicaMutant(
        "commit-without-prepared",
        "commits as soon as it has prepared, without a prepare quorum",
        ("no-faults",),
        ((normal_case, "_try_commit", _commit_unprepared),)),
    ReplicaMutant(
        "decide-on-prepare-quorum",
        "decides once a quorum prepared the block, without waiting for commits",
        ("no-faults",),
        ((normal_case, "_decidable", _decidable_on_prepares),)),
)}


def mutant_names() -> list[str]:
    """The replica mutants' names, in catalogue order."""
    return list(REPLICA_MUTANTS)


def _mutant(name: str) -> ReplicaMutant:
    """The mutant of that name, or E_CONSENSUS."""
    if name not in REPLICA_MUTANTS:
        raise ChargeChainError("E_CONSENSUS", "unknown replica mutant", field="mutant",
                               expected=mutant_names(), received=name)
    return REPLICA_MUTANTS[name]


def mutant_traces(name: str, seeds: int, seed: int = 0, *,
                  scenarios: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """``seeds`` traces of the replicas with mutant ``name`` applied: trace i runs scenario
    ``scenarios[i % len(scenarios)]`` (by default the mutant's own) with seed ``seed + i``;
    ``meta.mutant`` is ``name``."""
    mutant = _mutant(name)
    with mutant.applied():
        return generate_traces(seeds, seed=seed, scenarios=scenarios or mutant.scenarios,
                               commit_quorum_override=mutant.commit_quorum_override,
                               mutant=name)


@attrs.frozen
class MutantFigures:
    """How the Python trace check judged a mutant's traces: rejected of all, the reasons."""

    name: str
    traces: int
    rejected: int
    reasons: dict[str, int]
    #: scenario -> (rejected, traces)
    by_scenario: dict[str, tuple[int, int]]


def mutant_figures(name: str, seeds: int, seed: int = 0, *,
                   scenarios: tuple[str, ...] | None = None) -> MutantFigures:
    """Run :func:`mutant_traces` and count the rejections and their reasons."""
    reasons: Counter[str] = Counter()
    by_scenario: dict[str, list[int]] = {}
    for trace in mutant_traces(name, seeds, seed, scenarios=scenarios):
        rejection = first_rejection(trace)
        counts = by_scenario.setdefault(trace["meta"]["scenario"], [0, 0])
        counts[1] += 1
        if rejection is not None:
            counts[0] += 1
            reasons[rejection.reason] += 1
    return MutantFigures(name, seeds, sum(reasons.values()), dict(reasons),
                         {s: (k, n) for s, (k, n) in by_scenario.items()})
