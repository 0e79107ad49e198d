"""The PBFT replica state machine (refimpl.consensus.replica), driven by hand message by message.

Four replicas r1..r4 (F = 1, quorum 3) are the masters of PTNE, Smart Grid, Star Charge and
TELD, in that (English-name) order; blocks are abstract strings (b1, b2 valid, bad invalid).
A small harness delivers messages in order, drops the ones a test says are lost and fires
timers on request. Every run is also recorded as a trace and checked against the spec's
guards (refimpl.consensus.trace_check.check_trace), so each scenario is a behaviour of
spec/PBFT.tla as well as a unit test.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs
import pytest

from refimpl.consensus.auth import authenticate, derive_keyring, sign
from refimpl.consensus.checks import make_proposal, make_view_change, make_vote_message
from refimpl.consensus.committee import Committee, quorum_size
from refimpl.consensus.messages import PREPARE, Prepare, Proposal, ViewChange, Vote, vote_bytes
from refimpl.consensus.replica import step
from refimpl.consensus.replica_state import VIEW_TIMER, Deliver, Start, Timeout, initial_state
from refimpl.consensus.scenarios import AbstractApp, small_committee
from refimpl.consensus.schedule import proposer
from refimpl.consensus.trace import TraceRecorder, trace_constants
from refimpl.consensus.trace_check import check_trace
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError

APP = AbstractApp()
REPLICAS = ("r1", "r2", "r3", "r4")
KEYRING = derive_keyring(7, REPLICAS)


class Harness:
    """Replicas and a FIFO network under the test's control; honest actions are traced."""

    def __init__(self, committee: Committee | None = None, honest: tuple[str, ...] = REPLICAS,
                 faulty: tuple[str, ...] = (), keyring=KEYRING) -> None:
        self.committee = committee or small_committee(max_height=2, max_view=2)
        self.keyring = keyring
        self.honest = honest
        self.faulty = faulty
        self.states = {r: initial_state(r, APP.genesis()) for r in honest}
        self.inbox: deque = deque()
        self.actions: list = []
        self.dropped: list = []
        self.recorder = TraceRecorder(honest)

    def step(self, replica: str, event) -> None:
        result = step(self.committee, APP, self.keyring.of(replica), self.states[replica], event)
        self.states[replica] = result.state
        for action in result.actions:
            self.actions.append(action)
            self.recorder.record(action)
        self.dropped += [(replica, d) for d in result.dropped]
        for send in result.sends:
            for dst in send.to:
                self.inbox.append((dst, send.message))

    def start(self, *replicas: str) -> None:
        for replica in replicas or self.honest:
            self.step(replica, Start())

    def inject(self, dst: str, message) -> None:
        self.inbox.append((dst, message))

    def deliver_all(self, lost: Callable = lambda dst, message: False, limit: int = 5000) -> None:
        """Deliver queued messages in order (new ones join the queue) until none is left."""
        for _ in range(limit):
            if not self.inbox:
                return
            dst, message = self.inbox.popleft()
            if dst in self.states and not lost(dst, message):
                self.step(dst, Deliver(message))
        raise AssertionError("the network did not settle")

    def timeout(self, *replicas: str) -> None:
        for replica in replicas:
            state = self.states[replica]
            self.step(replica, Timeout(VIEW_TIMER, state.height, state.view))

    def named(self, name: str) -> list:
        return [a for a in self.actions if a.name == name]

    def trace(self) -> dict:
        c = self.committee
        return {"constants": trace_constants(
            companies=c.companies, replicas=c.replicas, master=c.master, faulty=self.faulty,
            silent=[r for r in c.replicas if r not in self.honest and r not in self.faulty],
            f=c.f, max_height=c.max_height, max_view=c.max_view,
            valid_blocks=APP.valid_blocks, invalid_blocks=APP.invalid_blocks),
            "steps": self.recorder.steps}

    def assert_spec_steps(self) -> None:
        assert check_trace(self.trace()) == []


# --------------------------------------------------------------------------- the normal case


