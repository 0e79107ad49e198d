"""A replica's state, events and outputs: spec/PBFT.tla's Init, HeightOf and Active."""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.consensus.committee import Committee
from refimpl.consensus.messages import Decision, Message, Proposal, SignedVote, ViewChange
from refimpl.encoding import FrozenMap

__all__ = [
    "PROPOSE_TIMER",
    "SPEC_ACTIONS",
    "VIEW_TIMER",
    "Deliver",
    "Dropped",
    "Event",
    "HeightLog",
    "ReplicaState",
    "Send",
    "SetTimer",
    "SpecAction",
    "Start",
    "Step",
    "Timeout",
    "initial_state",
    "is_active",
]

VIEW_TIMER = "view"
PROPOSE_TIMER = "propose"
#: The honest actions of spec/PBFT.tla a replica step can take.
SPEC_ACTIONS = ("PrePrepare", "NewView", "Prepare", "Commit", "Decide", "ViewChange")

_NO_VOTES: FrozenMap = FrozenMap()


# --------------------------------------------------------------------------- state


@attrs.frozen
class HeightLog:
    """What a replica knows and did at its current height."""

    #: block id -> block value (from proposals, prepared certificates, decisions)
    blocks: FrozenMap[str, Any] = attrs.field(factory=FrozenMap, eq=False)
    #: (view, block id) -> the proposal of that view's proposer, in order of arrival
    proposals: FrozenMap[tuple[int, str], Proposal] = attrs.field(factory=FrozenMap)
    #: (view, block id) -> sender -> signed prepare (a proposal counts as its sender's prepare)
    prepares: FrozenMap[tuple[int, str], FrozenMap[str, SignedVote]] = attrs.field(
        factory=FrozenMap)
    #: (view, block id) -> sender -> signed commit
    commits: FrozenMap[tuple[int, str], FrozenMap[str, SignedVote]] = attrs.field(factory=FrozenMap)
    #: view -> sender -> view change to that view
    view_changes: FrozenMap[int, FrozenMap[str, ViewChange]] = attrs.field(factory=FrozenMap)
    #: view -> the block this replica prepared (or proposed) in it
    my_prepares: FrozenMap[int, str] = attrs.field(factory=FrozenMap)
    #: view -> the block this replica committed in it
    my_commits: FrozenMap[int, str] = attrs.field(factory=FrozenMap)
    #: the views in which this replica proposed
    proposed: frozenset[int] = frozenset()
    #: the view-0 proposer's pacing timer has expired (always true without pacing)
    ready: bool = True


@attrs.frozen
class ReplicaState:
    """One replica: its height and view, decided chain, ledger tip and message log."""

    name: str
    height: int
    view: int
    #: the ids of the decided blocks, height i at index i - 1 (the spec's chain[r])
    chain: tuple[str, ...]
    tip: Any = attrs.field(eq=False)
    log: HeightLog
    #: messages of later heights, kept until the replica gets there
    future: tuple[Message, ...] = ()
    #: height -> this replica's decision with its commit certificate (to help lagging peers)
    decided: FrozenMap[int, Decision] = attrs.field(factory=FrozenMap, eq=False)
    started: bool = False


def initial_state(name: str, tip: Any) -> ReplicaState:
    """A replica before its start: height 1, view 0, nothing decided (spec Init)."""
    return ReplicaState(name, 1, 0, (), tip, HeightLog())


def is_active(committee: Committee, state: ReplicaState) -> bool:
    """The replica still has a height to decide (spec Active)."""
    return committee.max_height is None or state.height <= committee.max_height


# --------------------------------------------------------------------------- events, outputs


@attrs.frozen
class Start:
    """The replica starts: it sets its first timer and, if it is the first proposer, proposes."""


@attrs.frozen
class Deliver:
    """A message arrives."""

    message: Message


@attrs.frozen
class Timeout:
    """A timer set by the replica expires (``kind`` view or propose, for a height and view)."""

    kind: str
    height: int
    view: int


Event = Start | Deliver | Timeout


@attrs.frozen
class Send:
    """Send ``message`` to the replicas ``to``."""

    message: Message
    to: tuple[str, ...]


