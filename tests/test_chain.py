"""Blocks: building, checking, validating a chain from genesis, and every kind of tampering.

Hashes are recomputed here with hashlib's SM3 and the ``rfc8785`` package; Merkle roots with a
local RFC 6962 implementation. A tampered block must be rejected at the *first* bad height, with
the code and field of the first check that does not hold.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import attrs
import pytest
import rfc8785
from conftest import CHAIN_ID, keypair, make_config, public_hex

from refimpl.chain.block import (
    ZERO_HASH,
    Block,
    build_block,
    check_block,
    genesis_block,
)
from refimpl.ledger.transaction import make_transaction
from refimpl.chain.validate import validate_chain
from refimpl.crypto import sm2_sign, sm2_verify
from refimpl.encoding import canonical_bytes, to_plain
from refimpl.errors import ChargeChainError
from refimpl.contracts.dispatch import apply_transaction, begin_block, end_block
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN

GENESIS_TIME = 1_700_000_000  # conftest.make_config
INTERVAL = 600  # conftest.make_config's block interval
#: Round-robin in case-folded name order: Alpha Charge, beta power, Gamma Grid (first nodes).
PROPOSERS = {1: ("ALPHA", "A1"), 2: ("BETA", "B1"), 3: ("GAMMA", "G1"), 4: ("ALPHA", "A1"),
             5: ("BETA", "B1")}


# --------------------------------------------------------------------------- independent hashing


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def jcs(value) -> bytes:
    """RFC 8785 bytes via the rfc8785 package, of already-plain data."""
    return rfc8785.dumps(value)


def block_hash(block: Block) -> bytes:
    return sm3(jcs(to_plain(block.header)))


def merkle(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sm3(b"")
    if len(leaves) == 1:
        return sm3(b"\x00" + leaves[0])
    k = 1
    while 2 * k < len(leaves):
        k *= 2
    return sm3(b"\x01" + merkle(leaves[:k]) + merkle(leaves[k:]))


def signing_payload(digest: bytes) -> bytes:
    """What the proposer node signs: {"domain":"chargechain/block/v1","hash":<hex>} (JCS)."""
    return jcs({"domain": "chargechain/block/v1", "hash": digest.hex()})


def node_private(node_id: str) -> bytes:
    return keypair(f"node:{node_id}")[0]


def node_public(node_id: str) -> bytes:
    return keypair(f"node:{node_id}")[1]


def tx(kind, author, nonce, body, signer=None):
    return make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(signer or author)[0])


def station_body(station_id="ALPHA-S1", node_id="A1"):
    return {"station_id": station_id, "node_id": node_id, "supplier_id": "GRID", "x_m": 500,
            "y_m": 0, "piles": [{"type": "DC", "power_w": 60_000}]}


def chain_transactions() -> dict[int, list]:
    """The transactions of blocks 1..5: registrations, a charge, its settlement and rating."""
    return {
        1: [
            tx("register_supplier", ADMIN, 0, {"supplier_id": "GRID", "name": "Grid Co"}),
            tx("set_tariff", "operator:ALPHA", 0, {"periods": [{"price_id": "PEAK",
                                                   "electricity_fen_per_kwh": 141,
                                                   "service_fen_per_kwh": 60, "windows": [[0, 1440]]}]}),
            tx("register_station", "operator:ALPHA", 1, station_body()),
            tx("register_user", "operator:ALPHA", 2, {"ev_id": "EV1",
                                                      "public_key": public_hex("user:EV1")}),
            tx("top_up", "operator:ALPHA", 3, {"ev_id": "EV1", "amount_fen": 50_000}),
        ],
        2: [tx("start_charging", "user:EV1", 0, {"session_id": "s1", "station_id": "ALPHA-S1",
                                                 "pile": 0})],
        3: [tx("settle_charging", "node:A1", 0, {"session_id": "s1", "meter_start_wh": 0,
                                                 "meter_stop_wh": 1000})],
        4: [tx("rate_station", "user:EV1", 1, {"session_id": "s1", "rating": 5})],
        5: [],
    }


@attrs.frozen
class Chain:
    config: object
    blocks: tuple
    tips: tuple


@pytest.fixture(scope="module")
def chain() -> Chain:
    """Genesis plus five blocks, each built by the scheduled proposer's first node."""
    config = make_config()
    genesis, tip = genesis_block(config)
    blocks, tips = [genesis], [tip]
    for height, txs in chain_transactions().items():
        block, tip, rejected = build_block(tip, txs, node_private(PROPOSERS[height][1]))
        assert rejected == []
        blocks.append(block)
        tips.append(tip)
    return Chain(config, tuple(blocks), tuple(tips))


