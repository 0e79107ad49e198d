"""Bringing a store up to a chain: create it, keep what it holds, append the rest; never overwrite.

This is how ``chargechain demo --db FILE`` stores its chain: an absent FILE is created at
genesis; a FILE that holds a prefix of the chain (or all of it) is kept and extended block
by block, one transaction each; a FILE of another chain (another genesis, a block that
differs, or more blocks than the chain has) is left untouched and reported as E_STORE.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refimpl.chain.block import Block, Tip, check_block, genesis_block
from refimpl.chain.genesis import GenesisConfig
from refimpl.errors import ChargeChainError
from refimpl.node.certificate import Certificate
from refimpl.store.node_store import Hook, NodeStore
from refimpl.store.schema import store_error

__all__ = ["check_target", "executed_tips", "store_chain"]


def check_target(path: Path) -> None:
    """E_STORE now if :func:`store_chain` could not write ``path`` (checked before a long run).

    An existing ``path`` must be a store this process may open for writing; an absent one
    needs an existing folder this process may create files in (probed with a temporary
    file, removed at once) and no leftover SQLite journal beside it. Whether an existing
    store holds the same chain is only known once the chain is built.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise store_error("the path is not a file (a directory?)", path,
                              expected="a store file, or a new file in an existing folder")
        NodeStore.open(path, write=True).close()
        return
    folder = path.parent
    if not folder.is_dir():
        raise store_error("the folder of the store does not exist", path,
                          expected="a file in an existing folder")
    for journal in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if journal.exists() or journal.is_symlink():
            raise store_error("a leftover SQLite journal lies beside the store; SQLite would "
                              "apply it to the new file", journal)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.probe-", dir=folder)
    except OSError as error:
        raise store_error(f"cannot create files in the folder of the store "
                          f"({error.strerror or error})", path,
                          expected="a folder this process may write") from None
    os.close(fd)
    os.unlink(probe)


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
