"""Supply contracts (001 §3 (2)-(3)): catalog prices, grid funding, signing and power delivery.

A power user and a power supplier sign a contract in advance: power, energy, price and the
supply window (the user's transaction signature and the supplier's counter-signature over the
same terms, :mod:`refimpl.ledger.cosign`). Entering into force escrows the user's money; during
the window the metering station's node records the energy delivered. The settlement, the two
confirmations and the deadline are in :mod:`refimpl.contracts.market.supply_settle` (001 §3 (4)).
"""

from __future__ import annotations

import attrs

from refimpl.contracts.registry import MAX_TOP_UP_FEN
from refimpl.ledger.params import MAX_PRICE_FEN_PER_KWH
from refimpl.errors import ChargeChainError
from refimpl.ledger import fields
from refimpl.ledger.accounts import apply_transfers, mint
from refimpl.ledger.cosign import check_cosignature
from refimpl.ledger.records import Supplier
from refimpl.ledger.records_supply import CONTRACT_IN_FORCE, SupplyContract, escrow_account
from refimpl.ledger.state import State, account_of_user
from refimpl.ledger.transaction import Transaction, author_id
from refimpl.contracts.market import supply_amounts as amounts
from refimpl.contracts.market import supply_settle

__all__ = [
    "KINDS",
    "COSIGN_PURPOSE",
    "MAX_POWER_W",
    "MAX_ENERGY_WH",
    "MAX_WINDOW_S",
    "MAX_TIME_S",
    "SIGN_FIELDS",
    "process_set_catalog_price",
    "process_top_up_supplier",
    "process_sign_contract",
    "process_record_delivery",
]

#: the purpose a supplier's counter-signature of a supply contract is bound to
COSIGN_PURPOSE = "supply_contract"
MAX_POWER_W = 10**9
MAX_ENERGY_WH = 10**12
#: at most a year (366 days) between the window's start and end
MAX_WINDOW_S = 366 * 24 * 3600
#: times are seconds since the Unix epoch, below 2**40 (the year 36812)
MAX_TIME_S = 2**40
SIGN_FIELDS = frozenset({"contract_id", "ev_id", "supplier_id", "grid_id", "station_id",
                         "power_w",
                         "energy_wh", "price_fen_per_kwh", "window_start", "window_end",
                         "confirm_deadline", "supplier_signature"})



def supplier_of(state: State, supplier_id: str, field: str) -> Supplier:
    """The registered supplier, or E_UNKNOWN_SUPPLIER naming the field."""
    supplier = state.suppliers.get(supplier_id)
    if supplier is None:
        raise ChargeChainError("E_UNKNOWN_SUPPLIER", "no such power supplier", field=field,
                               received=supplier_id)
    return supplier


def process_set_catalog_price(state: State, tx: Transaction) -> State:
    """A supplier acting as grid company sets its catalog price of deviations (0 withdraws it)."""
    fields.require_keys(tx.body, {"catalog_fen_per_kwh"})
    price = fields.integer(tx.body, "catalog_fen_per_kwh", 0, MAX_PRICE_FEN_PER_KWH)
    supplier = state.suppliers[author_id(tx)]  # the envelope checked the author exists
    updated = attrs.evolve(supplier, catalog_fen_per_kwh=price)
    return attrs.evolve(state, suppliers=state.suppliers.set(supplier.supplier_id, updated))


def process_top_up_supplier(state: State, tx: Transaction) -> State:
    """Money paid to an operator enters a supplier's account, counted as the operator's minted
    money exactly as a wallet top-up is (``registry.process_top_up``; IR-SUPPLY-1)."""
    fields.require_keys(tx.body, {"supplier_id", "amount_fen"})
    supplier_id = fields.text(tx.body, "supplier_id")
    amount = fields.integer(tx.body, "amount_fen", 1, MAX_TOP_UP_FEN)
    supplier = supplier_of(state, supplier_id, "supplier_id")
    org_id = author_id(tx)
    return attrs.evolve(
        state,
        accounts=mint(state.accounts, supplier.account, amount),
        minted=state.minted.set(org_id, state.minted.get(org_id, 0) + amount),
    )


def _check_window(state: State, start: int, end: int, deadline: int) -> None:
    """The window starts after the block, ends after it starts, within a year; the deadline after."""
    if start <= state.time:
        raise ChargeChainError("E_TX_FIELD", "the supply window must start after the block",
                               field="window_start", expected=f"> {state.time}", received=start)
    if not start < end <= start + MAX_WINDOW_S:
        raise ChargeChainError("E_TX_FIELD", "the window must end after it starts, within a year",
                               field="window_end",
                               expected=f"{start + 1}..{start + MAX_WINDOW_S}", received=end)
    if deadline <= end:
        raise ChargeChainError("E_TX_FIELD", "the confirmation deadline must follow the window",
                               field="confirm_deadline", expected=f"> {end}", received=deadline)


