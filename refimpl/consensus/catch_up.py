"""Catch-up, not a spec action: it feeds a lagging peer's Decide (spec/PBFT.tla, any view w).

The receiver of a :class:`~refimpl.consensus.messages.Decision` checks its commit certificate
and adds the signed commits to its log (``checks._record``); its ``Decide`` then logs their
signers among its voters (``normal_case._try_decide``), as for commits it received itself.
"""

from __future__ import annotations

import attrs

from refimpl.consensus.committee import Committee
from refimpl.consensus.messages import Message, ViewChange
from refimpl.consensus.replica_state import ReplicaState, Send, _Effects

__all__: list[str] = []


def _help(committee: Committee, state: ReplicaState, message: Message,
          fx: _Effects) -> ReplicaState:
    """Answer a view change of a height already decided with the decisions the sender lacks.

    A replica that stops making progress at a height times out and sends a view change (and
    sends it again at the last view), so a view change is what shows a peer is behind; the
    normal-case messages of a height arrive late at fast replicas all the time and are not
    answered.
    """
    sender = message.sender
    if (not isinstance(message, ViewChange) or sender == state.name
            or sender not in committee.replicas or message.height not in state.decided):
        return state
    last = min(state.height - 1, message.height + committee.catch_up_heights - 1)
    for height in range(message.height, last + 1):
        fx.sends.append(Send(state.decided[height], (sender,)))
    return state


def _keep_for_later(committee: Committee, state: ReplicaState, message: Message) -> ReplicaState:
    """Keep a message of a later height (within ``future_heights``) until the replica gets there."""
    if message.height > state.height + committee.future_heights or message in state.future:
        return state
    return attrs.evolve(state, future=state.future + (message,))
