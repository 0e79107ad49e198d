"""Supply-contract settlement (001 §3 (4)): compute the expense, two confirmations, finality.

After the window the metering node computes the expense: the contracted value goes to the
supplier; a deviation (energy delivered above or below the contract) is sold to or bought from
the user by the grid company at its catalog price. Both parties confirm; the second confirmation
makes the settlement final: the escrow pays out exactly once and the contract's evidence is
emitted. Silence is consent: from the confirmation deadline on, either party may finalize
(IR-SUPPLY-7). A final contract leaves the state (IR-SUPPLY-8).
"""

from __future__ import annotations

import attrs

from refimpl.contracts.money import WS_PER_WH
from refimpl.errors import ChargeChainError
from refimpl.ledger import fields
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.events import Evidence, Share, emit
from refimpl.ledger.records_supply import (
    CONTRACT_COMPUTED,
    CONTRACT_IN_FORCE,
    SupplyContract,
    escrow_account,
)
from refimpl.ledger.state import State, account_of_supplier, account_of_user
from refimpl.ledger.transaction import Transaction
from refimpl.contracts.market import supply_amounts as amounts

__all__ = [
    "KINDS",
    "contract_of",
    "require_metering_node",
    "require_status",
    "contract_settlement",
    "compute_expense",
    "finalize",
    "contract_evidence",
    "process_settle_contract",
    "process_confirm_settlement",
    "process_supplier_confirm_settlement",
    "process_finalize_contract",
    "process_supplier_finalize_contract",
]


def contract_of(state: State, contract_id: str) -> SupplyContract:
    """The open contract with that id, or E_UNKNOWN_CONTRACT (final contracts have left)."""
    contract = state.contracts.get(contract_id)
    if contract is None:
        raise ChargeChainError("E_UNKNOWN_CONTRACT", "no open supply contract has that id",
                               field="contract_id", received=contract_id)
    return contract


def require_metering_node(state: State, tx: Transaction, contract: SupplyContract) -> None:
    """The author is the node of the contract's metering station (E_TX_AUTHOR otherwise)."""
    node = f"node:{state.stations[contract.station_id].node_id}"
    if tx.author != node:
        raise ChargeChainError("E_TX_AUTHOR", "only the metering station's node", field="author",
                               expected=node, received=tx.author)


def require_status(contract: SupplyContract, *statuses: str) -> None:
    """The contract is in one of ``statuses`` (E_CONTRACT_STATE otherwise)."""
    if contract.status not in statuses:
        raise ChargeChainError("E_CONTRACT_STATE", "the contract is not in the state this needs",
                               field="status", expected=list(statuses), received=contract.status)


def _require_party(tx: Transaction, party: str) -> None:
    """The author is the named party of the contract (E_TX_AUTHOR otherwise)."""
    if tx.author != party:
        raise ChargeChainError("E_TX_AUTHOR", "only a party to the contract", field="author",
                               expected=party, received=tx.author)


def contract_settlement(contract: SupplyContract) -> amounts.ContractSettlement:
    """The contract's settlement from its terms, its escrow and the energy delivered."""
    return amounts.settlement_amounts(contract.energy_wh, contract.delivered_wh,
                                      contract.price_fen_per_kwh, contract.catalog_fen_per_kwh,
                                      contract.escrow_fen)


def compute_expense(state: State, contract: SupplyContract) -> State:
    """The platform's computation after the window: record the expense and move the grid's
    shortfall payment into the escrow (E_INSUFFICIENT_FUNDS if the grid lacks it: IR-SUPPLY-5)."""
    if state.time <= contract.window_end:
        raise ChargeChainError("E_CONTRACT_STATE", "the expense is computed after the window",
                               field="time", expected=f"> {contract.window_end}",
                               received=state.time)
    settlement = contract_settlement(contract)
    grid = account_of_supplier(contract.grid_id)
    balance = state.accounts.get(grid, 0)
    if balance < settlement.shortfall_fen:
        raise ChargeChainError("E_INSUFFICIENT_FUNDS", "the grid company cannot buy the "
                               "shortfall; retry once its account is topped up", field="grid_id",
                               expected=f">= {settlement.shortfall_fen}", received=balance)
    transfers = amounts.reserve_transfers(grid, escrow_account(contract.contract_id), settlement)
    computed = attrs.evolve(contract, status=CONTRACT_COMPUTED, computed_time=state.time,
                            supplier_fen=settlement.supplier_fen,
                            deviation_fen=settlement.deviation_fen)
    return attrs.evolve(state, accounts=apply_transfers(state.accounts, transfers),
                        contracts=state.contracts.set(contract.contract_id, computed))


def contract_evidence(contract: SupplyContract,
                      settlement: amounts.ContractSettlement) -> Evidence:
    """The final contract's evidence: user, supplier and grid shares, deviations signed."""
    deviation_ws = (contract.delivered_wh - contract.energy_wh) * WS_PER_WH
    user = Share(account_of_user(contract.ev_id), "user",
                 energy_ws=contract.delivered_wh * WS_PER_WH,
                 paid_fen=settlement.supplier_fen + settlement.excess_fen,
                 received_fen=settlement.shortfall_fen,
                 deviation_ws=deviation_ws, deviation_fen=settlement.deviation_fen)
    supplier = Share(account_of_supplier(contract.supplier_id), "supplier",
                     energy_ws=contract.energy_wh * WS_PER_WH,
                     received_fen=settlement.supplier_fen)
    grid = Share(account_of_supplier(contract.grid_id), "grid",
                 energy_ws=abs(deviation_ws), paid_fen=settlement.shortfall_fen,
                 received_fen=settlement.excess_fen,
                 deviation_ws=-deviation_ws, deviation_fen=-settlement.deviation_fen)
    return Evidence("contract", contract.contract_id, contract.delivered_wh * WS_PER_WH,
                    (user, supplier, grid))


