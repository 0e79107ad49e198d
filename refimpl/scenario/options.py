"""What the demo runs: the options of ``chargechain demo`` (seed, fleet, day, network faults,
pricing policy)."""

from __future__ import annotations

import attrs

from refimpl.ledger.records import POLICY_PER_OPERATOR

__all__ = ["DemoOptions"]


@attrs.frozen
class DemoOptions:
    """What the demo runs: seed, fleet size, day length in blocks, block interval, commission."""

    seed: int = 2023
    users: int = 120
    blocks: int = 288
    block_interval_s: int = 300
    commission_bp: int = 500
    #: the PBFT network: per-message delay range and the view-0 view-change timeout (ms)
    min_delay_ms: int = 5
    max_delay_ms: int = 50
    view_timeout_ms: int = 1_000
    #: faults: DEFAULT_PARTITION_NODES cut off for partition_ms from partition_start_ms (0: none),
    #: the first ``byzantine`` nodes of BYZANTINE_NODE_ORDER Byzantine, random message loss
    partition_ms: int = 5_000
    partition_start_ms: int = 10_000
    byzantine: int = 0
    byzantine_mode: str = "silent"
    drop_permille: int = 0
    #: ``per_operator`` (004's Table 2) or ``uniform``: voted in block 2, with bean rebates (000)
    policy: str = POLICY_PER_OPERATOR
