"""A PBFT replica as a pure, deterministic state machine (spec/PBFT.tla, one replica per node).

``step(committee, app, keys, state, event)`` takes a replica state and one event (start, a
delivered message, a timer) and returns a :class:`Step`: the new state, the messages to
send, the timers to set, the spec actions the replica took (for tracing) and the messages it
dropped with the reason. Nothing reads a clock or a random source; the same inputs give the
same outputs.

The replica is generic over the block values through an :class:`Application`: the same
code runs abstract string blocks (trace validation, Hypothesis) and ledger blocks (the demo).

Protocol (the spec's actions, taken in this order of priority whenever enabled):

* ``Decide``: a quorum of commits for one valid block at the replica's height, in any view
  (received commits, its own, or the commit certificate of a catch-up :class:`Decision`).
  The block joins the chain and the replica starts the next height in view 0.
* ``PrePrepare``: in view 0 the scheduled proposer (the master node of the company
  :func:`refimpl.consensus.schedule.proposer` names) proposes a valid block.
* ``NewView``: in view v > 0 the proposer of v, holding view changes to v from a quorum,
  proposes the block of the highest prepared certificate they report; if none reports one,
  it re-proposes the earliest valid proposal it holds at this height, else a block of its
  own. The proposal carries the view changes as its justification.
* ``Prepare``: the replica accepts the first valid proposal of its view's proposer (in view
  v > 0 only with a justification that allows the block): at most one per view.
* ``Commit``: the replica that prepared a block and holds a prepare quorum for it in its
  view commits it (at most once per view). A proposal counts as its sender's prepare.
* ``ViewChange``: on a timeout (``view_timeout_ms`` doubled per view), or when view changes
  from F + 1 nodes or a justified new view show a later view, the replica moves one view up
  and broadcasts a signed view change carrying its prepared certificate: its latest commit
  at the height, with the signed proposal and prepares behind it.

Quorums count nodes: ``quorum = (N + F) div 2 + 1``. A replica drops a message whose
authenticator or signature does not verify (``E_MSG_AUTH``) or that does not fit the
sender's role (``E_MSG_FORMAT``), and records the drop in :attr:`Step.dropped`.

Catch-up (not a spec action): a replica that receives a view change of a height it has
decided answers the sender with :class:`Decision` messages for that height and the next few:
each carries the block and its commit certificate. At the last view of a bounded model
(``max_view``) a replica's timer re-sends what it sent in that view instead of moving on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import attrs

from refimpl.consensus.auth import (
    ReplicaKeys,
    authenticate,
    authenticator_is_valid,
    sign,
    signature_is_valid,
)
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
from refimpl.consensus.schedule import company_order, proposer
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError

__all__ = [
    "Application",
    "Committee",
    "HeightLog",
    "ReplicaState",
    "Start",
    "Deliver",
    "Timeout",
    "Event",
    "Send",
    "SetTimer",
    "SpecAction",
    "Dropped",
    "Step",
    "VIEW_TIMER",
    "PROPOSE_TIMER",
    "SPEC_ACTIONS",
    "check_committee",
    "quorum_size",
    "power",
    "initial_state",
    "is_active",
    "step",
    "make_proposal",
    "make_vote_message",
    "make_view_change",
    "check_proposal",
    "check_vote_message",
    "check_view_change",
    "check_prepared_proof",
    "check_decision",
    "justified_blocks",
    "prepared_certificate",
]

VIEW_TIMER = "view"
PROPOSE_TIMER = "propose"
#: The honest actions of spec/PBFT.tla a replica step can take.
SPEC_ACTIONS = ("PrePrepare", "NewView", "Prepare", "Commit", "Decide", "ViewChange")

_NO_VOTES: FrozenMap = FrozenMap()


class Application(Protocol):
    """What the replica needs to know about block values (abstract strings or ledger blocks)."""

    def block_id(self, block: Any) -> str:
        """The block's identifier (a digest for ledger blocks)."""

    def is_valid(self, tip: Any, height: int, block: Any) -> bool:
        """Whether ``block`` is a valid block at ``height`` on top of ``tip``."""

    def propose(self, tip: Any, height: int, view: int, proposer: str) -> Any:
        """A valid block for ``height`` built by replica ``proposer`` in ``view``."""

    def apply(self, tip: Any, block: Any) -> Any:
        """The tip after the decided ``block``."""