def resign(block: Block, node_id: str | None, *, transactions=None, **header_changes) -> Block:
    """``block`` with header fields (and transactions) replaced; signed by ``node_id`` if given."""
    header = attrs.evolve(block.header, **header_changes)
    txs = block.transactions if transactions is None else tuple(transactions)
    signature = block.signature
    if node_id is not None:
        signature = sm2_sign(node_private(node_id), signing_payload(sm3(jcs(to_plain(header)))))
    return Block(header, txs, signature)


def replaced(chain: Chain, height: int, block: Block) -> list[Block]:
    blocks = list(chain.blocks)
    blocks[height] = block
    return blocks


def first_error(chain: Chain, blocks, **kw) -> dict:
    report, _ = validate_chain(chain.config, blocks, **kw)
    assert not report.ok
    return report.first_error


# --------------------------------------------------------------------------- a good chain


def test_genesis_block(chain):
    genesis = chain.blocks[0]
    h = genesis.header
    assert (h.chain_id, h.height, h.time, h.prev_hash) == (CHAIN_ID, 0, GENESIS_TIME, ZERO_HASH)
    assert (h.proposer, h.proposer_node, h.tx_count) == ("", "", 0)
    assert h.tx_root == sm3(b"")
    assert genesis.transactions == () and genesis.signature == b""
    assert chain.tips[0].hash == block_hash(genesis)


def test_headers_commit_to_parent_time_proposer_and_transactions(chain):
    for height in range(1, len(chain.blocks)):
        block, parent = chain.blocks[height], chain.blocks[height - 1]
        h = block.header
        assert h.height == height
        assert h.prev_hash == block_hash(parent)
        assert h.time == GENESIS_TIME + height * INTERVAL
        assert (h.proposer, h.proposer_node) == PROPOSERS[height]
        assert h.tx_count == len(block.transactions) == len(chain_transactions()[height])
        assert h.tx_root == merkle([jcs(to_plain(t)) for t in block.transactions])
        assert sm2_verify(node_public(h.proposer_node), signing_payload(block_hash(block)),
                          block.signature)
        assert chain.tips[height].hash == block_hash(block)


def test_validate_chain_accepts_the_chain(chain):
    hashes = [block_hash(b) for b in chain.blocks]
    report, tip = validate_chain(chain.config, chain.blocks, hashes)
    assert report.ok and report.first_error is None
    assert report.blocks_checked == 6
    assert report.tip_hash == hashes[-1].hex()
    assert tip.hash == hashes[-1]
    assert tip.state == chain.tips[-1].state
    assert tip.state.settled["s1"].rating == 5


def test_check_block_re_derives_each_tip(chain):
    tip = chain.tips[0]
    for height in range(1, len(chain.blocks)):
        tip = check_block(tip, chain.blocks[height])
        assert tip == chain.tips[height]


def test_every_prefix_is_a_valid_chain(chain):
    for n in range(1, len(chain.blocks) + 1):
        report, _ = validate_chain(chain.config, chain.blocks[:n])
        assert report.ok and report.blocks_checked == n


def test_state_root_commits_to_the_state(chain):
    """Blocks with transactions change the state root; the empty block 5 does not change it."""
    roots = [b.header.state_root for b in chain.blocks]
    assert len(set(roots[:5])) == 5
    # block 5 has no transactions but still moves height and time, which the state holds
    assert roots[5] != roots[4]


# --------------------------------------------------------------------------- tampering


def test_changed_transaction_body_breaks_the_merkle_root(chain):
    block = chain.blocks[1]
    top_up = block.transactions[4]
    forged = attrs.evolve(top_up, body=top_up.body.set("amount_fen", 5_000_000))
    txs = block.transactions[:4] + (forged,)
    error = first_error(chain, replaced(chain, 1, Block(block.header, txs, block.signature)))
    assert (error["height"], error["code"], error["field"]) == (1, "E_BLOCK_MERKLE", "tx_root")
    assert error["expected"] == merkle([jcs(to_plain(t)) for t in txs]).hex()
    assert error["received"] == block.header.tx_root.hex()


