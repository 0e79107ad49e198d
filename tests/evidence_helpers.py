"""A small certified chain whose receipts carry hand-made evidence, for the evidence index and
export tests.

The evidence comes from a test-only transaction kind, ``test_evidence`` (admin), that emits
the records written in its body: :func:`evidence_kind` installs it in the dispatcher's
table for the duration of a ``with`` block (building and replaying the chain need it; reading
the store does not). Block 1 is at 2023-03-31 15:59:00 UTC (23:59 at +08:00: 2023 Q1),
block 2 ten minutes later (2023 Q2 in local time); block 1 also registers a supplier, a
station and two funded users, so the export has parties, stations and piles. (No charge is
run: the export's sessions come from imported bill rows, see tests/test_export.py.)
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import json
from collections.abc import Iterator

from conftest import CHAIN_ID, MEMBERS, keypair, public_hex
from store_helpers import Built, extend, make_store, tx

from refimpl.chain.block import genesis_block
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.contracts import dispatch
from refimpl.ledger.events import Evidence, Share, emit
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN

#: 2023-03-31 15:59:00 UTC, the time of block 1 (23:59 in +08:00)
BLOCK1_TIME = calendar.timegm((2023, 3, 31, 15, 59, 0))
INTERVAL = 600

CHARGE_Q1 = {"kind": "charge", "ref": "q1-a", "energy_ws": 90_000_000, "shares": [
    {"party": "user:EVQ", "role": "user", "energy_ws": 90_000_000, "paid_fen": 5_025},
    {"party": "operator:TESTOP", "role": "operator", "energy_ws": 90_000_000,
     "received_fen": 4_775},
    {"party": "platform:TEST", "role": "platform", "received_fen": 250,
     "commission_fen": 250}]}
FILL_Q2 = {"kind": "fill", "ref": "f1", "energy_ws": 36_000_000, "shares": [
    {"party": "user:EVQ", "role": "buyer", "energy_ws": 36_000_000, "paid_fen": 3_000},
    {"party": "supplier:TESTSUP", "role": "seller", "energy_ws": 36_000_000,
     "received_fen": 2_970, "commission_fen": 30}]}
CONTRACT_Q2 = {"kind": "contract", "ref": "c1", "energy_ws": 18_001, "shares": [
    {"party": "user:EVQ", "role": "user", "energy_ws": 18_000, "paid_fen": 100,
     "deviation_ws": 5_400, "deviation_fen": 12},
    {"party": "user:EVQ", "role": "user", "energy_ws": 1, "deviation_ws": -1,
     "deviation_fen": -2},
    {"party": "supplier:TESTSUP", "role": "grid", "received_fen": 100,
     "deviation_ws": -5_400, "deviation_fen": -12}]}


#: block 1's registrations: a supplier, a two-pile station of GAMMA, two funded users
REGISTRATIONS = [
    tx("register_supplier", ADMIN, 0, {"supplier_id": "GRID", "name": "Grid Co"}),
    tx("register_station", "operator:GAMMA", 0, {
        "station_id": "GAMMA-S1", "node_id": "G1", "supplier_id": "GRID", "x_m": 0, "y_m": 0,
        "piles": [{"type": "DC", "power_w": 60_000}, {"type": "AC", "power_w": 7_000}]}),
    tx("register_user", "operator:ALPHA", 0, {"ev_id": "EV1", "public_key": public_hex("user:EV1")}),
    tx("top_up", "operator:ALPHA", 1, {"ev_id": "EV1", "amount_fen": 10_000}),
    tx("register_user", "operator:BETA", 0, {"ev_id": "EV2", "public_key": public_hex("user:EV2")}),
]


def _test_evidence(state, transaction):
    """Emit the records of the body's ``records`` (JSON text)."""
    for record in json.loads(transaction.body["records"]):
        shares = tuple(Share(**share) for share in record["shares"])
        state = emit(state, Evidence(record["kind"], record["ref"], record["energy_ws"], shares))
    return state


@contextlib.contextmanager
def evidence_kind() -> Iterator[None]:
    """The ``test_evidence`` kind installed in the dispatcher while the block runs."""
    dispatch.TX_KINDS["test_evidence"] = dispatch.TxKind("admin", _test_evidence,
                                                         "test only: emit evidence")
    try:
        yield
    finally:
        dispatch.TX_KINDS.pop("test_evidence", None)


def evidence_tx(nonce: int, *records: dict):
    """An admin transaction emitting ``records``."""
    return tx("test_evidence", ADMIN, nonce, {"records": json.dumps(list(records))})


def config() -> GenesisConfig:
    """The test consortium with block 1 at :data:`BLOCK1_TIME` (UTC+08:00)."""
    members = tuple(Member(org, name, keypair(f"operator:{org}")[1],
                           tuple((node, keypair(f"node:{node}")[1]) for node in nodes))
                    for org, name, nodes in MEMBERS)
    return GenesisConfig(CHAIN_ID, BLOCK1_TIME - INTERVAL,
                         Params(block_interval_s=INTERVAL, utc_offset_minutes=480),
                         keypair(ADMIN)[1], members)


@functools.cache
def evidence_chain() -> Built:
    """Blocks 1..4: registrations and a Q1 charge record; a fill and a contract record (Q2);
    two empty blocks."""
    batches = {1: [*REGISTRATIONS, evidence_tx(1, CHARGE_Q1)],
               2: [evidence_tx(2, FILL_Q2, CONTRACT_Q2)], 3: [], 4: []}
    cfg = config()
    genesis, tip = genesis_block(cfg)
    blocks, tips, certificates = [genesis], [tip], []
    with evidence_kind():
        extend(cfg, blocks, tips, certificates, batches)
    return Built(cfg, tuple(blocks), tuple(tips), tuple(certificates))


def evidence_store(path) -> object:
    """A store of :func:`evidence_chain`."""
    return make_store(path, evidence_chain())
