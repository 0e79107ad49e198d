"""Stateful test of PBFT: Hypothesis drives four replicas through any interleaving.

The network is a pool of messages in flight. Each rule delivers, drops or duplicates one of
them, fires a replica's view-change timer (at any moment: premature timeouts are allowed),
or lets the Byzantine replica (at most F = 1, or none) act: propose any block, valid or
not, to any subset when it is the scheduled proposer (equivocation), vote for any block in
any view (double votes, late votes), send view changes that hide its certificate or claim
one it can back with signed prepares, and forge a prepare in another replica's name.

After every step: Agreement (no two honest replicas decided different blocks at a height)
and Validity (every decided block is valid and was proposed in some view by that view's
scheduled proposer, counting the Byzantine replica's real proposals); each honest action
taken so far is a step of spec/PBFT.tla (guard and successor state, checked by
refimpl.consensus.trace_check.step_errors); the replicas' chains and views are the abstract state's.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from refimpl.consensus.auth import authenticate, derive_keyring, sign
from refimpl.consensus.checks import make_proposal, make_view_change, make_vote_message
from refimpl.consensus.messages import (
    COMMIT,
    PREPARE,
    Prepare,
    PreparedProof,
    Proposal,
    ViewChange,
    Vote,
    vote_bytes,
)
from refimpl.consensus.replica import step
from refimpl.consensus.replica_state import (
    VIEW_TIMER,
    Deliver,
    Start,
    Timeout,
    initial_state,
    is_active,
)
from refimpl.consensus.scenarios import AbstractApp, small_committee
from refimpl.consensus.trace import TraceRecorder, trace_constants
from refimpl.consensus.trace_check import agreement_errors, step_errors

APP = AbstractApp()
REPLICAS = ("r1", "r2", "r3", "r4")
MAX_HEIGHT, MAX_VIEW = 2, 3
COMMITTEE = small_committee(max_height=MAX_HEIGHT, max_view=MAX_VIEW)
KEYRING = derive_keyring(2024, REPLICAS)
BLOCKS = ("b1", "b2", "bad")


class PBFTMachine(RuleBasedStateMachine):
    """Honest replicas run refimpl.consensus.replica.step; the test plays network and adversary."""

    @initialize(faulty=st.sampled_from([None, "r1", "r2", "r3", "r4"]))
    def start(self, faulty):
        self.faulty = faulty
        self.honest = tuple(r for r in REPLICAS if r != faulty)
        self.states = {r: initial_state(r, APP.genesis()) for r in self.honest}
        self.pool: list = []  # (receiver, message) in flight
        self.seen: list = []  # what the Byzantine replica received, and its own messages
        self.proposed: set = set()  # (h, v, b, proposer) of every proposal sent, honest or not
        self.recorder = TraceRecorder(self.honest)
        self.constants = trace_constants(
            companies=COMMITTEE.companies, replicas=REPLICAS, master=COMMITTEE.master,
            faulty=[faulty] if faulty else [], silent=[], f=1, max_height=MAX_HEIGHT,
            max_view=MAX_VIEW, valid_blocks=APP.valid_blocks, invalid_blocks=APP.invalid_blocks)
        self.spec_errors: list = []
        for replica in self.honest:
            self._step(replica, Start())

    # ----------------------------------------------------------------- plumbing

    def _send(self, message, receivers) -> None:
        if isinstance(message, Proposal):
            self.proposed.add((message.height, message.view, message.vote.block_id, message.sender))
        for receiver in receivers:
            if receiver == self.faulty:
                self.seen.append(message)
            elif receiver in self.states:
                self.pool.append((receiver, message))

    def _step(self, replica, event) -> None:
        result = step(COMMITTEE, APP, KEYRING.of(replica), self.states[replica], event)
        self.states[replica] = result.state
        for action in result.actions:
            before = self.recorder.state.as_plain()
            self.recorder.record(action)
            self.spec_errors += step_errors(self.constants, before, self.recorder.steps[-1])
        for send in result.sends:
            self._send(send.message, send.to)

    def _byzantine_keys(self):
        return KEYRING.of(self.faulty)

    # ----------------------------------------------------------------- the network

    @rule(data=st.data())
    def deliver(self, data):
        """One message, any of those in flight (reordering)."""
        if self.pool:
            receiver, message = self.pool.pop(data.draw(st.integers(0, len(self.pool) - 1)))
            self._step(receiver, Deliver(message))

    @rule(count=st.integers(1, 40), newest_first=st.booleans())
    def deliver_many(self, count, newest_first):
        """Up to ``count`` messages, oldest (or newest) first."""
        for _ in range(count):
            if not self.pool:
                return
            receiver, message = self.pool.pop(-1 if newest_first else 0)
            self._step(receiver, Deliver(message))

    @rule(data=st.data())
    def drop(self, data):
        if self.pool:
            self.pool.pop(data.draw(st.integers(0, len(self.pool) - 1)))

    @rule(data=st.data())
    def duplicate(self, data):
        if self.pool:
            self.pool.append(self.pool[data.draw(st.integers(0, len(self.pool) - 1))])

    @rule(replica=st.sampled_from(REPLICAS))
    def timeout(self, replica):
        if replica in self.states:
            state = self.states[replica]
            self._step(replica, Timeout(VIEW_TIMER, state.height, state.view))

    # ----------------------------------------------------------------- the adversary

    @rule(height=st.integers(1, MAX_HEIGHT), view=st.integers(0, MAX_VIEW),
          block=st.sampled_from(BLOCKS), receivers=st.sets(st.sampled_from(REPLICAS), min_size=1))
    def byzantine_proposal(self, height, view, block, receivers):
        """The Byzantine replica proposes any block (equivocation: again, to others)."""
        if self.faulty is None or COMMITTEE.primary(height, view) != self.faulty:
            return
        justification = ()
        if view > 0:
            changes = {m.sender: m for m in self.seen
                       if isinstance(m, ViewChange) and (m.height, m.view) == (height, view)}
            changes[self.faulty] = make_view_change(COMMITTEE, self._byzantine_keys(), height,
                                                    view, None)
            justification = tuple(changes[s] for s in sorted(changes))
        to = tuple(sorted(receivers - {self.faulty}))
        self._send(make_proposal(COMMITTEE, self._byzantine_keys(), height, view, block, block,
                                 justification, to), to)

    @rule(kind=st.sampled_from([PREPARE, COMMIT]), height=st.integers(1, MAX_HEIGHT),
          view=st.integers(0, MAX_VIEW), block=st.sampled_from(BLOCKS),
          receivers=st.sets(st.sampled_from(REPLICAS), min_size=1))
    def byzantine_vote(self, kind, height, view, block, receivers):
        """A prepare or commit for any block in any view: double and late votes."""
        if self.faulty is None:
            return
        to = tuple(sorted(receivers - {self.faulty}))
        vote = make_vote_message(COMMITTEE, self._byzantine_keys(), kind, height, view, block, to)
        self.seen.append(vote)
        self._send(vote, to)

    @rule(height=st.integers(1, MAX_HEIGHT), view=st.integers(1, MAX_VIEW),
          claim=st.one_of(st.none(), st.tuples(st.integers(0, MAX_VIEW - 1),
                                                st.sampled_from(BLOCKS))))
    def byzantine_view_change(self, height, view, claim):
        """A view change hiding any certificate, or claiming one backed by the votes it saw."""
        if self.faulty is None:
            return
        proof = None
        if claim is not None:
            w, block = claim
            if w >= view:
                return
            votes = {m.sender: m.signed_vote() for m in self.seen
                     if isinstance(m, (Proposal, Prepare)) and m.height == height
                     and m.view == w and m.vote.block_id == block}
            proof = PreparedProof(w, block, block, tuple(votes[s] for s in sorted(votes)))
        message = make_view_change(COMMITTEE, self._byzantine_keys(), height, view, proof)
        self._send(message, REPLICAS)

    @rule(victim=st.sampled_from(REPLICAS), receiver=st.sampled_from(REPLICAS),
          block=st.sampled_from(BLOCKS))
    def forge(self, victim, receiver, block):
        """A prepare in an honest replica's name: the receiver must drop it, unchanged."""
        if (self.faulty is None or victim == self.faulty or receiver not in self.states
                or receiver == victim or not is_active(COMMITTEE, self.states[receiver])):
            return
        state = self.states[receiver]
        vote = Vote(PREPARE, state.height, state.view, block, victim)
        keys = self._byzantine_keys()
        forged = Prepare(vote, sign(keys, vote_bytes(vote)),
                         authenticate(keys, (receiver,), vote_bytes(vote)))
        result = step(COMMITTEE, APP, KEYRING.of(receiver), state, Deliver(forged))
        assert [d.code for d in result.dropped] == ["E_MSG_AUTH"]
        assert result.state == state and result.actions == () and result.sends == ()

    # ----------------------------------------------------------------- properties

    def teardown(self):
        heights = min(len(s.chain) for s in self.states.values())
        event(f"every honest replica decided {heights} heights")
        views = {s["params"]["w"] for s in self.recorder.steps if s["action"] == "Decide"}
        event(f"decided in views {sorted(views)}")
        event(f"faulty: {self.faulty is not None}")

    @invariant()
    def agreement(self):
        assert agreement_errors(self.recorder.state.as_plain()) == []
        chains = [s.chain for s in self.states.values()]
        for a in chains:
            for b in chains:
                assert a[:len(b)] == b[:len(a)]

    @invariant()
    def validity(self):
        for state in self.states.values():
            for index, block in enumerate(state.chain):
                height = index + 1
                assert block in APP.valid_blocks
                assert any((height, v, block, COMMITTEE.primary(height, v)) in self.proposed
                           for v in range(MAX_VIEW + 1))

    @invariant()
    def every_honest_action_is_a_spec_step(self):
        assert self.spec_errors == []

    @invariant()
    def replicas_are_the_abstract_state(self):
        abstract = self.recorder.state
        for replica, state in self.states.items():
            assert list(state.chain) == abstract.chain[replica]
            assert state.view == abstract.view[replica]


PBFTMachine.TestCase.settings = settings(
    max_examples=500, stateful_step_count=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPBFTMachine = PBFTMachine.TestCase
