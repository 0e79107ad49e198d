"""Seeded simulator runs of the small PBFT model, every replica step recorded.

Every run is a scenario of :mod:`refimpl.consensus.scenarios` (N = 4 replicas r1..r4, F = 1,
heights 1..2, views 0..2) run by :func:`refimpl.consensus.simulator.run_simulation` with one
fixed keyring (:data:`KEYRING`, derived from :data:`KEY_SEED`), so that every case of the
consensus profile shares the committee, the application and the public keys. While a run
goes, every call of the replica's ``step`` is recorded (state before, event, result).

A run is used only if no honest replica ever holds two proposals of one view: the reference
prepares "the first" of them in the iteration order of its map (a hash order, which depends
on ``PYTHONHASHSEED``), which is not a rule an implementation could follow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from refimpl.consensus import simulator
from refimpl.consensus.auth import derive_keyring
from refimpl.consensus.checks import justified_blocks
from refimpl.consensus.messages import Proposal
from refimpl.consensus.network import SimulationConfig
from refimpl.consensus.replica_state import Deliver, ReplicaState, Step
from refimpl.consensus.scenarios import AbstractApp, scenario_config, small_committee

__all__ = [
    "APP",
    "COMMITTEE",
    "KEYRING",
    "KEY_SEED",
    "Record",
    "claims",
    "delivers",
    "find",
    "names",
    "recorded_run",
    "seeds",
    "sent",
]

KEY_SEED = 2023
COMMITTEE = small_committee()
KEYRING = derive_keyring(KEY_SEED, COMMITTEE.replicas)
APP = AbstractApp()
#: How many seeds of a scenario are searched for a wanted step.
SEARCH = 40


@attrs.frozen
class Record:
    """One replica step of a run: who stepped, its state before, the event and the result."""

    replica: str
    before: ReplicaState
    event: Any
    result: Step
    #: the run it comes from: "<scenario> seed <n>"
    source: str = ""


@contextmanager
def _recording(records: list[Record]) -> Iterator[None]:
    """Record every replica step the simulator takes (its module-level ``step``)."""
    original = simulator.step

    def recording(committee: Any, app: Any, keys: Any, state: Any, event: Any) -> Step:
        result = original(committee, app, keys, state, event)
        records.append(Record(keys.replica, state, event, result))
        return result

    simulator.step = recording
    try:
        yield
    finally:
        simulator.step = original


def _order_free(records: list[Record], honest: set[str]) -> bool:
    """No honest replica ever held two proposals of one view."""
    for record in records:
        if record.replica in honest:
            views = [view for view, _ in record.result.state.log.proposals]
            if len(views) != len(set(views)):
                return False
    return True


@functools.cache
def recorded_run(scenario: str, seed: int) -> tuple[SimulationConfig, tuple[Record, ...]]:
    """The honest replicas' steps of one scenario run with :data:`KEYRING` (empty if the run
    is not order-free)."""
    config = scenario_config(scenario, seed)
    records: list[Record] = []
    with _recording(records):
        simulator.run_simulation(config, APP, keyring=KEYRING)
    honest = set(config.committee.replicas) - set(config.byzantine) - set(config.silent)
    if not _order_free(records, honest):
        return config, ()
    return config, tuple(r for r in records if r.replica in honest)


Wanted = Callable[[Record], bool]


def find(runs: list[tuple[str, int]], wanted: Wanted, what: str) -> Record:
    """The first record of the first run (in the given order) that does what is wanted."""
    for scenario, seed in runs:
        for record in recorded_run(scenario, seed)[1]:
            if wanted(record):
                return attrs.evolve(record, source=f"{scenario} seed {seed}")
    raise AssertionError(f"no simulator run has {what}")


def seeds(scenario: str, ok: Callable[[SimulationConfig], bool] = lambda c: True
           ) -> list[tuple[str, int]]:
    """The runs of a scenario searched for a step, whose configuration is ``ok``."""
    return [(scenario, s) for s in range(SEARCH) if ok(scenario_config(scenario, s))]


# --------------------------------------------------------------------------- what a step does


def names(record: Record) -> list[str]:
    return [a.name for a in record.result.actions]


def delivers(record: Record, cls: type) -> bool:
    return isinstance(record.event, Deliver) and isinstance(record.event.message, cls)


def claims(proposal: Proposal) -> bool:
    return justified_blocks(proposal.justification) is not None


def sent(record: Record, cls: type) -> list[Any]:
    return [s.message for s in record.result.sends if isinstance(s.message, cls)]
