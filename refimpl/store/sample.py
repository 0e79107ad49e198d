"""A small deterministic certified chain: the fixture of the crash trials and of store tools.

Three members with six nodes (quorum 4), keys derived from fixed seeds. Block 1 registers a
supplier, a tariff and a two-pile station per member and four funded users; after that,
even blocks start a charge for every user and odd blocks settle them (so blocks change,
add and delete world-state entries and feed the bill index). Every block is certified by
the first quorum of the committee's nodes with :func:`~refimpl.node.certificate.certify`.
"""

from __future__ import annotations

from typing import Any

import attrs

from refimpl.chain.block import Block, Tip, build_block, genesis_block, scheduled_proposer
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.crypto import sm2_keypair_from_seed
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN
from refimpl.ledger.transaction import Transaction, make_transaction
from refimpl.node.certificate import Certificate, certify
from refimpl.node.network_ledger import ledger_committee

__all__ = ["SAMPLE_CHAIN_ID", "SampleChain", "sample_keys", "sample_config", "sample_chain"]

SAMPLE_CHAIN_ID = "chargechain-sample"
_MEMBERS = (("ALPHA", "Alpha Charge", ("A1", "A2")), ("BETA", "Beta Power", ("B1",)),
            ("GAMMA", "Gamma Grid", ("G1", "G2", "G3")))
_USERS = ("EV1", "EV2", "EV3", "EV4")


@attrs.frozen
class SampleChain:
    """Genesis configuration, blocks 0..n, the tip after each, and certificates of 1..n."""

    config: GenesisConfig
    blocks: tuple[Block, ...]
    tips: tuple[Tip, ...]
    certificates: tuple[Certificate, ...]


def sample_keys() -> dict[str, tuple[bytes, bytes]]:
    """Every author's key pair (admin, operators, nodes, users) from fixed seeds."""
    names = [ADMIN] + [f"operator:{org}" for org, _, _ in _MEMBERS]
    names += [f"node:{n}" for _, _, nodes in _MEMBERS for n in nodes]
    names += [f"user:{ev}" for ev in _USERS]
    return {n: sm2_keypair_from_seed(f"chargechain-sample/{n}".encode()) for n in names}


def sample_config(keys: dict[str, tuple[bytes, bytes]]) -> GenesisConfig:
    """The three members and their nodes; blocks every 600 s."""
    members = tuple(Member(org, name, keys[f"operator:{org}"][1],
                           tuple((n, keys[f"node:{n}"][1]) for n in nodes))
                    for org, name, nodes in _MEMBERS)
    return GenesisConfig(SAMPLE_CHAIN_ID, 1_700_000_000, Params(block_interval_s=600),
                         keys[ADMIN][1], members)


class _Clients:
    """Signs transactions with the next nonce of each author."""

    def __init__(self, keys: dict[str, tuple[bytes, bytes]]) -> None:
        self.keys = keys
        self.nonces: dict[str, int] = {}

    def tx(self, kind: str, author: str, body: dict[str, Any]) -> Transaction:
        """A signed transaction of ``author``."""
        nonce = self.nonces.get(author, 0)
        self.nonces[author] = nonce + 1
        return make_transaction(SAMPLE_CHAIN_ID, kind, author, nonce, body,
                                self.keys[author][0])


def _registrations(c: _Clients) -> list[Transaction]:
    """Block 1: supplier, tariffs, a two-pile station per member, four funded users."""
    txs = [c.tx("register_supplier", ADMIN, {"supplier_id": "GRID", "name": "Grid Co"})]
    for i, (org, _, nodes) in enumerate(_MEMBERS):
        txs.append(c.tx("set_tariff", f"operator:{org}", {"periods": [
            {"price_id": "PEAK", "electricity_fen_per_kwh": 141, "service_fen_per_kwh": 60,
             "windows": [[0, 1440]]}]}))
        txs.append(c.tx("register_station", f"operator:{org}", {
            "station_id": f"{org}-S1", "node_id": nodes[0], "supplier_id": "GRID",
            "x_m": 100 * i, "y_m": 0,
            "piles": [{"type": "DC", "power_w": 60_000}, {"type": "AC", "power_w": 7_000}]}))
    for i, ev in enumerate(_USERS):
        org = _MEMBERS[i % len(_MEMBERS)][0]
        txs.append(c.tx("register_user", f"operator:{org}", {
            "ev_id": ev, "public_key": c.keys[f"user:{ev}"][1].hex()}))
        txs.append(c.tx("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": 100_000}))
    return txs


def _charges(c: _Clients, height: int) -> list[Transaction]:
    """Even blocks start a charge per user; odd blocks settle the previous block's charges."""
    txs = []
    for i, ev in enumerate(_USERS):
        org, _, nodes = _MEMBERS[i % len(_MEMBERS)]
        session = f"{ev}-{height - height % 2}"
        if height % 2 == 0:
            txs.append(c.tx("start_charging", f"user:{ev}", {
                "session_id": session, "station_id": f"{org}-S1", "pile": i // len(_MEMBERS)}))
        else:
            txs.append(c.tx("settle_charging", f"node:{nodes[0]}", {
                "session_id": session, "meter_start_wh": 0, "meter_stop_wh": 1_000 + 50 * i}))
    return txs


def sample_chain(height: int = 12) -> SampleChain:
    """The sample chain up to ``height`` (built with build_block, certified by a quorum)."""
    keys = sample_keys()
    config = sample_config(keys)
    genesis, tip = genesis_block(config)
    committee = ledger_committee(tip.state)
    signers = {n: keys[f"node:{n}"][0] for n in committee.replicas[:committee.quorum]}
    clients = _Clients(keys)
    blocks, tips, certificates = [genesis], [tip], []
    for h in range(1, height + 1):
        txs = _registrations(clients) if h == 1 else _charges(clients, h)
        node = scheduled_proposer(tip.state, h)[1]
        block, tip, rejected = build_block(tip, txs, keys[f"node:{node}"][0])
        if rejected:
            raise rejected[0][1]
        blocks.append(block)
        tips.append(tip)
        certificates.append(certify(h, 0, tip.hash, signers))
    return SampleChain(config, tuple(blocks), tuple(tips), tuple(certificates))
