"""Blocks: header (height, time, previous hash, proposer, Merkle roots, state root), body, signature."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from refimpl.chain.genesis import GenesisConfig, genesis_state
from refimpl.chain.merkle import merkle_root
from refimpl.ledger.transaction import Transaction, transaction_from_plain
from refimpl.consensus.schedule import company_order, proposer
from refimpl.crypto import sm2_sign, sm2_verify, sm3
from refimpl.encoding import canonical_bytes, to_plain
from refimpl.errors import ChargeChainError
from refimpl.chain.receipts import Receipt, make_receipt, receipts_root
from refimpl.contracts.dispatch import apply_transaction, begin_block, end_block
from refimpl.ledger.decode import decode_plain
from refimpl.ledger.state import State
from refimpl.ledger.transaction import tx_id
from refimpl.ledger.worldstate import seal, state_changes, state_root

__all__ = [
    "ZERO_HASH",
    "BlockHeader",
    "Block",
    "Tip",
    "header_hash",
    "block_signing_bytes",
    "tx_root",
    "scheduled_proposer",
    "execute_block",
    "genesis_block",
    "build_block",
    "check_block",
    "block_from_plain",
]

ZERO_HASH = bytes(32)
BLOCK_DOMAIN = "chargechain/block/v1"


@attrs.frozen
class BlockHeader:
    """What a block commits to; its SM3 is the block hash."""

    chain_id: str
    height: int
    view: int
    time: int
    prev_hash: bytes
    proposer: str
    proposer_node: str
    tx_count: int
    tx_root: bytes
    receipts_root: bytes
    state_root: bytes


@attrs.frozen
class Block:
    """A header, its transactions in order and the proposer node's SM2 signature."""

    header: BlockHeader
    transactions: tuple[Transaction, ...]
    signature: bytes = b""


@attrs.frozen
class Tip:
    """The head of a chain: the state after the last block, that block's header and hash.

    A tip made by executing a block also carries what a node stores with it: the receipts,
    each transaction's write set, and the block's write set (parent state to this state).
    """

    state: State
    header: BlockHeader
    hash: bytes
    receipts: tuple[Receipt, ...] = attrs.field(default=(), eq=False, repr=False)
    tx_writes: tuple[dict, ...] = attrs.field(default=(), eq=False, repr=False)
    writes: dict = attrs.field(factory=dict, eq=False, repr=False)


def header_hash(header: BlockHeader) -> bytes:
    """The block hash: SM3 of the header's canonical bytes."""
    return sm3(canonical_bytes(header))


def block_signing_bytes(block_hash: bytes) -> bytes:
    """What the proposer node signs: the domain tag and the block hash."""
    return canonical_bytes({"domain": BLOCK_DOMAIN, "hash": block_hash})


def tx_root(transactions: Iterable[Transaction]) -> bytes:
    """Merkle root over the canonical bytes of the transactions."""
    return merkle_root([canonical_bytes(tx) for tx in transactions])


def scheduled_proposer(state: State, height: int, view: int = 0) -> tuple[str, str]:
    """(org_id, master node id) of the company whose turn it is (paper 000 step 3; IR-CONS-1)."""
    by_name = {op.english_name: op for op in state.operators.values()}
    operator = by_name[proposer(company_order(by_name), height, view)]
    return operator.org_id, operator.nodes[0]


def genesis_block(config: GenesisConfig) -> tuple[Block, Tip]:
    """Block 0: no transactions, no proposer, the genesis state's root; unsigned."""
    state = genesis_state(config)
    header = BlockHeader(config.chain_id, 0, 0, config.genesis_time, ZERO_HASH, "", "", 0,
                         tx_root(()), receipts_root(()), state_root(state))
    return Block(header, ()), Tip(state, header, header_hash(header))


@attrs.frozen
class Execution:
    """A block's transactions run on its parent: the sealed state, receipts and write sets."""

    state: State
    receipts: tuple[Receipt, ...]
    tx_writes: tuple[dict, ...]
    writes: dict


