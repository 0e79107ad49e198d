"""The seeded event loop that runs PBFT replicas and traces the honest ones' spec/PBFT.tla actions.

Time is an integer count of milliseconds. Events (replica start, message delivery, timer
expiry) sit in a queue ordered by (time, sequence number), so ties break in the order the
events were created. Every random choice comes from one SM3 stream,
``Rng(seed, "pbft/network")``, drawn in event order: the same configuration gives the same
run, byte for byte (:attr:`SimulationResult.log`). The network and the faults are
:mod:`refimpl.consensus.network`'s; the small trace models' runs are
:mod:`refimpl.consensus.scenarios`'.

The honest replicas' spec actions are traced (:mod:`refimpl.consensus.trace`), and so is
every message a Byzantine replica sends in its own name (a ``Byzantine`` record, which changes
no variable). The trace's steps are the actions the replicas report; after every honest
replica event the run checks that the state those actions build is the implementation's own:
the spec messages the honest replicas actually sent and their own chains and views
(:class:`refimpl.consensus.trace.ImplementationState`,
:meth:`refimpl.consensus.trace.TraceRecorder.confirm`), and stops with E_CONSENSUS if not.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import attrs

from refimpl.consensus.auth import Keyring, derive_keyring
from refimpl.consensus.committee import Application, check_committee
from refimpl.consensus.messages import message_summary

# Besides what the run uses, the imports marked noqa keep every name this module held before it
# was split (network and faults, scenarios) importable from here.
from refimpl.consensus.network import (  # noqa: F401
    BEHAVIOURS,
    Crash,
    NetworkConfig,
    Partition,
    SimulationConfig,
    _distort,
    _usurp,
)
from refimpl.consensus.replica import step
from refimpl.consensus.replica_state import (
    Deliver,
    ReplicaState,
    Send,
    SpecAction,
    Start,
    Step,
    Timeout,
    initial_state,
    is_active,
)
from refimpl.consensus.scenarios import (  # noqa: F401
    TRACE_COMPANIES,
    AbstractApp,
    generate_traces,
    scenario_config,
    small_committee,
)
from refimpl.consensus.trace import (
    BlockNamer,
    ImplementationState,
    TraceRecorder,
    trace_constants,
)
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.rng import Rng

__all__ = [
    "SimulationResult",
    "Stats",
    "run_simulation",
]


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
        """Apply a replica step: trace its actions, send its messages, set its timers.

        A Byzantine replica's sends are distorted first (``network._distort``, and
        ``network._usurp`` for a usurper); each message it puts on the network in its own name
        is traced as a Byzantine record when it is sent.
        """
        before = self.states[node]
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
        outgoing: list[Send] = []
        for send in result.sends:
            outgoing += ([send] if honest else
                         _distort(self.committee, self.app, keys, result.state, send, behaviours))
        if "usurp" in behaviours:
            outgoing += _usurp(self.committee, self.app, keys, before, result.state)
        for out in outgoing:
            if honest and self.observed is not None:
                self.observed.sent(node, out.message)
            elif not honest and self.recorder is not None:
                self.recorder.byzantine(node, out.message)
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
    ``on_decide`` sees every honest Decide with the replica's new state. The trace (if
    recorded) promises no progress (``"progress": 0``); :mod:`refimpl.consensus.scenarios`
    sets the promise of its scenarios.
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
        trace = {"constants": _constants(config, app, run), "progress": 0,
                 "steps": run.recorder.steps}
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
