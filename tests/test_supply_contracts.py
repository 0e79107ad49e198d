"""Supply contracts (001 §3 (2)-(4)): sign, deliver, compute, confirm twice, settle deviations.

Expected amounts are worked out by hand in the comments (price x Wh / 1000 fen, half up), never
by the code under test. The base contract: 7 kW for 3 h (cap 7000 x 10800 / 3600 = 21000 Wh),
20000 Wh at 80 fen/kWh (1600 fen); catalog 100 fen/kWh, so the margin is 1000 Wh x 100 / 1000 =
100 fen and the escrow 1700 fen.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from conftest import CHAIN_ID, World, keypair, public_hex
from hypothesis import given, settings
from hypothesis import strategies as st

from refimpl.errors import ChargeChainError
from refimpl.ledger.cosign import cosign
from refimpl.ledger.events import Evidence, Share
from refimpl.ledger.records_supply import CONTRACT_COMPUTED, CONTRACT_IN_FORCE, escrow_account
from refimpl.ledger.state import ADMIN, total_balance, total_minted
from refimpl.contracts.market import supply, supply_amounts

USER, OTHER_USER = "user:EV1", "user:EV2"
SOLAR, GRID = "supplier:SOLAR", "supplier:GRID"
NODE = "node:A1"
STATION = "ALPHA-S1"
WALLET, ESCROW = "user:EV1", escrow_account("C1")
BLOCK = 600


class SupplyWorld(World):
    """A consortium with a supplier SOLAR, a grid company GRID (catalog 100 fen/kWh, 10000 fen),
    station ALPHA-S1 metered by node A1, and users EV1 (5000 fen) and EV2."""

    def __init__(self, user_fen: int = 5_000, grid_fen: int = 10_000) -> None:
        super().__init__()
        self.next_block()
        for sid in ("SOLAR", "GRID"):
            self.apply("register_supplier", ADMIN, {"supplier_id": sid, "name": sid,
                                                    "public_key": public_hex(f"supplier:{sid}")})
        self.apply("set_catalog_price", GRID, {"catalog_fen_per_kwh": 100})
        if grid_fen:
            self.apply("top_up_supplier", "operator:ALPHA", {"supplier_id": "GRID",
                                                             "amount_fen": grid_fen})
        self.apply("register_station", "operator:ALPHA", {
            "station_id": STATION, "node_id": "A1", "supplier_id": "SOLAR", "x_m": 0, "y_m": 0,
            "piles": [{"type": "AC", "power_w": 7_000}]})
        for ev in ("EV1", "EV2"):
            self.apply("register_user", "operator:ALPHA",
                       {"ev_id": ev, "public_key": public_hex(f"user:{ev}")})
        self.apply("top_up", "operator:ALPHA", {"ev_id": "EV1", "amount_fen": user_fen})
        self.start = self.state.time + BLOCK
        self.end = self.start + 3 * 3600
        self.deadline = self.end + 3600

    def apply(self, kind: str, author: str, body: dict[str, Any], **kw: Any):
        """Apply, then check money is conserved (sum of accounts == money minted)."""
        state = super().apply(kind, author, body, **kw)
        assert total_balance(state) == total_minted(state)
        return state

    def at(self, time: int) -> None:
        """Advance to the first block at or after ``time``."""
        blocks = -(-(time - self.state.time) // BLOCK)
        self.next_block(blocks)
        assert self.state.time == time

    def terms(self, **changes: Any) -> dict[str, Any]:
        """The base contract's terms (no signature)."""
        return {"contract_id": "C1", "ev_id": "EV1", "supplier_id": "SOLAR", "grid_id": "GRID",
                "station_id": STATION, "power_w": 7_000, "energy_wh": 20_000,
                "price_fen_per_kwh": 80, "window_start": self.start, "window_end": self.end,
                "confirm_deadline": self.deadline, **changes}

    def signed(self, terms: dict[str, Any], *, signer: str = SOLAR, key_of: str = SOLAR,
               chain: str = CHAIN_ID, purpose: str = "supply_contract") -> dict[str, Any]:
        """The terms with a counter-signature."""
        signature = cosign(keypair(key_of)[0], chain, purpose, signer, terms)
        return {**terms, "supplier_signature": signature}

    def sign(self, **changes: Any):
        """The user signs the base contract (with changes) counter-signed by SOLAR."""
        return self.apply("sign_contract", USER, self.signed(self.terms(**changes)))

    def deliver(self, *amounts_wh: int) -> None:
        """Inside the window, the metering node records deliveries."""
        if self.state.time <= self.start:
            self.at(self.start + BLOCK)
        for wh in amounts_wh:
            self.apply("record_delivery", NODE, {"contract_id": "C1", "energy_wh": wh})

    def compute(self) -> None:
        """After the window, the metering node computes the expense."""
        self.at(self.end + BLOCK)
        self.apply("settle_contract", NODE, {"contract_id": "C1"})

    def balance(self, account: str) -> int:
        return self.state.accounts.get(account, 0)