def test_normal_case_decides_in_one_view():
    net = Harness()
    net.start()
    net.deliver_all()
    assert {r: s.chain for r, s in net.states.items()} == {r: ("b1", "b2") for r in REPLICAS}
    assert net.named("ViewChange") == [] and net.named("NewView") == []
    assert [(a.replica, a.height, a.block_id) for a in net.named("PrePrepare")] == [
        ("r1", 1, "b1"), ("r2", 2, "b2")]  # PTNE proposes height 1, Smart Grid height 2
    assert {(a.decided_view, a.height) for a in net.named("Decide")} == {(0, 1), (0, 2)}
    # the proposer does not prepare its own block: its proposal counts as its prepare
    assert sorted(a.replica for a in net.named("Prepare") if a.height == 1) == ["r2", "r3", "r4"]
    assert len(net.named("Commit")) == 8
    net.assert_spec_steps()


def test_quorum_is_counted_in_nodes():
    assert [quorum_size(n, f) for n, f in ((4, 1), (7, 2), (10, 3), (15, 4), (15, 0))] == [
        3, 5, 7, 10, 8]
    assert small_committee().quorum == 3
    assert small_committee(commit_quorum_override=2).commit_threshold == 2


def test_commit_needs_prepares_of_a_quorum_of_distinct_replicas():
    """r3 has the proposal (r1's prepare) and its own prepare: 2 < 3. A repeated vote adds
    nothing; a prepare of another replica makes 3 and r3 commits."""
    net = Harness()
    c = net.committee
    proposal = make_proposal(c, KEYRING.of("r1"), 1, 0, "b1", "b1")
    net.step("r3", Start())
    net.step("r3", Deliver(proposal))
    net.step("r3", Deliver(proposal))
    assert [a.name for a in net.actions] == ["Prepare"]
    r4_prepare = make_vote_message(c, KEYRING.of("r4"), PREPARE, 1, 0, "b1")
    other_block = make_vote_message(c, KEYRING.of("r2"), PREPARE, 1, 0, "b2")
    net.step("r3", Deliver(other_block))  # a prepare of another block does not count
    assert [a.name for a in net.actions] == ["Prepare"]
    net.step("r3", Deliver(r4_prepare))
    net.step("r3", Deliver(r4_prepare))
    assert [a.name for a in net.actions] == ["Prepare", "Commit"]


def test_duplicated_messages_change_nothing():
    once, twice = Harness(), Harness()
    for net, copies in ((once, 1), (twice, 2)):
        net.start()
        while net.inbox:
            dst, message = net.inbox.popleft()
            for _ in range(copies):
                net.step(dst, Deliver(message))
    assert once.states == twice.states
    assert [a.params() for a in once.actions] == [a.params() for a in twice.actions]


def test_step_is_a_pure_function():
    c = small_committee()
    state = initial_state("r1", ())
    first = step(c, APP, KEYRING.of("r1"), state, Start())
    second = step(c, APP, KEYRING.of("r1"), state, Start())
    assert first.state == second.state and first.actions == second.actions
    assert [s.message.vote for s in first.sends] == [s.message.vote for s in second.sends]
    assert state == initial_state("r1", ())  # the input state is untouched


# --------------------------------------------------------------------------- invalid blocks


def test_an_invalid_block_is_never_prepared():
    """r1 is Byzantine and proposes `bad`: nobody prepares it; after the timeouts Smart Grid's
    master r2 proposes a valid block, which is decided."""
    honest = ("r2", "r3", "r4")
    net = Harness(honest=honest, faulty=("r1",))
    net.start()
    bad = make_proposal(net.committee, KEYRING.of("r1"), 1, 0, "bad", "bad")
    for dst in honest:
        net.inject(dst, bad)
    net.deliver_all()
    assert net.named("Prepare") == [] and net.named("Commit") == []
    net.timeout(*honest)
    net.deliver_all()
    assert all(a.block_id != "bad" for a in net.actions)
    assert {s.chain[0] for s in net.states.values()} == {"b2"}
    assert [(a.replica, a.view) for a in net.named("NewView")] == [("r2", 1)]
    net.assert_spec_steps()


def test_the_application_decides_what_is_valid():
    strict = attrs.evolve(APP, valid_blocks=("b2",), invalid_blocks=("b1", "bad"))
    c = small_committee()
    result = step(c, strict, KEYRING.of("r2"), step(
        c, strict, KEYRING.of("r2"), initial_state("r2", ()), Start()).state,
        Deliver(make_proposal(c, KEYRING.of("r1"), 1, 0, "b1", "b1")))
    assert result.actions == ()


