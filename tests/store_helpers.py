"""Builders for the store tests: a small certified chain (conftest keys) and stores made from it."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Any

import attrs
from conftest import CHAIN_ID, MEMBERS, keypair, make_config, public_hex

from refimpl.chain.block import Block, Tip, build_block, genesis_block, scheduled_proposer
from refimpl.chain.genesis import GenesisConfig
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import make_transaction
from refimpl.node.certificate import Certificate, certify
from refimpl.node.network_ledger import ledger_committee
from refimpl.store.node_store import NodeStore

#: every node of the test consortium; the committee's quorum is 4 of these 6
NODES = tuple(sorted(n for _, _, nodes in MEMBERS for n in nodes))


def tx(kind: str, author: str, nonce: int, body: dict[str, Any]):
    """A transaction signed by its author (conftest keys)."""
    return make_transaction(CHAIN_ID, kind, author, nonce, body, keypair(author)[0])


def _start(ev: str, nonce: int, session: str, pile: int):
    return tx("start_charging", f"user:{ev}", nonce, {"session_id": session,
                                                       "station_id": "GAMMA-S1", "pile": pile})


def _settle(nonce: int, session: str, wh: int):
    return tx("settle_charging", "node:G1", nonce, {"session_id": session, "meter_start_wh": 0,
                                                    "meter_stop_wh": wh})


#: block height -> transactions: registrations, charges of EV1 and EV2, a rating, an empty block
BATCHES = {
    1: [tx("register_supplier", ADMIN, 0, {"supplier_id": "GRID", "name": "Grid Co"}),
        tx("set_tariff", "operator:GAMMA", 0, {"periods": [{"price_id": "PEAK", "electricity_fen_per_kwh": 141,
                                               "service_fen_per_kwh": 60, "windows": [[0, 1440]]}]}),
        tx("register_station", "operator:GAMMA", 1, {
            "station_id": "GAMMA-S1", "node_id": "G1", "supplier_id": "GRID", "x_m": 0, "y_m": 0,
            "piles": [{"type": "DC", "power_w": 60_000}, {"type": "DC", "power_w": 60_000}]}),
        tx("register_user", "operator:ALPHA", 0, {"ev_id": "EV1",
                                                  "public_key": public_hex("user:EV1")}),
        tx("top_up", "operator:ALPHA", 1, {"ev_id": "EV1", "amount_fen": 10_000}),
        tx("register_user", "operator:BETA", 0, {"ev_id": "EV2",
                                                 "public_key": public_hex("user:EV2")}),
        tx("top_up", "operator:BETA", 1, {"ev_id": "EV2", "amount_fen": 5_000})],
    2: [_start("EV1", 0, "s1", 0), _start("EV2", 0, "s2", 1)],
    3: [_settle(0, "s1", 2_000)],
    4: [_settle(1, "s2", 1_500), tx("rate_station", "user:EV1", 1,
                                    {"session_id": "s1", "rating": 5})],
    5: [_start("EV1", 2, "s3", 0)],
    6: [_settle(2, "s3", 1_000)],
    7: [],
}


@attrs.frozen
class Built:
    """A chain: configuration, blocks 0..n, the tip after each, certificates of 1..n."""

    config: GenesisConfig
    blocks: tuple[Block, ...]
    tips: tuple[Tip, ...]
    certificates: tuple[Certificate, ...]


def quorum_keys(config: GenesisConfig) -> dict[str, bytes]:
    """The private keys of the committee's first quorum of nodes."""
    committee = ledger_committee(genesis_block(config)[1].state)
    return {n: keypair(f"node:{n}")[0] for n in committee.replicas[:committee.quorum]}


def extend(config: GenesisConfig, blocks: list, tips: list, certificates: list,
           batches: dict[int, list]) -> None:
    """Build and certify the blocks of ``batches`` on the last tip (lists grow in place)."""
    signers = quorum_keys(config)
    for height, txs in batches.items():
        node = scheduled_proposer(tips[-1].state, height)[1]
        block, tip, rejected = build_block(tips[-1], txs, keypair(f"node:{node}")[0])
        assert not rejected, rejected
        blocks.append(block)
        tips.append(tip)
        certificates.append(certify(height, 0, tip.hash, signers))


@functools.cache
def built_chain() -> Built:
    """The chain of BATCHES (memoised: SM2 in pure Python is slow)."""
    config = make_config()
    genesis, tip = genesis_block(config)
    blocks, tips, certificates = [genesis], [tip], []
    extend(config, blocks, tips, certificates, BATCHES)
    return Built(config, tuple(blocks), tuple(tips), tuple(certificates))


def make_store(path: Path, built: Built, upto: int | None = None) -> Path:
    """A store holding blocks 0..upto (default: all) of ``built``."""
    last = len(built.blocks) - 1 if upto is None else upto
    with NodeStore.create(path, built.config, built.tips[0]) as store:
        for h in range(1, last + 1):
            store.append(built.blocks[h], built.tips[h], built.certificates[h - 1])
    return path


def sql(path: Path, statement: str, *params: Any) -> list[tuple]:
    """Run one SQL statement on the file with plain sqlite3 (tampering) and commit."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute(statement, params).fetchall()
        db.commit()
        return rows
    finally:
        db.close()
