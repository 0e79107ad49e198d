"""The world the ``transactions`` and ``bad-input`` vectors run in: a small real chain.

A genesis of three members (ALPHA with nodes A1 and A2, BETA with B1, GAMMA with C1), then
seven blocks of signed transactions, built with :func:`refimpl.chain.block.build_block` and
every transaction checked to be included. The state after block 7 (:func:`world`) is the
pre-state of every vector; the block context of a vector is block 8 unless a case moves the
time on (contract windows and deadlines). What the world holds, for the cases to use:

* suppliers GRID (signs, grid company with a catalog price, market TJ), SOLAR (signs, catalog
  price withdrawn, market BJ not opened yet) and PLAIN (no key: it cannot author anything);
* stations ST-A1 (ALPHA, node A1, piles DC/AC/DC), ST-B1 (BETA, node B1), ST-C1 (GAMMA,
  whose operator has no tariff) and the private pile ST-P1 of EV3, shared with community
  ``Garden``;
* users EV1 (open session S1 on ST-A1 pile 0, ALPHA beans, tokens, a resting buy O-EV1),
  EV2 (latest session S2 settled and paid, unrated), EV3 (the pile's owner), EV4 (party to
  every supply contract), EV5 (credit -1 after an overdrawn charge), EV6 (no money), EV7
  (community Garden; S7 settled and rated), EV8 (S8 settled with no energy);
* resting orders O-GRID (sell) and O-GRIDB (buy) of GRID, O-EV1S (sell) of EV1; proposals P-OK and PS-OK, PS-BIG (open), PA and PC (enacted),
  PB (open, unenactable since PC), PX (expired);
* supply contracts K1 (in force, window ahead), K2 (computed), K3 (computed, the supplier
  confirmed), K5 (computed, the user confirmed), K4 (in force, window over, its grid SOLAR
  cannot pay the shortfall).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import attrs

from refimpl.chain.block import build_block, genesis_block
from refimpl.chain.genesis import GenesisConfig, Member
from refimpl.conformance.settlement import TIANJIN  # the Tianjin time-of-use tariff
from refimpl.contracts.market.supply import COSIGN_PURPOSE as SUPPLY_PURPOSE
from refimpl.contracts.private_piles import COSIGN_PURPOSE as PILE_PURPOSE
from refimpl.crypto import sm2_keypair_from_seed, sm2_sign
from refimpl.encoding import canonical_bytes, to_plain
from refimpl.ledger.cosign import cosign
from refimpl.ledger.records import Params
from refimpl.ledger.state import ADMIN, State
from refimpl.ledger.transaction import Transaction, make_transaction, signing_bytes
from refimpl.ledger.worldstate import entries_as_dict

__all__ = [
    "BASE",
    "CHAIN_ID",
    "FLAT",
    "GENESIS_TIME",
    "INTERVAL",
    "K1",
    "K4",
    "K_SHORT",
    "ROLE_OF",
    "TIANJIN",
    "WRONG_ROLE",
    "Base",
    "World",
    "config",
    "contract_body",
    "envelope_file",
    "key",
    "pile_body",
    "pre_state_plain",
    "plain_tx",
    "public_hex",
    "sign",
    "sign_plain",
    "world",
]

CHAIN_ID = "chargechain-conformance"
#: 2023-06-01 00:00 UTC, 08:00 local time (UTC+8): the blocks fall in ALPHA's peak period
GENESIS_TIME = 1_685_577_600
INTERVAL = 300
G = GENESIS_TIME

FLAT = [{"price_id": "ALL", "electricity_fen_per_kwh": 90, "service_fen_per_kwh": 50,
         "windows": [[0, 1440]]}]
DC, AC = {"type": "DC", "power_w": 60_000}, {"type": "AC", "power_w": 7_000}

#: supply-contract windows (block times are G + 300 h)
K1 = {"window_start": G + 10_000, "window_end": G + 20_000, "confirm_deadline": G + 30_000}
K_SHORT = {"window_start": G + 1_000, "window_end": G + 1_200, "confirm_deadline": G + 40_000}
K4 = {"window_start": G + 1_000, "window_end": G + 2_000, "confirm_deadline": G + 50_000}

MEMBERS = (("ALPHA", "Alpha Charging", ("A1", "A2")), ("BETA", "Beta Power", ("B1",)),
           ("GAMMA", "Gamma Grid", ("C1",)))


@functools.cache
def key(author: str) -> tuple[bytes, bytes]:
    """The SM2 key pair of an author (or of any name), derived from the name."""
    return sm2_keypair_from_seed(f"chargechain-conformance/{author}".encode())


def public_hex(author: str) -> str:
    """An author's public key as 130 hex digits."""
    return key(author)[1].hex()