# --------------------------------------------------------------------------- view changes


def test_a_timeout_passes_the_turn_to_the_next_company():
    """PTNE's master r1 has crashed: after the timeouts the replicas move to view 1, whose
    proposer is the next company in English-name order, Smart Grid (master r2)."""
    honest = ("r2", "r3", "r4")
    net = Harness(honest=honest)
    net.start()
    net.deliver_all()
    assert net.actions == []  # nobody proposed height 1
    net.timeout(*honest)
    assert [(a.name, a.replica) for a in net.actions] == [("ViewChange", r) for r in honest]
    assert all(s.view == 1 for s in net.states.values())
    c = net.committee
    assert proposer(c.companies, 1, 0) == "PTNE" and proposer(c.companies, 1, 1) == "Smart Grid"
    assert c.primary(1, 1) == "r2"
    net.deliver_all()
    assert next((a.replica, a.height, a.view) for a in net.named("NewView")) == ("r2", 1, 1)
    assert {s.chain[0] for s in net.states.values()} == {"b2"}  # r2's own block, view 1
    assert {a.decided_view for a in net.named("Decide") if a.height == 1} == {1}
    net.assert_spec_steps()


def test_view_changes_from_f_plus_1_replicas_pull_a_replica_along():
    net = Harness()
    net.start()
    net.inbox.clear()  # r1's proposal is lost
    net.timeout("r3", "r4")  # two replicas (F + 1 = 2) time out
    net.deliver_all()
    # r1 and r2 join view 1 without a timeout of their own; r2 proposes in view 1
    assert {a.replica for a in net.named("ViewChange")} == set(REPLICAS)
    # r2 never received r1's block, so it proposes its own in view 1
    assert [(a.replica, a.view, a.block_id) for a in net.named("NewView")] == [("r2", 1, "b2")]
    assert all(s.chain[:1] == ("b2",) for s in net.states.values())
    net.assert_spec_steps()


def test_new_view_carries_the_prepared_block_forward():
    """r1 proposes b1; r2 never sees it. r1, r3, r4 prepare and commit b1, but every commit
    is lost. In view 1, Smart Grid's r2 would propose b2 of its own; the view changes report
    b1 prepared in view 0, so r2 must propose b1, and b1 is decided."""
    net = Harness()
    net.start()
    net.deliver_all(lost=lambda dst, m: (dst == "r2" and isinstance(m, Proposal))
                    or type(m).__name__ == "Commit")
    assert sorted(a.replica for a in net.named("Commit")) == ["r1", "r3", "r4"]
    assert all(s.chain == () for s in net.states.values())
    assert APP.propose((), 1, 1, "r2") == "b2"
    net.timeout(*REPLICAS)
    view_changes = [m for _, m in net.inbox if isinstance(m, ViewChange)]
    assert {(m.sender, m.claim()) for m in view_changes} == {
        ("r1", (0, "b1")), ("r2", None), ("r3", (0, "b1")), ("r4", (0, "b1"))}
    net.deliver_all()
    assert [(a.replica, a.view, a.block_id) for a in net.named("NewView")] == [("r2", 1, "b1")]
    assert {s.chain[0] for s in net.states.values()} == {"b1"}
    net.assert_spec_steps()


def test_without_a_certificate_the_new_proposer_re_proposes_the_block_it_holds():
    """Every prepare is lost, so nobody is prepared; r2 holds r1's proposal b1 and proposes it
    again in view 1 (rather than b2 of its own): the block keeps its producer, PTNE."""
    net = Harness()
    net.start()
    net.deliver_all(lost=lambda dst, m: isinstance(m, Prepare))
    assert net.named("Commit") == []
    net.timeout(*REPLICAS)
    assert all(m.claim() is None for _, m in net.inbox if isinstance(m, ViewChange))
    net.deliver_all()
    assert [(a.replica, a.view, a.block_id) for a in net.named("NewView")] == [("r2", 1, "b1")]
    assert {s.chain[0] for s in net.states.values()} == {"b1"}
    net.assert_spec_steps()


