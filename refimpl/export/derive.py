"""The rows of the off-chain tables, derived from a node store (no replay).

* ``parties``, ``stations``, ``piles``: the tip state (the store's ``state`` rows); each row
  names the block in which its record first appeared and, when that block holds the
  registering transaction (register_operator / register_supplier / register_station /
  register_user with the same id), that transaction (NULL for genesis entries);
* ``sessions``: the store's bill index; the transaction is the settle_charging at the
  indexed position (NULL for imported bill rows);
* ``settlements``, ``fills``, ``deviations``: the evidence index (one row per share of the
  ``charge``, ``fill`` and ``contract`` records, checked against the receipts by validate);
* ``orders``, ``contracts``: the blocks' transactions of the order kinds and of
  ``sign_contract`` (body fields as given; NULL where a body has no such field).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import attrs

from refimpl.chain.block import Block
from refimpl.chain.receipts import Receipt
from refimpl.encoding import to_plain
from refimpl.export.tables import EVIDENCE_TABLES, EXPORT_FORMAT
from refimpl.ledger.state import PLATFORM_ACCOUNT, State, party_of_account
from refimpl.ledger.worldstate import entry_key
from refimpl.store import reads
from refimpl.store.evidence_rows import EVIDENCE_COLUMNS
from refimpl.store.node_store import NodeStore, stored_tip
from refimpl.store.rows import decode_block, decode_hash, decode_receipt, decode_session

__all__ = ["CONTRACT_KIND", "ORDER_KINDS", "ChainData", "export_rows", "load_chain_data"]

ORDER_KINDS = ("place_order", "market_order", "supplier_place_order", "supplier_market_order",
               "cancel_order", "supplier_cancel_order")
CONTRACT_KIND = "sign_contract"
ORDER_FIELDS = ("order_id", "area_id", "side", "price_fen_per_kwh", "quantity_wh",
                "expires_height", "amount", "min_return")
CONTRACT_FIELDS = ("contract_id", "supplier_id", "grid_id", "station_id", "power_w",
                   "energy_wh", "price_fen_per_kwh", "window_start", "window_end",
                   "confirm_deadline")
#: world-state section -> (registering transaction kind, its body field naming the id)
REGISTRATIONS = {"operators": ("register_operator", "org_id"),
                 "suppliers": ("register_supplier", "supplier_id"),
                 "stations": ("register_station", "station_id"),
                 "users": ("register_user", "ev_id")}
SECTIONS = ("operators", "suppliers", "stations", "users", "accounts")


@attrs.frozen
class ChainData:
    """What the export reads from a store, in one read transaction."""

    chain_id: str
    height: int
    hashes: tuple[bytes, ...]
    blocks: tuple[Block, ...]
    receipts: tuple[tuple[Receipt, ...], ...]
    state: State
    first_heights: dict[str, int]
    bills: tuple[tuple[int, int, Any], ...]
    evidence: tuple[tuple, ...]


def load_chain_data(path: Path) -> ChainData:
    """Every block, receipt, bill-index and evidence-index row and the tip sections."""
    with NodeStore.open(path) as store, store.reading() as db:
        height, _ = stored_tip(db, Path(path))
        rows = db.execute("SELECT height, hash, block FROM blocks WHERE height <= ? "
                          "ORDER BY height", (height,)).fetchall()
        hashes = tuple(decode_hash(d, f"blocks[{h}].hash") for h, d, _ in rows)
        blocks = tuple(decode_block(raw, h) for h, _, raw in rows)
        receipts: list[list[Receipt]] = [[] for _ in blocks]
        for h, i, raw in db.execute("SELECT height, idx, receipt FROM receipts WHERE "
                                    "height <= ? ORDER BY height, idx", (height,)):
            receipts[h].append(decode_receipt(raw, f"receipts[{h},{i}]"))
        state = reads.load_sections(db, SECTIONS, height)
        return ChainData(
            store.config.chain_id, height, hashes, blocks,
            tuple(tuple(r) for r in receipts), state, _first_heights(db, state),
            tuple((h, i, decode_session(raw, f"bills[{ev},{h},{i}]")) for ev, h, i, raw in
                  db.execute("SELECT ev_id, height, idx, session FROM bills WHERE height <= ? "
                             "ORDER BY height, idx, ev_id", (height,))),
            tuple(db.execute(f"SELECT {', '.join(EVIDENCE_COLUMNS)} FROM evidence WHERE "
                             "height <= ? ORDER BY height, idx, record, share", (height,))),
        )


def _first_heights(db: sqlite3.Connection, state: State) -> dict[str, int]:
    """The height at which each operator, supplier, station and user record first appeared."""
    out = {}
    for section in REGISTRATIONS:
        for ident in getattr(state, section):
            key = entry_key(section, ident)
            out[key] = db.execute("SELECT MIN(height) FROM state WHERE key = ?",
                                  (key,)).fetchone()[0]
    return out


def _origin(data: ChainData, height: int, index: int | None) -> tuple:
    """(height, tx_index, tx_id hex, block hash hex) of a row (NULLs when no transaction)."""
    tx = None if index is None else data.receipts[height][index].tx_id.hex()
    return height, index, tx, data.hashes[height].hex()


def _registered(data: ChainData, section: str, ident: str) -> tuple:
    """The origin of a state record: the block it first appeared in and its registration."""
    height = data.first_heights[entry_key(section, ident)]
    kind, field = REGISTRATIONS[section]
    for index, tx in enumerate(data.blocks[height].transactions):
        if tx.kind == kind and tx.body.get(field) == ident:
            return _origin(data, height, index)
    return _origin(data, height, None)


def _balances(state: State) -> dict[str, int]:
    """Each party's balance: the sum of its accounts (income sub-accounts included)."""
    out: dict[str, int] = {}
    for account, balance in state.accounts.items():
        party = party_of_account(account)
        out[party] = out.get(party, 0) + balance
    return out


