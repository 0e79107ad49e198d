"""The ``transactions`` profile: every transaction kind applied to a pre-state, the way
ethereum's consensus-spec-tests run operations (docs: profiles/transactions).

Operation ``tx.apply``: ``pre_state`` (the world-state entries before the block, key -> the
JSON value whose canonical bytes are the entry), ``block`` (``height``, ``time``,
``prev_hash`` of the block the transaction runs in) and ``tx`` (the signed transaction as
plain JSON) -> ``state_root``, ``write_set`` (key -> new value, or null for a deleted key)
and ``receipt`` of the transaction; or the error code. The block's own writes
(``meta/height``, ``meta/time``, ``meta/prev_hash``) are in the root and in no write set; the
block does not end (no reward is paid).

Cases (files by contract): a valid transaction of every kind and more, one invalid case per
error code each kind can raise (its contract's codes and the envelope's four), and a file of
envelope cases: decoding, the order of the checks, signatures and the nesting limit.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from refimpl.chain.receipts import make_receipt
from refimpl.conformance import inputs
from refimpl.conformance import tx_fixtures as fx
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.conformance.tx_schemas import transaction_schemas
from refimpl.contracts.dispatch import TX_KINDS, apply_transaction, begin_block
from refimpl.encoding import MAX_SAFE_INTEGER, canonical_bytes, to_plain
from refimpl.errors import ChargeChainError
from refimpl.ledger.decode import state_from_entries
from refimpl.ledger.state import State
from refimpl.ledger.transaction import transaction_from_plain, tx_id
from refimpl.ledger.worldstate import seal, state_changes, state_root

__all__ = [
    "AREAS",
    "PROFILES",
    "SCHEMAS",
    "case",
    "coverage",
    "coverage_markdown",
    "decode_input",
    "edit",
    "tx_apply",
]

MAX_TIME = 2**40


@functools.lru_cache(maxsize=4)
def _decoded(text: str) -> State:
    """The sealed state of a pre-state given as JSON text (memoised: groups share one)."""
    entries = {}
    for key, value in json.loads(text).items():
        try:
            entries[key] = canonical_bytes(value)
        except ChargeChainError as error:
            raise ChargeChainError("E_DECODING", "an entry value has no canonical bytes: "
                                   + error.message, field=key) from None
    return seal(state_from_entries(entries))


def decode_input(payload: Mapping[str, Any]) -> tuple[State, Any]:
    """The state as the block starts, and the decoded transaction (E_DECODING if malformed):
    input members, then the pre-state, the block context and the transaction."""
    inputs.only_keys(payload, {"pre_state", "block", "tx"})
    pre = payload["pre_state"]
    if not isinstance(pre, Mapping):
        raise ChargeChainError("E_DECODING", "pre_state is an object", field="pre_state",
                               expected="object", received=type(pre).__name__)
    state = _decoded(json.dumps(pre, sort_keys=True, ensure_ascii=True))
    block = payload["block"]
    inputs.only_keys(block, {"height", "time", "prev_hash"})
    next_height = state.height + 1
    for name, low, high in (("height", next_height, min(next_height, MAX_SAFE_INTEGER)),
                            ("time", state.time, MAX_TIME)):
        value = block[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ChargeChainError("E_DECODING", "block context out of range",
                                   field=f"block.{name}", expected=f"{low}..{high}",
                                   received=repr(value)[:40])
    prev_hash = inputs.hex_bytes(block, "prev_hash", 32)
    started = begin_block(state, block["height"], block["time"], prev_hash)
    return started, transaction_from_plain(payload["tx"])


def tx_apply(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``tx.apply``: the state root, write set and receipt of one transaction, or its code."""
    before, tx = decode_input(payload)
    after = apply_transaction(before, tx)
    writes = state_changes(before, after)
    return {"state_root": state_root(after).hex(),
            "write_set": {k: None if v is None else json.loads(v) for k, v in writes.items()},
            "receipt": to_plain(make_receipt(tx_id(tx), writes, after.events))}


# --- building cases --------------------------------------------------------------------------


def edit(kind: str, **changes: Any) -> dict[str, Any]:
    """The kind's base body with fields changed (a value of ``...`` removes the field)."""
    body = {**fx.BASE[kind].body, **changes}
    return {k: v for k, v in body.items() if v is not ...}


