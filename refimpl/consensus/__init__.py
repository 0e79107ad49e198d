"""Consensus layer: the leader schedule and PBFT replicas.

* :mod:`refimpl.consensus.schedule`: the one leader schedule, ``proposer(order, height, view)``.
* :mod:`refimpl.consensus.messages` and :mod:`refimpl.consensus.auth`: PBFT messages, HMAC-SM3
  authenticators and SM2 signatures.
* :mod:`refimpl.consensus.replica`: a replica as a pure state machine (spec/PBFT.tla).
* :mod:`refimpl.consensus.simulator`: a seeded network simulator with faults.
* :mod:`refimpl.consensus.trace`: traces of runs in the spec's abstract state, and their check.
* :mod:`refimpl.node.network_ledger`: PBFT over ledger blocks (the demo). It builds on
  ``refimpl.chain``, which itself imports the schedule, so this package does not import it.
"""

from refimpl.consensus.replica import (
    Application,
    Committee,
    ReplicaState,
    SpecAction,
    Step,
    initial_state,
    quorum_size,
    step,
)
from refimpl.consensus.schedule import company_order, english_name_key, proposer, proposer_index
from refimpl.consensus.simulator import (
    AbstractApp,
    NetworkConfig,
    SimulationConfig,
    SimulationResult,
    generate_traces,
    run_simulation,
)
from refimpl.consensus.trace import check_trace

__all__ = [
    "AbstractApp",
    "Application",
    "Committee",
    "NetworkConfig",
    "ReplicaState",
    "SimulationConfig",
    "SimulationResult",
    "SpecAction",
    "Step",
    "check_trace",
    "company_order",
    "english_name_key",
    "generate_traces",
    "initial_state",
    "proposer",
    "proposer_index",
    "quorum_size",
    "run_simulation",
    "step",
]
