"""The small models' runs: abstract blocks, N = 4, the scenarios that trace spec/PBFT.tla."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from refimpl.consensus.committee import Committee
from refimpl.consensus.network import NetworkConfig, Partition, SimulationConfig
from refimpl.consensus.schedule import company_order
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.rng import Rng

__all__ = [
    "SCENARIO_PROGRESS",
    "TRACE_COMPANIES",
    "TRACE_SCENARIOS",
    "AbstractApp",
    "generate_traces",
    "scenario_config",
    "scenario_constants_errors",
    "scenario_trace",
    "small_committee",
]

#: The four Tianjin companies in schedule order: the companies of the small trace models.
TRACE_COMPANIES = ("PTNE", "Smart Grid", "Star Charge", "TELD")

#: The scenarios :func:`generate_traces` cycles through.
TRACE_SCENARIOS = ("no-faults", "silent-replica", "equivocating-proposer", "drops", "partition",
                   "usurping-replica")

#: The heights every honest replica promises to have decided at the end of a scenario's trace
#: (the trace's ``progress``): both, in every scenario; every run of seeds 0..1199 of each
#: scenario does (docs/replicas.md).
SCENARIO_PROGRESS = {"no-faults": 2, "silent-replica": 2, "equivocating-proposer": 2,
                     "drops": 2, "partition": 2, "usurping-replica": 2}


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
_USURPER_MIXES = (("usurp",), ("usurp", "double-propose"))


def scenario_config(scenario: str, seed: int, *,
                    commit_quorum_override: int | None = None) -> SimulationConfig:
    """A small run (N = 4, F = 1, heights 1..2, views 0..2) of one of the trace scenarios.

    ``no-faults``: delays only. ``silent-replica``: one replica never starts (Crashed).
    ``equivocating-proposer``: the view-0 proposer of height 1 or 2 is Byzantine
    (equivocating, with double votes, late votes, invalid proposals or forgeries).
    ``drops``: 15-35 % of the messages are lost, 5 % duplicated. ``partition``: one or two
    replicas are cut off for a while from the start. ``usurping-replica``: the view-0
    proposer of height 2 (r2) is Byzantine with the behaviour ``usurp``: it proposes another
    block in every view in which it is not the proposer (the correct replicas drop those
    proposals); in half of the seeds it also has ``double-propose``: it sends every replica
    two blocks when it is the proposer. Every scenario promises that every honest replica
    decides both heights (:data:`SCENARIO_PROGRESS`): the replicas re-send their messages at
    the last view and answer a lagging replica's view change with their decisions, so losses
    and partitions delay the decisions but do not stop them.
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
    elif scenario == "usurping-replica":
        byzantine[committee.primary(2, 0)] = rng.choice(_USURPER_MIXES)
    elif scenario != "no-faults":
        raise ChargeChainError("E_CONSENSUS", "unknown trace scenario", field="scenario",
                               expected=list(TRACE_SCENARIOS), received=scenario)
    return SimulationConfig(seed, committee, network, FrozenMap(byzantine), silent,
                            late_ms=600, time_limit_ms=60_000)


def scenario_trace(scenario: str, seed: int, *, commit_quorum_override: int | None = None,
                   mutant: str | None = None) -> dict[str, Any]:
    """The trace of one scenario run: ``progress`` as the scenario promises, and ``meta``
    (scenario, seed, and the replica mutant the run had applied, None for the correct one)."""
    from refimpl.consensus.simulator import run_simulation  # the simulator imports this module

    config = scenario_config(scenario, seed, commit_quorum_override=commit_quorum_override)
    result = run_simulation(config, AbstractApp())
    assert result.trace is not None
    return {**result.trace, "progress": SCENARIO_PROGRESS[scenario],
            "meta": {"scenario": scenario, "seed": seed, "mutant": mutant}}


def generate_traces(count: int, *, seed: int = 0, commit_quorum_override: int | None = None,
                    scenarios: tuple[str, ...] = TRACE_SCENARIOS,
                    mutant: str | None = None) -> list[dict[str, Any]]:
    """``count`` small traces (N = 4, F = 1, heights 1..2, views 0..2) from seeds seed, seed+1, ...

    Trace i runs scenario ``scenarios[i % len(scenarios)]`` (by default the six of
    :data:`TRACE_SCENARIOS` in turn) with seed ``seed + i``; see :func:`scenario_config` and
    :func:`scenario_trace`. ``commit_quorum_override=2`` (F + 1) makes every replica
    deliberately broken: it commits after F + 1 prepares (the replica mutant
    ``broken-commit-quorum``, which ``meta.mutant`` names unless ``mutant`` does).
    """
    if mutant is None and commit_quorum_override is not None:
        mutant = ("broken-commit-quorum" if commit_quorum_override == 2
                  else f"commit-quorum-override-{commit_quorum_override}")
    return [scenario_trace(scenarios[index % len(scenarios)], seed + index,
                           commit_quorum_override=commit_quorum_override, mutant=mutant)
            for index in range(count)]


def scenario_constants_errors(trace: Mapping[str, Any]) -> list[str]:
    """Whether a trace declares the constants its scenario run had: one line per mismatch.

    The run is rebuilt from ``meta`` (:func:`scenario_config` of its scenario and seed) and
    its constants compared with the declared ones: the committee (companies, replicas,
    masters, voting nodes, f, max_height, max_view), ``faulty`` (the replicas that ran
    Byzantine behaviours), ``silent`` (the crashed ones) and the valid and invalid blocks.
    [] if they are the same.
    """
    from refimpl.consensus.trace import trace_constants  # the trace module imports this one

    meta = trace.get("meta")
    scenario = meta.get("scenario") if isinstance(meta, Mapping) else None
    seed = meta.get("seed") if isinstance(meta, Mapping) else None
    if scenario not in TRACE_SCENARIOS or not isinstance(seed, int) or isinstance(seed, bool):
        return [f"meta: no scenario run to compare with (scenario {scenario!r}, seed {seed!r})"]
    config = scenario_config(scenario, seed)
    committee, app = config.committee, AbstractApp()
    expected = trace_constants(
        companies=committee.companies, replicas=committee.replicas, master=committee.master,
        faulty=config.byzantine.keys(), silent=config.silent, f=committee.f,
        max_height=committee.max_height, max_view=committee.max_view,
        valid_blocks=app.valid_blocks, invalid_blocks=app.invalid_blocks)
    declared = trace.get("constants")
    if not isinstance(declared, Mapping):
        return ["constants: missing"]
    what = {"faulty": "Byzantine replicas", "silent": "crashed replicas"}
    errors = []
    for key, value in expected.items():
        got = declared.get(key)
        if _comparable(key, got) != _comparable(key, value):
            errors.append(f"{key}: the trace declares {got!r}, but scenario {scenario} "
                          f"(seed {seed}) ran {what.get(key, 'with')} {value!r}")
    return errors


def _comparable(key: str, value: Any) -> Any:
    """A constant in a form where equal constants compare equal (sets as sorted lists)."""
    if key in ("faulty", "silent", "valid_blocks", "invalid_blocks") and isinstance(value, list):
        return sorted(map(str, value))
    return value