def _run(state: State, tx: Transaction, check_signature: bool) -> tuple[State, dict]:
    """One transaction applied, and its write set."""
    after = apply_transaction(state, tx, check_signature=check_signature)
    return after, state_changes(state, after)


def execute_block(
    parent: State, height: int, time: int, transactions: Iterable[Transaction], *,
    prev_hash: bytes, view: int = 0, check_signatures: bool = True, skip_invalid: bool = False,
) -> tuple[Execution, tuple[Transaction, ...], list[tuple[Transaction, ChargeChainError]]]:
    """Run ``transactions`` as block ``height`` of ``view`` on the block ``prev_hash``; invalid
    ones are skipped or reject the block; the proposer's company is paid its reward at the end."""
    proposer_org, _ = scheduled_proposer(parent, height, view)
    state = begin_block(parent, height, time, prev_hash)
    included, rejected, receipts, tx_writes = [], [], [], []
    for index, tx in enumerate(transactions):
        try:
            state, writes = _run(state, tx, check_signatures)
        except ChargeChainError as error:
            if skip_invalid:
                rejected.append((tx, error))
                continue
            raise ChargeChainError(
                "E_BLOCK_TX", f"block {height}: transaction {index} is invalid: "
                f"{error.describe()}", field=f"transactions[{index}]",
                expected="a valid transaction", received=error.code,
            ) from error
        included.append(tx)
        tx_writes.append(writes)
        receipts.append(make_receipt(tx_id(tx), writes, state.events))
    state = end_block(state, proposer_org)
    writes = state_changes(parent, state)
    # the block's writes are the tree's changes only when the parent is the tree's own state
    own_tree = parent.root_memo is not None and parent.root_memo is state.commitment
    execution = Execution(seal(state, writes if own_tree else None), tuple(receipts),
                          tuple(tx_writes), writes)
    return execution, tuple(included), rejected


def build_block(
    tip: Tip, candidates: Iterable[Transaction], node_private_key: bytes, *, view: int = 0,
    check_signatures: bool = True,
) -> tuple[Block, Tip, list[tuple[Transaction, ChargeChainError]]]:
    """The next block by the proposer of ``view``: valid candidates in order, invalid ones left out."""
    height = tip.header.height + 1
    time = tip.header.time + tip.state.params.block_interval_s
    org_id, node_id = scheduled_proposer(tip.state, height, view)
    run, included, rejected = execute_block(tip.state, height, time, candidates, prev_hash=tip.hash,
                                            view=view, check_signatures=check_signatures,
                                            skip_invalid=True)
    header = BlockHeader(tip.state.chain_id, height, view, time, tip.hash, org_id, node_id,
                         len(included), tx_root(included), receipts_root(run.receipts),
                         state_root(run.state))
    digest = header_hash(header)
    block = Block(header, included, sm2_sign(node_private_key, block_signing_bytes(digest)))
    return block, _tip(run, header, digest), rejected


def _tip(run: Execution, header: BlockHeader, digest: bytes) -> Tip:
    """The tip after an executed block."""
    return Tip(run.state, header, digest, run.receipts, run.tx_writes, run.writes)


def _mismatch(code: str, height: int, field: str, expected: Any, received: Any) -> ChargeChainError:
    """The error naming the first block and field that does not match."""
    return ChargeChainError(code, f"block {height}: {field} does not match", field=field,
                            expected=expected, received=received)