def test_reordered_transactions_break_the_merkle_root(chain):
    block = chain.blocks[1]
    txs = (block.transactions[1], block.transactions[0]) + block.transactions[2:]
    with pytest.raises(ChargeChainError) as caught:
        check_block(chain.tips[0], Block(block.header, txs, block.signature))
    assert (caught.value.code, caught.value.field) == ("E_BLOCK_MERKLE", "tx_root")


def test_dropped_transaction_without_fixing_tx_count(chain):
    block = chain.blocks[1]
    error = first_error(chain, replaced(chain, 1, Block(block.header, block.transactions[:4],
                                                        block.signature)))
    assert (error["height"], error["code"], error["field"]) == (1, "E_BLOCK_MERKLE", "tx_count")


def test_dropped_transaction_with_fixed_root_but_old_signature(chain):
    """tx_count and tx_root fixed: the header hash changed, so the signature no longer holds."""
    block = chain.blocks[1]
    txs = block.transactions[:4]
    forged = resign(block, None, transactions=txs, tx_count=4,
                    tx_root=merkle([jcs(to_plain(t)) for t in txs]))
    error = first_error(chain, replaced(chain, 1, forged))
    assert (error["height"], error["code"], error["field"]) == (1, "E_BLOCK_SIGNATURE", "signature")


def test_dropped_transaction_re_signed_by_the_proposer(chain):
    """Re-signed by the rightful proposer: the state after the block is not the one committed."""
    block = chain.blocks[1]
    txs = block.transactions[:4]
    forged = resign(block, "A1", transactions=txs, tx_count=4,
                    tx_root=merkle([jcs(to_plain(t)) for t in txs]))
    error = first_error(chain, replaced(chain, 1, forged))
    assert (error["height"], error["code"], error["field"]) == (1, "E_BLOCK_STATE_ROOT",
                                                                "state_root")


@pytest.mark.parametrize(("height", "changes", "code", "field"), [
    (2, {"height": 3}, "E_BLOCK_HEIGHT", "height"),
    (2, {"height": 1}, "E_BLOCK_HEIGHT", "height"),
    (3, {"prev_hash": bytes(32)}, "E_BLOCK_PARENT", "prev_hash"),
    (3, {"chain_id": "another-chain"}, "E_BLOCK_PARENT", "chain_id"),
    (2, {"time": GENESIS_TIME + 2 * INTERVAL + 1}, "E_BLOCK_TIME", "time"),
    (2, {"time": GENESIS_TIME + 2 * INTERVAL - 1}, "E_BLOCK_TIME", "time"),
    (4, {"state_root": bytes(32)}, "E_BLOCK_STATE_ROOT", "state_root"),
    (4, {"receipts_root": bytes(32)}, "E_BLOCK_RECEIPTS", "receipts_root"),
    (1, {"receipts_root": sm3(b"")}, "E_BLOCK_RECEIPTS", "receipts_root"),
])
def test_re_signed_header_tampering(chain, height, changes, code, field):
    """A changed header field is caught even when the proposer re-signs the header."""
    forged = resign(chain.blocks[height], PROPOSERS[height][1], **changes)
    error = first_error(chain, replaced(chain, height, forged))
    assert (error["height"], error["code"], error["field"]) == (height, code, field)


def test_wrong_prev_hash_points_at_the_grandparent(chain):
    forged = resign(chain.blocks[3], "G1", prev_hash=block_hash(chain.blocks[1]))
    error = first_error(chain, replaced(chain, 3, forged))
    assert (error["height"], error["code"], error["field"]) == (3, "E_BLOCK_PARENT", "prev_hash")
    assert error["expected"] == block_hash(chain.blocks[2]).hex()


def test_block_proposed_and_signed_by_a_company_out_of_turn(chain):
    """Height 2 is beta power's turn; Alpha Charge proposes and signs it with its own node."""
    forged = resign(chain.blocks[2], "A1", proposer="ALPHA", proposer_node="A1")
    error = first_error(chain, replaced(chain, 2, forged))
    assert (error["height"], error["code"], error["field"]) == (2, "E_BLOCK_PROPOSER", "proposer")
    assert (error["expected"], error["received"]) == ("BETA", "ALPHA")


def test_block_proposed_by_the_right_company_but_not_its_first_node(chain):
    forged = resign(chain.blocks[3], "G2", proposer_node="G2")
    error = first_error(chain, replaced(chain, 3, forged))
    assert (error["height"], error["code"], error["field"]) == (3, "E_BLOCK_PROPOSER",
                                                                "proposer_node")