def rejected(w: World, kind: str, author: str, body: dict[str, Any], code: str) -> ChargeChainError:
    """The transaction is refused with ``code`` and the state is unchanged."""
    before = w.state
    with pytest.raises(ChargeChainError) as raised:
        w.apply(kind, author, body)
    assert raised.value.code == code, raised.value
    assert w.state is before and w.state == before
    return raised.value


@pytest.fixture(scope="module")
def base() -> SupplyWorld:
    return SupplyWorld()


@pytest.fixture
def w(base: SupplyWorld) -> SupplyWorld:
    """A fresh copy of the base world (states are immutable values: sharing them is safe)."""
    copy = SupplyWorld.__new__(SupplyWorld)
    copy.__dict__.update(base.__dict__)
    return copy


# --- catalog price and grid funding ----------------------------------------------------------

def test_catalog_price_and_grid_top_up(w):
    assert w.state.suppliers["GRID"].catalog_fen_per_kwh == 100
    assert w.state.suppliers["SOLAR"].catalog_fen_per_kwh == 0
    assert w.balance(GRID) == 10_000
    minted = w.state.minted["ALPHA"]
    w.apply("top_up_supplier", "operator:BETA", {"supplier_id": "GRID", "amount_fen": 250})
    assert w.balance(GRID) == 10_250
    assert w.state.minted["ALPHA"] == minted
    w.apply("set_catalog_price", GRID, {"catalog_fen_per_kwh": 0})
    assert w.state.suppliers["GRID"].catalog_fen_per_kwh == 0


def test_grid_top_up_counts_as_the_operators_minted_money(w):
    before = w.state.minted.get("BETA", 0)
    w.apply("top_up_supplier", "operator:BETA", {"supplier_id": "GRID", "amount_fen": 250})
    assert w.state.minted["BETA"] == before + 250


@pytest.mark.parametrize("body, code", [
    ({"supplier_id": "NOPE", "amount_fen": 1}, "E_UNKNOWN_SUPPLIER"),
    ({"supplier_id": "GRID", "amount_fen": 0}, "E_TX_FIELD"),
    ({"supplier_id": "GRID", "amount_fen": True}, "E_TX_FIELD"),
    ({"supplier_id": "GRID"}, "E_TX_FIELD"),
])
def test_bad_grid_top_up(w, body, code):
    rejected(w, "top_up_supplier", "operator:ALPHA", body, code)


def test_bad_catalog_price(w):
    rejected(w, "set_catalog_price", GRID, {"catalog_fen_per_kwh": -1}, "E_TX_FIELD")
    rejected(w, "set_catalog_price", GRID, {"catalog_fen_per_kwh": 100_001}, "E_TX_FIELD")
    with pytest.raises(ChargeChainError) as raised:  # a user is not a supplier
        w.apply("set_catalog_price", USER, {"catalog_fen_per_kwh": 1})
    assert raised.value.code == "E_TX_AUTHOR"


