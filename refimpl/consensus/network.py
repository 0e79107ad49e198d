"""The simulated network and its faults: loss, delay, partitions, spec/PBFT.tla's Byzantine and Crashed.

The network:

* every (message, receiver) pair gets its own delay, uniform in
  ``[min_delay_ms, max_delay_ms]``;
* it is lost with probability ``drop_permille`` / 1000 and delivered twice (with a second
  delay) with probability ``duplicate_permille`` / 1000;
* a :class:`Partition` cuts the links between its nodes and the others during a window; a
  message is lost if its link is cut when it is sent or when it would arrive;
* a :class:`Crash` stops an honest replica during a window: messages to it are lost and its
  timers fire when it comes back (its state survives, as PBFT's stable log would);
* ``silent`` replicas never start (the spec's ``Crashed``: they send nothing at all).

Byzantine replicas (the spec's ``Byzantine``) run the honest state machine and distort what it
sends, per behaviour: ``silent`` (sends nothing), ``equivocate`` (as proposer, a different
valid block to each half of the replicas), ``double-vote`` (each prepare and commit to one
half, a vote for another block to the other half), ``late`` (everything ``late_ms`` late),
``invalid-proposal`` (as proposer, an invalid block), ``forge`` (adds prepares and
commits claiming to come from another replica, which the receivers drop: the MAC fails),
``double-propose`` (as proposer, two different valid blocks to every replica) and ``usurp``
(on entering a view in which it is not the proposer, proposes another valid block to every
replica; correct receivers drop it: only the view's proposer may propose). Their messages
carry their own id, signed and authenticated with their own keys, except the forged ones.
"""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.consensus.auth import authenticate, sign
from refimpl.consensus.checks import make_proposal, make_vote_message
from refimpl.consensus.committee import Committee
from refimpl.consensus.messages import PREPARE, Commit, Prepare, Proposal, Vote, vote_bytes
from refimpl.consensus.replica_state import ReplicaState, Send
from refimpl.encoding import FrozenMap

__all__ = [
    "BEHAVIOURS",
    "Crash",
    "NetworkConfig",
    "Partition",
    "SimulationConfig",
]

#: What a Byzantine replica may do (see the module docstring).
BEHAVIOURS = ("silent", "equivocate", "double-vote", "late", "invalid-proposal", "forge",
              "double-propose", "usurp")


@attrs.frozen
class Partition:
    """The links between ``nodes`` and every other node are cut during [start_ms, end_ms)."""

    nodes: frozenset[str]
    start_ms: int
    end_ms: int

    def cuts(self, a: str, b: str, time_ms: int) -> bool:
        """Whether the link a - b is cut at ``time_ms``."""
        return self.start_ms <= time_ms < self.end_ms and ((a in self.nodes) != (b in self.nodes))


@attrs.frozen
class Crash:
    """Honest replica ``node`` is down during [start_ms, end_ms)."""

    node: str
    start_ms: int
    end_ms: int

    def down(self, node: str, time_ms: int) -> bool:
        """Whether ``node`` is down at ``time_ms`` because of this crash."""
        return node == self.node and self.start_ms <= time_ms < self.end_ms


@attrs.frozen
class NetworkConfig:
    """Delays, losses, duplicates, partitions and crashes (see the module)."""

    min_delay_ms: int = 5
    max_delay_ms: int = 50
    drop_permille: int = 0
    duplicate_permille: int = 0
    partitions: tuple[Partition, ...] = ()
    crashes: tuple[Crash, ...] = ()


@attrs.frozen
class SimulationConfig:
    """One run: seed, committee, network, faulty replicas and limits."""

    seed: int
    committee: Committee
    network: NetworkConfig = NetworkConfig()
    #: Byzantine replica -> its behaviours (the spec's Byzantine)
    byzantine: FrozenMap[str, tuple[str, ...]] = attrs.field(factory=FrozenMap)
    #: replicas that never start (the spec's Crashed)
    silent: frozenset[str] = frozenset()
    #: the extra delay of a ``late`` Byzantine replica's messages
    late_ms: int = 2_000
    time_limit_ms: int = 3_600_000
    max_events: int = 10_000_000
    record_log: bool = True
    record_trace: bool = True



# --------------------------------------------------------------------------- Byzantine sends


def _split(receivers: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The receivers in two halves (in order)."""
    half = (len(receivers) + 1) // 2
    return receivers[:half], receivers[half:]


def _distort(committee: Committee, app: Any, keys: Any, state: ReplicaState, send: Send,
             behaviours: tuple[str, ...]) -> list[Send]:
    """What a Byzantine replica sends instead of one honest send."""
    message = send.message
    me = state.name
    if isinstance(message, Proposal) and message.sender == me:
        h, v = message.height, message.view
        if "invalid-proposal" in behaviours:
            bad = app.invalid_block(state.tip, h, v)
            return [Send(make_proposal(committee, keys, h, v, app.block_id(bad), bad,
                                       message.justification, send.to), send.to)]
        if "equivocate" in behaviours:
            other = app.alternative_block(state.tip, h, v, message.block)
            first, second = _split(send.to)
            twin = make_proposal(committee, keys, h, v, app.block_id(other), other,
                                 message.justification, second)
            return [Send(message, first), Send(twin, second)]
        if "double-propose" in behaviours:
            other = app.alternative_block(state.tip, h, v, message.block)
            twin = make_proposal(committee, keys, h, v, app.block_id(other), other,
                                 message.justification, send.to)
            return [send, Send(twin, send.to)]
    if isinstance(message, (Prepare, Commit)) and message.sender == me:
        sends = [send]
        vote = message.vote
        if "double-vote" in behaviours and vote.block_id in state.log.blocks:
            other = app.alternative_block(state.tip, vote.height, vote.view,
                                          state.log.blocks[vote.block_id])
            first, second = _split(send.to)
            twin = make_vote_message(committee, keys, vote.kind, vote.height, vote.view,
                                     app.block_id(other), second)
            sends = [Send(message, first), Send(twin, second)]
        if "forge" in behaviours:
            victim = next(r for r in committee.replicas if r != me)
            forged_vote = Vote(vote.kind, vote.height, vote.view, vote.block_id, victim)
            payload = vote_bytes(forged_vote)
            to = tuple(r for r in send.to if r != victim)
            cls = Prepare if vote.kind == PREPARE else Commit
            forged = cls(forged_vote, sign(keys, payload), authenticate(keys, to, payload))
            sends.append(Send(forged, to))
        return sends
    return [send]


def _usurp(committee: Committee, app: Any, keys: Any, before: ReplicaState,
           after: ReplicaState) -> list[Send]:
    """A usurping replica's proposal on entering a view in which it is not the proposer.

    It proposes the valid block the view's proposer would not (the application's alternative
    to the proposer's own choice), to every other replica, with the view changes to that view
    it holds as the justification. Correct receivers drop it (E_MSG_FORMAT).
    """
    h, v = after.height, after.view
    entered = not before.started or (before.height, before.view) != (h, v)
    if (not after.started or not entered or committee.primary(h, v) == after.name
            or (committee.max_height is not None and h > committee.max_height)):
        return []
    usual = app.propose(after.tip, h, v, committee.primary(h, v))
    other = app.alternative_block(after.tip, h, v, usual)
    changes = after.log.view_changes.get(v, FrozenMap()) if v > 0 else FrozenMap()
    justification = tuple(changes[sender] for sender in sorted(changes))
    to = tuple(r for r in committee.replicas if r != after.name)
    return [Send(make_proposal(committee, keys, h, v, app.block_id(other), other,
                               justification, to), to)]
