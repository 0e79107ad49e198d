"""The messages PBFT replicas exchange, and the bytes their authenticators and signatures cover.

Spec correspondence (spec/PBFT.tla). A :class:`Proposal` is a record of ``proposals`` (a
pre-prepare in view 0, a new view in view > 0; it also counts as its sender's prepare); a
:class:`Prepare` or :class:`Commit` is a record of ``prepares`` or ``commits``; a
:class:`ViewChange` is a record of ``viewChanges``, its ``prepared`` claim being the spec's
prepared certificate. The message carries the evidence the record only names: a proposal
carries the block itself and, in a new view, the signed view changes that justify it; a
view change carries the signed proposal and prepares of a quorum behind its claim.

A :class:`Decision` is not a spec message: it is the catch-up reply a replica sends to a
peer still working on a height it has decided: the block and its commit certificate (a
quorum of signed commits), which any replica can check without trusting the sender.

Every value here is immutable. Signatures, authenticators and block values are left out of
equality, so two copies of one message compare equal.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs

from refimpl.consensus.auth import Authenticator, Signature
from refimpl.encoding import canonical_bytes

__all__ = [
    "COMMIT",
    "PBFT_DOMAIN",
    "PREPARE",
    "PROPOSE",
    "VOTE_KINDS",
    "Commit",
    "Decision",
    "Message",
    "Prepare",
    "PreparedProof",
    "Proposal",
    "SignedVote",
    "ViewChange",
    "Vote",
    "message_kind",
    "message_summary",
    "view_change_bytes",
    "vote_bytes",
]

#: Domain tag of every signed or authenticated PBFT payload.
PBFT_DOMAIN = "chargechain/pbft/v1"

PROPOSE = "propose"
PREPARE = "prepare"
COMMIT = "commit"
#: The kinds of vote: a proposal, a prepare, a commit.
VOTE_KINDS = (PROPOSE, PREPARE, COMMIT)


@attrs.frozen
class Vote:
    """A replica's statement about one block at (height, view): propose, prepare or commit."""

    kind: str
    height: int
    view: int
    block_id: str
    sender: str


@functools.lru_cache(maxsize=1 << 16)
def vote_bytes(vote: Vote) -> bytes:
    """The bytes a vote's signature and authenticator cover: domain and every field."""
    return canonical_bytes({"domain": PBFT_DOMAIN, "type": vote.kind, "height": vote.height,
                            "view": vote.view, "block_id": vote.block_id, "sender": vote.sender})


@attrs.frozen
class SignedVote:
    """A vote with its sender's SM2 signature: evidence a third party can check."""

    vote: Vote
    signature: Signature = attrs.field(eq=False, repr=False)


class _CarriesVote:
    """Height, view and sender of a message that carries a signed vote (``vote``, ``signature``)."""

    __slots__ = ()
    vote: Vote
    signature: Signature

    @property
    def height(self) -> int:
        """The height voted on (or proposed for)."""
        return self.vote.height

    @property
    def view(self) -> int:
        """The view of the vote."""
        return self.vote.view

    @property
    def sender(self) -> str:
        """The replica that voted (or proposed)."""
        return self.vote.sender

    def signed_vote(self) -> SignedVote:
        """The signed vote alone (what a prepared certificate forwards)."""
        return SignedVote(self.vote, self.signature)


@attrs.frozen
class Proposal(_CarriesVote):
    """A pre-prepare (view 0) or new view (view > 0): the block, signed and authenticated."""

    vote: Vote
    signature: Signature = attrs.field(eq=False, repr=False)
    block: Any = attrs.field(eq=False, repr=False)
    #: view > 0: the signed view changes (from a quorum) that justify the block; () in view 0
    justification: tuple[ViewChange, ...] = attrs.field(eq=False, repr=False)
    authenticator: Authenticator = attrs.field(eq=False, repr=False)


@attrs.frozen
class Prepare(_CarriesVote):
    """A prepare: the sender accepts the proposal of its view."""

    vote: Vote
    signature: Signature = attrs.field(eq=False, repr=False)
    authenticator: Authenticator = attrs.field(eq=False, repr=False)


@attrs.frozen
class Commit(_CarriesVote):
    """A commit: the sender saw a prepare quorum for the block in its view."""

    vote: Vote
    signature: Signature = attrs.field(eq=False, repr=False)
    authenticator: Authenticator = attrs.field(eq=False, repr=False)


@attrs.frozen
class PreparedProof:
    """A prepared certificate with its evidence: the signed proposal and prepares of a quorum."""

    view: int
    block_id: str
    block: Any = attrs.field(eq=False, repr=False)
    votes: tuple[SignedVote, ...] = attrs.field(eq=False, repr=False)


@attrs.frozen
class ViewChange:
    """A view change to ``view`` at ``height`` with the sender's prepared certificate, signed."""

    height: int
    view: int
    sender: str
    prepared: PreparedProof | None
    signature: Signature = attrs.field(eq=False, repr=False)

    def claim(self) -> tuple[int, str] | None:
        """(view, block id) of the prepared certificate, or None: the spec's ``prepared`` field."""
        return None if self.prepared is None else (self.prepared.view, self.prepared.block_id)


def view_change_bytes(height: int, view: int, sender: str, claim: tuple[int, str] | None) -> bytes:
    """What a view change's signature covers: height, view, sender and the claimed certificate."""
    prepared = None if claim is None else {"view": claim[0], "block_id": claim[1]}
    return canonical_bytes({"domain": PBFT_DOMAIN, "type": "view-change", "height": height,
                            "view": view, "sender": sender, "prepared": prepared})


@attrs.frozen
class Decision:
    """Catch-up: a decided block of ``height`` with its commit certificate (signed commits)."""

    height: int
    view: int
    block_id: str
    sender: str
    block: Any = attrs.field(eq=False, repr=False)
    commits: tuple[SignedVote, ...] = attrs.field(eq=False, repr=False)


#: Any message of the protocol.
Message = Proposal | Prepare | Commit | ViewChange | Decision

_KINDS = {Proposal: "proposal", Prepare: "prepare", Commit: "commit",
          ViewChange: "view-change", Decision: "decision"}


def message_kind(message: Message) -> str:
    """The kind of a message: proposal, prepare, commit, view-change or decision."""
    return _KINDS[type(message)]


def message_summary(message: Message) -> dict[str, Any]:
    """A message as plain data for the event log: kind, height, view, sender, block."""
    summary: dict[str, Any] = {"kind": message_kind(message), "height": message.height,
                               "view": message.view, "sender": message.sender}
    if isinstance(message, ViewChange):
        claim = message.claim()
        summary["prepared"] = None if claim is None else {"view": claim[0], "block_id": claim[1]}
    elif isinstance(message, Decision):
        summary["block_id"] = message.block_id
    else:
        summary["block_id"] = message.vote.block_id
    return summary