@functools.cache
def config() -> GenesisConfig:
    """The genesis: three members, rewards large enough to back beans, other defaults."""
    params = Params(reward_fen=5_000, margin_fen=1_000_000)
    members = tuple(Member(org, name, key(f"operator:{org}")[1],
                           tuple((n, key(f"node:{n}")[1]) for n in nodes))
                    for org, name, nodes in MEMBERS)
    return GenesisConfig(CHAIN_ID, GENESIS_TIME, params, key(ADMIN)[1], members)


def sign(kind: str, author: str, body: Mapping[str, Any], nonce: int, *,
         chain_id: str = CHAIN_ID, signer: str | None = None,
         user_id: bytes | None = None) -> Transaction:
    """A transaction signed by ``signer``'s key (the author's by default), optionally with
    another SM2 user id than the default."""
    private = key(signer or author)[0]
    if user_id is None:
        return make_transaction(chain_id, kind, author, nonce, body, private)
    unsigned = make_transaction(chain_id, kind, author, nonce, body, None)
    return attrs.evolve(unsigned, signature=sm2_sign(private, signing_bytes(unsigned),
                                                     user_id=user_id))


def plain_tx(tx: Transaction) -> dict[str, Any]:
    """A transaction as plain JSON data, its body's members in canonical (sorted) order: a
    FrozenMap iterates in hash order, which changes with PYTHONHASHSEED, and the vector files
    must be the same bytes on every run."""
    return {**to_plain(tx), "body": json.loads(canonical_bytes(tx.body))}


