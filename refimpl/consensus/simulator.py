"""A seeded, deterministic network simulator for PBFT replicas.

Time is an integer count of milliseconds. Events (replica start, message delivery, timer
expiry) sit in a queue ordered by (time, sequence number), so ties break in the order the
events were created. Every random choice comes from one SM3 stream,
``Rng(seed, "pbft/network")``, drawn in event order: the same configuration gives the same
run, byte for byte (:attr:`SimulationResult.log`).

The network:

* every (message, receiver) pair gets its own delay, uniform in
  ``[min_delay_ms, max_delay_ms]``;
* it is lost with probability ``drop_permille`` / 1000 and delivered twice (with a second
  delay) with probability ``duplicate_permille`` / 1000;
* a :class:`Partition` cuts the links between its nodes and the others during a window; a
  message is lost if its link is cut when it is sent or when it would arrive;
* a :class:`Crash` stops an honest replica during a window: messages to it are lost and its
  timers fire when it comes back (its state survives, as PBFT's stable log would);
* ``silent`` replicas never start (the spec's ``Silent``: they send nothing at all).

Byzantine replicas (the spec's ``Faulty``) run the honest state machine and distort what it
sends, per behaviour: ``silent`` (sends nothing), ``equivocate`` (as proposer, a different
valid block to each half of the replicas), ``double-vote`` (each prepare and commit to one
half, a vote for another block to the other half), ``late`` (everything ``late_ms`` late),
``invalid-proposal`` (as proposer, an invalid block) and ``forge`` (adds prepares and
commits claiming to come from another replica, which the receivers drop: the MAC fails).
Their messages carry their own id, signed and authenticated with their own keys.

Only the honest replicas' spec actions are traced (:mod:`refimpl.consensus.trace`). The
trace's steps are the actions the replicas report; after every honest replica event the run
checks that the state those actions build is the implementation's own: the spec messages the
honest replicas actually sent and their own chains and views
(:class:`refimpl.consensus.trace.ImplementationState`, :meth:`TraceRecorder.confirm`), and
stops with E_CONSENSUS if not.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import attrs

from refimpl.consensus.auth import Keyring, authenticate, derive_keyring, sign
from refimpl.consensus.messages import (
    PREPARE,
    Commit,
    Prepare,
    Proposal,
    Vote,
    message_summary,
    vote_bytes,
)
from refimpl.consensus.replica import (
    Application,
    Committee,
    Deliver,
    ReplicaState,
    Send,
    SpecAction,
    Start,
    Step,
    Timeout,
    check_committee,
    initial_state,
    is_active,
    make_proposal,
    make_vote_message,
    step,
)
from refimpl.consensus.schedule import company_order
from refimpl.consensus.trace import (
    TRACE_SCENARIOS,
    BlockNamer,
    ImplementationState,
    TraceRecorder,
    trace_constants,
)
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.rng import Rng

__all__ = [
    "BEHAVIOURS",
    "TRACE_COMPANIES",
    "AbstractApp",
    "Partition",
    "Crash",
    "NetworkConfig",
    "SimulationConfig",
    "Stats",
    "SimulationResult",
    "run_simulation",
    "small_committee",
    "scenario_config",
    "generate_traces",
]

#: What a Byzantine replica may do (see the module docstring).
BEHAVIOURS = ("silent", "equivocate", "double-vote", "late", "invalid-proposal", "forge")

#: The four Tianjin companies in schedule order: the companies of the small trace models.
TRACE_COMPANIES = ("PTNE", "Smart Grid", "Star Charge", "TELD")


@attrs.frozen
class AbstractApp:
    """Abstract blocks: strings, valid or invalid as listed; the tip is the decided blocks."""

    valid_blocks: tuple[str, ...] = ("b1", "b2")
    invalid_blocks: tuple[str, ...] = ("bad",)

    def genesis(self) -> tuple[str, ...]:
        """The tip before height 1: nothing decided."""
        return ()

    def block_id(self, block: str) -> str:
        """An abstract block is its own id."""
        return block

    def is_valid(self, tip: tuple[str, ...], height: int, block: str) -> bool:
        """Valid blocks are valid at every height."""
        return block in self.valid_blocks

    def propose(self, tip: tuple[str, ...], height: int, view: int, proposer: str) -> str:
        """The honest choice: valid blocks in turn by height and view."""
        return self.valid_blocks[(height - 1 + view) % len(self.valid_blocks)]

    def apply(self, tip: tuple[str, ...], block: str) -> tuple[str, ...]:
        """The decided blocks so far."""
        return tip + (block,)

    def alternative_block(self, tip: tuple[str, ...], height: int, view: int, block: str) -> str:
        """Another valid block (what an equivocating proposer or double voter uses)."""
        others = [b for b in self.valid_blocks if b != block]
        return others[0] if others else block

    def invalid_block(self, tip: tuple[str, ...], height: int, view: int) -> str:
        """An invalid block (what a Byzantine proposer of invalid blocks proposes)."""
        return self.invalid_blocks[0]


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
    #: Byzantine replica -> its behaviours (the spec's Faulty)
    byzantine: FrozenMap[str, tuple[str, ...]] = attrs.field(factory=FrozenMap)
    #: replicas that never start (the spec's Silent)
    silent: frozenset[str] = frozenset()
    #: the extra delay of a ``late`` Byzantine replica's messages
    late_ms: int = 2_000
    time_limit_ms: int = 3_600_000
    max_events: int = 10_000_000
    record_log: bool = True
    record_trace: bool = True


@attrs.frozen
class Stats:
    """What happened on the network and in the honest replicas."""

    #: (message, receiver) pairs handed to the network
    sent: int
    delivered: int
    #: lost: random loss, partition, crashed or silent receiver
    dropped: int
    duplicated: int
    #: delivered but refused by the receiver (bad authenticator, signature or role)
    rejected: int
    #: honest view-change messages, and new views proposed by honest replicas
    view_changes: int
    new_views: int
    #: height -> the view of the commit quorum of its first honest decision
    decision_views: FrozenMap[int, int]
    #: the time of the last honest decision, and of the last event
    last_decision_ms: int
    end_ms: int
    events: int


@attrs.frozen
class SimulationResult:
    """The replicas' final states, the event log, the trace and the statistics of a run."""

    config: SimulationConfig
    states: FrozenMap[str, ReplicaState]
    honest: tuple[str, ...]
    log: tuple[dict[str, Any], ...]
    trace: dict[str, Any] | None
    stats: Stats

    def decided(self) -> tuple[str, ...]:
        """The longest chain an honest replica decided (every honest chain is a prefix of it)."""
        chains = [self.states[r].chain for r in self.honest]
        return max(chains, key=len) if chains else ()


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


