"""spec/PBFT.tla in Python: the constants, the operators, Init and each action of Next.

The operators read a trace state (the spec's six variables as plain data, see
:mod:`refimpl.consensus.trace`); each action returns the conjuncts of its guard and builds the
successor state. :mod:`refimpl.consensus.trace_check` runs them over a trace, with the checks
TraceValidation.tla adds (the voters counted, the Byzantine sends, the invariants, progress).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "INIT",
    "TRACE_ACTIONS",
    "Change4",
    "Vote4",
    "agreement_errors",
    "decision_errors",
    "step_errors",
    "validity_errors",
]

INIT = "Init"
#: The actions of spec Next a trace record may carry (besides Init and Byzantine records).
TRACE_ACTIONS = ("PrePrepare", "NewView", "Prepare", "Commit", "Decide", "ViewChange")

Vote4 = tuple[int, int, str, str]  # (h, v, b, src)
Change4 = tuple[int, int, str, tuple[tuple[int, str], ...]]  # (h, v, src, prepared)


class _Spec:
    """The constants of a trace and the spec's derived operators over a state."""

    def __init__(self, constants: Mapping[str, Any]) -> None:
        self.companies = list(constants["companies"])
        self.replicas = list(constants["replicas"])
        self.master = dict(constants["master"])
        self.voting = {r: frozenset(n) for r, n in constants["voting_nodes"].items()}
        self.faulty = frozenset(constants["faulty"])
        self.silent = frozenset(constants["silent"])
        self.honest = sorted(set(self.replicas) - self.faulty - self.silent)
        self.f = constants["f"]
        self.max_height = constants["max_height"]
        self.max_view = constants["max_view"]
        self.valid = frozenset(constants["valid_blocks"])
        self.blocks = self.valid | frozenset(constants["invalid_blocks"])
        nodes = frozenset().union(*self.voting.values())
        self.quorum = (len(nodes) + self.f) // 2 + 1

    def power(self, replicas: Iterable[str]) -> int:
        """Spec Power."""
        return len(frozenset().union(*(self.voting[r] for r in replicas)))

    def faults_within_bound(self) -> bool:
        """Spec FaultsWithinBound: the Byzantine and crashed replicas have at most F nodes."""
        return self.power(self.faulty | self.silent) <= self.f

    def primary(self, h: int, v: int) -> str:
        """Spec Primary."""
        return self.master[self.companies[(h - 1 + v) % len(self.companies)]]


class _State:
    """A plain trace state as sets, with the spec's operators that read messages."""

    def __init__(self, spec: _Spec, plain: Mapping[str, Any]) -> None:
        self.spec = spec
        self.chain = {r: tuple(c) for r, c in plain["chain"].items()}
        self.view = dict(plain["view"])
        self.proposals = {(m["h"], m["v"], m["b"], m["src"]) for m in plain["proposals"]}
        self.prepares = {(m["h"], m["v"], m["b"], m["src"]) for m in plain["prepares"]}
        self.commits = {(m["h"], m["v"], m["b"], m["src"]) for m in plain["commits"]}
        self.changes = {(m["h"], m["v"], m["src"],
                         tuple(sorted((c["view"], c["block"]) for c in m["prepared"])))
                        for m in plain["viewChanges"]}

    def key(self) -> tuple:
        """A comparable form of the whole state."""
        return (self.chain, tuple(sorted(self.view.items())), frozenset(self.proposals),
                frozenset(self.prepares), frozenset(self.commits), frozenset(self.changes))

    def proposed(self, h: int, v: int, b: str) -> bool:
        """Spec Proposed."""
        p = self.spec.primary(h, v)
        return p in self.spec.faulty or (h, v, b, p) in self.proposals

    def voters(self, votes: set[Vote4], h: int, v: int, b: str) -> set[str]:
        """Spec Voters."""
        return {m[3] for m in votes if m[:3] == (h, v, b)} | set(self.spec.faulty)

    def prepared(self, h: int, v: int, b: str) -> bool:
        """Spec Prepared."""
        return (self.proposed(h, v, b)
                and self.spec.power(self.voters(self.prepares, h, v, b)) >= self.spec.quorum)

    def commit_quorum(self, h: int, v: int, b: str) -> bool:
        """Spec CommitQuorum."""
        return self.spec.power(self.voters(self.commits, h, v, b)) >= self.spec.quorum

    def certificate(self, r: str, h: int) -> tuple[tuple[int, str], ...]:
        """Spec PreparedCertificate."""
        mine = [(m[1], m[2]) for m in self.commits if m[3] == r and m[0] == h]
        if not mine:
            return ()
        top = max(v for v, _ in mine)
        return tuple(sorted(c for c in mine if c[0] == top))

    def reporting_at_most(self, h: int, v: int, w: int) -> set[str]:
        """Spec ReportingAtMost."""
        return ({m[2] for m in self.changes if m[:2] == (h, v) and all(c[0] <= w for c in m[3])}
                | set(self.spec.faulty))

    def reported(self, h: int, v: int, w: int, b: str) -> bool:
        """Spec Reported."""
        return (any(m[:2] == (h, v) and (w, b) in m[3] for m in self.changes)
                or (bool(self.spec.faulty) and self.prepared(h, w, b)))

    def safe_block(self, h: int, v: int, b: str) -> bool:
        """Spec SafeBlock."""
        q = self.spec.quorum
        return b in self.spec.valid and (
            v == 0 or self.spec.power(self.reporting_at_most(h, v, -1)) >= q
            or any(self.reported(h, v, w, b)
                   and self.spec.power(self.reporting_at_most(h, v, w)) >= q for w in range(v)))

    def sent_in(self, msgs: set, r: str, h: int, v: int) -> bool:
        """Spec SentIn."""
        return any(m[3] == r and m[0] == h and m[1] == v for m in msgs)

    def copy(self) -> _State:
        """A copy whose variables can change without changing this state."""
        other = _State(self.spec, _EMPTY)
        other.chain, other.view = dict(self.chain), dict(self.view)
        other.proposals, other.prepares = set(self.proposals), set(self.prepares)
        other.commits, other.changes = set(self.commits), set(self.changes)
        return other