# --- signing ---------------------------------------------------------------------------------

def test_signing_escrows_value_plus_margin(w):
    w.sign()
    contract = w.state.contracts["C1"]
    assert (contract.status, contract.cap_wh, contract.escrow_fen) == (CONTRACT_IN_FORCE, 21_000, 1_700)
    assert contract.catalog_fen_per_kwh == 100 and contract.ev_id == "EV1"
    assert w.balance(WALLET) == 5_000 - 1_700
    assert w.balance(ESCROW) == 1_700


def test_catalog_price_is_locked_at_signing(w):
    w.sign()
    w.apply("set_catalog_price", GRID, {"catalog_fen_per_kwh": 1_000})
    w.deliver(21_000)
    w.compute()
    # excess 1000 Wh at the catalog price of signing (100), not the new one: 100 fen
    assert w.state.contracts["C1"].deviation_fen == 100


def test_insufficient_funds_at_signing():
    poor = SupplyWorld(user_fen=1_699)
    rejected(poor, "sign_contract", USER, poor.signed(poor.terms()), "E_INSUFFICIENT_FUNDS")
    rich = SupplyWorld(user_fen=1_700)  # exactly the escrow: admitted
    rich.sign()
    assert rich.balance(WALLET) == 0


def test_a_second_contract_escrows_separately(w):
    w.sign()
    w.sign(contract_id="C2", energy_wh=1_000)
    # C2: 1000 Wh x 80 = 80 fen; margin 20000 Wh x 100 = 2000 fen
    assert w.balance(escrow_account("C2")) == 2_080
    assert w.balance(ESCROW) == 1_700
    rejected(w, "sign_contract", USER, w.signed(w.terms()), "E_DUPLICATE")


@pytest.mark.parametrize("change, field", [
    ({"energy_wh": 21_001}, "energy_wh"),           # above 7 kW x 3 h
    ({"energy_wh": 0}, "energy_wh"),
    ({"power_w": 0}, "power_w"),
    ({"price_fen_per_kwh": -1}, "price_fen_per_kwh"),
    ({"price_fen_per_kwh": True}, "price_fen_per_kwh"),
    ({"window_start": "soon"}, "window_start"),
    ({"window_end": 0}, "window_end"),
    ({"confirm_deadline": 0}, "confirm_deadline"),
    ({"contract_id": "C|1"}, "contract_id"),
])
def test_bad_terms(w, change, field):
    error = rejected(w, "sign_contract", USER, w.signed(w.terms(**change)), "E_TX_FIELD")
    assert error.field == field


def test_window_boundaries(w):
    now = w.state.time
    for terms, field in (
        (w.terms(window_start=now, window_end=now + 10_800), "window_start"),  # not after block
        (w.terms(window_end=w.start), "window_end"),                            # empty window
        (w.terms(window_end=w.start + 366 * 86_400 + 1,
                 confirm_deadline=w.start + 367 * 86_400), "window_end"),      # above a year
        (w.terms(confirm_deadline=w.end), "confirm_deadline"),                  # not after window
    ):
        assert rejected(w, "sign_contract", USER, w.signed(terms), "E_TX_FIELD").field == field
    # a tight admitted window: starts one second after the block and lasts 4 s; the cap is
    # floor(1000 W x 4 s / 3600) = 1 Wh, which admits exactly 1 Wh (escrow 0.08 -> 0 fen)
    w.apply("sign_contract", USER, w.signed(w.terms(
        window_start=now + 1, window_end=now + 5, confirm_deadline=now + 6, power_w=1_000,
        energy_wh=1)))
    assert w.state.contracts["C1"].cap_wh == 1


def test_cap_rounds_down(w):
    # 1000 W x 3599 s / 3600 = 999.7 Wh: the cap is 999, so 1000 Wh is refused
    terms = w.terms(power_w=1_000, window_end=w.start + 3_599, energy_wh=1_000)
    assert rejected(w, "sign_contract", USER, w.signed(terms), "E_TX_FIELD").field == "energy_wh"
    w.sign(power_w=1_000, window_end=w.start + 3_599, energy_wh=999)
    assert w.state.contracts["C1"].cap_wh == 999


