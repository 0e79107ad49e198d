"""The main job: the Tianjin scenario of 004 run through a simulated day of charging.

The simulation *drives* the ledger like the clients would (users, piles' nodes, operators); the
ledger itself stays pure. Same seed, same chain, byte for byte, on any machine.

Every block is decided by PBFT among the 15 billing nodes of Table 1 (F = 4, quorum 10) on a
simulated network (:mod:`refimpl.consensus.simulator`): the scheduled company's master node
builds the block from the clients' candidate transactions, every node checks it on its own
tip. By default the network loses no message but suffers one fault: six non-master nodes
(2-4 of TELD, 11-13 of Smart Grid) are partitioned from the rest for 5 simulated seconds,
starting at 10 s. The nine connected nodes are one short of a quorum, so the height in
progress stalls, the nodes change views, and after the partition heals the next proposer
re-proposes the block the scheduled company built: the chain is the one a fault-free run
produces, and the report shows the view changes. ``--byzantine``, ``--byzantine-mode``,
``--drop-rate`` and ``--partition-ms`` change the faults.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs

from refimpl.chain.block import Block, Tip, genesis_block
from refimpl.chain.genesis import GenesisConfig
from refimpl.consensus.committee import Committee
from refimpl.consensus.network import NetworkConfig, Partition, SimulationConfig
from refimpl.consensus.replica_state import ReplicaState, SpecAction
from refimpl.encoding import FrozenMap
from refimpl.errors import ChargeChainError
from refimpl.ledger.records import POLICIES, Session
from refimpl.ledger.transaction import Transaction
from refimpl.node.certificate import Certificate
from refimpl.node.network_ledger import (
    LedgerApp,
    LedgerConsensus,
    ledger_committee,
    run_ledger_consensus,
)
from refimpl.scenario import tianjin
from refimpl.scenario.consortium import authors, build_config, keys_for, node_id
from refimpl.scenario.day import Day
from refimpl.scenario.options import DemoOptions
from refimpl.scenario.units import format_hundredths, format_thousandths

__all__ = ["DemoRun", "run_demo", "demo_network",
           "DEFAULT_PARTITION_NODES", "BYZANTINE_NODE_ORDER", "DEMO_BYZANTINE_MODES"]

#: The default fault: these non-master nodes (Figure 4 numbers) are partitioned for a while.
DEFAULT_PARTITION_NODES = (2, 3, 4, 11, 12, 13)
#: ``--byzantine N`` makes the first N of these non-master nodes Byzantine (one per operator).
BYZANTINE_NODE_ORDER = (5, 8, 10, 15)
#: What ``--byzantine`` nodes do (proposer equivocation needs a master node: simulator tests).
DEMO_BYZANTINE_MODES = ("silent", "double-vote", "late", "forge")


@attrs.frozen
class DemoRun:
    """The produced chain and what the simulation observed while producing it."""

    options: DemoOptions
    config: GenesisConfig
    blocks: tuple[Block, ...]
    tip: Tip
    rejected: tuple[tuple[int, str, str], ...]  # (height, tx kind, error code)
    table2: tuple[tuple[str, int], ...]  # (org_id, balance change in fen)
    settled: tuple[Session, ...] = ()  # every settled session, in settlement order
    consensus: dict[str, Any] = attrs.field(factory=dict)  # the report's consensus section
    certificates: tuple[Certificate, ...] = ()  # the commit certificate of blocks 1..
    tips: tuple[Tip, ...] = ()  # the tip after each block, genesis first (what a node stores)


def demo_network(options: DemoOptions, committee: Committee) -> SimulationConfig:
    """The simulated network of the demo's 15 billing nodes, with the faults of ``options``."""
    partitions: tuple[Partition, ...] = ()
    if options.partition_ms > 0:
        nodes = frozenset(node_id(n) for n in DEFAULT_PARTITION_NODES)
        partitions = (Partition(nodes, options.partition_start_ms,
                                options.partition_start_ms + options.partition_ms),)
    network = NetworkConfig(min_delay_ms=options.min_delay_ms, max_delay_ms=options.max_delay_ms,
                            drop_permille=options.drop_permille, partitions=partitions)
    byzantine = {node_id(n): (options.byzantine_mode,)
                 for n in BYZANTINE_NODE_ORDER[:options.byzantine]}
    return SimulationConfig(options.seed, committee, network, FrozenMap(byzantine),
                            record_log=False, record_trace=False)


