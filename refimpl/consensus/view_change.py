"""View change and new view: spec/PBFT.tla's ViewChange, NewView and PreparedCertificate."""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.consensus.auth import ReplicaKeys, authenticate
from refimpl.consensus.checks import justified_blocks, make_view_change
from refimpl.consensus.committee import Application, Committee, power
from refimpl.consensus.messages import COMMIT, PREPARE, Commit, Prepare, PreparedProof, vote_bytes
from refimpl.consensus.normal_case import _propose
from refimpl.consensus.replica_state import (
    _NO_VOTES,
    ReplicaState,
    Send,
    SpecAction,
    _broadcast,
    _Effects,
    _others,
    _set_view_timer,
)

__all__ = [
    "prepared_certificate",
]


def prepared_certificate(state: ReplicaState) -> tuple[int, str] | None:
    """The replica's prepared certificate at its height: its latest commit (spec
    PreparedCertificate)."""
    if not state.log.my_commits:
        return None
    view = max(state.log.my_commits)
    return (view, state.log.my_commits[view])


def _prepared_proof(committee: Committee, state: ReplicaState) -> PreparedProof | None:
    """The prepared certificate with its evidence: the proposal and prepares the replica holds."""
    claim = prepared_certificate(state)
    if claim is None:
        return None
    view, block_id = claim
    votes = state.log.prepares.get((view, block_id), _NO_VOTES)
    return PreparedProof(view, block_id, state.log.blocks[block_id],
                         tuple(votes[sender] for sender in sorted(votes)))


def _held_proposal(app: Application, state: ReplicaState) -> tuple[str, Any] | None:
    """The earliest-view valid proposal the replica holds at this height, if any."""
    for (view, block_id), message in sorted(state.log.proposals.items(), key=lambda kv: kv[0]):
        if app.is_valid(state.tip, state.height, message.block):
            return block_id, message.block
    return None


def _try_new_view(committee: Committee, app: Application, keys: ReplicaKeys,
                  state: ReplicaState, fx: _Effects) -> ReplicaState | None:
    """NewView: with view changes from a quorum, the proposer of view v > 0 proposes."""
    h, v = state.height, state.view
    if v == 0 or v in state.log.proposed or committee.primary(h, v) != state.name:
        return None
    changes = state.log.view_changes.get(v, _NO_VOTES)
    if power(changes) < committee.quorum:
        return None
    justification = tuple(changes[sender] for sender in sorted(changes))
    allowed = justified_blocks(justification)
    if allowed is not None:
        block_id = min(allowed)
        block = state.log.blocks[block_id]
    else:
        held = _held_proposal(app, state)
        if held is not None:
            block_id, block = held
        else:
            block = app.propose(state.tip, h, v, state.name)
            block_id = app.block_id(block)
    if not app.is_valid(state.tip, h, block):
        return None  # a certificate of an invalid block: only possible beyond F faults
    return _propose(committee, keys, state, block_id, block, justification, fx)


def _try_view_change(committee: Committee, keys: ReplicaKeys, state: ReplicaState,
                     fx: _Effects) -> ReplicaState | None:
    """ViewChange: move one view up, broadcasting a view change with the prepared certificate."""
    if committee.max_view is not None and state.view >= committee.max_view:
        return None
    h, v = state.height, state.view + 1
    message = make_view_change(committee, keys, h, v, _prepared_proof(committee, state))
    inner = state.log.view_changes.get(v, _NO_VOTES).set(state.name, message)
    state = attrs.evolve(state, view=v, log=attrs.evolve(
        state.log, view_changes=state.log.view_changes.set(v, inner)))
    _broadcast(committee, state, message, fx)
    fx.actions.append(SpecAction("ViewChange", state.name, h, v - 1))
    _set_view_timer(committee, state, fx)
    return state


def _join_target(committee: Committee, state: ReplicaState) -> int:
    """The latest view that view changes from F + 1 nodes, or a justified new view, show."""
    latest: dict[str, int] = {}
    for view, senders in state.log.view_changes.items():
        if view > state.view:
            for sender in senders:
                if sender != state.name:
                    latest[sender] = max(latest.get(sender, 0), view)
    target = state.view
    views = sorted(latest.values(), reverse=True)
    if len(views) >= committee.f + 1:
        target = max(target, views[committee.f])
    for view, _ in state.log.proposals:
        target = max(target, view)
    if committee.max_view is not None:
        target = min(target, committee.max_view)
    return target


def _retransmit(committee: Committee, keys: ReplicaKeys, state: ReplicaState,
                fx: _Effects) -> None:
    """At the last view: send again what the replica sent in its view (lost messages)."""
    log, v = state.log, state.view
    mine = [log.view_changes.get(v, _NO_VOTES).get(state.name)]
    block_id = log.my_prepares.get(v)
    if block_id is not None:
        mine.append(log.proposals.get((v, block_id)) if v in log.proposed else None)
    for message in mine:
        if message is not None:
            _broadcast(committee, state, message, fx)
    for kind, votes, chosen in ((PREPARE, log.prepares, log.my_prepares),
                                (COMMIT, log.commits, log.my_commits)):
        if v in chosen and not (kind == PREPARE and v in log.proposed):
            signed = votes[(v, chosen[v])][state.name]
            cls = Prepare if kind == PREPARE else Commit
            to = _others(committee, state.name)
            fx.sends.append(Send(cls(signed.vote, signed.signature, authenticate(
                keys, to, vote_bytes(signed.vote))), to))