@attrs.frozen
class Committee:
    """The static configuration every replica shares: who votes, who proposes, the bounds."""

    #: the companies in schedule order (English-name order, :func:`company_order`)
    companies: tuple[str, ...]
    #: the voting replicas, one per node
    replicas: tuple[str, ...]
    #: company -> the replica (its master node) that proposes for it
    master: FrozenMap[str, str]
    #: the number of faulty nodes the quorums are sized for
    f: int
    #: the last height to decide (None: no bound) and the last view to reach (None: no bound)
    max_height: int | None = None
    max_view: int | None = None
    #: view-change timer of view 0 (doubled for every further view), in ms
    view_timeout_ms: int = 1000
    #: the view-0 proposer waits this long after starting a height before it proposes, in ms
    propose_delay_ms: int = 0
    #: deliberately broken replicas: commit after this many prepares instead of a quorum
    commit_quorum_override: int | None = None
    #: a replica answers a lagging peer with the decisions of at most this many heights
    catch_up_heights: int = 8
    #: messages of at most this many heights above the replica's are kept for later
    future_heights: int = 8
    #: sign lazily (see :mod:`refimpl.consensus.auth`); the bytes are the same
    defer_signatures: bool = True

    @property
    def quorum(self) -> int:
        """(N + F) div 2 + 1 nodes: two quorums share an honest node; N - F nodes make one."""
        return quorum_size(len(self.replicas), self.f)

    @property
    def commit_threshold(self) -> int:
        """Prepares a replica needs before it commits: the quorum, unless deliberately broken."""
        return self.quorum if self.commit_quorum_override is None else self.commit_quorum_override

    def primary(self, height: int, view: int) -> str:
        """The replica proposing block ``height`` in ``view``: the scheduled company's master."""
        return self.master[proposer(self.companies, height, view)]


def quorum_size(nodes: int, f: int) -> int:
    """The quorum of spec/PBFT.tla: (NodeCount + F) div 2 + 1."""
    return (nodes + f) // 2 + 1


def check_committee(committee: Committee) -> Committee:
    """The committee is well formed (spec ASSUME ModelIsWellFormed); E_CONSENSUS if not."""
    replicas = committee.replicas
    problems = [
        ("replicas", "unique replica names", len(set(replicas)) == len(replicas) and replicas),
        ("companies", "companies in English-name order",
         tuple(committee.companies) == company_order(committee.companies)),
        ("master", "a master replica for every company, and nothing else",
         set(committee.master) == set(committee.companies)
         and set(committee.master.values()) <= set(replicas)),
        ("f", f"0 <= f and 3f + 1 <= N = {len(replicas)}",
         committee.f >= 0 and len(replicas) >= 3 * committee.f + 1),
        ("max_height", ">= 1 or None", committee.max_height is None or committee.max_height >= 1),
        ("max_view", ">= 0 or None", committee.max_view is None or committee.max_view >= 0),
        ("view_timeout_ms", ">= 1", committee.view_timeout_ms >= 1),
        ("propose_delay_ms", ">= 0", committee.propose_delay_ms >= 0),
    ]
    for field, expected, ok in problems:
        if not ok:
            raise ChargeChainError("E_CONSENSUS", "the committee is not well formed",
                                   field=field, expected=expected,
                                   received=getattr(committee, field))
    return committee


def power(senders: Iterable[str]) -> int:
    """The voting power of a set of replicas: the number of nodes (one node per replica)."""
    return len(set(senders))


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

    def params(self) -> dict[str, Any]:
        """The spec parameters: r, and b, and w for Decide."""
        if self.name == "ViewChange":
            return {"r": self.replica}
        if self.name == "Decide":
            return {"r": self.replica, "w": self.decided_view, "b": self.block_id}
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
    """What one step produces, collected while the step runs (local to :func:`step`)."""

    def __init__(self) -> None:
        self.sends: list[Send] = []
        self.timers: list[SetTimer] = []
        self.actions: list[SpecAction] = []
        self.dropped: list[Dropped] = []


# --------------------------------------------------------------------------- building messages


def _others(committee: Committee, me: str) -> tuple[str, ...]:
    """Every replica but ``me``."""
    return tuple(r for r in committee.replicas if r != me)


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


# --------------------------------------------------------------------------- recording


def _with_vote(votes: FrozenMap, key: tuple[int, str], signed: SignedVote) -> FrozenMap:
    """The vote map with ``signed`` added under ``key`` (a sender's first vote counts)."""
    inner = votes.get(key, _NO_VOTES)
    if signed.vote.sender in inner:
        return votes
    return votes.set(key, inner.set(signed.vote.sender, signed))


