"""The PBFT replica's ``step``: it routes each event to the spec/PBFT.tla actions it enables.

``step(committee, app, keys, state, event)`` takes a replica state and one event (start, a
delivered message, a timer) and returns a :class:`~refimpl.consensus.replica_state.Step`: the
new state, the messages to send, the timers to set, the spec actions the replica took (for
tracing) and the messages it dropped with the reason. Nothing reads a clock or a random
source; the same inputs give the same outputs.

The replica is generic over the block values through an
:class:`~refimpl.consensus.committee.Application`: the same code runs abstract string blocks
(trace validation, Hypothesis) and ledger blocks (the demo).

Protocol (the spec's actions, taken in this order of priority whenever enabled):

* ``Decide``: a quorum of commits for one valid block at the replica's height, in any view
  (received commits, its own, or the commit certificate of a catch-up
  :class:`~refimpl.consensus.messages.Decision`). The block joins the chain and the replica
  starts the next height in view 0.
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
sender's role (``E_MSG_FORMAT``), and records the drop in
:attr:`~refimpl.consensus.replica_state.Step.dropped`.

Catch-up (not a spec action): a replica that receives a view change of a height it has
decided answers the sender with :class:`~refimpl.consensus.messages.Decision` messages for
that height and the next few: each carries the block and its commit certificate. At the last
view of a bounded model (``max_view``) a replica's timer re-sends what it sent in that view
instead of moving on.

Where each part lives (this module only routes events and keeps the order of priority):

* :mod:`refimpl.consensus.committee`: the committee (constants, ``Quorum``, ``Primary``);
* :mod:`refimpl.consensus.replica_state`: the state, events and outputs (``Init``, ``Active``);
* :mod:`refimpl.consensus.checks`: building and checking messages, the new-view rule;
* :mod:`refimpl.consensus.normal_case`: ``PrePrepare``, ``Prepare``, ``Commit``, ``Decide``;
* :mod:`refimpl.consensus.view_change`: ``ViewChange``, ``NewView``, the prepared certificate;
* :mod:`refimpl.consensus.catch_up`: answering a lagging peer (not a spec action).

The names these modules define are importable from here as well (the import path
``refimpl.consensus.replica`` of earlier versions).
"""

from __future__ import annotations

import attrs

# Besides what step uses, the imports marked noqa keep every name this module held before it
# was split by protocol phase importable from here (they are documented where defined).
from refimpl.consensus.auth import ReplicaKeys
from refimpl.consensus.catch_up import _help, _keep_for_later
from refimpl.consensus.checks import (  # noqa: F401
    _accept,
    check_decision,
    check_prepared_proof,
    check_proposal,
    check_view_change,
    check_vote_message,
    justified_blocks,
    make_proposal,
    make_view_change,
    make_vote_message,
)
from refimpl.consensus.committee import (  # noqa: F401
    Application,
    Committee,
    check_committee,
    power,
    quorum_size,
)
from refimpl.consensus.normal_case import _try_commit, _try_decide, _try_pre_prepare, _try_prepare
from refimpl.consensus.replica_state import (  # noqa: F401
    PROPOSE_TIMER,
    SPEC_ACTIONS,
    VIEW_TIMER,
    Deliver,
    Dropped,
    Event,
    HeightLog,
    ReplicaState,
    Send,
    SetTimer,
    SpecAction,
    Start,
    Step,
    Timeout,
    _Effects,
    _enter_height,
    _set_view_timer,
    initial_state,
    is_active,
)
from refimpl.consensus.view_change import (  # noqa: F401
    _join_target,
    _retransmit,
    _try_new_view,
    _try_view_change,
    prepared_certificate,
)
from refimpl.errors import ChargeChainError

__all__ = ["step"]


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