def _contract_terms(state: State, tx: Transaction) -> SupplyContract:
    """The contract the body describes, checked field by field (escrow not yet computed)."""
    body = tx.body
    fields.require_keys(body, set(SIGN_FIELDS))
    contract_id = fields.text(body, "contract_id")
    ev_id = fields.text(body, "ev_id")
    if ev_id != author_id(tx):
        raise ChargeChainError("E_TX_AUTHOR", "the supplier counter-signed a contract with "
                               "another user", field="ev_id", expected=author_id(tx),
                               received=ev_id)
    supplier_id = fields.text(body, "supplier_id")
    grid_id = fields.text(body, "grid_id")
    station_id = fields.text(body, "station_id")
    power_w = fields.integer(body, "power_w", 1, MAX_POWER_W)
    energy_wh = fields.integer(body, "energy_wh", 1, MAX_ENERGY_WH)
    price = fields.integer(body, "price_fen_per_kwh", 0, MAX_PRICE_FEN_PER_KWH)
    start = fields.integer(body, "window_start", 0, MAX_TIME_S)
    end = fields.integer(body, "window_end", 0, MAX_TIME_S)
    deadline = fields.integer(body, "confirm_deadline", 0, MAX_TIME_S)
    _check_window(state, start, end, deadline)
    cap_wh = amounts.delivery_cap_wh(power_w, end - start)
    if energy_wh > cap_wh:
        raise ChargeChainError("E_TX_FIELD", "the contracted power cannot deliver that energy in "
                               "the window", field="energy_wh",
                               expected=f"<= power_w x window / 3600 = {cap_wh}", received=energy_wh)
    return SupplyContract(contract_id, ev_id, supplier_id, grid_id, station_id, power_w,
                          energy_wh, price, 0, start, end, deadline, cap_wh, 0,
                          CONTRACT_IN_FORCE, state.time)


def _check_parties(state: State, tx: Transaction, contract: SupplyContract) -> int:
    """New id, known supplier, grid with a catalog price and station, a good counter-signature;
    returns the grid's catalog price."""
    if contract.contract_id in state.contracts:
        raise ChargeChainError("E_DUPLICATE", "a contract with that id is open",
                               field="contract_id", received=contract.contract_id)
    supplier = supplier_of(state, contract.supplier_id, "supplier_id")
    grid = supplier_of(state, contract.grid_id, "grid_id")
    if grid.catalog_fen_per_kwh <= 0:
        raise ChargeChainError("E_UNKNOWN_SUPPLIER", "the grid company has no catalog price",
                               field="grid_id", expected="a supplier with a catalog price",
                               received=contract.grid_id)
    if contract.station_id not in state.stations:
        raise ChargeChainError("E_UNKNOWN_STATION", "no such metering station",
                               field="station_id", received=contract.station_id)
    check_cosignature(supplier.public_key, state.chain_id, COSIGN_PURPOSE,
                      f"supplier:{supplier.supplier_id}", tx.body, "supplier_signature")
    return grid.catalog_fen_per_kwh


def process_sign_contract(state: State, tx: Transaction) -> State:
    """The user signs a contract the supplier counter-signed; the escrow enters into force
    (contracted value + the cap's extra energy at the catalog price: IR-SUPPLY-3)."""
    terms = _contract_terms(state, tx)
    catalog = _check_parties(state, tx, terms)
    escrow = amounts.escrow_fen(terms.energy_wh, terms.price_fen_per_kwh, terms.cap_wh, catalog)
    wallet = account_of_user(terms.ev_id)
    balance = state.accounts.get(wallet, 0)
    if balance < escrow:
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the wallet cannot fund the contract's "
                               "escrow", field="balance_fen", expected=f">= {escrow}",
                               received=balance)
    contract = attrs.evolve(terms, catalog_fen_per_kwh=catalog, escrow_fen=escrow)
    transfers = amounts.escrow_transfers(wallet, escrow_account(contract.contract_id), escrow)
    return attrs.evolve(state, accounts=apply_transfers(state.accounts, transfers),
                        contracts=state.contracts.set(contract.contract_id, contract))


def process_record_delivery(state: State, tx: Transaction) -> State:
    """The metering station's node records energy delivered during the window, within the cap
    (window_start < block time <= window_end: IR-SUPPLY-6)."""
    fields.require_keys(tx.body, {"contract_id", "energy_wh"})
    contract = supply_settle.contract_of(state, fields.text(tx.body, "contract_id"))
    energy = fields.integer(tx.body, "energy_wh", 1, MAX_ENERGY_WH)
    supply_settle.require_metering_node(state, tx, contract)
    supply_settle.require_status(contract, CONTRACT_IN_FORCE)
    if not contract.window_start < state.time <= contract.window_end:
        raise ChargeChainError("E_CONTRACT_STATE", "deliveries are recorded only during the "
                               "window", field="time",
                               expected=f"{contract.window_start + 1}..{contract.window_end}",
                               received=state.time)
    delivered = contract.delivered_wh + energy
    if delivered > contract.cap_wh:
        raise ChargeChainError("E_METER", "deliveries above the contract's cap are refused",
                               field="energy_wh", expected=f"<= {contract.cap_wh - contract.delivered_wh}",
                               received=energy)
    updated = attrs.evolve(contract, delivered_wh=delivered)
    return attrs.evolve(state, contracts=state.contracts.set(contract.contract_id, updated))


#: the supply-contract transaction kinds: name -> (role, handler, summary)
KINDS: dict = {
    "set_catalog_price": ("supplier", process_set_catalog_price,
                          "a grid company sets its catalog price of deviations"),
    "top_up_supplier": ("operator", process_top_up_supplier,
                        "money paid to an operator enters a supplier's account"),
    "sign_contract": ("user", process_sign_contract,
                      "a user signs a supply contract the supplier counter-signed; escrow"),
    "record_delivery": ("node", process_record_delivery,
                        "the metering node records energy delivered under a contract"),
    **supply_settle.KINDS,
}