def finalize(state: State, contract: SupplyContract) -> State:
    """The settlement is final: the escrow pays out once, its account and the contract leave
    the state, and the evidence is emitted (IR-SUPPLY-8)."""
    settlement = contract_settlement(contract)
    escrow = escrow_account(contract.contract_id)
    transfers = amounts.release_transfers(escrow, account_of_user(contract.ev_id),
                                          account_of_supplier(contract.supplier_id),
                                          account_of_supplier(contract.grid_id), settlement)
    accounts = apply_transfers(state.accounts, transfers)
    if accounts[escrow] != 0:  # proved impossible (supply_conservation); never silently kept
        raise AssertionError(f"escrow of {contract.contract_id} not emptied: {accounts[escrow]}")
    final = attrs.evolve(state, accounts=accounts.remove(escrow),
                         contracts=state.contracts.remove(contract.contract_id))
    return emit(final, contract_evidence(contract, settlement))


def process_settle_contract(state: State, tx: Transaction) -> State:
    """The metering node computes the expense once the window is over (block time > window_end)."""
    fields.require_keys(tx.body, {"contract_id"})
    contract = contract_of(state, fields.text(tx.body, "contract_id"))
    require_metering_node(state, tx, contract)
    require_status(contract, CONTRACT_IN_FORCE)
    return compute_expense(state, contract)


def _confirm(state: State, tx: Transaction, party_field: str, flag: str) -> State:
    """One party confirms the computed expense before the deadline; the second makes it final."""
    fields.require_keys(tx.body, {"contract_id"})
    contract = contract_of(state, fields.text(tx.body, "contract_id"))
    party = (account_of_user if party_field == "ev_id" else account_of_supplier)(
        getattr(contract, party_field))
    _require_party(tx, party)
    require_status(contract, CONTRACT_COMPUTED)
    if state.time >= contract.confirm_deadline:
        raise ChargeChainError("E_CONTRACT_STATE", "the confirmation deadline has passed: "
                               "finalize the contract", field="time",
                               expected=f"< {contract.confirm_deadline}", received=state.time)
    if getattr(contract, flag):
        raise ChargeChainError("E_CONTRACT_STATE", "this party has already confirmed",
                               field=flag, expected=False, received=True)
    confirmed = attrs.evolve(contract, **{flag: True})
    if confirmed.user_confirmed and confirmed.supplier_confirmed:
        return finalize(state, confirmed)
    return attrs.evolve(state, contracts=state.contracts.set(contract.contract_id, confirmed))


def process_confirm_settlement(state: State, tx: Transaction) -> State:
    """The user confirms the computed settlement (once)."""
    return _confirm(state, tx, "ev_id", "user_confirmed")


def process_supplier_confirm_settlement(state: State, tx: Transaction) -> State:
    """The supplier confirms the computed settlement (once)."""
    return _confirm(state, tx, "supplier_id", "supplier_confirmed")


def _finalize_after_deadline(state: State, tx: Transaction, party_field: str) -> State:
    """From the confirmation deadline on, a party finalizes: silence is consent (IR-SUPPLY-7)."""
    fields.require_keys(tx.body, {"contract_id"})
    contract = contract_of(state, fields.text(tx.body, "contract_id"))
    party = (account_of_user if party_field == "ev_id" else account_of_supplier)(
        getattr(contract, party_field))
    _require_party(tx, party)
    if state.time < contract.confirm_deadline:
        raise ChargeChainError("E_CONTRACT_STATE", "before the deadline both parties confirm",
                               field="time", expected=f">= {contract.confirm_deadline}",
                               received=state.time)
    if contract.status == CONTRACT_IN_FORCE:
        state = compute_expense(state, contract)
        contract = state.contracts[contract.contract_id]
    return finalize(state, contract)


def process_finalize_contract(state: State, tx: Transaction) -> State:
    """The user finalizes a contract after the confirmation deadline."""
    return _finalize_after_deadline(state, tx, "ev_id")


def process_supplier_finalize_contract(state: State, tx: Transaction) -> State:
    """The supplier finalizes a contract after the confirmation deadline."""
    return _finalize_after_deadline(state, tx, "supplier_id")


#: name -> (role, handler, summary); merged into refimpl.contracts.market.supply.KINDS
KINDS: dict = {
    "settle_contract": ("node", process_settle_contract,
                        "the metering node computes a contract's expense after the window"),
    "confirm_settlement": ("user", process_confirm_settlement,
                           "the user confirms a contract's settlement"),
    "supplier_confirm_settlement": ("supplier", process_supplier_confirm_settlement,
                                    "the supplier confirms a contract's settlement"),
    "finalize_contract": ("user", process_finalize_contract,
                          "the user finalizes a contract after the confirmation deadline"),
    "supplier_finalize_contract": ("supplier", process_supplier_finalize_contract,
                                   "the supplier finalizes a contract after the deadline"),
}