# --------------------------------------------------------------------------- the run


class _Run:
    """The mutable bookkeeping of one run (local to :func:`run_simulation`)."""

    def __init__(self, config: SimulationConfig, app: Any, keyring: Keyring, genesis: Any,
                 namer: Callable[[int, str], str]) -> None:
        self.config = config
        self.app = app
        self.keyring = keyring
        self.committee = config.committee
        self.rng = Rng(config.seed, "pbft/network")
        self.queue: list[tuple[int, int, str, str, Any]] = []
        self.seq = 0
        self.log: list[dict[str, Any]] = []
        self.states = {r: initial_state(r, genesis) for r in self.committee.replicas}
        self.honest = tuple(r for r in self.committee.replicas
                            if r not in config.byzantine and r not in config.silent)
        self.recorder = TraceRecorder(self.honest, namer) if config.record_trace else None
        #: the traced state read off the honest replicas' sends and states (checks the recorder)
        self.observed = (ImplementationState(self.honest, namer) if config.record_trace
                         else None)
        self.counts = {"sent": 0, "delivered": 0, "dropped": 0, "duplicated": 0, "rejected": 0,
                       "view_changes": 0, "new_views": 0, "events": 0}
        self.decision_views: dict[int, int] = {}
        #: the highest height and view an honest replica acted in (constants of unbounded runs)
        self.top_height = 1
        self.top_view = 0
        self.last_decision_ms = 0
        self.now = 0

    def push(self, time_ms: int, kind: str, node: str, payload: Any) -> None:
        """Queue an event."""
        heapq.heappush(self.queue, (time_ms, self.seq, kind, node, payload))
        self.seq += 1

    def note(self, record: dict[str, Any]) -> None:
        """Append to the event log (if recording)."""
        if self.config.record_log:
            self.log.append({"t": self.now, **record})

    def cut(self, a: str, b: str, time_ms: int) -> bool:
        """Whether a partition cuts the link a - b at ``time_ms``."""
        return any(p.cuts(a, b, time_ms) for p in self.config.network.partitions)

    def crash_end(self, node: str, time_ms: int) -> int | None:
        """The end of the crash ``node`` is in at ``time_ms``, or None if it is up."""
        ends = [c.end_ms for c in self.config.network.crashes if c.down(node, time_ms)]
        return max(ends) if ends else None

    def transmit(self, src: str, send: Send, extra_ms: int) -> None:
        """Hand a message to the network, one copy per receiver (loss, delay, duplicate)."""
        net = self.config.network
        for dst in send.to:
            self.counts["sent"] += 1
            if self.cut(src, dst, self.now):
                self.counts["dropped"] += 1
                self.note({"event": "drop", "cause": "partition", "from": src, "to": dst,
                           "message": message_summary(send.message)})
                continue
            if net.drop_permille and self.rng.chance(net.drop_permille, 1000):
                self.counts["dropped"] += 1
                self.note({"event": "drop", "cause": "loss", "from": src, "to": dst,
                           "message": message_summary(send.message)})
                continue
            copies = 1
            if net.duplicate_permille and self.rng.chance(net.duplicate_permille, 1000):
                copies = 2
                self.counts["duplicated"] += 1
            for _ in range(copies):
                delay = self.rng.between(net.min_delay_ms, net.max_delay_ms) + extra_ms
                self.push(self.now + delay, "deliver", dst, (src, send.message))

    def handle(self, node: str, result: Step) -> None:
        """Apply a replica step: trace its actions, send its messages, set its timers."""
        self.states[node] = result.state
        honest = node in self.honest
        for dropped in result.dropped:
            self.counts["rejected"] += 1
            self.note({"event": "reject", "node": node, "kind": dropped.kind,
                       "sender": dropped.sender, "code": dropped.code})
        if honest:
            for action in result.actions:
                self.trace_action(action)
        behaviours = self.config.byzantine.get(node, ())
        extra = self.config.late_ms if "late" in behaviours else 0
        if "silent" in behaviours:
            return
        keys = self.keyring.of(node)
        for send in result.sends:
            outgoing = ([send] if honest else
                        _distort(self.committee, self.app, keys, result.state, send, behaviours))
            for out in outgoing:
                if honest and self.observed is not None:
                    self.observed.sent(node, out.message)
                self.transmit(node, out, extra)
        for timer in result.timers:
            self.push(self.now + timer.delay_ms, "timer", node,
                      Timeout(timer.kind, timer.height, timer.view))
        if honest and self.observed is not None and self.recorder is not None:
            self.observed.observe(self.states)
            self.recorder.confirm(self.observed)

    def trace_action(self, action: SpecAction) -> None:
        """Count and trace one honest spec action."""
        self.top_height = max(self.top_height, action.height)
        self.top_view = max(self.top_view, action.view + (action.name == "ViewChange"))
        if action.name == "ViewChange":
            self.counts["view_changes"] += 1
        elif action.name == "NewView":
            self.counts["new_views"] += 1
        elif action.name == "Decide":
            self.decision_views.setdefault(action.height, action.decided_view)
            self.last_decision_ms = self.now
        self.note({"event": "action", "node": action.replica, "action": action.name,
                   "params": action.params()})
        if self.recorder is not None:
            self.recorder.record(action)

    def finished(self) -> bool:
        """Every honest replica has decided every height of a bounded run."""
        return (self.committee.max_height is not None and bool(self.honest)
                and not any(is_active(self.committee, self.states[r]) for r in self.honest))


