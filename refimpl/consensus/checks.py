"""Building and checking PBFT messages: the evidence for spec/PBFT.tla's guards and SafeBlock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from refimpl.consensus.auth import (
    ReplicaKeys,
    authenticate,
    authenticator_is_valid,
    sign,
    signature_is_valid,
)
from refimpl.consensus.committee import Application, Committee, power
from refimpl.consensus.messages import (
    COMMIT,
    PREPARE,
    PROPOSE,
    Commit,
    Decision,
    Message,
    Prepare,
    PreparedProof,
    Proposal,
    SignedVote,
    ViewChange,
    Vote,
    message_kind,
    view_change_bytes,
    vote_bytes,
)
from refimpl.consensus.replica_state import (
    _NO_VOTES,
    Dropped,
    HeightLog,
    ReplicaState,
    _Effects,
    _others,
    _with_block,
    _with_vote,
)
from refimpl.errors import ChargeChainError

__all__ = [
    "check_decision",
    "check_prepared_proof",
    "check_proposal",
    "check_view_change",
    "check_vote_message",
    "justified_blocks",
    "make_proposal",
    "make_view_change",
    "make_vote_message",
]


def make_proposal(committee: Committee, keys: ReplicaKeys, height: int, view: int,
                  block_id: str, block: Any, justification: tuple[ViewChange, ...] = (),
                  receivers: Iterable[str] | None = None) -> Proposal:
    """A signed, authenticated proposal of ``block`` by ``keys.replica``."""
    vote = Vote(PROPOSE, height, view, block_id, keys.replica)
    payload = vote_bytes(vote)
    to = _others(committee, keys.replica) if receivers is None else tuple(receivers)
    return Proposal(vote, sign(keys, payload, defer=committee.defer_signatures), block,
                    justification, authenticate(keys, to, payload))


def make_vote_message(committee: Committee, keys: ReplicaKeys, kind: str, height: int, view: int,
                      block_id: str, receivers: Iterable[str] | None = None) -> Prepare | Commit:
    """A signed, authenticated prepare or commit by ``keys.replica``."""
    vote = Vote(kind, height, view, block_id, keys.replica)
    payload = vote_bytes(vote)
    to = _others(committee, keys.replica) if receivers is None else tuple(receivers)
    cls = Prepare if kind == PREPARE else Commit
    return cls(vote, sign(keys, payload, defer=committee.defer_signatures),
               authenticate(keys, to, payload))


def make_view_change(committee: Committee, keys: ReplicaKeys, height: int, view: int,
                     prepared: PreparedProof | None) -> ViewChange:
    """A signed view change to ``view`` carrying the prepared certificate ``prepared``."""
    claim = None if prepared is None else (prepared.view, prepared.block_id)
    payload = view_change_bytes(height, view, keys.replica, claim)
    return ViewChange(height, view, keys.replica, prepared,
                      sign(keys, payload, defer=committee.defer_signatures))


# --------------------------------------------------------------------------- checking messages


def _format_error(message: str, field: str, expected: Any, received: Any) -> ChargeChainError:
    """An E_MSG_FORMAT error naming the field."""
    return ChargeChainError("E_MSG_FORMAT", message, field=field, expected=expected,
                            received=received)


def _auth_error(message: str, field: str, sender: str) -> ChargeChainError:
    """An E_MSG_AUTH error naming the field and the claimed sender."""
    return ChargeChainError("E_MSG_AUTH", message, field=field,
                            expected=f"a valid {field} of {sender}",
                            received="one that does not verify")


def _check_sender(committee: Committee, sender: str) -> None:
    """The sender is one of the committee's replicas."""
    if sender not in committee.replicas:
        raise _format_error("unknown sender", "sender", list(committee.replicas), sender)


def _check_signed_vote(committee: Committee, keys: ReplicaKeys, signed: SignedVote, kind: str,
                       height: int, view: int, block_id: str) -> None:
    """A forwarded vote is of this kind, height, view and block, and its signature verifies."""
    vote = signed.vote
    expected = (kind, height, view, block_id)
    if (vote.kind, vote.height, vote.view, vote.block_id) != expected:
        raise _format_error("a forwarded vote is not for this block", "vote", expected,
                            (vote.kind, vote.height, vote.view, vote.block_id))
    _check_sender(committee, vote.sender)
    if not signature_is_valid(keys.public_keys[vote.sender], vote_bytes(vote), signed.signature):
        raise _auth_error("a forwarded vote's signature does not verify", "signature", vote.sender)