#: A state with no replicas and no messages (what :meth:`_State.copy` starts from).
_EMPTY: Mapping[str, Any] = {"chain": {}, "view": {}, "proposals": [], "prepares": [],
                             "commits": [], "viewChanges": []}


def _init_errors(spec: _Spec, state: Mapping[str, Any]) -> list[str]:
    """Whether a state is the spec's Init."""
    expected = {"chain": {r: [] for r in spec.honest}, "view": {r: 0 for r in spec.honest},
                "proposals": [], "prepares": [], "commits": [], "viewChanges": []}
    return [] if dict(state) == expected else ["the first state is not Init"]


# --------------------------------------------------------------------------- the actions


Guard = list[tuple[str, bool]]  # the conjuncts of an action's guard: name, and whether it holds


def _pre_prepare(spec: _Spec, before: _State, after: _State, r: str, h: int, v: int, b: Any,
                 params: Mapping[str, Any]) -> Guard:
    """Spec PrePrepare(r, b)."""
    after.proposals.add((h, v, b, r))
    after.prepares.add((h, v, b, r))
    return [("view = 0", v == 0), ("r = Primary(h, 0)", r == spec.primary(h, 0)),
            ("~SentIn(proposals)", not before.sent_in(before.proposals, r, h, 0)),
            ("~SentIn(prepares)", not before.sent_in(before.prepares, r, h, 0)),
            ("b \\in ValidBlocks", b in spec.valid)]


def _new_view(spec: _Spec, before: _State, after: _State, r: str, h: int, v: int, b: Any,
              params: Mapping[str, Any]) -> Guard:
    """Spec NewView(r, b)."""
    after.proposals.add((h, v, b, r))
    after.prepares.add((h, v, b, r))
    return [("v > 0", v > 0), ("r = Primary(h, v)", r == spec.primary(h, v)),
            ("~SentIn(proposals)", not before.sent_in(before.proposals, r, h, v)),
            ("~SentIn(prepares)", not before.sent_in(before.prepares, r, h, v)),
            ("SafeBlock(h, v, b)", before.safe_block(h, v, b))]


def _prepare(spec: _Spec, before: _State, after: _State, r: str, h: int, v: int, b: Any,
             params: Mapping[str, Any]) -> Guard:
    """Spec Prepare(r, b)."""
    after.prepares.add((h, v, b, r))
    return [("~SentIn(prepares)", not before.sent_in(before.prepares, r, h, v)),
            ("Proposed(h, v, b)", before.proposed(h, v, b)),
            ("SafeBlock(h, v, b)", before.safe_block(h, v, b))]


def _commit(spec: _Spec, before: _State, after: _State, r: str, h: int, v: int, b: Any,
            params: Mapping[str, Any]) -> Guard:
    """Spec Commit(r, b)."""
    after.commits.add((h, v, b, r))
    return [("Msg(h, v, b, r) \\in prepares", (h, v, b, r) in before.prepares),
            ("~SentIn(commits)", not before.sent_in(before.commits, r, h, v)),
            ("Prepared(h, v, b)", before.prepared(h, v, b))]