def test_a_new_view_that_ignores_a_reported_certificate_is_dropped():
    net = Harness()
    c = net.committee
    changes = tuple(sorted(
        (make_view_change(c, KEYRING.of(r), 1, 1, None) for r in ("r2", "r3")),
        key=lambda m: m.sender))
    # r4 reports b1 prepared in view 0, with the proposal and prepares of a quorum
    votes = [make_proposal(c, KEYRING.of("r1"), 1, 0, "b1", "b1").signed_vote()] + [
        make_vote_message(c, KEYRING.of(r), PREPARE, 1, 0, "b1").signed_vote()
        for r in ("r3", "r4")]
    from refimpl.consensus.messages import PreparedProof
    proof = PreparedProof(0, "b1", "b1", tuple(votes))
    reporting = make_view_change(c, KEYRING.of("r4"), 1, 1, proof)
    wrong = make_proposal(c, KEYRING.of("r2"), 1, 1, "b2", "b2", changes + (reporting,))
    right = make_proposal(c, KEYRING.of("r2"), 1, 1, "b1", "b1", changes + (reporting,))
    state = step(c, APP, KEYRING.of("r3"), initial_state("r3", ()), Start()).state
    refused = step(c, APP, KEYRING.of("r3"), state, Deliver(wrong))
    assert [(d.kind, d.code) for d in refused.dropped] == [("proposal", "E_MSG_FORMAT")]
    assert refused.state == state
    accepted = step(c, APP, KEYRING.of("r3"), state, Deliver(right))
    assert accepted.dropped == ()
    assert [(a.name, a.view, a.block_id) for a in accepted.actions] == [
        ("ViewChange", 0, None), ("Prepare", 1, "b1")]  # r3 joins view 1 and prepares b1


def test_a_certificate_without_a_prepare_quorum_is_refused():
    c = small_committee()
    votes = [make_proposal(c, KEYRING.of("r1"), 1, 0, "b1", "b1").signed_vote(),
             make_vote_message(c, KEYRING.of("r3"), PREPARE, 1, 0, "b1").signed_vote()]
    from refimpl.consensus.messages import PreparedProof
    claim = make_view_change(c, KEYRING.of("r4"), 1, 1, PreparedProof(0, "b1", "b1", tuple(votes)))
    state = step(c, APP, KEYRING.of("r2"), initial_state("r2", ()), Start()).state
    result = step(c, APP, KEYRING.of("r2"), state, Deliver(claim))
    assert [(d.kind, d.code) for d in result.dropped] == [("view-change", "E_MSG_FORMAT")]


# --------------------------------------------------------------------------- authentication


def test_a_forged_prepare_is_dropped():
    """r4 sends a prepare in r2's name: the MAC under the key r2 shares with r3 does not verify."""
    c = small_committee()
    state = step(c, APP, KEYRING.of("r3"), initial_state("r3", ()), Start()).state
    vote = Vote(PREPARE, 1, 0, "b1", "r2")
    forged = Prepare(vote, sign(KEYRING.of("r4"), vote_bytes(vote)),
                     authenticate(KEYRING.of("r4"), ("r1", "r3"), vote_bytes(vote)))
    result = step(c, APP, KEYRING.of("r3"), state, Deliver(forged))
    assert [(d.kind, d.sender, d.code) for d in result.dropped] == [("prepare", "r2", "E_MSG_AUTH")]
    assert result.state == state and result.sends == () and result.actions == ()


def test_a_tampered_message_is_dropped():
    c = small_committee()
    state = step(c, APP, KEYRING.of("r3"), initial_state("r3", ()), Start()).state
    genuine = make_vote_message(c, KEYRING.of("r2"), PREPARE, 1, 0, "b1")
    tampered = attrs.evolve(genuine, vote=attrs.evolve(genuine.vote, block_id="b2"))
    result = step(c, APP, KEYRING.of("r3"), state, Deliver(tampered))
    assert [d.code for d in result.dropped] == ["E_MSG_AUTH"]
    assert step(c, APP, KEYRING.of("r3"), state, Deliver(genuine)).dropped == ()