@pytest.mark.parametrize("change, code, field", [
    ({"supplier_id": "NOPE"}, "E_UNKNOWN_SUPPLIER", "supplier_id"),
    ({"grid_id": "NOPE"}, "E_UNKNOWN_SUPPLIER", "grid_id"),
    ({"grid_id": "SOLAR"}, "E_UNKNOWN_SUPPLIER", "grid_id"),   # no catalog price
    ({"station_id": "NOPE"}, "E_UNKNOWN_STATION", "station_id"),
])
def test_unknown_parties(w, change, code, field):
    error = rejected(w, "sign_contract", USER, w.signed(w.terms(**change)), code)
    assert error.field == field


@pytest.mark.parametrize("how", ["wrong_signer", "wrong_key", "other_chain", "other_purpose",
                                 "tampered", "garbled", "missing"])
def test_bad_counter_signature(w, how):
    terms = w.terms()
    if how == "wrong_signer":      # GRID signs (as itself) a contract naming SOLAR
        body = w.signed(terms, signer=GRID, key_of=GRID)
    elif how == "wrong_key":       # GRID's key claiming to be SOLAR
        body = w.signed(terms, key_of=GRID)
    elif how == "other_chain":
        body = w.signed(terms, chain="another-chain")
    elif how == "other_purpose":
        body = w.signed(terms, purpose="private_pile")
    elif how == "tampered":        # the user raises the energy after SOLAR signed
        body = {**w.signed(terms), "energy_wh": 19_000}
    elif how == "garbled":
        body = {**terms, "supplier_signature": "00" * 64}
    else:
        body = dict(terms)
    code = "E_TX_FIELD" if how == "missing" else "E_COSIGNATURE"
    rejected(w, "sign_contract", USER, body, code)


def test_a_counter_signature_serves_its_user_once(w):
    """Another user may not re-use EV1's counter-signed terms (ev_id is a term: E_TX_AUTHOR),
    EV1 may not sign them twice (E_DUPLICATE), and the same counter-signature cannot revive a
    final contract (the window has started)."""
    body = w.signed(w.terms())
    w.apply("sign_contract", USER, body)
    rejected(w, "sign_contract", OTHER_USER, body, "E_TX_AUTHOR")
    rejected(w, "sign_contract", USER, body, "E_DUPLICATE")
    w.deliver(20_000)
    w.compute()
    w.apply("confirm_settlement", USER, {"contract_id": "C1"})
    w.apply("supplier_confirm_settlement", SOLAR, {"contract_id": "C1"})
    assert "C1" not in w.state.contracts
    assert rejected(w, "sign_contract", USER, body, "E_TX_FIELD").field == "window_start"


# --- deliveries ------------------------------------------------------------------------------

def test_deliveries_accumulate_within_the_window(w):
    w.sign()
    rejected(w, "record_delivery", NODE, {"contract_id": "C1", "energy_wh": 1}, "E_CONTRACT_STATE")
    w.at(w.start)  # block time == window_start: not yet (energy flows in (start, end])
    rejected(w, "record_delivery", NODE, {"contract_id": "C1", "energy_wh": 1}, "E_CONTRACT_STATE")
    w.at(w.start + BLOCK)
    w.deliver(5_000, 6_000)
    w.at(w.end)    # block time == window_end: still admitted
    w.deliver(10_000)
    assert w.state.contracts["C1"].delivered_wh == 21_000
    w.at(w.end + BLOCK)
    rejected(w, "record_delivery", NODE, {"contract_id": "C1", "energy_wh": 1}, "E_CONTRACT_STATE")