def run_simulation(config: SimulationConfig, app: Application, *, keyring: Keyring | None = None,
                   genesis: Any = None, namer: Callable[[int, str], str] | None = None,
                   on_decide: Callable[[SpecAction, ReplicaState], None] | None = None,
                   ) -> SimulationResult:
    """Run the replicas of ``config`` over the simulated network until done or out of time.

    ``keyring`` defaults to keys derived from the seed; ``genesis`` to ``app.genesis()``;
    ``namer`` ((height, block id) -> trace name) to a :class:`BlockNamer` that keeps the
    app's own block names (``valid_blocks``, ``invalid_blocks``) and renames others per height.
    ``on_decide`` sees every honest Decide with the replica's new state.
    """
    committee = check_committee(config.committee)
    for replica, behaviours in config.byzantine.items():
        unknown = [b for b in behaviours if b not in BEHAVIOURS]
        if replica not in committee.replicas or unknown:
            raise ChargeChainError("E_CONSENSUS", "unknown Byzantine replica or behaviour",
                                   field="byzantine", expected=list(BEHAVIOURS),
                                   received={replica: list(behaviours)})
    keyring = keyring or derive_keyring(config.seed, committee.replicas)
    if genesis is None:
        genesis = app.genesis()  # type: ignore[attr-defined]
    if namer is None:
        known = list(getattr(app, "valid_blocks", ())) + list(getattr(app, "invalid_blocks", ()))
        namer = BlockNamer(known)
    run = _Run(config, app, keyring, genesis, namer)
    for replica in committee.replicas:
        if replica not in config.silent:
            run.push(0, "start", replica, None)
    while run.queue and not run.finished():
        time_ms, _, kind, node, payload = heapq.heappop(run.queue)
        if time_ms > config.time_limit_ms or run.counts["events"] >= config.max_events:
            break
        run.now = time_ms
        run.counts["events"] += 1
        back = run.crash_end(node, time_ms)
        if kind == "deliver":
            src, message = payload
            cause = ("silent" if node in config.silent else "crashed" if back is not None
                     else "partition" if run.cut(src, node, time_ms) else None)
            if cause is not None:
                run.counts["dropped"] += 1
                run.note({"event": "drop", "cause": cause, "from": src, "to": node,
                          "message": message_summary(message)})
                continue
            run.counts["delivered"] += 1
            if "silent" in config.byzantine.get(node, ()):
                continue
            run.note({"event": "deliver", "from": src, "to": node,
                      "message": message_summary(message)})
            event: Any = Deliver(message)
        elif back is not None:  # a crashed replica's start or timer waits until it is back
            run.push(back, kind, node, payload)
            continue
        elif kind == "start":
            run.note({"event": "start", "node": node})
            event = Start()
        else:
            run.note({"event": "timer", "node": node, "kind": payload.kind,
                      "height": payload.height, "view": payload.view})
            event = payload
        before = run.states[node].height
        result = step(committee, app, keyring.of(node), run.states[node], event)
        run.handle(node, result)
        if on_decide is not None and node in run.honest and result.state.height != before:
            for action in result.actions:
                if action.name == "Decide":
                    on_decide(action, result.state)
    stats = Stats(end_ms=run.now, last_decision_ms=run.last_decision_ms,
                  decision_views=FrozenMap(run.decision_views), **run.counts)
    trace = None
    if run.recorder is not None:
        trace = {"constants": _constants(config, app, run), "steps": run.recorder.steps}
    return SimulationResult(config, FrozenMap(run.states), run.honest, tuple(run.log), trace, stats)