@pytest.mark.parametrize("signer", ["A2", "B1"])
def test_block_signed_by_another_node(chain, signer):
    """The header names the scheduled node, but another node's key signed it."""
    forged = resign(chain.blocks[1], signer)
    error = first_error(chain, replaced(chain, 1, forged))
    assert (error["height"], error["code"], error["field"]) == (1, "E_BLOCK_SIGNATURE", "signature")


def test_signature_checks_can_be_skipped(chain):
    """check_signatures=False replays without verifying (the block is otherwise valid)."""
    blocks = replaced(chain, 1, resign(chain.blocks[1], "B1"))
    report, _ = validate_chain(chain.config, blocks, check_signatures=False)
    assert report.ok


def _with_invalid_transaction(chain, index, bad):
    """Block 1 with transaction ``index`` replaced, header made consistent and re-signed by A1."""
    block = chain.blocks[1]
    txs = block.transactions[:index] + (bad,) + block.transactions[index + 1:]
    return resign(block, "A1", transactions=txs, tx_count=len(txs),
                  tx_root=merkle([jcs(to_plain(t)) for t in txs]))


@pytest.mark.parametrize(("index", "make_bad", "inner_code"), [
    (2, lambda: tx("register_station", "operator:ALPHA", 5, station_body()), "E_TX_NONCE"),
    (4, lambda: tx("top_up", "operator:ALPHA", 3, {"ev_id": "EV1", "amount_fen": 50_000},
                   signer="operator:BETA"), "E_TX_SIGNATURE"),
    (3, lambda: tx("register_user", "operator:ALPHA", 2, {"ev_id": "EV1", "public_key": "00"}),
     "E_TX_FIELD"),
    (1, lambda: tx("set_tariff", "user:EV1", 0, {"periods": [{"price_id": "PEAK",
                                                 "electricity_fen_per_kwh": 1,
                                                 "service_fen_per_kwh": 1, "windows": [[0, 1440]]}]}), "E_TX_AUTHOR"),
])
def test_block_with_an_invalid_transaction(chain, index, make_bad, inner_code):
    """A correct-looking, re-signed header over an invalid transaction: E_BLOCK_TX names it."""
    forged = _with_invalid_transaction(chain, index, make_bad())
    error = first_error(chain, replaced(chain, 1, forged))
    assert (error["height"], error["code"]) == (1, "E_BLOCK_TX")
    assert error["field"] == f"transactions[{index}]"
    assert error["received"] == inner_code
    assert f"transaction {index}" in error["message"]


def test_only_the_first_bad_block_is_reported(chain):
    blocks = list(chain.blocks)
    blocks[2] = resign(blocks[2], "B1", time=blocks[2].header.time + 1)
    blocks[4] = resign(blocks[4], "A1", state_root=bytes(32))
    report, tip = validate_chain(chain.config, blocks)
    assert not report.ok
    assert (report.first_error["height"], report.first_error["code"]) == (2, "E_BLOCK_TIME")
    assert report.blocks_checked == 2  # blocks 0 and 1 held
    assert report.tip_hash == block_hash(chain.blocks[1]).hex()
    assert tip.hash == block_hash(chain.blocks[1])


def test_a_later_honest_block_on_a_forged_parent_is_not_reached(chain):
    """Forging block 3 and re-linking block 4 to it: block 3 is still the one named."""
    blocks = list(chain.blocks)
    blocks[3] = resign(blocks[3], "G1", state_root=bytes(32))
    blocks[4] = resign(blocks[4], "A1", prev_hash=block_hash(blocks[3]))
    assert first_error(chain, blocks)["height"] == 3


def test_swapped_blocks(chain):
    blocks = list(chain.blocks)
    blocks[2], blocks[3] = blocks[3], blocks[2]
    error = first_error(chain, blocks)
    assert (error["height"], error["code"], error["field"]) == (2, "E_BLOCK_HEIGHT", "height")


def test_stored_hash_mismatch(chain):
    hashes = [block_hash(b) for b in chain.blocks]
    hashes[3] = sm3(b"not the header")
    error = first_error(chain, chain.blocks, stored_hashes=hashes)
    assert (error["height"], error["code"], error["field"]) == (3, "E_BLOCK_HASH", "hash")


# --------------------------------------------------------------------------- genesis


def test_genesis_of_another_configuration_is_rejected(chain):
    other = make_config(Params(block_interval_s=300))
    report, _ = validate_chain(other, chain.blocks)
    assert not report.ok
    assert (report.first_error["height"], report.first_error["code"]) == (0, "E_GENESIS")
    assert report.blocks_checked == 0