def sign_plain(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`sign` as plain JSON data (the vectors' form of a transaction)."""
    return plain_tx(sign(*args, **kwargs))


def pile_body(station_id: str, owner: str, node_id: str, *, shared: str = "community",
              community: str | None = "Garden", signer: str | None = None,
              periods: list | None = None, windows: list | None = None) -> dict[str, Any]:
    """A register_private_pile body with the owner's counter-signature over its terms."""
    terms: dict[str, Any] = {"station_id": station_id, "owner": owner, "node_id": node_id,
                             "x_m": 1200, "y_m": -800, "pile": {"type": "AC", "power_w": 7_000},
                             "shared_with": shared, "windows": windows or [[0, 1440]],
                             "periods": periods or FLAT}
    if community is not None:
        terms["community"] = community
    signature = cosign(key(f"user:{signer or owner}")[0], CHAIN_ID, PILE_PURPOSE,
                       f"user:{owner}", terms)
    return {**terms, "owner_signature": signature}


def contract_body(contract_id: str, ev_id: str, supplier: str, grid: str, *,
                  power_w: int = 10_000, energy_wh: int = 100, price: int = 60,
                  window: Mapping[str, int] = K1, station_id: str = "ST-A1",
                  signer: str | None = None) -> dict[str, Any]:
    """A sign_contract body with the supplier's counter-signature over its terms."""
    terms = {"contract_id": contract_id, "ev_id": ev_id, "supplier_id": supplier,
             "grid_id": grid, "station_id": station_id, "power_w": power_w,
             "energy_wh": energy_wh, "price_fen_per_kwh": price, **window}
    signature = cosign(key(f"supplier:{signer or supplier}")[0], CHAIN_ID, SUPPLY_PURPOSE,
                       f"supplier:{supplier}", terms)
    return {**terms, "supplier_signature": signature}


def _spend(pid: str, amount: int) -> dict[str, Any]:
    """A spend_pool proposal body."""
    return {"proposal_id": pid, "action": "spend_pool", "amount_fen": amount,
            "recipient": "BETA", "purpose": "promotion of the league", "expires_height": 1_000}


def _params(pid: str, params: dict[str, Any], expires: int = 1_000) -> dict[str, Any]:
    """A set_params proposal body."""
    return {"proposal_id": pid, "action": "set_params", "params": params,
            "expires_height": expires}


def _blocks() -> list[list[tuple[str, str, dict[str, Any]]]]:
    """The seven blocks of the world: (kind, author, body) in order."""
    A, B, C, ADM = "operator:ALPHA", "operator:BETA", "operator:GAMMA", ADMIN
    GRID, SOLAR = "supplier:GRID", "supplier:SOLAR"
    station = {"x_m": 1000, "y_m": 2000, "supplier_id": "GRID"}
    user = lambda ev, **extra: {"ev_id": ev, "public_key": public_hex(f"user:{ev}"), **extra}
    top = lambda ev, fen: {"ev_id": ev, "amount_fen": fen}
    start = lambda sid, st, pile, **extra: {"session_id": sid, "station_id": st, "pile": pile,
                                            **extra}
    meter = lambda sid, a, b: {"session_id": sid, "meter_start_wh": a, "meter_stop_wh": b}
    block1 = [
        ("register_supplier", ADM, {"supplier_id": "GRID", "name": "State Grid Tianjin",
                                    "public_key": public_hex(GRID)}),
        ("register_supplier", ADM, {"supplier_id": "SOLAR", "name": "Solar Cooperative",
                                    "public_key": public_hex(SOLAR)}),
        ("register_supplier", ADM, {"supplier_id": "PLAIN", "name": "Plain Supplier"}),
        ("set_tariff", A, {"periods": TIANJIN}),
        ("set_tariff", B, {"periods": FLAT}),
        ("register_station", A, {"station_id": "ST-A1", "node_id": "A1", **station,
                                 "piles": [DC, AC, DC]}),
        ("register_station", B, {"station_id": "ST-B1", "node_id": "B1", **station,
                                 "piles": [DC, AC]}),
        ("register_station", C, {"station_id": "ST-C1", "node_id": "C1", **station,
                                 "supplier_id": "SOLAR", "piles": [AC]}),
        ("register_user", A, user("EV1", community="Garden")),
        ("register_user", A, user("EV2")),
        ("register_user", A, user("EV3", community="Garden")),
        ("register_user", B, user("EV4")),
        ("register_user", A, user("EV5")),
        ("register_user", A, user("EV6")),
        ("register_user", B, user("EV7", community="Garden")),
        ("register_user", B, user("EV8")),
        ("top_up", A, top("EV1", 200_000)), ("top_up", A, top("EV2", 100_000)),
        ("top_up", A, top("EV3", 50_000)), ("top_up", B, top("EV4", 20_000_000)),
        ("top_up", A, top("EV5", 1_000)), ("top_up", B, top("EV7", 100_000)),
        ("top_up", B, top("EV8", 100_000)),
        ("top_up_supplier", A, {"supplier_id": "GRID", "amount_fen": 1_000_000}),
        ("top_up_supplier", B, {"supplier_id": "SOLAR", "amount_fen": 100_000}),
        ("set_catalog_price", GRID, {"catalog_fen_per_kwh": 80}),
        ("set_catalog_price", SOLAR, {"catalog_fen_per_kwh": 50_000}),
        ("buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 100}),
    ]
    block2 = [
        ("register_private_pile", A, pile_body("ST-P1", "EV3", "A2")),
        ("open_market", GRID, {"area_id": "TJ", "reserve_fen": 50_000, "supply_wh": 10_000_000,
                               "crr_ppm": 500_000}),
        ("set_bean_rules", A, {"rebate_bp": 500, "price_bp": 5_000}),
        ("set_bean_rules", C, {"rebate_bp": 0, "price_bp": 5_000}),
        ("start_charging", "user:EV1", start("S1", "ST-A1", 0, bean_issuer="ALPHA",
                                             max_beans=50)),
        ("start_charging", "user:EV2", start("S2", "ST-B1", 0)),
        ("start_charging", "user:EV5", start("S5", "ST-A1", 2)),
        ("start_charging", "user:EV7", start("S7", "ST-B1", 1)),
        ("propose", A, _params("PA", {"uniform_prices": [
            {"price_id": "U-PEAK", "electricity_fen_per_kwh": 100}]})),
        ("approve", B, {"proposal_id": "PA"}),
    ]
    block3 = [
        ("settle_charging", "node:B1", meter("S2", 0, 4_000)),
        ("settle_charging", "node:A1", meter("S5", 0, 5_000)),
        ("settle_charging", "node:B1", meter("S7", 100, 500)),
        ("start_charging", "user:EV8", start("S8", "ST-B1", 0)),
        ("place_order", "user:EV1", {"order_id": "O-EV1", "area_id": "TJ", "side": "buy",
                                     "price_fen_per_kwh": 8, "quantity_wh": 1_000,
                                     "expires_height": 500}),
        ("supplier_place_order", GRID, {"order_id": "O-GRID", "area_id": "TJ", "side": "sell",
                                        "price_fen_per_kwh": 50, "quantity_wh": 2_000,
                                        "expires_height": 500}),
        ("market_order", "user:EV1", {"order_id": "M-EV1", "area_id": "TJ", "side": "buy",
                                      "amount": 500, "min_return": 0}),
        ("place_order", "user:EV1", {"order_id": "O-EV1S", "area_id": "TJ", "side": "sell",
                                     "price_fen_per_kwh": 30, "quantity_wh": 100,
                                     "expires_height": 500}),
        ("supplier_place_order", GRID, {"order_id": "O-GRIDB", "area_id": "TJ", "side": "buy",
                                        "price_fen_per_kwh": 5, "quantity_wh": 1_000,
                                        "expires_height": 500}),
        ("sign_contract", "user:EV4", contract_body("K1", "EV4", "SOLAR", "GRID")),
        ("sign_contract", "user:EV4", contract_body("K2", "EV4", "SOLAR", "GRID",
                                                    window=K_SHORT)),
        ("sign_contract", "user:EV4", contract_body("K3", "EV4", "SOLAR", "GRID",
                                                    window=K_SHORT)),
        ("sign_contract", "user:EV4", contract_body("K5", "EV4", "SOLAR", "GRID",
                                                    window=K_SHORT)),
        ("sign_contract", "user:EV4", contract_body("K4", "EV4", "GRID", "SOLAR",
                                                    power_w=1_000_000, energy_wh=200_000,
                                                    window=K4)),
        ("propose", A, _params("PB", {"policy": "uniform"})),
        ("propose", A, _params("PC", {"uniform_prices": []})),
        ("approve", B, {"proposal_id": "PC"}),
        ("propose", A, _params("P-OK", {"commission_bp": 400})),
        ("propose", C, _spend("PS-OK", 1_000)),
        ("propose", C, _spend("PS-BIG", 10**12)),
        ("propose", B, _params("PX", {"reward_fen": 200}, expires=3)),
    ]
    block4 = [
        ("settle_charging", "node:B1", meter("S8", 700, 700)),
        ("rate_station", "user:EV7", {"session_id": "S7", "rating": 4}),
        ("record_delivery", "node:A1", {"contract_id": "K2", "energy_wh": 150}),
        ("record_delivery", "node:A1", {"contract_id": "K3", "energy_wh": 100}),
        ("record_delivery", "node:A1", {"contract_id": "K5", "energy_wh": 50}),
        ("set_catalog_price", SOLAR, {"catalog_fen_per_kwh": 0}),
    ]
    block5 = [("settle_contract", "node:A1", {"contract_id": k}) for k in ("K2", "K3", "K5")]
    block6 = [
        ("supplier_confirm_settlement", SOLAR, {"contract_id": "K3"}),
        ("confirm_settlement", "user:EV4", {"contract_id": "K5"}),
    ]
    block7 = [("top_up", A, top("EV2", 1_000))]
    return [block1, block2, block3, block4, block5, block6, block7]


@attrs.frozen
class World:
    """The chain's state after its last block, the next block's context, and every
    transaction the chain holds, by author (for replays)."""

    state: State
    height: int
    time: int
    tip_hash: bytes
    state_root: bytes
    sent: Mapping[str, tuple[Transaction, ...]]
    #: the chain's tip (refimpl.chain.block.Tip), to build block 8 on in tests
    tip: Any = attrs.field(default=None, eq=False, repr=False)

    def nonce(self, author: str) -> int:
        """The author's next nonce in the world."""
        return self.state.nonces.get(author, 0)

    def block(self, **changes: Any) -> dict[str, Any]:
        """The context of the next block (height + 1, time + t, previous hash = the tip)."""
        plain = {"height": self.height + 1, "time": self.time + INTERVAL,
                 "prev_hash": self.tip_hash.hex()}
        return {**plain, **changes}


@functools.cache
def world() -> World:
    """Build the chain (every transaction must be included) and return its last state."""
    _, tip = genesis_block(config())
    nonces: dict[str, int] = {}
    sent: dict[str, list[Transaction]] = {}
    for txs in _blocks():
        signed = []
        for kind, author, body in txs:
            tx = sign(kind, author, body, nonces.get(author, 0))
            nonces[author] = tx.nonce + 1
            sent.setdefault(author, []).append(tx)
            signed.append(tx)
        _, proposer_node = _proposer_node(tip)
        _, tip, rejected = build_block(tip, signed, key(f"node:{proposer_node}")[0])
        if rejected:
            tx, error = rejected[0]
            raise AssertionError(f"world block {tip.header.height}: {tx.kind} by {tx.author} "
                                 f"rejected: {error}")
    return World(tip.state, tip.header.height, tip.header.time, tip.hash, tip.header.state_root,
                 {a: tuple(t) for a, t in sent.items()}, tip)


def _proposer_node(tip: Any) -> tuple[str, str]:
    """The scheduled proposer of the block after ``tip``."""
    from refimpl.chain.block import scheduled_proposer

    return scheduled_proposer(tip.state, tip.header.height + 1)


def pre_state_plain(state: State) -> dict[str, Any]:
    """A state's world-state entries as JSON values (key -> the value its bytes encode)."""
    return {k: json.loads(v) for k, v in entries_as_dict(state).items()}


@attrs.frozen
class Base:
    """A valid transaction of one kind on the world: author, body, and the block time if the
    kind needs another than the next block's (None)."""

    author: str
    body: Mapping[str, Any]
    time: int | None = None


_A, _B, _C = "operator:ALPHA", "operator:BETA", "operator:GAMMA"

#: One valid transaction per kind, on the world's state (the matrix mutates these).
BASE: dict[str, Base] = {
    "register_operator": Base(ADMIN, {"org_id": "DELTA", "english_name": "Delta Energy",
                                      "admin_key": public_hex("operator:DELTA"),
                                      "nodes": [{"node_id": "D1",
                                                 "public_key": public_hex("node:D1")}]}),
    "register_supplier": Base(ADMIN, {"supplier_id": "HYDRO", "name": "Hydro Power",
                                      "public_key": public_hex("supplier:HYDRO")}),
    "register_station": Base(_A, {"station_id": "ST-A2", "node_id": "A2", "supplier_id": "GRID",
                                  "x_m": -500, "y_m": 700, "piles": [DC, AC]}),
    "register_user": Base(_A, {"ev_id": "EV9", "public_key": public_hex("user:EV9"),
                               "community": "Garden"}),
    "set_tariff": Base(_C, {"periods": FLAT}),
    "top_up": Base(_A, {"ev_id": "EV1", "amount_fen": 5_000}),
    "start_charging": Base("user:EV2", {"session_id": "S9", "station_id": "ST-A1", "pile": 1}),
    "settle_charging": Base("node:A1", {"session_id": "S1", "meter_start_wh": 1_000,
                                        "meter_stop_wh": 6_000}),
    "rate_station": Base("user:EV2", {"session_id": "S2", "rating": 5}),
    "add_to_pool": Base(_B, {"amount_fen": 10_000}),
    "withdraw_reward": Base(_B, {"amount_fen": 1_000}),
    "set_bean_rules": Base(_B, {"rebate_bp": 200, "price_bp": 8_000}),
    "buy_beans": Base("user:EV2", {"issuer": "ALPHA", "beans": 200}),
    "send_red_envelope": Base(_A, {"recipients": ["EV1", "EV2", "EV3"], "total_beans": 100,
                                   "split": "even"}),
    "propose": Base(_A, {"proposal_id": "P-NEW", "action": "set_params",
                         "params": {"commission_bp": 450}, "expires_height": 100}),
    "approve": Base(_B, {"proposal_id": "P-OK"}),
    "register_private_pile": Base(_A, pile_body("ST-P2", "EV2", "A2", shared="everyone",
                                                community=None)),
    "open_market": Base("supplier:SOLAR", {"area_id": "BJ", "reserve_fen": 10_000,
                                           "supply_wh": 1_000_000, "crr_ppm": 300_000}),
    "place_order": Base("user:EV2", {"order_id": "O-EV2", "area_id": "TJ", "side": "buy",
                                     "price_fen_per_kwh": 9, "quantity_wh": 500,
                                     "expires_height": 100}),
    "supplier_place_order": Base("supplier:GRID", {"order_id": "O-GRID2", "area_id": "TJ",
                                                   "side": "sell", "price_fen_per_kwh": 40,
                                                   "quantity_wh": 1_000, "expires_height": 100}),
    "market_order": Base("user:EV2", {"order_id": "M-EV2", "area_id": "TJ", "side": "buy",
                                      "amount": 1_000, "min_return": 0}),
    "supplier_market_order": Base("supplier:GRID", {"order_id": "M-GRID", "area_id": "TJ",
                                                    "side": "sell", "amount": 5_000,
                                                    "min_return": 0}),
    "cancel_order": Base("user:EV1", {"order_id": "O-EV1"}),
    "supplier_cancel_order": Base("supplier:GRID", {"order_id": "O-GRID"}),
    "set_catalog_price": Base("supplier:SOLAR", {"catalog_fen_per_kwh": 70}),
    "top_up_supplier": Base(_A, {"supplier_id": "SOLAR", "amount_fen": 5_000}),
    "sign_contract": Base("user:EV4", contract_body("K6", "EV4", "SOLAR", "GRID")),
    "record_delivery": Base("node:A1", {"contract_id": "K1", "energy_wh": 80}, G + 15_000),
    "settle_contract": Base("node:A1", {"contract_id": "K1"}, K1["window_end"] + 300),
    "confirm_settlement": Base("user:EV4", {"contract_id": "K2"}),
    "supplier_confirm_settlement": Base("supplier:SOLAR", {"contract_id": "K2"}),
    "finalize_contract": Base("user:EV4", {"contract_id": "K2"}, K_SHORT["confirm_deadline"]),
    "supplier_finalize_contract": Base("supplier:SOLAR", {"contract_id": "K2"},
                                       K_SHORT["confirm_deadline"]),
}

#: an author of each role, and a registered author of another role (for "wrong role" cases)
ROLE_OF = {"admin": ADMIN, "operator": _A, "node": "node:A1", "user": "user:EV1",
           "supplier": "supplier:GRID"}
WRONG_ROLE = {"admin": _A, "operator": "user:EV1", "node": "user:EV1", "user": _A,
              "supplier": "user:EV1"}


def _nested(levels: int) -> Any:
    """A list nested ``levels`` deep (``levels`` lists, innermost empty)."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def envelope_file(run: Any, notes: Mapping[str, str], shared: Mapping[str, Any]) -> Any:
    """The file of envelope cases and malformed inputs of ``tx.apply`` (``run``), mostly on
    top_up: decoding, the order of the checks, signatures, the nesting limit."""
    from refimpl.conformance.cases import VectorFile

    f = VectorFile("transactions", "tx-envelope", "ChargeChain transaction envelope",
                   ["The envelope of a transaction, checked before any contract: decoding, "
                    "chain id, kind, author, nonce, signature, in that order (DF-14), the "
                    "body's nesting limit, and malformed inputs of the operation."], notes)
    f.group("tx.apply", "the envelope and the operation's input", shared)
    w = world()
    good = sign_plain("top_up", "operator:ALPHA", BASE["top_up"].body,
                      w.nonce("operator:ALPHA"))
    A, n = "operator:ALPHA", w.nonce("operator:ALPHA")
    body = BASE["top_up"].body

    def add(comment: str, code: str | None, plain: Any, flags: list[str], **extra: Any) -> None:
        f.add(run, comment, {"tx": plain, **extra}, flags,
              expect={"error": code} if code else None)

    def signed(kind: str = "top_up", author: str = A, b: Mapping[str, Any] = body,
               nonce: int = n, **kw: Any) -> dict[str, Any]:
        return sign_plain(kind, author, b, nonce, **kw)

    add("unknown kind on another chain: the chain is checked first", "E_TX_FIELD",
        signed("transfer", chain_id="another-chain"), ["Order"])
    add("unknown kind sent by a user: the kind is checked before the role", "E_TX_KIND",
        signed("transfer", "user:EV1", nonce=w.nonce("user:EV1")), ["Order"])
    add("a user sends top_up with a wrong nonce: the role is checked first", "E_TX_AUTHOR",
        signed(author="user:EV1", nonce=99), ["Order"])
    add("wrong nonce and a bad signature: the nonce is checked first", "E_TX_NONCE",
        signed(nonce=n + 5, signer="intruder"), ["Order"])
    add("a bad signature and an invalid body: the signature is checked first", "E_TX_SIGNATURE",
        signed(b={"amount_fen": -1}, signer="intruder"), ["Order"])
    add("an unregistered operator: the author is checked before the signature",
        "E_TX_AUTHOR", signed(author="operator:NOPE", nonce=0), ["Order"])
    for kind in ("Top_up", "", "transfer"):
        add(f"kind {kind!r} is unknown", "E_TX_KIND", signed(kind), ["Envelope"])
    for author in ("operator:", "root", "operator", "Operator:ALPHA"):
        add(f"author {author!r} is malformed", "E_TX_AUTHOR", {**good, "author": author},
            ["Envelope"])
    add("a supplier registered without a key cannot sign", "E_TX_AUTHOR",
        sign_plain("set_catalog_price", "supplier:PLAIN", {"catalog_fen_per_kwh": 1}, 0),
        ["Envelope"])
    add("the author's last transaction replayed", "E_TX_NONCE",
        plain_tx(w.sent[A][-1]), ["Envelope"])
    add("a negative nonce", "E_TX_NONCE", signed(nonce=-1), ["Envelope"])
    sig = good["signature"]
    earlier = w.sent[A][-1].signature.hex()
    for comment, value in (("no signature", ""), ("63 bytes", sig[:126]),
                           ("64 zero bytes", "00" * 64), ("r and s swapped", sig[64:] + sig[:64]),
                           ("the signature of the author's previous transaction", earlier)):
        add(f"signature: {comment}", "E_TX_SIGNATURE", {**good, "signature": value},
            ["Envelope"])
    add("signed with SM2 user id ALICE123@YAHOO.COM instead of 1234567812345678",
        "E_TX_SIGNATURE", signed(user_id=b"ALICE123@YAHOO.COM"), ["Envelope"])
    for comment, plain in (
            ("no signature member", {k: v for k, v in good.items() if k != "signature"}),
            ("an extra member", {**good, "fee": 0}),
            ("nonce true", {**good, "nonce": True}), ("nonce 19.5", {**good, "nonce": 19.5}),
            ("nonce as a string", {**good, "nonce": str(n)}),
            ("chain_id a number", {**good, "chain_id": 7}),
            ("signature in upper-case hex", {**good, "signature": sig.upper()}),
            ("signature an odd number of hex digits", {**good, "signature": sig[:-1]}),
            ("body an array", {**good, "body": []}),
            ("a float in the body", {**good, "body": {**body, "amount_fen": 1.5}}),
            ("the transaction an array", [good])):
        add(f"decoding: {comment}", "E_DECODING", plain, ["Decoding"])
    add("a body 61 levels deep (the limit): decoded, then its field is of the wrong type",
        "E_TX_FIELD", signed(b={**body, "amount_fen": _nested(60)}), ["Depth"])
    for levels in (62, 200):  # too deep to sign: the signature is the valid top-up's
        add(f"a body {levels} levels deep: beyond the limit", "E_DECODING",
            {**good, "body": {**body, "amount_fen": _nested(levels - 1)}}, ["Depth"])
    block = w.block()
    for comment, extra in (
            ("block height is not the pre-state's + 1", {"block": {**block, "height": 9}}),
            ("block time before the pre-state's", {"block": {**block, "time": w.time - 1}}),
            ("block prev_hash of 31 bytes", {"block": {**block, "prev_hash": "00" * 31}}),
            ("block height true", {"block": {**block, "height": True}}),
            ("an unknown section in the pre-state", {"pre_state": {"bogus/x": 1}}),
            ("a pre-state without its meta entries", {"pre_state": {}})):
        add(f"input: {comment}", "E_DECODING", good, ["Input"], **extra)
    f.add(run, "a valid top_up, as in tx-registry", {"tx": good}, ["Valid"])
    return f
