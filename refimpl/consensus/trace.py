"""Trace recording: the honest replicas' spec/PBFT.tla actions as steps of the abstract state.

A trace is plain data (JSON-ready, no floats)::

    {"constants": {"companies": [...],        # schedule (English-name) order
                   "replicas": [...],         # every replica, one node each
                   "master": {company: replica},
                   "voting_nodes": {replica: [replica]},
                   "faulty": [...], "silent": [...],
                   "f": int, "max_height": int, "max_view": int,
                   "valid_blocks": [...], "invalid_blocks": [...]},
     "progress": int,
     "steps": [{"action": "Init", "params": {}, "state": S0},
               {"action": "Prepare", "params": {"r": "r2", "b": "b1"}, "state": S1},
               {"action": "Byzantine", "params": {"src": "r4", "kind": "prepare",
                                                  "h": 1, "v": 0, "b": "b1"}, "state": S1},
               {"action": "Commit", "params": {"r": "r2", "b": "b1",
                                               "voters": ["r1", "r2", "r4"]}, "state": S2},
               ...]}

Each state S holds the spec's six variables in the JSON shapes of
:mod:`refimpl.tlc.abstract_state`: ``chain`` ({replica: [block, ...]}) and ``view``
({replica: int}) over the honest replicas, and ``proposals``, ``prepares``, ``commits``
(sorted lists of {"h", "v", "b", "src"}) and ``viewChanges`` (sorted list of {"h", "v",
"src", "prepared": [] or [{"view", "block"}]}). Actions and parameters: ``PrePrepare`` and
``NewView`` (r, b), ``Prepare`` (r, b), ``Commit`` (r, b, voters), ``Decide`` (r, w, b,
voters), ``ViewChange`` (r), and ``Byzantine`` (src, kind, h, v, b). ``voters`` is the sorted
list of the replicas whose votes the replica counted: for a Commit, the prepares of its
height and view for b it held (a proposal counts as its proposer's prepare); for a Decide,
the commits of (its height, w, b) it held, the signers of a catch-up decision's commit
certificate included. ``progress`` is the number of heights every honest replica promises
to have decided by the last record (0: no promise; :func:`run_simulation
<refimpl.consensus.simulator.run_simulation>` promises nothing, the scenarios promise what
:data:`refimpl.consensus.scenarios.SCENARIO_PROGRESS` says).

Emission rules (they follow the spec's fault model):

* One step per spec action of an honest replica, in the order the simulator processed them;
  a replica event that takes several actions gives several steps, each with the state after
  it. Receiving and storing a message is not a step (it changes no spec variable).
* Byzantine messages never enter the abstract state's variables: the spec counts every
  replica of ``Byzantine`` as having sent every message it may send (``Voters``,
  ``Proposed``, ``ReportingAtMost``, ``Reported``). What a Byzantine replica really sends is
  traced beside them: every distinct message it puts on the network in its own name (a
  proposal, prepare, commit or view change, after the simulator distorted it; not a forgery
  in another replica's name, nor a catch-up decision) is a ``Byzantine`` record with kind,
  h, v and b (the block's trace name, "" for a view change), recorded when it is sent, once
  however often it is re-sent, with the state unchanged. The check then verifies that the
  votes a Commit or Decide counted were really sent and make a quorum, which the spec's
  implicit Byzantine votes alone do not show. Crashed replicas send nothing.
* When the last honest replica decides height h, the prepares, commits and view changes of
  h leave the state (the spec's ``ForgetHeight``); proposals stay.
* The state is built from the reported actions, and checked against the implementation:
  :class:`ImplementationState` reads the same six variables off the spec messages the honest
  replicas sent and their own chains and views, and :meth:`TraceRecorder.confirm` (called
  by the simulator after every honest event) stops the run if the two differ. Byzantine
  records change no variable, so they do not enter this comparison.
* Replicas and blocks are short strings: replica names as given, and block ids either as
  given (abstract blocks ``b1``, ``b2``, ``bad``) or, for ledger blocks, the hashes of each
  height mapped to ``b1``, ``b2``, ... in order of first appearance at that height
  (:class:`BlockNamer`).

:func:`refimpl.consensus.trace_check.check_trace` transcribes what spec/TraceValidation.tla
checks into Python: every record's guard and successor state, the voters and Byzantine
sends, Agreement, Validity and DecisionFollowsProposal, the fault bound and the promised
progress. It is a fast pre-check; TLC remains the reference.
:func:`refimpl.consensus.scenarios.generate_traces` produces a mix of small traces (N = 4,
F = 1, 2 heights, views up to 2) for the TLC trace validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from refimpl.consensus.messages import Commit, Message, Prepare, Proposal, ViewChange
from refimpl.consensus.replica_state import ReplicaState, SpecAction

# Besides what the recorder uses, the imports marked noqa keep every name this module held
# before the check and the scenarios moved out importable from here.
from refimpl.consensus.scenarios import TRACE_SCENARIOS  # noqa: F401
from refimpl.consensus.trace_check import (  # noqa: F401
    BYZANTINE,
    INIT,
    TRACE_ACTIONS,
    Change4,
    Vote4,
    agreement_errors,
    check_trace,
    step_errors,
    validity_errors,
)
from refimpl.errors import ChargeChainError

__all__ = [
    "BYZANTINE",
    "AbstractState",
    "BlockNamer",
    "ImplementationState",
    "TraceRecorder",
    "trace_constants",
]


#: The kinds of message a Byzantine record names.
_BYZANTINE_KINDS: dict[type, str] = {Proposal: "proposal", Prepare: "prepare",
                                     Commit: "commit", ViewChange: "viewChange"}


class BlockNamer:
    """Short block names: the app's own names kept, other ids named b1, b2, ... per height.

    An id not in ``keep`` (a ledger block hash) is named after the order in which distinct
    blocks first appear at its height: the first block of a height is b1, the second b2, and
    so on, so the model's block values stay few however long the run.
    """

    def __init__(self, keep: Iterable[str] = ()) -> None:
        self._keep = frozenset(keep)
        self._names: dict[int, dict[str, str]] = {}

    def __call__(self, height: int, block_id: str) -> str:
        """The short name of ``block_id`` at ``height``."""
        if block_id in self._keep:
            return block_id
        names = self._names.setdefault(height, {})
        return names.setdefault(block_id, f"b{len(names) + 1}")

    def names(self) -> set[str]:
        """Every name given to a renamed id."""
        return {name for names in self._names.values() for name in names.values()}


class AbstractState:
    """The spec's six variables, updated by the honest replicas' actions (see the module)."""

    def __init__(self, honest: Sequence[str]) -> None:
        self.honest = tuple(sorted(honest))
        self.chain: dict[str, list[str]] = {r: [] for r in self.honest}
        self.view: dict[str, int] = {r: 0 for r in self.honest}
        self.proposals: set[Vote4] = set()
        self.prepares: set[Vote4] = set()
        self.commits: set[Vote4] = set()
        self.view_changes: set[Change4] = set()

    def height_of(self, replica: str) -> int:
        """The height the replica works on (spec HeightOf)."""
        return len(self.chain[replica]) + 1

    def prepared_certificate(self, replica: str, height: int) -> tuple[tuple[int, str], ...]:
        """The replica's latest commit at the height, as the spec's PreparedCertificate."""
        mine = [(v, b) for (h, v, b, src) in self.commits if src == replica and h == height]
        if not mine:
            return ()
        top = max(v for v, _ in mine)
        return tuple(sorted((v, b) for v, b in mine if v == top))

    def apply(self, name: str, replica: str, block: str | None, decided_view: int | None) -> None:
        """Take one honest action (the replica's height and view come from this state)."""
        h, v = self.height_of(replica), self.view[replica]
        if name in ("PrePrepare", "NewView"):
            self.proposals.add((h, v, block, replica))
            self.prepares.add((h, v, block, replica))
        elif name == "Prepare":
            self.prepares.add((h, v, block, replica))
        elif name == "Commit":
            self.commits.add((h, v, block, replica))
        elif name == "Decide":
            self.chain[replica].append(block)
            self.view[replica] = 0
            if all(len(self.chain[s]) >= h for s in self.honest):
                self.prepares = {m for m in self.prepares if m[0] != h}
                self.commits = {m for m in self.commits if m[0] != h}
                self.view_changes = {m for m in self.view_changes if m[0] != h}
        elif name == "ViewChange":
            self.view_changes.add((h, v + 1, replica, self.prepared_certificate(replica, h)))
            self.view[replica] = v + 1
        else:
            raise ChargeChainError("E_CONSENSUS", "not an action of spec/PBFT.tla", field="action",
                                   expected=list(TRACE_ACTIONS), received=name)

    def differences(self, other: AbstractState) -> list[str]:
        """How ``other`` differs from this state, one line per variable (empty: equal)."""
        found = []
        for name, mine, theirs in (
                ("chain", self.chain, other.chain), ("view", self.view, other.view),
                ("proposals", self.proposals, other.proposals),
                ("prepares", self.prepares, other.prepares),
                ("commits", self.commits, other.commits),
                ("viewChanges", self.view_changes, other.view_changes)):
            if mine == theirs:
                continue
            if isinstance(mine, set):
                found.append(f"{name}: only here {sorted(mine - theirs)}, "
                             f"only there {sorted(theirs - mine)}")
            else:
                found.append(f"{name}: here {mine}, there {theirs}")
        return found

    def as_plain(self) -> dict[str, Any]:
        """The state in the JSON shapes of refimpl.tlc.abstract_state (sets as sorted lists)."""
        return {
            "chain": {r: list(self.chain[r]) for r in self.honest},
            "view": {r: self.view[r] for r in self.honest},
            "proposals": _votes_plain(self.proposals),
            "prepares": _votes_plain(self.prepares),
            "commits": _votes_plain(self.commits),
            "viewChanges": _changes_plain(self.view_changes),
        }


def _votes_plain(votes: Iterable[Vote4]) -> list[dict[str, Any]]:
    """Vote records as sorted plain dicts."""
    return [{"h": h, "v": v, "b": b, "src": src} for h, v, b, src in sorted(votes)]


def _changes_plain(changes: Iterable[Change4]) -> list[dict[str, Any]]:
    """View-change records as sorted plain dicts."""
    return [{"h": h, "v": v, "src": src,
             "prepared": [{"view": w, "block": b} for w, b in prepared]}
            for h, v, src, prepared in sorted(changes)]


def trace_constants(*, companies: Sequence[str], replicas: Sequence[str],
                    master: Mapping[str, str], faulty: Iterable[str], silent: Iterable[str],
                    f: int, max_height: int, max_view: int, valid_blocks: Iterable[str],
                    invalid_blocks: Iterable[str]) -> dict[str, Any]:
    """The ``constants`` of a trace (the spec's CONSTANTS, one node per replica)."""
    return {
        "companies": list(companies),
        "replicas": list(replicas),
        "master": dict(master),
        "voting_nodes": {r: [r] for r in replicas},
        "faulty": sorted(faulty),
        "silent": sorted(silent),
        "f": f,
        "max_height": max_height,
        "max_view": max_view,
        "valid_blocks": sorted(valid_blocks),
        "invalid_blocks": sorted(invalid_blocks),
    }


class ImplementationState:
    """The spec's six variables read off the implementation, not off the reported actions.

    ``proposals``, ``prepares``, ``commits`` and ``viewChanges`` come from the spec messages
    the honest replicas actually put on the network (:meth:`sent`): proposals (pre-prepares
    and new views), which are also their proposer's prepare (the spec's PrePrepare and
    NewView add both), prepares, commits, and view changes with the prepared certificate
    they carry. ``chain`` and ``view`` come from the honest replicas' own states
    (:meth:`observe`): the decided block ids and the view at the current height. The spec's
    ForgetHeight applies: once every honest replica has decided height h, the prepares,
    commits and view changes of h are dropped; proposals stay. Block ids are named with the
    recorder's namer, so this state is comparable with the one the actions build
    (:meth:`TraceRecorder.confirm`).
    """

    def __init__(self, honest: Sequence[str],
                 namer: Callable[[int, str], str] | None = None) -> None:
        self.state = AbstractState(honest)
        self.namer = namer or (lambda height, block_id: block_id)
        self.forgotten = 0  # every honest replica has decided the heights up to this one
        self._raw_chain: dict[str, tuple[str, ...]] = {r: () for r in self.state.honest}

    def sent(self, replica: str, message: Message) -> None:
        """An honest replica put ``message`` on the network (retransmissions change nothing)."""
        if replica not in self.state.view:
            raise ChargeChainError("E_CONSENSUS", "only honest replicas' messages are traced",
                                   field="replica", expected=list(self.state.honest),
                                   received=replica)
        if not isinstance(message, (Proposal, Prepare, Commit, ViewChange)):
            return  # catch-up decisions are not spec messages
        if message.sender != replica:
            raise ChargeChainError("E_CONSENSUS", "an honest replica sends only its own messages",
                                   field="sender", expected=replica, received=message.sender)
        h, v = message.height, message.view
        if isinstance(message, ViewChange):
            claim = message.claim()
            prepared = () if claim is None else ((claim[0], self.namer(h, claim[1])),)
            self.state.view_changes.add((h, v, replica, prepared))
            return
        vote = (h, v, self.namer(h, message.vote.block_id), replica)
        if isinstance(message, Proposal):
            self.state.proposals.add(vote)
            self.state.prepares.add(vote)
        elif isinstance(message, Prepare):
            self.state.prepares.add(vote)
        else:
            self.state.commits.add(vote)

    def observe(self, states: Mapping[str, ReplicaState]) -> None:
        """Take the honest replicas' chains and views, then forget the heights all decided."""
        for r in self.state.honest:
            own = states[r]
            raw = self._raw_chain[r]
            if own.chain[:len(raw)] != raw:
                raise ChargeChainError("E_CONSENSUS", "a decided block changed", field="chain",
                                       expected=list(raw), received=list(own.chain))
            named = self.state.chain[r]
            for index in range(len(raw), len(own.chain)):
                named.append(self.namer(index + 1, own.chain[index]))
            self._raw_chain[r] = own.chain
            self.state.view[r] = own.view
        if not self.state.honest:
            return
        decided = min(len(c) for c in self.state.chain.values())
        if decided > self.forgotten:
            self.forgotten = decided
            st = self.state
            st.prepares = {m for m in st.prepares if m[0] > decided}
            st.commits = {m for m in st.commits if m[0] > decided}
            st.view_changes = {m for m in st.view_changes if m[0] > decided}

    def as_plain(self) -> dict[str, Any]:
        """The state in the JSON shapes of refimpl.tlc.abstract_state."""
        return self.state.as_plain()


class TraceRecorder:
    """Turns the honest replicas' spec actions into trace steps (see the module)."""

    def __init__(self, honest: Sequence[str],
                 namer: Callable[[int, str], str] | None = None) -> None:
        self.state = AbstractState(honest)
        self.namer = namer or (lambda height, block_id: block_id)
        self.steps: list[dict[str, Any]] = [{"action": INIT, "params": {},
                                             "state": self.state.as_plain()}]
        #: Byzantine replica -> the (kind, h, v, b) of the messages it was traced sending
        self._byzantine_sent: dict[str, set[tuple[str, int, int, str]]] = {}

    def record(self, action: SpecAction) -> None:
        """Apply one honest action and append the step."""
        r = action.replica
        if r not in self.state.view:
            raise ChargeChainError("E_CONSENSUS", "only honest replicas take spec steps",
                                   field="replica", expected=list(self.state.honest), received=r)
        expected = (self.state.height_of(r), self.state.view[r])
        if (action.height, action.view) != expected:
            raise ChargeChainError("E_CONSENSUS", "the replica and the abstract state disagree",
                                   field="height, view", expected=expected,
                                   received=(action.height, action.view))
        block = None if action.block_id is None else self.namer(action.height, action.block_id)
        self.state.apply(action.name, r, block, action.decided_view)
        params = dict(action.params())
        if "b" in params:
            params["b"] = block
        if "voters" in params:
            params["voters"] = sorted(params["voters"])
        self.steps.append({"action": action.name, "params": params,
                           "state": self.state.as_plain()})

    def byzantine(self, src: str, message: Message) -> None:
        """Byzantine replica ``src`` put ``message`` on the network: a ``Byzantine`` record.

        Only the spec's messages that carry ``src``'s own id are recorded (proposals,
        prepares, commits, view changes; not the forged ones, nor catch-up decisions), each
        distinct message once: (kind, h, v, b) per sender, b the block's trace name and ""
        for a view change. The state does not change.
        """
        if src in self.state.view:
            raise ChargeChainError("E_CONSENSUS", "only Byzantine replicas' sends are "
                                   "Byzantine records", field="src",
                                   expected="a Byzantine replica", received=src)
        kind = _BYZANTINE_KINDS.get(type(message))
        if kind is None or message.sender != src:
            return
        h, v = message.height, message.view
        b = "" if isinstance(message, ViewChange) else self.namer(h, message.vote.block_id)
        key = (kind, h, v, b)
        if key in self._byzantine_sent.setdefault(src, set()):
            return
        self._byzantine_sent[src].add(key)
        self.steps.append({"action": BYZANTINE,
                           "params": {"src": src, "kind": kind, "h": h, "v": v, "b": b},
                           "state": self.state.as_plain()})

    def confirm(self, observed: ImplementationState) -> None:
        """The state the reported actions built is the one read off the implementation.

        Call it between replica events (after every honest event of a run): E_CONSENSUS, with
        every variable that differs, if not.
        """
        found = self.state.differences(observed.state)
        if found:
            raise ChargeChainError(
                "E_CONSENSUS", "the traced state is not the implementation's state",
                field="state", expected="the state of the sent messages and replica states",
                received=f"after step {len(self.steps) - 1} "
                         f"({self.steps[-1]['action']} {self.steps[-1]['params']}): "
                         f"{'; '.join(found)} (here: the actions, there: the implementation)")