@pytest.mark.parametrize("changes", [{"state_root": bytes(32)}, {"time": GENESIS_TIME + 1},
                                     {"chain_id": "other"}])
def test_tampered_genesis_block_is_rejected(chain, changes):
    blocks = replaced(chain, 0, resign(chain.blocks[0], None, **changes))
    error = first_error(chain, blocks)
    assert (error["height"], error["code"]) == (0, "E_GENESIS")


def test_empty_chain_is_rejected(chain):
    assert first_error(chain, [])["code"] == "E_GENESIS"


# --------------------------------------------------------------------------- build_block


def test_build_block_leaves_invalid_candidates_out(chain):
    """Invalid candidates are reported with their codes; the valid ones are included in order."""
    candidates = [
        tx("register_supplier", ADMIN, 0, {"supplier_id": "GRID", "name": "Grid Co"}),
        tx("set_tariff", "operator:ALPHA", 0, {"periods": [{"price_id": "P", "electricity_fen_per_kwh": 1,
                                               "service_fen_per_kwh": 2, "windows": [[0, 1440]]}]},
           signer="operator:BETA"),
        tx("set_tariff", "operator:ALPHA", 0, {"periods": [{"price_id": "P", "electricity_fen_per_kwh": 1,
                                               "service_fen_per_kwh": 2, "windows": [[0, 1440]]}]}),
        tx("top_up", "operator:ALPHA", 1, {"ev_id": "EV9", "amount_fen": 100}),
        tx("register_station", "operator:ALPHA", 5, station_body()),
        tx("register_supplier", ADMIN, 1, {"supplier_id": "GRID", "name": "Again"}),
        tx("register_station", "operator:ALPHA", 1, station_body()),
        tx("mint_money", "operator:ALPHA", 2, {}),
        make_transaction("another-chain", "register_supplier", ADMIN, 1,
                         {"supplier_id": "X", "name": "X"}, keypair(ADMIN)[0]),
    ]
    genesis_tip = chain.tips[0]
    block, tip, rejected = build_block(genesis_tip, candidates, node_private("A1"))
    assert block.transactions == (candidates[0], candidates[2], candidates[6])
    assert [(t, e.code) for t, e in rejected] == [
        (candidates[1], "E_TX_SIGNATURE"), (candidates[3], "E_UNKNOWN_USER"),
        (candidates[4], "E_TX_NONCE"), (candidates[5], "E_DUPLICATE"),
        (candidates[7], "E_TX_KIND"), (candidates[8], "E_TX_FIELD"),
    ]
    h = block.header
    assert (h.height, h.tx_count, h.proposer, h.proposer_node) == (1, 3, "ALPHA", "A1")
    assert h.tx_root == merkle([jcs(to_plain(t)) for t in block.transactions])
    assert check_block(genesis_tip, block) == tip
    expected_state = begin_block(genesis_tip.state, 1, GENESIS_TIME + INTERVAL, genesis_tip.hash)
    for t in block.transactions:
        expected_state = apply_transaction(expected_state, t)
    assert tip.state == end_block(expected_state, "ALPHA")
    assert genesis_tip.state.suppliers == {}  # the tip it started from is untouched


def test_build_block_with_no_candidates_is_an_empty_block(chain):
    block, tip, rejected = build_block(chain.tips[0], [], node_private("A1"))
    assert rejected == [] and block.transactions == ()
    assert block.header.tx_root == sm3(b"") and block.header.tx_count == 0
    assert check_block(chain.tips[0], block) == tip


def test_build_block_is_deterministic(chain):
    """Same tip, same candidates, same key: byte-identical block (deterministic SM2)."""
    txs = chain_transactions()[1]
    first, _, _ = build_block(chain.tips[0], txs, node_private("A1"))
    second, _, _ = build_block(chain.tips[0], txs, node_private("A1"))
    assert canonical_bytes(first) == canonical_bytes(second) == canonical_bytes(chain.blocks[1])


# --------------------------------------------------------------------------- views


def test_a_view_change_passes_the_turn_to_the_next_company(chain):
    """Block 1 in view 1 is proposed by the second company in English-name order, and accepted."""
    # English-name order of conftest's members: "Alpha Charge", "beta power", "Gamma Grid".
    block, tip, rejected = build_block(chain.tips[0], chain_transactions()[1], node_private("B1"),
                                       view=1)
    assert rejected == []
    assert (block.header.view, block.header.proposer, block.header.proposer_node) == (1, "BETA", "B1")
    assert check_block(chain.tips[0], block) == tip