def _constants(config: SimulationConfig, app: Any, run: _Run) -> dict[str, Any]:
    """The trace constants of a run."""
    committee = config.committee
    valid = list(getattr(app, "valid_blocks", ()))
    invalid = list(getattr(app, "invalid_blocks", ()))
    if not valid and isinstance(run.recorder.namer, BlockNamer):
        valid = sorted(run.recorder.namer.names())
    return trace_constants(
        companies=committee.companies, replicas=committee.replicas, master=committee.master,
        faulty=config.byzantine.keys(), silent=config.silent, f=committee.f,
        max_height=committee.max_height or run.top_height,
        max_view=committee.max_view if committee.max_view is not None else run.top_view,
        valid_blocks=valid, invalid_blocks=invalid)


# --------------------------------------------------------------------------- configurations


def small_committee(*, max_height: int | None = 2, max_view: int | None = 2,
                    view_timeout_ms: int = 400,
                    commit_quorum_override: int | None = None) -> Committee:
    """N = 4 replicas r1..r4, F = 1, the Tianjin companies with masters r1..r4 in schedule order."""
    replicas = ("r1", "r2", "r3", "r4")
    companies = company_order(TRACE_COMPANIES)
    return Committee(companies, replicas, FrozenMap(dict(zip(companies, replicas))), 1,
                     max_height=max_height, max_view=max_view, view_timeout_ms=view_timeout_ms,
                     commit_quorum_override=commit_quorum_override)