def case(comment: str, code: str | None = None, *, author: str | None = None,
         body: Mapping[str, Any] | None = None, time: int | None = None,
         flags: tuple[str, ...] = (), sign: Mapping[str, Any] | None = None,
         raw: Any = None, **changes: Any) -> dict[str, Any]:
    """A case of a kind: the base transaction with the author, body or fields changed."""
    return {"comment": comment, "code": code, "author": author, "body": body, "time": time,
            "flags": flags, "sign": dict(sign or {}), "raw": raw, "changes": changes}


def payload_of(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The test input of a case spec: its transaction, and a block if the time moves."""
    w, base = fx.world(), fx.BASE[kind]
    author = spec["author"] or base.author
    body = spec["body"] if spec["body"] is not None else edit(kind, **spec["changes"])
    sign = {"nonce": w.nonce(author), **spec["sign"]}
    plain = spec["raw"] if spec["raw"] is not None else fx.sign_plain(
        kind, author, body, sign.pop("nonce"), **sign)
    payload: dict[str, Any] = {"tx": plain}
    time = spec["time"] if spec["time"] is not None else base.time
    if time is not None:
        payload["block"] = w.block(time=time)
    return payload


def add_case(f: VectorFile, kind: str, spec: Mapping[str, Any], operation: Any = None) -> None:
    """Append one case: valid if it has no code, else its code is the expected error."""
    code = spec["code"]
    flags = list(spec["flags"]) or (["Valid"] if code is None else ["Contract"])
    if spec["time"] is not None and "BlockTime" not in flags:
        flags.append("BlockTime")
    test = f.add(operation or tx_apply, f"{kind}: {spec['comment']}", payload_of(kind, spec),
                 flags, expect={"error": code} if code else None,
                 valid=True if code is None else None)
    if test.get("output", {}).get("receipt", {}).get("evidence"):
        test["flags"].append("Evidence")


def shared() -> dict[str, Any]:
    """The group input every file shares: the world's state and the next block."""
    w = fx.world()
    return {"pre_state": fx.pre_state_plain(w.state), "block": w.block()}


def _envelope_specs(kind: str) -> list[dict[str, Any]]:
    """The four envelope codes every kind can raise, on its base transaction (DF-14)."""
    role = TX_KINDS[kind].role
    other = fx.WRONG_ROLE[role]
    author = fx.BASE[kind].author
    flags = ("Envelope",)
    return [
        case("for another chain", "E_TX_FIELD", flags=flags, sign={"chain_id": "another-chain"}),
        case(f"sent by {other} (the kind's role is {role})", "E_TX_AUTHOR", author=other,
             flags=flags),
        case("a nonce one ahead of the author's counter", "E_TX_NONCE", flags=flags,
             sign={"nonce": fx.world().nonce(author) + 1}),
        case("signed with another key", "E_TX_SIGNATURE", flags=flags,
             sign={"signer": "intruder"}),
    ]


NOTES = {
    "Valid": "the transaction applies: post-state root, write set and receipt",
    "Evidence": "the receipt carries evidence (a charge, a fill or a final supply contract)",
    "Contract": "a check of the kind's contract",
    "Envelope": "a check of the envelope, before the kind's contract (DF-14)",
    "BlockTime": "the block context moves time on, to a window or a deadline",
    "Order": "several faults at once: the documented order of the checks decides the code",
    "Decoding": "the transaction is not a canonical plain transaction: E_DECODING",
    "Depth": "the body's nesting at or beyond the limit of 61 levels (MAX_BODY_DEPTH)",
    "Input": "the operation's input itself is malformed: E_DECODING",
}

#: the files of the profile: name -> (title, kinds)
AREAS = {
    "registry": ("members, suppliers, stations, users, tariffs, top-ups",
                 ["register_operator", "register_supplier", "register_station", "register_user",
                  "set_tariff", "top_up"]),
    "charging": ("charging sessions, ratings and shared private piles",
                 ["start_charging", "settle_charging", "rate_station", "register_private_pile"]),
    "incentives": ("the pool, beans and governance",
                   ["add_to_pool", "withdraw_reward", "set_bean_rules", "buy_beans",
                    "send_red_envelope", "propose", "approve"]),
    "market": ("the Bancor energy market and its order book",
               ["open_market", "place_order", "supplier_place_order", "market_order",
                "supplier_market_order", "cancel_order", "supplier_cancel_order"]),
    "supply": ("supply contracts",
               ["set_catalog_price", "top_up_supplier", "sign_contract", "record_delivery",
                "settle_contract", "confirm_settlement", "supplier_confirm_settlement",
                "finalize_contract", "supplier_finalize_contract"]),
}


def _kind_files() -> list[VectorFile]:
    """One file per contract area: per kind, valid cases, contract codes, envelope codes."""
    files = []
    for name, (title, kinds) in AREAS.items():
        f = VectorFile("transactions", f"tx-{name}", "ChargeChain transaction application",
                       [f"Transactions of {title}, applied to the world of the transactions "
                        "profile (docs: profiles/transactions): post-state root, write set "
                        "and receipt, or the error code with the state unchanged."], NOTES)
        f.group("tx.apply", f"{title}: valid, then each error code", shared())
        for kind in kinds:
            specs = kind_cases(kind)
            for spec in [case("the base transaction")] + specs + _envelope_specs(kind):
                add_case(f, kind, spec)
        files.append(f)
    return files + [fx.envelope_file(tx_apply, NOTES, shared())]


# --- the cases of each kind (besides its base transaction and the envelope's four) ---------

G, K_SHORT, K1, K4 = fx.GENESIS_TIME, fx.K_SHORT, fx.K1, fx.K4
CD2, CD4 = K_SHORT["confirm_deadline"], K4["confirm_deadline"]


def _cases() -> dict[str, list[dict[str, Any]]]:
    """kind -> its further valid cases and one invalid case per code it can raise."""
    A, B, S = "operator:ALPHA", "operator:BETA", "supplier:SOLAR"
    GRID = "supplier:GRID"
    pk = fx.public_hex
    gap = [{**fx.FLAT[0], "windows": [[0, 1439]]}]
    pile = fx.pile_body
    con = fx.contract_body
    return {
        "register_operator": [
            case("two nodes", nodes=[{"node_id": "D1", "public_key": pk("node:D1")},
                                     {"node_id": "D2", "public_key": pk("node:D2")}]),
            case("admin key not a point of the curve", "E_TX_FIELD", admin_key="04" + "00" * 64),
            case("org_id taken", "E_DUPLICATE", org_id="ALPHA"),
            case("English name taken, in another case", "E_DUPLICATE", english_name="beta power"),
            case("node id taken", "E_DUPLICATE", nodes=[{"node_id": "A1",
                                                         "public_key": pk("node:D1")}])],
        "register_supplier": [
            case("without a key", public_key=...),
            case("empty name", "E_TX_FIELD", name=""),
            case("supplier_id taken", "E_DUPLICATE", supplier_id="GRID")],
        "register_station": [
            case("at the corner of the map, one pile of the largest power", x_m=-10**7,
                 y_m=10**7, piles=[{"type": "DC", "power_w": 1_000_000}]),
            case("no piles", "E_TX_FIELD", piles=[]),
            case("station_id taken", "E_DUPLICATE", station_id="ST-A1"),
            case("a node of another operator", "E_UNKNOWN_NODE", node_id="B1"),
            case("unknown supplier", "E_UNKNOWN_SUPPLIER", supplier_id="NOPE")],
        "register_user": [
            case("without a community", community=...),
            case("public key in upper-case hex", "E_TX_FIELD", public_key=pk("user:EV9").upper()),
            case("ev_id taken", "E_DUPLICATE", ev_id="EV1")],
        "set_tariff": [
            case("ALPHA replaces its tariff", author=A, body={"periods": fx.TIANJIN[::-1]}),
            case("a window that ends where it starts", "E_TX_FIELD",
                 periods=[{**fx.FLAT[0], "windows": [[600, 600]]}]),
            case("a minute of the day uncovered", "E_TARIFF_PERIODS", periods=gap),
            case("two periods overlap", "E_TARIFF_PERIODS",
                 periods=fx.FLAT + [{**fx.FLAT[0], "price_id": "B", "windows": [[0, 60]]}])],
        "top_up": [
            case("EV5 clears its debt: its unpaid award is made good", ev_id="EV5",
                 amount_fen=100),
            case("amount 0", "E_TX_FIELD", amount_fen=0),
            case("unknown user", "E_UNKNOWN_USER", ev_id="NOPE"),
            case("another operator's user", "E_TX_AUTHOR", author=B)],
        "start_charging": [
            case("EV7 at EV3's private pile, shared with its community", author="user:EV7",
                 body={"session_id": "S9", "station_id": "ST-P1", "pile": 0}),
            case("allowing 10 ALPHA beans", bean_issuer="ALPHA", max_beans=10),
            case("pile index -1", "E_TX_FIELD", pile=-1),
            case("bean_issuer without max_beans", "E_TX_FIELD", bean_issuer="ALPHA"),
            case("session id S2 used", "E_DUPLICATE", session_id="S2"),
            case("EV1 already charges", "E_SESSION_STATE", author="user:EV1"),
            case("EV5's credit is -1", "E_INSUFFICIENT_CREDIT", author="user:EV5"),
            case("EV6's wallet is below the minimum balance", "E_INSUFFICIENT_FUNDS",
                 author="user:EV6"),
            case("unknown station", "E_UNKNOWN_STATION", station_id="NOPE"),
            case("pile 3 of three", "E_UNKNOWN_PILE", pile=3),
            case("pile 0 is busy with S1", "E_PILE_BUSY", pile=0),
            case("a private pile of another community", "E_PILE_UNAVAILABLE", author="user:EV4",
                 station_id="ST-P1", pile=0),
            case("GAMMA has no tariff", "E_UNKNOWN_TARIFF", station_id="ST-C1", pile=0),
            case("BETA's beans at ALPHA's station", "E_BEAN_ISSUER", bean_issuer="BETA",
                 max_beans=10)],
        "settle_charging": [
            case("power and duration, S1's beans redeemed",
                 body={"session_id": "S1", "power_w": 30_000, "duration_s": 1_200}),
            case("power_w missing", "E_TX_FIELD", body={"session_id": "S1", "duration_s": 60}),
            case("unknown session", "E_UNKNOWN_SESSION", session_id="NOPE"),
            case("S2 is settled", "E_SESSION_STATE", author="node:B1", session_id="S2"),
            case("another node of the same operator", "E_TX_AUTHOR", author="node:A2"),
            case("stop reading below the start", "E_METER", meter_stop_wh=999),
            case("more energy than 60 kW in 1800 s", "E_METER", meter_stop_wh=31_001),
            case("power above the pile's 60 kW", "E_METER",
                 body={"session_id": "S1", "power_w": 60_001, "duration_s": 60}),
            case("a charge longer than the session's 1800 s", "E_METER",
                 body={"session_id": "S1", "power_w": 1_000, "duration_s": 1_801})],
        "rate_station": [
            case("one star, the lowest rating", rating=1),
            case("rating a string", "E_TX_FIELD", rating="5"),
            case("rating 6 of 5", "E_RATING", rating=6),
            case("S7 was rated already", "E_RATING", author="user:EV7", session_id="S7"),
            case("S8 delivered nothing: no payment to rate", "E_RATING", author="user:EV8",
                 session_id="S8"),
            case("unknown session", "E_UNKNOWN_SESSION", session_id="NOPE"),
            case("another user's session", "E_TX_AUTHOR", author="user:EV1"),
            case("S1 is still open", "E_SESSION_STATE", author="user:EV1", session_id="S1")],
        "register_private_pile": [
            case("shared with a community", body=pile("ST-P2", "EV2", "A2")),
            case("community missing", "E_TX_FIELD", body=pile("ST-P2", "EV2", "A2",
                                                              community=None)),
            case("its prices leave a minute uncovered", "E_TARIFF_PERIODS",
                 body=pile("ST-P2", "EV2", "A2", periods=gap)),
            case("station id taken", "E_DUPLICATE", body=pile("ST-A1", "EV2", "A2")),
            case("unknown owner", "E_UNKNOWN_USER", body=pile("ST-P2", "NOPE", "A2")),
            case("a node of another operator", "E_UNKNOWN_NODE", body=pile("ST-P2", "EV2", "B1")),
            case("counter-signed by another user", "E_COSIGNATURE",
                 body=pile("ST-P2", "EV2", "A2", signer="EV1"))],
        "add_to_pool": [case("the largest amount, 10^12 fen", amount_fen=10**12),
                        case("amount 0", "E_TX_FIELD", amount_fen=0)],
        "withdraw_reward": [
            case("all the reserve that backs no bean", amount_fen=10_000),
            case("amount 0", "E_TX_FIELD", amount_fen=0),
            case("more than the reserve", "E_INSUFFICIENT_FUNDS", amount_fen=10_001)],
        "set_bean_rules": [
            case("the bounds: max_rebate_bp and min_bean_price_bp", rebate_bp=1_000,
                 price_bp=5_000),
            case("rebate above max_rebate_bp", "E_TX_FIELD", rebate_bp=1_001)],
        "buy_beans": [
            case("BETA's beans, sold at par", issuer="BETA"),
            case("beans 0", "E_TX_FIELD", beans=0),
            case("unknown issuer", "E_BEAN_ISSUER", issuer="NOPE"),
            case("EV6 cannot pay", "E_INSUFFICIENT_FUNDS", author="user:EV6"),
            case("more GAMMA beans than its reserve backs", "E_BEAN_BACKING", issuer="GAMMA",
                 beans=20_002)],
        "send_red_envelope": [
            case("a lucky split, seeded by the block's previous hash", split="lucky"),
            case("fewer beans than recipients", "E_TX_FIELD", total_beans=2),
            case("unknown recipient", "E_UNKNOWN_USER", recipients=["EV1", "NOPE"]),
            case("a recipient twice", "E_DUPLICATE", recipients=["EV1", "EV1"]),
            case("beyond ALPHA's headroom", "E_BEAN_BACKING", total_beans=1_000_000)],
        "propose": [
            case("a pool spend", body={"proposal_id": "P-NEW", "action": "spend_pool",
                                       "amount_fen": 500, "recipient": "GAMMA",
                                       "purpose": "a charging map for the league",
                                       "expires_height": 100}),
            case("no parameter", "E_TX_FIELD", params={}),
            case("a parameter fixed at genesis", "E_PARAMETER", params={"block_interval_s": 60}),
            case("commission above 100 %", "E_PARAMETER", params={"commission_bp": 10_001}),
            case("proposal id taken", "E_DUPLICATE", proposal_id="P-OK")],
        "approve": [
            case("PS-OK: the pool pays BETA", body={"proposal_id": "PS-OK"}),
            case("unknown proposal", "E_UNKNOWN_PROPOSAL", proposal_id="NOPE"),
            case("PA is enacted", "E_PROPOSAL_STATE", proposal_id="PA"),
            case("PX expired at height 3", "E_PROPOSAL_STATE", proposal_id="PX"),
            case("ALPHA approved P-OK already", "E_PROPOSAL_STATE", author=A),
            case("PS-BIG: the pool cannot pay 10^12 fen", "E_INSUFFICIENT_FUNDS",
                 proposal_id="PS-BIG"),
            case("PB: uniform policy, but PC removed the uniform prices", "E_PARAMETER",
                 proposal_id="PB")],
        "open_market": [
            case("all of SOLAR's money, CRR 100 %", reserve_fen=100_000, crr_ppm=1_000_000),
            case("crr 0", "E_TX_FIELD", crr_ppm=0),
            case("TJ has a market", "E_DUPLICATE", area_id="TJ"),
            case("a reserve above SOLAR's balance", "E_INSUFFICIENT_FUNDS", reserve_fen=100_001)],
        "place_order": [
            case("a buy at 60 takes GRID's sell at 50", price_fen_per_kwh=60),
            case("EV1 sells 100 Wh at 30: rests", author="user:EV1", side="sell",
                 price_fen_per_kwh=30, quantity_wh=100),
            case("side hold", "E_TX_FIELD", side="hold"),
            case("order id of an open order", "E_DUPLICATE", order_id="O-EV1"),
            case("no market in BJ", "E_UNKNOWN_MARKET", area_id="BJ"),
            case("EV2 holds no tokens", "E_INSUFFICIENT_TOKENS", side="sell"),
            case("EV6 cannot fund the escrow", "E_INSUFFICIENT_FUNDS", author="user:EV6")],
        "supplier_place_order": [
            case("SOLAR buys at 5", author=S, side="buy", price_fen_per_kwh=5),
            case("quantity 0", "E_TX_FIELD", quantity_wh=0),
            case("order id of an open order", "E_DUPLICATE", order_id="O-GRID"),
            case("no market in BJ", "E_UNKNOWN_MARKET", area_id="BJ"),
            case("SOLAR holds no tokens", "E_INSUFFICIENT_TOKENS", author=S),
            case("an escrow above SOLAR's balance", "E_INSUFFICIENT_FUNDS", author=S,
                 side="buy", price_fen_per_kwh=100_000, quantity_wh=2_000_000)],
        "market_order": [
            case("EV1 sells 1000 Wh to the market", author="user:EV1", side="sell"),
            case("amount 0", "E_TX_FIELD", amount=0),
            case("order id of an open order", "E_DUPLICATE", order_id="O-EV1"),
            case("no market in BJ", "E_UNKNOWN_MARKET", area_id="BJ"),
            case("EV6 cannot pay", "E_INSUFFICIENT_FUNDS", author="user:EV6"),
            case("EV2 holds no tokens", "E_INSUFFICIENT_TOKENS", side="sell"),
            case("returns less than min_return", "E_ORDER_STATE", min_return=10**9)],
        "supplier_market_order": [
            case("GRID buys for 1000 fen", side="buy", amount=1_000),
            case("min_return -1", "E_TX_FIELD", min_return=-1),
            case("order id of an open order", "E_DUPLICATE", order_id="O-GRID"),
            case("no market in BJ", "E_UNKNOWN_MARKET", area_id="BJ"),
            case("SOLAR cannot pay", "E_INSUFFICIENT_FUNDS", author=S, side="buy",
                 amount=100_001),
            case("SOLAR holds no tokens", "E_INSUFFICIENT_TOKENS", author=S),
            case("returns less than min_return", "E_ORDER_STATE", min_return=10**9)],
        "cancel_order": [
            case("EV1's sell: its tokens come back", order_id="O-EV1S"),
            case("order id a number", "E_TX_FIELD", order_id=7),
            case("unknown order", "E_UNKNOWN_ORDER", order_id="NOPE"),
            case("EV1's order cancelled by EV2", "E_ORDER_STATE", author="user:EV2")],
        "supplier_cancel_order": [
            case("GRID's buy: its escrow comes back", order_id="O-GRIDB"),
            case("order id missing", "E_TX_FIELD", order_id=...),
            case("unknown order", "E_UNKNOWN_ORDER", order_id="NOPE"),
            case("GRID's order cancelled by SOLAR", "E_ORDER_STATE", author=S)],
        "set_catalog_price": [
            case("GRID withdraws its price", author=GRID, catalog_fen_per_kwh=0),
            case("above 100 000 fen/kWh", "E_TX_FIELD", catalog_fen_per_kwh=100_001)],
        "top_up_supplier": [
            case("BETA pays 10^10 fen to GRID", author=B, supplier_id="GRID",
                 amount_fen=10**10),
            case("amount 0", "E_TX_FIELD", amount_fen=0),
            case("unknown supplier", "E_UNKNOWN_SUPPLIER", supplier_id="NOPE")],
        "sign_contract": [
            case("a window of 366 days, the longest",
                 body=con("K6", "EV4", "SOLAR", "GRID", window={
                     "window_start": K1["window_start"],
                     "window_end": K1["window_start"] + 366 * 86_400,
                     "confirm_deadline": K1["window_start"] + 366 * 86_400 + 1})),
            case("window starting at the block time", "E_TX_FIELD",
                 body=con("K6", "EV4", "SOLAR", "GRID", window={**K1, "window_start":
                                                                 fx.world().time + 300})),
            case("a contract for EV2, signed by EV4", "E_TX_AUTHOR",
                 body=con("K6", "EV2", "SOLAR", "GRID")),
            case("contract id taken", "E_DUPLICATE", body=con("K1", "EV4", "SOLAR", "GRID")),
            case("unknown supplier", "E_UNKNOWN_SUPPLIER",
                 body=con("K6", "EV4", "NOPE", "GRID")),
            case("a grid without a catalog price", "E_UNKNOWN_SUPPLIER",
                 body=con("K6", "EV4", "GRID", "SOLAR")),
            case("unknown metering station", "E_UNKNOWN_STATION",
                 body=con("K6", "EV4", "SOLAR", "GRID", station_id="NOPE")),
            case("counter-signed by GRID for SOLAR", "E_COSIGNATURE",
                 body=con("K6", "EV4", "SOLAR", "GRID", signer="GRID")),
            case("EV6 cannot fund the escrow", "E_INSUFFICIENT_FUNDS", author="user:EV6",
                 body=con("K6", "EV6", "SOLAR", "GRID"))],
        "record_delivery": [
            case("up to K1's cap, at the end of its window", energy_wh=27_777,
                 time=K1["window_end"]),
            case("energy 0", "E_TX_FIELD", energy_wh=0),
            case("unknown contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            case("not the metering node", "E_TX_AUTHOR", author="node:B1"),
            case("K2 is computed", "E_CONTRACT_STATE", contract_id="K2"),
            case("before K1's window", "E_CONTRACT_STATE", time=fx.world().time + 300),
            case("above K1's cap of 27 777 Wh", "E_METER", energy_wh=27_778)],
        "settle_contract": [
            case("one second after K1's window", time=K1["window_end"] + 1),
            case("contract id empty", "E_TX_FIELD", contract_id=""),
            case("unknown contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            case("not the metering node", "E_TX_AUTHOR", author="node:A2"),
            case("K1's window is not over", "E_CONTRACT_STATE", time=K1["window_end"]),
            case("K4's grid cannot pay the shortfall", "E_INSUFFICIENT_FUNDS",
                 contract_id="K4", time=fx.world().time + 300)],
        "confirm_settlement": [
            case("K3: the second confirmation makes it final", contract_id="K3"),
            case("contract id a list", "E_TX_FIELD", contract_id=["K2"]),
            case("unknown contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            case("not EV4's contract", "E_TX_AUTHOR", author="user:EV1"),
            case("EV4 confirmed K5 already", "E_CONTRACT_STATE", contract_id="K5")],
        "supplier_confirm_settlement": [
            case("K5: the second confirmation makes it final", contract_id="K5"),
            case("an unknown field", "E_TX_FIELD", note="ok"),
            case("unknown contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            case("GRID is not K2's supplier", "E_TX_AUTHOR", author=GRID),
            case("K2's deadline has passed", "E_CONTRACT_STATE", time=CD2)],
        "finalize_contract": [
            case("K1 after its deadline: computed and final at once",
                 contract_id="K1", time=K1["confirm_deadline"]),
            case("contract id with '|'", "E_TX_FIELD", contract_id="K|2"),
            case("unknown contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            case("not EV4's contract", "E_TX_AUTHOR", author="user:EV1"),
            case("before K2's deadline", "E_CONTRACT_STATE", time=CD2 - 1),
            case("K4's grid cannot pay the shortfall", "E_INSUFFICIENT_FUNDS",
                 contract_id="K4", time=CD4)],
        "supplier_finalize_contract": [
            case("K1 after its deadline: computed and final at once", contract_id="K1",
                 time=K1["confirm_deadline"]),
            case("contract id missing", "E_TX_FIELD", contract_id=...),
            case("unknown contract", "E_UNKNOWN_CONTRACT", contract_id="NOPE"),
            case("GRID is not K2's supplier", "E_TX_AUTHOR", author=GRID),
            case("before K2's deadline", "E_CONTRACT_STATE", time=fx.world().time + 300),
            case("K4 (GRID supplies, SOLAR is the grid): SOLAR cannot pay", "E_INSUFFICIENT_FUNDS",
                 author=GRID, contract_id="K4", time=CD4)],
    }


def kind_cases(kind: str) -> list[dict[str, Any]]:
    """The further cases of one kind."""
    return _cases()[kind]


def coverage(plains: list[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """kind -> {"valid" or code: number of cases} over vector files of this profile."""
    table: dict[str, dict[str, int]] = {kind: {} for kind in TX_KINDS}
    for plain in plains:
        if plain["name"] == "tx-envelope":
            continue
        for group in plain["testGroups"]:
            for test in group["tests"]:
                kind = test["input"]["tx"]["kind"]
                key = test.get("error", "valid")
                table[kind][key] = table[kind].get(key, 0) + 1
    return table


def coverage_markdown(plains: list[Mapping[str, Any]]) -> str:
    """The kind x code table of docs/profiles/transactions.md (cases per code)."""
    lines = ["| Kind | Role | Valid | Invalid: code (cases) |", "|---|---|---|---|"]
    for kind, counts in coverage(plains).items():
        codes = ", ".join(f"`{code}` ({n})" for code, n in sorted(counts.items())
                          if code != "valid")
        lines.append(f"| `{kind}` | {TX_KINDS[kind].role} | {counts.get('valid', 0)} | {codes} |")
    return "\n".join(lines) + "\n"


def SCHEMAS() -> dict[str, dict[str, Any]]:
    """The schemas of transactions (envelope and each kind's body), receipts, the genesis
    configuration and the tx.apply output."""
    return transaction_schemas()


PROFILES = (
    Profile("transactions", "every transaction kind applied to a pre-state: post-state root, "
            "write set and receipt, or the error code (one case per code a kind can raise)",
            {"tx.apply": tx_apply}, _kind_files),
)
