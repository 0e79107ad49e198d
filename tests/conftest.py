"""Shared builders: a small consortium with keys, and helpers to sign and apply transactions."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import pytest

from refimpl.chain.block import genesis_block, scheduled_proposer
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.ledger.transaction import Transaction, make_transaction
from refimpl.crypto import sm2_keypair_from_seed, sm3
from refimpl.contracts.dispatch import apply_transaction, begin_block, end_block
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN, State

CHAIN_ID = "test-chain"


@functools.cache
def keypair(author: str) -> tuple[bytes, bytes]:
    """A deterministic key pair per author name (cached: pure-Python SM2 is slow)."""
    return sm2_keypair_from_seed(f"tests/{author}".encode())


def public_hex(author: str) -> str:
    """The author's public key as lower-case hex."""
    return keypair(author)[1].hex()


MEMBERS = (("ALPHA", "Alpha Charge", ("A1", "A2")), ("BETA", "beta power", ("B1",)),
           ("GAMMA", "Gamma Grid", ("G1", "G2", "G3")))


def make_config(params: Params | None = None) -> GenesisConfig:
    """Three members (English names chosen so that case matters in sorting)."""
    members = tuple(
        Member(org, name, keypair(f"operator:{org}")[1],
               tuple((node, keypair(f"node:{node}")[1]) for node in nodes))
        for org, name, nodes in MEMBERS
    )
    return GenesisConfig(CHAIN_ID, 1_700_000_000, params or Params(block_interval_s=600),
                         keypair(ADMIN)[1], members)


def tariff_body(*periods: tuple[str, int, int, list[list[int]]]) -> dict[str, Any]:
    """A set_tariff body; by default one period, PEAK at 141 + 60 fen/kWh, all day long."""
    periods = periods or (("PEAK", 141, 60, [[0, 1440]]),)
    return {"periods": [{"price_id": p, "electricity_fen_per_kwh": e, "service_fen_per_kwh": s,
                         "windows": w} for p, e, s, w in periods]}


class World:
    """A ledger under test: tracks nonces and block time so tests read like the protocol."""

    def __init__(self, params: Params | None = None) -> None:
        self.config = make_config(params)
        _, tip = genesis_block(self.config)
        self.state: State = tip.state
        self.height = 0
        #: every session settled so far (the bill history a node's store would index)
        self.history: list = []

    def tx(self, kind: str, author: str, body: dict[str, Any], *, nonce: int | None = None,
           signer: str | None = None) -> Transaction:
        """A transaction signed by ``signer`` (default: the author) with the next nonce."""
        n = self.state.nonces.get(author, 0) if nonce is None else nonce
        return make_transaction(CHAIN_ID, kind, author, n, body, keypair(signer or author)[0])

    def apply(self, kind: str, author: str, body: dict[str, Any], **kw: Any) -> State:
        """Apply one transaction and keep the new state."""
        self.state = apply_transaction(self.state, self.tx(kind, author, body, **kw))
        if kind == "settle_charging":
            self.history.append(self.state.settled[body["session_id"]])
        return self.state

    def next_block(self, blocks: int = 1) -> None:
        """End the current block (its proposer is rewarded) and start the one ``blocks`` later,
        as the chain would (view 0; the previous hash is a stand-in derived from the height)."""
        if self.height > 0:
            self.state = end_block(self.state, self.proposer)
        self.height += blocks
        #: the block's proposing company, named by the schedule of its parent's members
        self.proposer = scheduled_proposer(self.state, self.height)[0]
        self.state = begin_block(self.state, self.height,
                                 self.config.genesis_time + self.height * self.state.params.block_interval_s,
                                 sm3(f"block {self.height - 1}".encode()))

    def setup_market(self, top_up: int = 50_000) -> None:
        """Supplier, a tariff per member, one station each with an AC and a DC pile, two users."""
        self.next_block()
        self.apply("register_supplier", ADMIN, {"supplier_id": "GRID", "name": "Grid Co"})
        for org, _, nodes in MEMBERS:
            self.apply("set_tariff", f"operator:{org}", tariff_body())
            self.apply("register_station", f"operator:{org}", {
                "station_id": f"{org}-S1", "node_id": nodes[0], "supplier_id": "GRID",
                "x_m": 100 * len(org), "y_m": 0,
                "piles": [{"type": "DC", "power_w": 60_000}, {"type": "AC", "power_w": 7_000}]})
        for ev, org in (("EV1", "ALPHA"), ("EV2", "BETA")):
            self.apply("register_user", f"operator:{org}", {"ev_id": ev,
                                                            "public_key": public_hex(f"user:{ev}")})
            self.apply("top_up", f"operator:{org}", {"ev_id": ev, "amount_fen": top_up})


@pytest.fixture
def world() -> World:
    """A fresh consortium at genesis."""
    return World()


@pytest.fixture
def market() -> World:
    """A consortium with a supplier, tariffs, stations and two funded users."""
    w = World()
    w.setup_market()
    return w


def evolve(value: Any, **changes: Any) -> Any:
    """attrs.evolve, re-exported for tests."""
    return attrs.evolve(value, **changes)