def test_a_view_change_with_a_bad_signature_is_dropped():
    c = small_committee()
    state = step(c, APP, KEYRING.of("r3"), initial_state("r3", ()), Start()).state
    genuine = make_view_change(c, KEYRING.of("r2"), 1, 1, None)
    forged = attrs.evolve(genuine, sender="r4")  # r2's signature, r4's name
    assert [d.code for d in step(c, APP, KEYRING.of("r3"), state, Deliver(forged)).dropped] == [
        "E_MSG_AUTH"]
    assert step(c, APP, KEYRING.of("r3"), state, Deliver(genuine)).dropped == ()


def test_only_the_scheduled_proposer_may_propose():
    c = small_committee()
    state = step(c, APP, KEYRING.of("r3"), initial_state("r3", ()), Start()).state
    usurper = make_proposal(c, KEYRING.of("r2"), 1, 0, "b1", "b1")  # height 1 is PTNE's (r1)
    result = step(c, APP, KEYRING.of("r3"), state, Deliver(usurper))
    assert [(d.code, d.reason) for d in result.dropped] == [
        ("E_MSG_FORMAT", "only the view's scheduled proposer may propose")]


# --------------------------------------------------------------------------- catch-up


def test_a_replica_that_missed_a_height_catches_up_from_a_commit_certificate():
    net = Harness()
    net.start()
    net.deliver_all(lost=lambda dst, m: dst == "r4")
    assert [net.states[r].chain for r in REPLICAS] == [("b1", "b2")] * 3 + [()]
    net.timeout("r4")  # r4 sends a view change for height 1; the others answer with decisions
    net.deliver_all()
    assert net.states["r4"].chain == ("b1", "b2")
    assert [(a.height, a.decided_view) for a in net.named("Decide") if a.replica == "r4"] == [
        (1, 0), (2, 0)]
    net.assert_spec_steps()


def test_a_decision_without_a_quorum_of_signed_commits_is_refused():
    net = Harness()
    net.start()
    net.deliver_all()
    decision = net.states["r1"].decided[1]
    short = attrs.evolve(decision, commits=decision.commits[:2])
    c = net.committee
    fresh = step(c, APP, KEYRING.of("r4"), initial_state("r4", ()), Start()).state
    result = step(c, APP, KEYRING.of("r4"), fresh, Deliver(short))
    assert [d.code for d in result.dropped] == ["E_MSG_FORMAT"]
    accepted = step(c, APP, KEYRING.of("r4"), fresh, Deliver(decision))
    assert [a.name for a in accepted.actions][:1] == ["Decide"]


# --------------------------------------------------------------------------- configuration


def test_the_tianjin_committee_has_fifteen_voters_and_four_masters():
    from refimpl.chain.genesis import genesis_state
    from refimpl.node.network_ledger import ledger_committee
    from refimpl.scenario.consortium import authors as _authors
    from refimpl.scenario.consortium import build_config
    from refimpl.scenario.consortium import keys_for as _keys
    from refimpl.scenario.demo import DemoOptions

    options = DemoOptions(users=1)
    state = genesis_state(build_config(options, _keys(options.seed, _authors(options))))
    c = ledger_committee(state)
    assert (len(c.replicas), c.f, c.quorum) == (15, 4, 10)
    assert dict(c.master) == {"PTNE": "N09", "Smart Grid": "N14", "Star Charge": "N06",
                              "TELD": "N01"}
    assert [c.primary(h, 0) for h in range(1, 6)] == ["N09", "N14", "N06", "N01", "N09"]
    assert [c.primary(1, v) for v in range(4)] == ["N09", "N14", "N06", "N01"]


@pytest.mark.parametrize(("change", "field"), [
    ({"f": 2}, "f"),  # 4 < 3 * 2 + 1
    ({"companies": ("TELD", "PTNE", "Smart Grid", "Star Charge")}, "companies"),
    ({"master": FrozenMap({"PTNE": "r1"})}, "master"),
    ({"replicas": ("r1", "r1", "r2", "r3")}, "replicas"),
])
def test_a_malformed_committee_is_refused(change, field):
    from refimpl.consensus.committee import check_committee
    with pytest.raises(ChargeChainError) as caught:
        check_committee(attrs.evolve(small_committee(), **change))
    assert (caught.value.code, caught.value.field) == ("E_CONSENSUS", field)