def _decide(spec: _Spec, before: _State, after: _State, r: str, h: int, v: int, b: Any,
            params: Mapping[str, Any]) -> Guard:
    """Spec Decide(r, w, b), with ForgetHeight(h) once every honest replica decided h."""
    w = params.get("w")
    guard = [("b \\in ValidBlocks", b in spec.valid),
             ("w \\in Views", isinstance(w, int) and 0 <= w <= spec.max_view),
             ("CommitQuorum(h, w, b)", before.commit_quorum(h, w, b))]
    after.chain[r] = before.chain[r] + (b,)
    after.view[r] = 0
    if all(len(after.chain[s]) >= h for s in spec.honest):
        after.prepares = {m for m in after.prepares if m[0] != h}
        after.commits = {m for m in after.commits if m[0] != h}
        after.changes = {m for m in after.changes if m[0] != h}
    return guard


def _view_change(spec: _Spec, before: _State, after: _State, r: str, h: int, v: int, b: Any,
                 params: Mapping[str, Any]) -> Guard:
    """Spec ViewChange(r)."""
    after.view[r] = v + 1
    after.changes.add((h, v + 1, r, before.certificate(r, h)))
    return [("view[r] < MaxView", v < spec.max_view)]


#: Each action of spec Next: its guard (after Active) and its effect on the successor state.
_ACTIONS: dict[str, Callable[..., Guard]] = {
    "PrePrepare": _pre_prepare, "NewView": _new_view, "Prepare": _prepare, "Commit": _commit,
    "Decide": _decide, "ViewChange": _view_change,
}


def _successor(spec: _Spec, before: _State, action: str,
               params: Mapping[str, Any]) -> tuple[list[str], _State | None]:
    """The guard's failures, or the successor state of the action (spec Next)."""
    r = params.get("r")
    if r not in spec.honest:
        return [f"{action}: {r!r} is not an honest replica"], None
    h, v = len(before.chain[r]) + 1, before.view[r]
    b = params.get("b")
    after = before.copy()
    guard: Guard = [("Active", h <= spec.max_height)]
    take = _ACTIONS.get(action)
    if take is None:
        return [f"unknown action {action!r}"], None
    guard += take(spec, before, after, r, h, v, b, params)
    failed = [name for name, holds in guard if not holds]
    if action != "ViewChange" and b not in spec.blocks:
        failed.append("b \\in Blocks")
    if failed:
        call = f"{action}({', '.join(f'{k}={params[k]}' for k in sorted(params))})"
        return [f"{call} at h={h}, v={v}: guard fails: {', '.join(failed)}"], None
    return [], after


# --------------------------------------------------------------------------- invariants


def agreement_errors(plain: Mapping[str, Any]) -> list[str]:
    """Spec Agreement: no two honest replicas decide different blocks at one height."""
    errors = []
    chains = plain["chain"]
    for r in sorted(chains):
        for s in sorted(chains):
            for i, (a, b) in enumerate(zip(chains[r], chains[s])):
                if r < s and a != b:
                    errors.append(f"Agreement: {r} decided {a} and {s} decided {b} at "
                                  f"height {i + 1}")
    return errors


def validity_errors(constants: Mapping[str, Any], plain: Mapping[str, Any]) -> list[str]:
    """Spec Validity: only valid blocks the scheduled proposer of some view proposed."""
    spec = _Spec(constants)
    return _validity(spec, _State(spec, plain))


def _validity(spec: _Spec, state: _State) -> list[str]:
    """Spec Validity over a state."""
    errors = []
    for r, chain in sorted(state.chain.items()):
        for i, b in enumerate(chain):
            if b not in spec.valid:
                errors.append(f"Validity: {r} decided the invalid block {b} at height {i + 1}")
            elif not any(state.proposed(i + 1, v, b) for v in range(spec.max_view + 1)):
                errors.append(f"Validity: {r} decided {b} at height {i + 1}, proposed in no view")
    return errors


def decision_errors(spec: _Spec, before: _State, after: _State) -> list[str]:
    """Spec DecisionStepFollowsProposal: a replica that decides block b at height h in this
    step does so when some view w has, in the state before, a commit quorum for b and b as
    the proposal of its proposer (or a Byzantine proposer)."""
    errors = []
    for r in spec.honest:
        if len(after.chain[r]) > len(before.chain[r]):
            h = len(after.chain[r])
            b = after.chain[r][h - 1]
            if not any(before.commit_quorum(h, w, b) and before.proposed(h, w, b)
                       for w in range(spec.max_view + 1)):
                errors.append(f"DecisionFollowsProposal: {r} decided {b} at height {h}, but "
                              "no view has both a commit quorum for it and its proposal")
    return errors


def step_errors(constants: Mapping[str, Any], before: Mapping[str, Any],
                step: Mapping[str, Any]) -> list[str]:
    """Whether ``step`` is a step of spec Next from the state ``before`` (its guard and result)."""
    spec = _Spec(constants)
    errors, after = _successor(spec, _State(spec, before), step["action"], step["params"])
    if after is not None and after.key() != _State(spec, step["state"]).key():
        errors.append(f"{step['action']}({step['params']}): the emitted state is not the "
                      "spec's successor state")
    return errors
