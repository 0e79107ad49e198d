"""The normal case: spec/PBFT.tla's PrePrepare, Prepare, Commit and Decide."""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.consensus.auth import ReplicaKeys
from refimpl.consensus.checks import _accept, make_proposal, make_vote_message
from refimpl.consensus.committee import Application, Committee, power
from refimpl.consensus.messages import COMMIT, PREPARE, Decision, ViewChange
from refimpl.consensus.replica_state import (
    _NO_VOTES,
    HeightLog,
    ReplicaState,
    SpecAction,
    _broadcast,
    _Effects,
    _enter_height,
    _with_block,
    _with_vote,
    is_active,
)
from refimpl.errors import ChargeChainError

__all__: list[str] = []


def _propose(committee: Committee, keys: ReplicaKeys, state: ReplicaState, block_id: str,
             block: Any, justification: tuple[ViewChange, ...], fx: _Effects) -> ReplicaState:
    """PrePrepare or NewView: broadcast the proposal; it is also the proposer's prepare."""
    h, v = state.height, state.view
    message = make_proposal(committee, keys, h, v, block_id, block, justification)
    key = (v, block_id)
    log = state.log
    log = attrs.evolve(log, proposals=log.proposals.set(key, message),
                       blocks=_with_block(log, block_id, block),
                       prepares=_with_vote(log.prepares, key, message.signed_vote()),
                       my_prepares=log.my_prepares.set(v, block_id),
                       proposed=log.proposed | {v})
    _broadcast(committee, state, message, fx)
    fx.actions.append(SpecAction("PrePrepare" if v == 0 else "NewView", state.name, h, v, block_id))
    return attrs.evolve(state, log=log)


def _try_pre_prepare(committee: Committee, app: Application, keys: ReplicaKeys,
                     state: ReplicaState, fx: _Effects) -> ReplicaState | None:
    """PrePrepare: the view-0 proposer proposes a valid block of its own."""
    h = state.height
    if (state.view != 0 or 0 in state.log.proposed or not state.log.ready
            or committee.primary(h, 0) != state.name):
        return None
    block = app.propose(state.tip, h, 0, state.name)
    if not app.is_valid(state.tip, h, block):
        raise ChargeChainError("E_CONSENSUS", "the application proposed an invalid block",
                               field="block", expected="a valid block",
                               received=app.block_id(block))
    return _propose(committee, keys, state, app.block_id(block), block, (), fx)


def _try_prepare(committee: Committee, app: Application, keys: ReplicaKeys,
                 state: ReplicaState, fx: _Effects) -> ReplicaState | None:
    """Prepare: accept a valid proposal of the current view's proposer; of two (a primary that
    equivocates), the one with the smaller block id, so the choice never depends on the order a
    hash map iterates in (any choice is safe: a replica prepares once per view)."""
    h, v = state.height, state.view
    if v in state.log.my_prepares:
        return None
    for (view, block_id), message in sorted(state.log.proposals.items(), key=lambda kv: kv[0]):
        if view == v and app.is_valid(state.tip, h, message.block):
            break
    else:
        return None
    prepare = make_vote_message(committee, keys, PREPARE, h, v, block_id)
    log = state.log
    log = attrs.evolve(log, prepares=_with_vote(log.prepares, (v, block_id), prepare.signed_vote()),
                       my_prepares=log.my_prepares.set(v, block_id))
    _broadcast(committee, state, prepare, fx)
    fx.actions.append(SpecAction("Prepare", state.name, h, v, block_id))
    return attrs.evolve(state, log=log)


def _try_commit(committee: Committee, keys: ReplicaKeys, state: ReplicaState,
                fx: _Effects) -> ReplicaState | None:
    """Commit: the replica prepared a block and holds a prepare quorum for it in its view."""
    h, v = state.height, state.view
    block_id = state.log.my_prepares.get(v)
    if block_id is None or v in state.log.my_commits:
        return None
    prepared = state.log.prepares.get((v, block_id), _NO_VOTES)
    if power(prepared) < committee.commit_threshold:
        return None
    commit = make_vote_message(committee, keys, COMMIT, h, v, block_id)
    log = state.log
    log = attrs.evolve(log, commits=_with_vote(log.commits, (v, block_id), commit.signed_vote()),
                       my_commits=log.my_commits.set(v, block_id))
    _broadcast(committee, state, commit, fx)
    fx.actions.append(SpecAction("Commit", state.name, h, v, block_id,
                                 voters=tuple(sorted(prepared))))
    return attrs.evolve(state, log=log)


def _decidable(committee: Committee, app: Application,
               state: ReplicaState) -> tuple[int, str] | None:
    """A (view, block) with commits of a quorum whose block the replica holds and finds valid."""
    for (view, block_id), voters in sorted(state.log.commits.items(), key=lambda kv: kv[0]):
        if (power(voters) >= committee.quorum and block_id in state.log.blocks
                and app.is_valid(state.tip, state.height, state.log.blocks[block_id])):
            return view, block_id
    return None


def _try_decide(committee: Committee, app: Application, keys: ReplicaKeys, state: ReplicaState,
                fx: _Effects) -> ReplicaState | None:
    """Decide: append the block of a commit quorum and start the next height in view 0.

    The voters it logs are the senders of every commit of (w, block) it holds: received
    commits, its own, and the signers of a catch-up decision's commit certificate
    (``checks._record`` adds those to the same log).
    """
    found = _decidable(committee, app, state)
    if found is None:
        return None
    w, block_id = found
    h = state.height
    block = state.log.blocks[block_id]
    voters = state.log.commits.get((w, block_id), _NO_VOTES)
    certificate = tuple(voters[s] for s in sorted(voters)[:committee.quorum])
    decision = Decision(h, w, block_id, state.name, block, certificate)
    fx.actions.append(SpecAction("Decide", state.name, h, state.view, block_id, w,
                                 voters=tuple(sorted(voters))))
    later = tuple(m for m in state.future if m.height > h + 1)
    now = [m for m in state.future if m.height == h + 1]
    state = attrs.evolve(state, height=h + 1, view=0, chain=state.chain + (block_id,),
                         tip=app.apply(state.tip, block), log=HeightLog(), future=later,
                         decided=state.decided.set(h, decision))
    state = _enter_height(committee, state, fx)
    if is_active(committee, state):
        for message in now:
            state = _accept(committee, app, keys, state, message, fx)
    return state
