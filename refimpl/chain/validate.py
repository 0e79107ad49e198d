"""Chain validation: replay from genesis, re-deriving every hash, signature and state root."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from refimpl.chain.block import Block, Tip, check_block, genesis_block, header_hash
from refimpl.chain.genesis import GenesisConfig
from refimpl.errors import ChargeChainError

__all__ = ["ValidationReport", "validate_chain"]


@attrs.frozen
class ValidationReport:
    """Outcome of a replay: how many blocks held, the tip hash, and the first mismatch if any."""

    ok: bool
    blocks_checked: int
    tip_hash: str
    first_error: dict | None = None


def _failure(height: int, checked: int, tip: Tip, error: ChargeChainError) -> ValidationReport:
    """A report naming the first block and field that does not match."""
    return ValidationReport(False, checked, tip.hash.hex(), {"height": height, **error.as_dict()})


def validate_chain(
    config: GenesisConfig,
    blocks: Sequence[Block],
    stored_hashes: Sequence[bytes] | None = None,
    *,
    check_signatures: bool = True,
) -> tuple[ValidationReport, Tip]:
    """Replay ``blocks`` (block 0 first) against ``config``; stops at the first mismatch."""
    expected_genesis, tip = genesis_block(config)
    if not blocks or blocks[0] != expected_genesis:
        error = ChargeChainError("E_GENESIS", "block 0 is not the genesis of this configuration",
                                 field="genesis", expected=tip.hash.hex(),
                                 received=header_hash(blocks[0].header).hex() if blocks else None)
        return _failure(0, 0, tip, error), tip
    for height, block in enumerate(blocks):
        if height > 0:
            try:
                tip = check_block(tip, block, check_signatures=check_signatures)
            except ChargeChainError as error:
                return _failure(height, height, tip, error), tip
        if stored_hashes is not None and stored_hashes[height] != tip.hash:
            error = ChargeChainError("E_BLOCK_HASH", f"block {height}: stored hash does not "
                                     "match the header", field="hash", expected=tip.hash.hex(),
                                     received=stored_hashes[height].hex())
            return _failure(height, height, tip, error), tip
    return ValidationReport(True, len(blocks), tip.hash.hex()), tip