def test_deliveries_above_the_cap_are_refused(w):
    w.sign()
    w.deliver(20_000)
    rejected(w, "record_delivery", NODE, {"contract_id": "C1", "energy_wh": 1_001}, "E_METER")
    w.deliver(1_000)  # exactly the cap
    rejected(w, "record_delivery", NODE, {"contract_id": "C1", "energy_wh": 1}, "E_METER")


def test_only_the_metering_node_records(w):
    w.sign()
    w.at(w.start + BLOCK)
    for node in ("node:A2", "node:B1"):  # same operator's other node, another operator's node
        rejected(w, "record_delivery", node, {"contract_id": "C1", "energy_wh": 1}, "E_TX_AUTHOR")


@pytest.mark.parametrize("body, code", [
    ({"contract_id": "NOPE", "energy_wh": 1}, "E_UNKNOWN_CONTRACT"),
    ({"contract_id": "C1", "energy_wh": 0}, "E_TX_FIELD"),
    ({"contract_id": "C1", "energy_wh": -5}, "E_TX_FIELD"),
    ({"contract_id": "C1"}, "E_TX_FIELD"),
    ({"contract_id": "C1", "energy_wh": 1, "meter": 3}, "E_TX_FIELD"),
])
def test_bad_delivery(w, body, code):
    w.sign()
    w.at(w.start + BLOCK)
    rejected(w, "record_delivery", NODE, body, code)


# --- computing and confirming ----------------------------------------------------------------

def _settle_both(w: SupplyWorld, user_first: bool = True) -> None:
    order = [("confirm_settlement", USER), ("supplier_confirm_settlement", SOLAR)]
    for kind, author in order if user_first else order[::-1]:
        w.apply(kind, author, {"contract_id": "C1"})


def _flows(w: SupplyWorld, run) -> dict[str, int]:
    """Balance changes of the user, SOLAR, GRID and the escrow over ``run(w)``."""
    names = (WALLET, SOLAR, GRID, ESCROW)
    before = {a: w.balance(a) for a in names}
    run(w)
    return {a: w.balance(a) - before[a] for a in names}


@pytest.mark.parametrize("delivered, supplier_fen, deviation_fen, user_net, grid_net", [
    # exact: 1600 to SOLAR, the 100 fen margin refunded
    ((20_000,), 1_600, 0, -1_600, 0),
    # over by 500 Wh: 500 x 100 / 1000 = 50 fen to GRID; refund 100 - 50 = 50
    ((12_000, 8_500), 1_600, 50, -1_650, 50),
    # over to the cap: 1000 Wh x 100 / 1000 = 100 fen, refund 0
    ((21_000,), 1_600, 100, -1_700, 100),
    # under by 5000 Wh: GRID buys it back, 5000 x 100 / 1000 = 500 fen; refund 100 + 500
    ((15_000,), 1_600, -500, -1_100, -500),
    # nothing delivered: GRID buys the whole 20000 Wh, 2000 fen; the user gains 400
    ((), 1_600, -2_000, 400, -2_000),
])
@pytest.mark.parametrize("user_first", [True, False])
def test_settlement(w, delivered, supplier_fen, deviation_fen, user_net, grid_net, user_first):
    def run(w):
        w.sign()
        w.deliver(*delivered)
        w.compute()
        contract = w.state.contracts["C1"]
        assert contract.status == CONTRACT_COMPUTED
        assert (contract.supplier_fen, contract.deviation_fen) == (supplier_fen, deviation_fen)
        # the grid's shortfall payment waits in the escrow until the settlement is final
        assert w.balance(ESCROW) == 1_700 + max(0, -deviation_fen)
        _settle_both(w, user_first)

    flows = _flows(w, run)
    assert flows == {WALLET: user_net, SOLAR: supplier_fen, GRID: grid_net, ESCROW: 0}
    assert ESCROW not in w.state.accounts and "C1" not in w.state.contracts
    energy = sum(delivered)
    (evidence,) = w.state.events
    assert evidence == Evidence("contract", "C1", energy * 3600, (
        Share("user:EV1", "user", energy_ws=energy * 3600,
              paid_fen=supplier_fen + max(0, deviation_fen), received_fen=max(0, -deviation_fen),
              deviation_ws=(energy - 20_000) * 3600, deviation_fen=deviation_fen),
        Share("supplier:SOLAR", "supplier", energy_ws=20_000 * 3600, received_fen=supplier_fen),
        Share("supplier:GRID", "grid", energy_ws=abs(energy - 20_000) * 3600,
              paid_fen=max(0, -deviation_fen), received_fen=max(0, deviation_fen),
              deviation_ws=(20_000 - energy) * 3600, deviation_fen=-deviation_fen)))


