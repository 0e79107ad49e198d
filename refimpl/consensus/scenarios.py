"""The small models' runs: abstract blocks, N = 4, the scenarios that trace spec/PBFT.tla."""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.consensus.committee import Committee
from refimpl.consensus.network import NetworkConfig, Partition, SimulationConfig
from refimpl.consensus.schedule import company_order
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.rng import Rng

__all__ = [
    "TRACE_COMPANIES",
    "TRACE_SCENARIOS",
    "AbstractApp",
    "small_committee",
    "scenario_config",
    "generate_traces",
]

#: The four Tianjin companies in schedule order: the companies of the small trace models.
TRACE_COMPANIES = ("PTNE", "Smart Grid", "Star Charge", "TELD")

#: The scenarios :func:`generate_traces` cycles through.
TRACE_SCENARIOS = ("no-faults", "silent-replica", "equivocating-proposer", "drops", "partition")


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

    ``no-faults``: delays only. ``silent-replica``: one replica never starts (Crashed).
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
    from refimpl.consensus.simulator import run_simulation  # the simulator imports this module

    traces = []
    for index in range(count):
        scenario = TRACE_SCENARIOS[index % len(TRACE_SCENARIOS)]
        config = scenario_config(scenario, seed + index,
                                 commit_quorum_override=commit_quorum_override)
        result = run_simulation(config, AbstractApp())
        assert result.trace is not None
        traces.append({**result.trace, "meta": {"scenario": scenario, "seed": seed + index}})
    return traces