def _with_block(log: HeightLog, block_id: str, block: Any) -> FrozenMap:
    """The known blocks with ``block`` added."""
    return log.blocks if block_id in log.blocks else log.blocks.set(block_id, block)


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


# --------------------------------------------------------------------------- the spec's actions


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


def _try_prepare(committee: Committee, app: Application, keys: ReplicaKeys,
                 state: ReplicaState, fx: _Effects) -> ReplicaState | None:
    """Prepare: accept the first valid proposal of the current view's proposer."""
    h, v = state.height, state.view
    if v in state.log.my_prepares:
        return None
    for (view, block_id), message in state.log.proposals.items():
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
    if power(state.log.prepares.get((v, block_id), _NO_VOTES)) < committee.commit_threshold:
        return None
    commit = make_vote_message(committee, keys, COMMIT, h, v, block_id)
    log = state.log
    log = attrs.evolve(log, commits=_with_vote(log.commits, (v, block_id), commit.signed_vote()),
                       my_commits=log.my_commits.set(v, block_id))
    _broadcast(committee, state, commit, fx)
    fx.actions.append(SpecAction("Commit", state.name, h, v, block_id))
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
    """Decide: append the block of a commit quorum and start the next height in view 0."""
    found = _decidable(committee, app, state)
    if found is None:
        return None
    w, block_id = found
    h = state.height
    block = state.log.blocks[block_id]
    voters = state.log.commits[(w, block_id)]
    certificate = tuple(voters[s] for s in sorted(voters)[:committee.quorum])
    decision = Decision(h, w, block_id, state.name, block, certificate)
    fx.actions.append(SpecAction("Decide", state.name, h, state.view, block_id, w))
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


def _progress(committee: Committee, app: Application, keys: ReplicaKeys, state: ReplicaState,
              fx: _Effects) -> ReplicaState:
    """Take enabled actions, highest priority first, until none is enabled."""
    while is_active(committee, state):
        after = (_try_decide(committee, app, keys, state, fx)
                 or _try_pre_prepare(committee, app, keys, state, fx)
                 or _try_new_view(committee, app, keys, state, fx)
                 or _try_prepare(committee, app, keys, state, fx)
                 or _try_commit(committee, keys, state, fx))
        if after is None and _join_target(committee, state) > state.view:
            after = _try_view_change(committee, keys, state, fx)
        if after is None:
            break
        state = after
    return state


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


# --------------------------------------------------------------------------- catch-up


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


# --------------------------------------------------------------------------- the transition


def step(committee: Committee, app: Application, keys: ReplicaKeys, state: ReplicaState,
         event: Event) -> Step:
    """One event in, the new state and everything the replica does out (see the module)."""
    if keys.replica != state.name:
        raise ChargeChainError("E_CONSENSUS", "a replica steps with its own keys",
                               field="keys.replica", expected=state.name, received=keys.replica)
    fx = _Effects()
    if isinstance(event, Start):
        if not state.started:
            state = _enter_height(committee, attrs.evolve(state, started=True), fx)
            state = _progress(committee, app, keys, state, fx)
    elif not state.started:  # a replica that has not started ignores everything but Start
        return Step(state)
    elif isinstance(event, Deliver):
        message = event.message
        if message.height < state.height:
            state = _help(committee, state, message, fx)
        elif message.height > state.height:
            state = _keep_for_later(committee, state, message)
        elif is_active(committee, state):
            state = _accept(committee, app, keys, state, message, fx)
            state = _progress(committee, app, keys, state, fx)
    elif isinstance(event, Timeout):
        if (event.height, event.view) == (state.height, state.view) and is_active(committee, state):
            if event.kind == PROPOSE_TIMER:
                state = attrs.evolve(state, log=attrs.evolve(state.log, ready=True))
            elif event.kind == VIEW_TIMER:
                moved = _try_view_change(committee, keys, state, fx)
                if moved is None:
                    _retransmit(committee, keys, state, fx)
                    _set_view_timer(committee, state, fx)
                state = moved or state
            state = _progress(committee, app, keys, state, fx)
    else:
        raise ChargeChainError("E_CONSENSUS", "unknown event", field="event",
                               expected="Start, Deliver or Timeout", received=type(event).__name__)
    return Step(state, tuple(fx.sends), tuple(fx.timers), tuple(fx.actions), tuple(fx.dropped))