def check_prepared_proof(committee: Committee, app: Application, keys: ReplicaKeys,
                         height: int, below_view: int, proof: PreparedProof) -> None:
    """A prepared certificate: the proposal of the view's proposer and prepares of a quorum."""
    if not 0 <= proof.view < below_view:
        raise _format_error("a prepared certificate is from a later view", "prepared.view",
                            f"0..{below_view - 1}", proof.view)
    if app.block_id(proof.block) != proof.block_id:
        raise _format_error("the certificate's block does not match its id", "prepared.block",
                            proof.block_id, app.block_id(proof.block))
    primary = committee.primary(height, proof.view)
    senders = []
    for signed in proof.votes:
        kind = PROPOSE if signed.vote.sender == primary else PREPARE
        _check_signed_vote(committee, keys, signed, kind, height, proof.view, proof.block_id)
        senders.append(signed.vote.sender)
    if primary not in senders:
        raise _format_error("a prepared certificate needs the proposer's proposal",
                            "prepared.votes", f"a proposal by {primary}", sorted(senders))
    if len(set(senders)) != len(senders) or power(senders) < committee.quorum:
        raise _format_error("a prepared certificate needs a quorum of distinct prepares",
                            "prepared.votes", f">= {committee.quorum} distinct",
                            len(set(senders)))


def check_view_change(committee: Committee, app: Application, keys: ReplicaKeys,
                      message: ViewChange) -> None:
    """A view change: known sender, view >= 1, valid signature, valid prepared certificate."""
    _check_sender(committee, message.sender)
    if message.view < 1 or (committee.max_view is not None and message.view > committee.max_view):
        raise _format_error("a view change goes to a view 1..max_view", "view",
                            f"1..{committee.max_view}", message.view)
    payload = view_change_bytes(message.height, message.view, message.sender, message.claim())
    if not signature_is_valid(keys.public_keys[message.sender], payload, message.signature):
        raise _auth_error("the view change's signature does not verify", "signature",
                          message.sender)
    if message.prepared is not None:
        check_prepared_proof(committee, app, keys, message.height, message.view, message.prepared)


def justified_blocks(view_changes: Iterable[ViewChange]) -> frozenset[str] | None:
    """The new-view rule: the blocks of the highest reported certificate; None if none is."""
    claims = [vc.claim() for vc in view_changes if vc.claim() is not None]
    if not claims:
        return None
    top = max(view for view, _ in claims)
    return frozenset(block_id for view, block_id in claims if view == top)


def check_proposal(committee: Committee, app: Application, keys: ReplicaKeys,
                   message: Proposal) -> None:
    """A proposal: by the view's proposer, authenticated, its block and justification fit."""
    vote = message.vote
    if vote.kind != PROPOSE:
        raise _format_error("a proposal carries a propose vote", "vote.kind", PROPOSE, vote.kind)
    _check_sender(committee, vote.sender)
    if committee.max_view is not None and vote.view > committee.max_view:
        raise _format_error("a proposal's view is beyond max_view", "view",
                            f"0..{committee.max_view}", vote.view)
    primary = committee.primary(vote.height, vote.view)
    if vote.sender != primary:
        raise _format_error("only the view's scheduled proposer may propose", "sender", primary,
                            vote.sender)
    if not authenticator_is_valid(keys, vote.sender, vote_bytes(vote), message.authenticator):
        raise _auth_error("the proposal's authenticator does not verify", "authenticator",
                          vote.sender)
    if app.block_id(message.block) != vote.block_id:
        raise _format_error("the proposed block does not match its id", "block", vote.block_id,
                            app.block_id(message.block))
    if vote.view == 0:
        if message.justification:
            raise _format_error("a view-0 proposal has no justification", "justification", "()",
                                len(message.justification))
        return
    senders = []
    for vc in message.justification:
        if (vc.height, vc.view) != (vote.height, vote.view):
            raise _format_error("a justification holds view changes to this view",
                                "justification", (vote.height, vote.view), (vc.height, vc.view))
        check_view_change(committee, app, keys, vc)
        senders.append(vc.sender)
    if len(set(senders)) != len(senders) or power(senders) < committee.quorum:
        raise _format_error("a new view needs view changes from a quorum", "justification",
                            f">= {committee.quorum} distinct senders", len(set(senders)))
    allowed = justified_blocks(message.justification)
    if allowed is not None and vote.block_id not in allowed:
        raise _format_error("the new-view rule requires the highest prepared block",
                            "block_id", sorted(allowed), vote.block_id)


