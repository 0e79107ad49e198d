"""Consensus layer: the leader schedule and PBFT replicas.

* :mod:`refimpl.consensus.schedule`: the one leader schedule, ``proposer(order, height, view)``.
* :mod:`refimpl.consensus.messages` and :mod:`refimpl.consensus.auth`: PBFT messages, HMAC-SM3
  authenticators and SM2 signatures.
* :mod:`refimpl.consensus.replica`: a replica as a pure state machine (spec/PBFT.tla), its
  ``step`` routing events to the parts that mirror the spec: :mod:`refimpl.consensus.committee`,
  :mod:`refimpl.consensus.replica_state`, :mod:`refimpl.consensus.checks`,
  :mod:`refimpl.consensus.normal_case`, :mod:`refimpl.consensus.view_change` and
  :mod:`refimpl.consensus.catch_up`.
* :mod:`refimpl.consensus.simulator`: a seeded event loop over the simulated network and its
  faults (:mod:`refimpl.consensus.network`); :mod:`refimpl.consensus.scenarios`: the small
  models' runs.
* :mod:`refimpl.consensus.trace`: traces of runs in the spec's abstract state;
  :mod:`refimpl.consensus.trace_check`: their check (with :mod:`refimpl.consensus.trace_spec`,
  the spec transcribed); :mod:`refimpl.consensus.replica_mutants`: known replica bugs the
  check must catch.
* :mod:`refimpl.node.network_ledger`: PBFT over ledger blocks (the demo). It builds on
  ``refimpl.chain``, which itself imports the schedule, so this package does not import it.
"""

from refimpl.consensus.committee import Application, Committee, quorum_size
from refimpl.consensus.network import NetworkConfig, SimulationConfig
from refimpl.consensus.replica import step
from refimpl.consensus.replica_state import ReplicaState, SpecAction, Step, initial_state
from refimpl.consensus.scenarios import AbstractApp, generate_traces
from refimpl.consensus.schedule import company_order, english_name_key, proposer, proposer_index
from refimpl.consensus.simulator import SimulationResult, run_simulation
from refimpl.consensus.trace_check import check_trace

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