def check_block(tip: Tip, block: Block, *, check_signatures: bool = True) -> Tip:
    """Re-derive every field of ``block`` on top of ``tip``; the new tip, or the first mismatch."""
    header = block.header
    height = tip.header.height + 1
    checks = [
        ("E_BLOCK_HEIGHT", "height", height, header.height),
        ("E_BLOCK_PARENT", "chain_id", tip.header.chain_id, header.chain_id),
        ("E_BLOCK_PARENT", "prev_hash", tip.hash.hex(), header.prev_hash.hex()),
        ("E_BLOCK_TIME", "time", tip.header.time + tip.state.params.block_interval_s, header.time),
    ]
    for code, field, expected, received in checks:
        if expected != received:
            raise _mismatch(code, height, field, expected, received)
    if not isinstance(header.view, int) or header.view < 0:
        raise _mismatch("E_BLOCK_PROPOSER", height, "view", ">= 0", header.view)
    org_id, node_id = scheduled_proposer(tip.state, height, header.view)
    for field, expected, received in (("proposer", org_id, header.proposer),
                                      ("proposer_node", node_id, header.proposer_node)):
        if expected != received:
            raise _mismatch("E_BLOCK_PROPOSER", height, field, expected, received)
    if header.tx_count != len(block.transactions):
        raise _mismatch("E_BLOCK_MERKLE", height, "tx_count", len(block.transactions), header.tx_count)
    root = tx_root(block.transactions)
    if root != header.tx_root:
        raise _mismatch("E_BLOCK_MERKLE", height, "tx_root", root.hex(), header.tx_root.hex())
    digest = header_hash(header)
    node_key = tip.state.nodes[node_id].public_key
    if check_signatures and not sm2_verify(node_key, block_signing_bytes(digest), block.signature):
        raise _mismatch("E_BLOCK_SIGNATURE", height, "signature", f"signature of {node_id}",
                        block.signature.hex()[:16] + "...")
    run, _, _ = execute_block(tip.state, height, header.time, block.transactions,
                              prev_hash=tip.hash, view=header.view,
                              check_signatures=check_signatures)
    root = state_root(run.state)
    if root != header.state_root:
        raise _mismatch("E_BLOCK_STATE_ROOT", height, "state_root", root.hex(),
                        header.state_root.hex())
    root = receipts_root(run.receipts)
    if root != header.receipts_root:
        raise _mismatch("E_BLOCK_RECEIPTS", height, "receipts_root", root.hex(),
                        header.receipts_root.hex())
    return _tip(run, header, digest)


def _hex(value: Any, field: str) -> bytes:
    """Bytes from a lower-case hex string field."""
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raw = None
    if raw is None or raw.hex() != value:
        raise ChargeChainError("E_DECODING", "expected lower-case hex", field=field,
                               expected="lower-case hex",
                               received=value if isinstance(value, str) else type(value).__name__)
    return raw


def block_from_plain(plain: Mapping[str, Any]) -> Block:
    """Decode a block stored as plain JSON data (the exact inverse of ``to_plain``): exactly
    the block's and the header's members, each of its type (E_DECODING naming the field)."""
    if not isinstance(plain, Mapping) or set(plain) != {"header", "transactions", "signature"}:
        received = sorted(map(str, plain)) if isinstance(plain, Mapping) else type(plain).__name__
        raise ChargeChainError("E_DECODING", "a block is an object with exactly header, "
                               "transactions and signature", field="block",
                               expected=["header", "signature", "transactions"],
                               received=received)
    header = decode_plain(plain["header"], BlockHeader, "header")
    if not isinstance(plain["transactions"], list):
        raise ChargeChainError("E_DECODING", "a block's transactions are an array",
                               field="transactions", expected="array",
                               received=type(plain["transactions"]).__name__)
    block = Block(header, tuple(transaction_from_plain(t) for t in plain["transactions"]),
                  _hex(plain["signature"], "signature"))
    try:
        canonical = to_plain(block) == plain
    except ChargeChainError as error:  # a value JSON can hold but canonical bytes cannot
        raise ChargeChainError("E_DECODING", f"block has no canonical form: {error.message}",
                               field=error.field, expected=error.expected,
                               received=error.received) from None
    if not canonical:
        raise ChargeChainError("E_DECODING", "block is not in canonical form", field="block")
    return block
