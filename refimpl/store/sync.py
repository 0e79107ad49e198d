"""Bringing a store up to a chain: create it, keep what it holds, append the rest; never overwrite.

This is how ``chargechain demo --db FILE`` stores its chain: an absent FILE is created at
genesis; a FILE that holds a prefix of the chain (or all of it) is kept and extended block
by block, one transaction each; a FILE of another chain (another genesis, a block that
differs, or more blocks than the chain has) is left untouched and reported as E_STORE.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refimpl.chain.block import Block, Tip, check_block, genesis_block
from refimpl.chain.genesis import GenesisConfig
from refimpl.errors import ChargeChainError
from refimpl.node.certificate import Certificate
from refimpl.store.node_store import Hook, NodeStore

__all__ = ["executed_tips", "store_chain"]


def executed_tips(config: GenesisConfig, blocks: Sequence[Block]) -> list[Tip]:
    """The tip after each block (genesis first), by re-executing the blocks."""
    tips = [genesis_block(config)[1]]
    for block in blocks[1:]:
        tips.append(check_block(tips[-1], block))
    return tips


def _refuse(path: Path, message: str, expected: Any, received: Any) -> ChargeChainError:
    """E_STORE: the file holds another chain and is left as it is."""
    return ChargeChainError("E_STORE", f"{path} {message}; it is left untouched: pick another "
                            "file (--db)", field="path", expected=expected, received=received)


def store_chain(path: Path, config: GenesisConfig, blocks: Sequence[Block],
                tips: Sequence[Tip] | None, certificates: Sequence[Certificate], *,
                hook: Hook | None = None) -> dict[str, Any]:
    """Store ``blocks`` (block 0 first; ``certificates`` of blocks 1..) in the file ``path``.

    ``tips`` are the tips after each block (genesis first), or None to re-execute them.
    Returns what happened: created or not, blocks kept, blocks appended.
    """
    path = Path(path)
    tips = list(tips) if tips else executed_tips(config, blocks)
    if len(tips) != len(blocks) or len(certificates) != len(blocks) - 1:
        raise ChargeChainError("E_STORE", "one tip per block and one certificate per block "
                               "after genesis", field="tips/certificates",
                               expected=len(blocks), received=(len(tips), len(certificates)))
    created = not path.exists()
    store = (NodeStore.create(path, config, tips[0], hook=hook) if created
             else NodeStore.open(path, write=True))
    with store:
        stored = store.hashes()
        ours = [tip.hash for tip in tips]
        fork = next((h for h, (a, b) in enumerate(zip(stored, ours)) if a != b), None)
        if store.config != config or fork is not None:
            height = 0 if fork is None else fork
            raise _refuse(path, f"holds another chain: it forks at height {height}",
                          ours[height].hex(), stored[height].hex())
        if len(stored) > len(ours):
            raise _refuse(path, f"holds a longer chain (tip height {len(stored) - 1})",
                          f"at most height {len(ours) - 1}", len(stored) - 1)
        store.hook = hook
        for height in range(len(stored), len(blocks)):
            store.append(blocks[height], tips[height], certificates[height - 1])
    return {"created": created, "blocks_kept": 0 if created else len(stored),
            "blocks_appended": len(blocks) - len(stored)}