def test_a_block_claiming_a_view_its_proposer_does_not_hold_is_refused(chain):
    """Alpha's block relabelled as view 1 (Beta's turn) is refused as the wrong proposer."""
    forged = resign(chain.blocks[1], PROPOSERS[1][1], view=1)
    error = first_error(chain, replaced(chain, 1, forged))
    assert (error["height"], error["code"], error["field"]) == (1, "E_BLOCK_PROPOSER", "proposer")
    negative = resign(chain.blocks[1], PROPOSERS[1][1], view=-1)
    error = first_error(chain, replaced(chain, 1, negative))
    assert (error["code"], error["field"]) == ("E_BLOCK_PROPOSER", "view")


def test_receipts_commit_to_each_transactions_write_set(chain):
    """Block 1's receipts: one per transaction, status ok, digest of its exact write set."""
    from refimpl.chain.receipts import receipts_root, write_set_digest
    from refimpl.ledger.transaction import tx_id

    tip = check_block(chain.tips[0], chain.blocks[1])
    assert len(tip.receipts) == len(chain.blocks[1].transactions) > 0
    for tx, receipt, writes in zip(chain.blocks[1].transactions, tip.receipts, tip.tx_writes):
        assert (receipt.tx_id, receipt.status) == (tx_id(tx), "ok")
        assert receipt.write_set_digest == write_set_digest(writes) and writes
    assert receipts_root(tip.receipts) == chain.blocks[1].header.receipts_root


@pytest.mark.parametrize(("change", "field"), [
    ({"org_id": "AL|PHA"}, "AL|PHA.org_id"),
    ({"org_id": ""}, ".org_id"),
    ({"nodes": (("A 1\n", None),)}, "ALPHA.nodes[0]"),
    ({"english_name": "x" * 65}, "ALPHA.english_name"),
])
def test_genesis_identifiers_follow_the_transaction_rules(change, field):
    """Founding ids become world-state keys: '|' or control characters are refused."""
    from conftest import make_config

    config = make_config()
    member = config.members[0]
    if "nodes" in change:
        change = {"nodes": ((change["nodes"][0][0], member.nodes[0][1]),)}
    config = attrs.evolve(config, members=(attrs.evolve(member, **change),) + config.members[1:])
    with pytest.raises(ChargeChainError) as caught:
        genesis_block(config)
    assert (caught.value.code, caught.value.field) == ("E_GENESIS", field)


@pytest.mark.parametrize(("field", "value"), [
    ("block_interval_s", 0), ("commission_bp", 10_001), ("commission_bp", -1),
    ("credit_min", Fraction(3, 2)), ("beta", Fraction(-1, 2)), ("alpha", Fraction(1, 2)),
    ("sigma", Fraction(0)), ("evaluation_max", 0), ("rating_max", 0),
    ("utc_offset_minutes", 841), ("policy", "cheapest"), ("margin_fen", -1),
    ("reward_fen", 10**12 + 1), ("max_rebate_bp", 10_001), ("min_bean_price_bp", 0),
    ("rating_full_weight_fen", 0), ("min_start_balance_fen", -1),
])
def test_genesis_refuses_a_parameter_out_of_range(field, value):
    """validate_params at genesis: E_PARAMETER naming the first parameter out of its range."""
    with pytest.raises(ChargeChainError) as caught:
        genesis_block(make_config(attrs.evolve(Params(), **{field: value})))
    assert (caught.value.code, caught.value.field) == ("E_PARAMETER", field)


def test_genesis_checks_the_uniform_prices():
    """Uniform policy without a price, a repeated PriceID, a price out of range: E_PARAMETER."""
    from refimpl.ledger.records import UniformPrice

    for params in (Params(policy="uniform"),
                   Params(uniform_prices=(UniformPrice("P", 1), UniformPrice("P", 2))),
                   Params(uniform_prices=(UniformPrice("P", 100_001),)),
                   Params(uniform_prices=(UniformPrice("a|b", 1),))):
        with pytest.raises(ChargeChainError) as caught:
            genesis_block(make_config(params))
        assert (caught.value.code, caught.value.field) == ("E_PARAMETER", "uniform_prices")
    _, tip = genesis_block(make_config(Params(policy="uniform",
                                              uniform_prices=(UniformPrice("P", 120),))))
    assert tip.state.params.uniform_prices == (UniformPrice("P", 120),)