def check_vote_message(committee: Committee, keys: ReplicaKeys, message: Prepare | Commit) -> None:
    """A prepare or commit: right kind, known sender, authenticated."""
    vote = message.vote
    kind = PREPARE if isinstance(message, Prepare) else COMMIT
    if vote.kind != kind:
        raise _format_error(f"a {kind} carries a {kind} vote", "vote.kind", kind, vote.kind)
    _check_sender(committee, vote.sender)
    if not authenticator_is_valid(keys, vote.sender, vote_bytes(vote), message.authenticator):
        raise _auth_error(f"the {kind}'s authenticator does not verify", "authenticator",
                          vote.sender)


def check_decision(committee: Committee, app: Application, keys: ReplicaKeys,
                   message: Decision) -> None:
    """A catch-up decision: its block matches and a quorum of signed commits certifies it."""
    if app.block_id(message.block) != message.block_id:
        raise _format_error("the decided block does not match its id", "block",
                            message.block_id, app.block_id(message.block))
    senders = []
    for signed in message.commits:
        _check_signed_vote(committee, keys, signed, COMMIT, message.height, message.view,
                           message.block_id)
        senders.append(signed.vote.sender)
    if len(set(senders)) != len(senders) or power(senders) < committee.quorum:
        raise _format_error("a commit certificate needs commits of a quorum", "commits",
                            f">= {committee.quorum} distinct", len(set(senders)))


# --------------------------------------------------------------------------- receiving


def _record(committee: Committee, app: Application, keys: ReplicaKeys, log: HeightLog,
            message: Message) -> HeightLog:
    """Check a message of the replica's height and add it to the log (raises if it is bad)."""
    if isinstance(message, Proposal):
        check_proposal(committee, app, keys, message)
        key = (message.view, message.vote.block_id)
        proposals = log.proposals if key in log.proposals else log.proposals.set(key, message)
        return attrs.evolve(log, proposals=proposals,
                            blocks=_with_block(log, message.vote.block_id, message.block),
                            prepares=_with_vote(log.prepares, key, message.signed_vote()))
    if isinstance(message, (Prepare, Commit)):
        check_vote_message(committee, keys, message)
        key = (message.view, message.vote.block_id)
        if isinstance(message, Prepare):
            return attrs.evolve(log, prepares=_with_vote(log.prepares, key, message.signed_vote()))
        return attrs.evolve(log, commits=_with_vote(log.commits, key, message.signed_vote()))
    if isinstance(message, ViewChange):
        check_view_change(committee, app, keys, message)
        inner = log.view_changes.get(message.view, _NO_VOTES)
        if message.sender in inner:
            return log
        blocks = log.blocks
        if message.prepared is not None:
            blocks = _with_block(log, message.prepared.block_id, message.prepared.block)
        return attrs.evolve(log, blocks=blocks, view_changes=log.view_changes.set(
            message.view, inner.set(message.sender, message)))
    if isinstance(message, Decision):
        check_decision(committee, app, keys, message)
        commits = log.commits
        for signed in message.commits:
            commits = _with_vote(commits, (message.view, message.block_id), signed)
        return attrs.evolve(log, commits=commits,
                            blocks=_with_block(log, message.block_id, message.block))
    raise _format_error("not a PBFT message", "message", "Proposal, Prepare, Commit, ViewChange "
                        "or Decision", type(message).__name__)


def _accept(committee: Committee, app: Application, keys: ReplicaKeys, state: ReplicaState,
            message: Message, fx: _Effects) -> ReplicaState:
    """Record a message of the current height, or note why it was dropped."""
    try:
        return attrs.evolve(state, log=_record(committee, app, keys, state.log, message))
    except ChargeChainError as error:
        fx.dropped.append(Dropped(message_kind(message), message.sender, error.code, error.message))
        return state