def test_one_confirmation_is_not_final(w):
    w.sign()
    w.deliver(20_000)
    w.compute()
    w.apply("supplier_confirm_settlement", SOLAR, {"contract_id": "C1"})
    contract = w.state.contracts["C1"]
    assert contract.supplier_confirmed and not contract.user_confirmed
    assert w.balance(ESCROW) == 1_700 and w.balance(SOLAR) == 0
    assert w.state.events == ()
    rejected(w, "supplier_confirm_settlement", SOLAR, {"contract_id": "C1"}, "E_CONTRACT_STATE")
    w.apply("confirm_settlement", USER, {"contract_id": "C1"})
    assert w.balance(SOLAR) == 1_600
    for kind, author in (("confirm_settlement", USER), ("supplier_confirm_settlement", SOLAR),
                         ("finalize_contract", USER)):
        rejected(w, kind, author, {"contract_id": "C1"}, "E_UNKNOWN_CONTRACT")


def test_double_user_confirmation(w):
    w.sign()
    w.compute()
    w.apply("confirm_settlement", USER, {"contract_id": "C1"})
    rejected(w, "confirm_settlement", USER, {"contract_id": "C1"}, "E_CONTRACT_STATE")


def test_wrong_parties(w):
    w.sign()
    w.deliver(1_000)
    rejected(w, "settle_contract", NODE, {"contract_id": "C1"}, "E_CONTRACT_STATE")  # in window
    w.at(w.end + BLOCK)
    rejected(w, "settle_contract", "node:A2", {"contract_id": "C1"}, "E_TX_AUTHOR")
    rejected(w, "confirm_settlement", USER, {"contract_id": "C1"}, "E_CONTRACT_STATE")  # not computed
    w.apply("settle_contract", NODE, {"contract_id": "C1"})
    rejected(w, "settle_contract", NODE, {"contract_id": "C1"}, "E_CONTRACT_STATE")  # twice
    rejected(w, "confirm_settlement", OTHER_USER, {"contract_id": "C1"}, "E_TX_AUTHOR")
    rejected(w, "supplier_confirm_settlement", GRID, {"contract_id": "C1"}, "E_TX_AUTHOR")
    rejected(w, "confirm_settlement", USER, {"contract_id": "NOPE"}, "E_UNKNOWN_CONTRACT")
    rejected(w, "confirm_settlement", USER, {"contract_id": "C1", "x": 1}, "E_TX_FIELD")
    with pytest.raises(ChargeChainError) as raised:  # a node may not confirm for the user
        w.apply("confirm_settlement", NODE, {"contract_id": "C1"})
    assert raised.value.code == "E_TX_AUTHOR"


def test_settle_exactly_at_window_end_is_refused(w):
    w.sign()
    w.at(w.end)
    rejected(w, "settle_contract", NODE, {"contract_id": "C1"}, "E_CONTRACT_STATE")


def test_grid_without_money_delays_the_computation():
    w = SupplyWorld(grid_fen=0)
    w.sign()
    w.deliver(19_000)  # shortfall 1000 Wh: GRID owes 100 fen and has none
    w.at(w.end + BLOCK)
    error = rejected(w, "settle_contract", NODE, {"contract_id": "C1"}, "E_INSUFFICIENT_FUNDS")
    assert error.field == "grid_id"
    w.apply("top_up_supplier", "operator:GAMMA", {"supplier_id": "GRID", "amount_fen": 100})
    w.apply("settle_contract", NODE, {"contract_id": "C1"})
    assert w.balance(GRID) == 0 and w.balance(ESCROW) == 1_800
    _settle_both(w)
    assert w.balance(WALLET) == 5_000 - 1_600 + 100