@attrs.frozen
class SetTimer:
    """Deliver a :class:`Timeout` to this replica after ``delay_ms``."""

    kind: str
    height: int
    view: int
    delay_ms: int


@attrs.frozen
class SpecAction:
    """One action of spec/PBFT.tla taken by the replica, with the spec's parameters."""

    name: str
    replica: str
    height: int
    view: int
    block_id: str | None = None
    #: Decide only: the view w of the commit quorum
    decided_view: int | None = None
    #: Commit and Decide: the replicas whose votes the replica counted, sorted (Commit: the
    #: prepares of its view for the block, a proposal counting as its proposer's prepare;
    #: Decide: the commits of view w for the block)
    voters: tuple[str, ...] | None = None

    def params(self) -> dict[str, Any]:
        """The spec parameters: r, and b, and w for Decide; Commit and Decide add voters."""
        if self.name == "ViewChange":
            return {"r": self.replica}
        if self.name == "Decide":
            return {"r": self.replica, "w": self.decided_view, "b": self.block_id,
                    "voters": list(self.voters or ())}
        if self.name == "Commit":
            return {"r": self.replica, "b": self.block_id, "voters": list(self.voters or ())}
        return {"r": self.replica, "b": self.block_id}


@attrs.frozen
class Dropped:
    """A message the replica did not accept: its kind, sender and the error code."""

    kind: str
    sender: str
    code: str
    reason: str


@attrs.frozen
class Step:
    """The result of one event: new state, sends, timers, spec actions taken, drops."""

    state: ReplicaState
    sends: tuple[Send, ...] = ()
    timers: tuple[SetTimer, ...] = ()
    actions: tuple[SpecAction, ...] = ()
    dropped: tuple[Dropped, ...] = ()


class _Effects:
    """What one step produces, collected while it runs (local to one replica ``step``)."""

    def __init__(self) -> None:
        self.sends: list[Send] = []
        self.timers: list[SetTimer] = []
        self.actions: list[SpecAction] = []
        self.dropped: list[Dropped] = []


# --------------------------------------------------------------------------- what every action does


def _others(committee: Committee, me: str) -> tuple[str, ...]:
    """Every replica but ``me``."""
    return tuple(r for r in committee.replicas if r != me)


def _broadcast(committee: Committee, state: ReplicaState, message: Message, fx: _Effects) -> None:
    """Send ``message`` to every other replica."""
    fx.sends.append(Send(message, _others(committee, state.name)))


def _set_view_timer(committee: Committee, state: ReplicaState, fx: _Effects) -> None:
    """Arm the view-change timer of the current height and view (doubled per view)."""
    delay = committee.view_timeout_ms << state.view
    if state.view == 0:
        delay += committee.propose_delay_ms
    fx.timers.append(SetTimer(VIEW_TIMER, state.height, state.view, delay))


def _enter_height(committee: Committee, state: ReplicaState, fx: _Effects) -> ReplicaState:
    """Start the current height in view 0: timers, and the pacing of the view-0 proposer."""
    if not is_active(committee, state):
        return state
    paced = committee.propose_delay_ms > 0 and committee.primary(state.height, 0) == state.name
    if paced:
        fx.timers.append(SetTimer(PROPOSE_TIMER, state.height, 0, committee.propose_delay_ms))
    _set_view_timer(committee, state, fx)
    return attrs.evolve(state, log=HeightLog(ready=not paced))


# --------------------------------------------------------------------------- the log


def _with_vote(votes: FrozenMap, key: tuple[int, str], signed: SignedVote) -> FrozenMap:
    """The vote map with ``signed`` added under ``key`` (a sender's first vote counts)."""
    inner = votes.get(key, _NO_VOTES)
    if signed.vote.sender in inner:
        return votes
    return votes.set(key, inner.set(signed.vote.sender, signed))


def _with_block(log: HeightLog, block_id: str, block: Any) -> FrozenMap:
    """The known blocks with ``block`` added."""
    return log.blocks if block_id in log.blocks else log.blocks.set(block_id, block)