def _parties(data: ChainData) -> list[tuple]:
    """The parties table."""
    s, balances = data.state, _balances(data.state)
    rows = [(f"operator:{o.org_id}", "operator", o.english_name, o.org_id,
             balances.get(f"operator:{o.org_id}", 0)) + _registered(data, "operators", k)
            for k, o in s.operators.items()]
    rows += [(f"supplier:{p.supplier_id}", "supplier", p.name, "",
              balances.get(f"supplier:{p.supplier_id}", 0)) + _registered(data, "suppliers", k)
             for k, p in s.suppliers.items()]
    rows += [(f"user:{u.ev_id}", "user", "", u.org_id, balances.get(f"user:{u.ev_id}", 0))
             + _registered(data, "users", k) for k, u in s.users.items()]
    rows.append((PLATFORM_ACCOUNT, "platform", "", "", balances.get(PLATFORM_ACCOUNT, 0),
                 0, None, None, data.hashes[0].hex()))
    return sorted(rows)


def _stations_and_piles(data: ChainData) -> tuple[list[tuple], list[tuple]]:
    """The stations and piles tables."""
    stations, piles = [], []
    for key, st in data.state.stations.items():
        origin = _registered(data, "stations", key)
        stations.append((st.station_id, st.org_id, st.node_id, st.supplier_id, st.x_m, st.y_m,
                         len(st.piles)) + origin)
        piles += [(st.station_id, i, p.pile_type, p.power_w) + origin
                  for i, p in enumerate(st.piles)]
    return sorted(stations), sorted(piles)


def _sessions(data: ChainData) -> list[tuple]:
    """The sessions table (bill index)."""
    rows = []
    for height, index, s in data.bills:
        txs = data.blocks[height].transactions
        settled = index < len(txs) and txs[index].kind == "settle_charging"
        rows.append((s.session_id, s.ev_id, s.station_id, s.pile, s.price_id, s.start_height,
                     s.start_time, s.settle_time, s.energy_ws, s.electricity_fen, s.service_fen,
                     s.commission_fen, s.electricity_fen_per_kwh, s.service_fen_per_kwh)
                    + (height, index, data.receipts[height][index].tx_id.hex() if settled
                       else None, data.hashes[height].hex()))
    return rows


def _body_fields(tx: Any, names: tuple[str, ...]) -> tuple:
    """The named body fields (plain values; None where absent; non-scalars as text)."""
    body = to_plain(tx.body)
    out = []
    for name in names:
        value = body.get(name)
        out.append(value if value is None or isinstance(value, (int, str))
                   and not isinstance(value, bool) else str(value))
    return tuple(out)


def _transactions(data: ChainData) -> tuple[list[tuple], list[tuple]]:
    """The orders and contracts tables (from the blocks' transactions)."""
    orders, contracts = [], []
    for height, block in enumerate(data.blocks):
        for index, tx in enumerate(block.transactions):
            if tx.kind in ORDER_KINDS:
                orders.append((tx.kind, tx.author) + _body_fields(tx, ORDER_FIELDS)
                              + _origin(data, height, index))
            elif tx.kind == CONTRACT_KIND:
                fields = _body_fields(tx, CONTRACT_FIELDS)
                contracts.append((str(fields[0]), tx.author) + fields[1:]
                                 + _origin(data, height, index))
    return orders, contracts


def _shares(data: ChainData) -> dict[str, list[tuple]]:
    """The settlements, fills and deviations tables (from the evidence index)."""
    out: dict[str, list[tuple]] = {name: [] for name in EVIDENCE_TABLES.values()}
    for (party, year, quarter, height, idx, record, share, kind, ref, role, *amounts,
         _tx_id) in data.evidence:
        name = EVIDENCE_TABLES.get(kind)
        if name is not None:
            out[name].append((ref, record, share, party, role, year, quarter, *amounts)
                             + _origin(data, height, idx))
    return out


def export_rows(data: ChainData) -> dict[str, list[tuple]]:
    """Every table's rows, in the column order of :mod:`refimpl.export.tables`."""
    stations, piles = _stations_and_piles(data)
    orders, contracts = _transactions(data)
    shares = _shares(data)
    return {
        "chain": [(data.chain_id, EXPORT_FORMAT, data.height, data.hashes[-1].hex(),
                   data.hashes[0].hex())],
        "parties": _parties(data), "stations": stations, "piles": piles,
        "sessions": _sessions(data), "settlements": shares["settlements"], "orders": orders,
        "fills": shares["fills"], "contracts": contracts, "deviations": shares["deviations"],
    }