def test_an_excess_needs_no_grid_money():
    w = SupplyWorld(grid_fen=0)
    w.sign()
    w.deliver(20_700)
    w.compute()
    _settle_both(w)
    assert w.balance(GRID) == 70  # 700 Wh x 100 / 1000


# --- the deadline: silence is consent --------------------------------------------------------

def test_confirmation_closes_at_the_deadline(w):
    w.sign()
    w.deliver(20_000)
    w.compute()
    w.apply("confirm_settlement", USER, {"contract_id": "C1"})
    w.at(w.deadline - BLOCK)
    rejected(w, "supplier_finalize_contract", SOLAR, {"contract_id": "C1"}, "E_CONTRACT_STATE")
    w.at(w.deadline)
    rejected(w, "supplier_confirm_settlement", SOLAR, {"contract_id": "C1"}, "E_CONTRACT_STATE")
    rejected(w, "finalize_contract", OTHER_USER, {"contract_id": "C1"}, "E_TX_AUTHOR")
    rejected(w, "supplier_finalize_contract", GRID, {"contract_id": "C1"}, "E_TX_AUTHOR")
    w.apply("supplier_finalize_contract", SOLAR, {"contract_id": "C1"})
    assert w.balance(SOLAR) == 1_600 and w.balance(WALLET) == 5_000 - 1_600
    assert "C1" not in w.state.contracts and ESCROW not in w.state.accounts
    rejected(w, "finalize_contract", USER, {"contract_id": "C1"}, "E_UNKNOWN_CONTRACT")


def test_finalize_computes_when_the_node_never_did(w):
    w.sign()
    w.deliver(20_300)
    w.at(w.deadline)
    flows = _flows(w, lambda w: w.apply("finalize_contract", USER, {"contract_id": "C1"}))
    # escrow 1700 pays SOLAR 1600, GRID 300 Wh x 100 / 1000 = 30, refunds 70
    assert flows == {WALLET: 70, SOLAR: 1_600, GRID: 30, ESCROW: -1_700}
    assert w.state.events[0].shares[2].received_fen == 30


# --- rounding (price x Wh / 1000 fen, half up; the cap rounds down) ---------------------------

@pytest.mark.parametrize("energy_wh, price, fen", [
    (499, 1, 0), (500, 1, 1), (1_500, 1, 2), (2_500, 1, 3), (12_345, 81, 1_000),
    (12_339, 81, 999),  # 999.459
    (0, 100, 0), (1, 499, 0), (1, 500, 1),
])
def test_energy_value_rounds_half_up(energy_wh, price, fen):
    assert supply_amounts.energy_value_fen(energy_wh, price) == fen


def test_deviation_is_valued_on_its_own_energy():
    """value(D - E), not value(D) - value(E): at 1 fen/kWh, 500 Wh over 500 Wh is 1 fen
    (value(1000) - value(500) would be 1 - 1 = 0)."""
    s = supply_amounts.settlement_amounts(500, 1_000, 1, 1, 100)
    assert (s.supplier_fen, s.excess_fen, s.shortfall_fen) == (1, 1, 0)
    assert s.refund_fen == 100 - 1 - 1


def test_rounding_through_a_contract(w):
    # 1500 Wh at 1 fen/kWh: 1.5 -> 2 fen; margin 19500 Wh at 100 fen/kWh = 1950 fen
    w.sign(energy_wh=1_500, price_fen_per_kwh=1)
    assert w.state.contracts["C1"].escrow_fen == 2 + 1_950
    w.deliver(1_505)  # 5 Wh over at 100 fen/kWh: 0.5 -> 1 fen
    w.compute()
    assert w.state.contracts["C1"].deviation_fen == 1
    flows = _flows(w, _settle_both)
    assert flows == {WALLET: 1_952 - 2 - 1, SOLAR: 2, GRID: 1, ESCROW: -1_952}