_BYZANTINE_MIXES = (("equivocate",), ("equivocate", "double-vote"), ("invalid-proposal",),
                    ("equivocate", "late"), ("double-vote", "forge"))


def scenario_config(scenario: str, seed: int, *,
                    commit_quorum_override: int | None = None) -> SimulationConfig:
    """A small run (N = 4, F = 1, heights 1..2, views 0..2) of one of the trace scenarios.

    ``no-faults``: delays only. ``silent-replica``: one replica never starts (Silent).
    ``equivocating-proposer``: the view-0 proposer of height 1 or 2 is Byzantine
    (equivocating, with double votes, late votes, invalid proposals or forgeries).
    ``drops``: 15-35 % of the messages are lost, 5 % duplicated. ``partition``: one or two
    replicas are cut off for a while from the start.
    """
    rng = Rng(seed, f"pbft/scenario/{scenario}")
    committee = small_committee(commit_quorum_override=commit_quorum_override)
    network = NetworkConfig()
    byzantine: dict[str, tuple[str, ...]] = {}
    silent: frozenset[str] = frozenset()
    if scenario == "silent-replica":
        silent = frozenset({rng.choice(committee.replicas)})
    elif scenario == "equivocating-proposer":
        byzantine[committee.primary(rng.between(1, 2), 0)] = rng.choice(_BYZANTINE_MIXES)
    elif scenario == "drops":
        network = NetworkConfig(drop_permille=rng.between(150, 350), duplicate_permille=50)
    elif scenario == "partition":
        nodes = list(committee.replicas)
        cut = frozenset(nodes[i] for i in sorted({rng.below(4), rng.below(4)}))
        network = NetworkConfig(partitions=(Partition(cut, 0, rng.between(300, 1500)),))
    elif scenario != "no-faults":
        raise ChargeChainError("E_CONSENSUS", "unknown trace scenario", field="scenario",
                               expected=["no-faults", "silent-replica", "equivocating-proposer",
                                         "drops", "partition"], received=scenario)
    return SimulationConfig(seed, committee, network, FrozenMap(byzantine), silent,
                            late_ms=600, time_limit_ms=60_000)


def generate_traces(count: int, *, seed: int = 0,
                    commit_quorum_override: int | None = None) -> list[dict[str, Any]]:
    """``count`` small traces (N = 4, F = 1, heights 1..2, views 0..2) from seeds seed, seed+1, ...

    Trace i runs scenario ``TRACE_SCENARIOS[i % 5]`` with seed ``seed + i``; see
    :func:`scenario_config`. ``commit_quorum_override=2`` (F + 1)
    makes every replica deliberately broken: it commits after F + 1 prepares.
    """
    traces = []
    for index in range(count):
        scenario = TRACE_SCENARIOS[index % len(TRACE_SCENARIOS)]
        config = scenario_config(scenario, seed + index,
                                 commit_quorum_override=commit_quorum_override)
        result = run_simulation(config, AbstractApp())
        assert result.trace is not None
        traces.append({**result.trace, "meta": {"scenario": scenario, "seed": seed + index}})
    return traces