def _check_fault_options(options: DemoOptions, f: int) -> None:
    """At most F Byzantine nodes, a known behaviour, a drop rate below 1000 permille."""
    checks = [("byzantine", f"0..{f}", 0 <= options.byzantine <= f),
              ("byzantine_mode", list(DEMO_BYZANTINE_MODES),
               options.byzantine_mode in DEMO_BYZANTINE_MODES),
              ("drop_permille", "0..500", 0 <= options.drop_permille <= 500),
              ("partition_ms", ">= 0", options.partition_ms >= 0),
              ("policy", list(POLICIES), options.policy in POLICIES),
              ("min_delay_ms, max_delay_ms", "1 <= min <= max",
               1 <= options.min_delay_ms <= options.max_delay_ms)]
    for field, expected, ok in checks:
        if not ok:
            raise ChargeChainError("E_PARAMETER", "demo fault option out of range", field=field,
                                   expected=expected,
                                   received=getattr(options, field.split(",")[0]))


def _consensus_summary(options: DemoOptions, committee: Committee,
                       outcome: LedgerConsensus) -> dict[str, Any]:
    """The report's consensus section (plain data; times as exact decimal strings)."""
    stats = outcome.result.stats
    heights = len(outcome.blocks)
    elapsed_ms = stats.last_decision_ms
    views = Counter(stats.decision_views.values())
    faults: dict[str, Any] = {
        "byzantine_nodes": sorted(outcome.result.config.byzantine),
        "byzantine_mode": options.byzantine_mode if options.byzantine else None,
        "drop_permille": options.drop_permille,
        "partition": None,
    }
    for partition in outcome.result.config.network.partitions:
        faults["partition"] = {"nodes": sorted(partition.nodes), "start_ms": partition.start_ms,
                               "end_ms": partition.end_ms}
    return {
        "protocol": "PBFT",
        "nodes": len(committee.replicas),
        "f": committee.f,
        "quorum": committee.quorum,
        "masters": dict(committee.master),
        "heights_decided": heights,
        "views_used": {str(v): n for v, n in sorted(views.items())},
        "max_view": max(views, default=0),
        "view_changes": stats.view_changes,
        "new_views": stats.new_views,
        "messages": {"sent": stats.sent, "delivered": stats.delivered, "dropped": stats.dropped,
                     "duplicated": stats.duplicated, "rejected": stats.rejected},
        "network": {"delay_ms": [options.min_delay_ms, options.max_delay_ms],
                    "view_timeout_ms": options.view_timeout_ms},
        "faults": faults,
        "block_checks": outcome.checks,
        "simulated_seconds": format_thousandths(elapsed_ms),
        "blocks_per_simulated_second": format_hundredths(heights * 100_000 // max(1, elapsed_ms)),
        "agreement": True,
    }


def run_demo(
    options: DemoOptions = DemoOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> DemoRun:
    """Produce the demo chain through PBFT: registrations, the Table 2 car, the fleet's day.

    The 15 billing nodes of Table 1 run PBFT replicas on the simulated network of
    :func:`demo_network`; each block is built by the scheduled company's master node from the
    clients' candidate transactions and checked by every replica on its own tip.
    """
    keys = keys_for(options.seed, authors(options))
    config = build_config(options, keys)
    genesis, tip0 = genesis_block(config)
    day = Day(options, keys, config)
    committee = ledger_committee(tip0.state, max_height=options.blocks,
                                 view_timeout_ms=options.view_timeout_ms)
    _check_fault_options(options, committee.f)
    node_keys = {node_id(n): keys[f"node:{node_id(n)}"][0]
                 for op in tianjin.TIANJIN_OPERATORS for n in op.node_numbers}
    observed = [0]

    def catch_up(tip: Tip) -> None:
        """Let the clients observe every decided block up to ``tip``, in height order."""
        path = []
        while tip.header.height > observed[0]:
            path.append(tip)
            tip = app.parent(tip, tip0)
        for later in reversed(path):
            block_id = later.hash.hex()
            day.observe(later.header.height, app.blocks[block_id], later.state,
                        tuple(app.rejected.get(block_id, ())))
            observed[0] = later.header.height

    def candidates(height: int, tip: Tip) -> list[Transaction]:
        """The proposer's candidates: the clients first observe every block below ``height``."""
        catch_up(tip)
        return day.candidates(height, tip.state)

    reported = [0]

    def on_decide(action: SpecAction, state: ReplicaState) -> None:
        """Report progress: the highest height some honest node decided."""
        if progress is not None and action.height > reported[0]:
            reported[0] = action.height
            progress(action.height, options.blocks)

    app = LedgerApp(candidates, node_keys)
    network = demo_network(options, committee)
    outcome = run_ledger_consensus(network, tip0, app, node_keys, on_decide)
    if len(outcome.blocks) != options.blocks:
        raise ChargeChainError("E_CONSENSUS", "the network did not decide every height",
                               field="blocks", expected=options.blocks,
                               received=len(outcome.blocks))
    catch_up(outcome.tip)
    return DemoRun(options, config, (genesis,) + outcome.blocks, outcome.tip,
                   tuple(day.rejected), tuple(day.table2), tuple(day.settled),
                   _consensus_summary(options, committee, outcome),
                   certificates=outcome.certificates, tips=(tip0,) + outcome.tips)