# --- a naive reference over random contracts -------------------------------------------------

def _half_up(energy_wh: int, price: int) -> int:
    """Round half up of energy x price / 1000, via exact fractions (independent of the code)."""
    exact = Fraction(energy_wh * price, 1000)
    return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))


@settings(max_examples=300, deadline=None)
@given(energy=st.integers(1, 10**9), extra=st.integers(0, 10**9), price=st.integers(0, 10**5),
       catalog=st.integers(1, 10**5), data=st.data())
def test_settlement_matches_a_naive_reference(energy, extra, price, catalog, data):
    cap = energy + extra
    delivered = data.draw(st.integers(0, cap))
    escrow = supply_amounts.escrow_fen(energy, price, cap, catalog)
    assert escrow == _half_up(energy, price) + _half_up(extra, catalog)
    s = supply_amounts.settlement_amounts(energy, delivered, price, catalog, escrow)
    over, under = max(0, delivered - energy), max(0, energy - delivered)
    assert s.supplier_fen == _half_up(energy, price)
    assert (s.excess_fen, s.shortfall_fen) == (_half_up(over, catalog), _half_up(under, catalog))
    assert s.refund_fen == _half_up(extra, catalog) - _half_up(over, catalog) + _half_up(under, catalog)
    assert s.refund_fen >= 0


def test_kinds_are_registered_with_their_roles():
    from refimpl.contracts.dispatch import TX_KINDS
    roles = {"set_catalog_price": "supplier", "top_up_supplier": "operator",
             "sign_contract": "user", "record_delivery": "node", "settle_contract": "node",
             "confirm_settlement": "user", "supplier_confirm_settlement": "supplier",
             "finalize_contract": "user", "supplier_finalize_contract": "supplier"}
    assert {k: v[0] for k, v in supply.KINDS.items()} == roles
    for name, role in roles.items():
        assert TX_KINDS[name].role == role


def test_contract_states_round_trip_through_the_world_state(w):
    """An open contract is a world-state entry that decodes back; finality deletes the contract
    and its escrow entry, and the incrementally updated root equals a fresh build's."""
    from refimpl.ledger.decode import state_from_entries
    from refimpl.ledger.worldstate import seal, state_root, world_entries

    def fresh_root(state):
        return state_root(state_from_entries(world_entries(state)))

    w.state = seal(w.state)
    w.sign()
    assert state_from_entries(world_entries(w.state)) == w.state
    assert state_root(w.state) == fresh_root(w.state)
    w.state = seal(w.state)
    w.deliver(20_500)
    w.compute()
    _settle_both(w)
    assert not any(key.endswith("C1") for key, _ in world_entries(w.state))
    assert state_from_entries(world_entries(w.state)) == w.state
    assert state_root(w.state) == fresh_root(w.state)


def test_a_counter_signed_contract_cannot_be_taken_by_another_user():
    """The supplier counter-signs the user too (ev_id is a term): another user who submits
    the same body is refused, and one who rewrites ev_id breaks the counter-signature
    (review finding: the contract used to go to whoever sent it first)."""
    w = SupplyWorld()
    w.apply("top_up", "operator:ALPHA", {"ev_id": "EV2", "amount_fen": 5_000})
    body = w.signed(w.terms())
    before = w.state
    with pytest.raises(ChargeChainError) as taken:
        w.apply("sign_contract", OTHER_USER, body)
    assert taken.value.code == "E_TX_AUTHOR" and w.state == before
    with pytest.raises(ChargeChainError) as rewritten:
        w.apply("sign_contract", OTHER_USER, {**body, "ev_id": "EV2"})
    assert rewritten.value.code == "E_COSIGNATURE"
    w.apply("sign_contract", USER, body)
    assert w.state.contracts["C1"].ev_id == "EV1"
