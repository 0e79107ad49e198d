"""The off-chain tables of ``chargechain export``: one description shared by every writer.

001 §3(4) exports the chain's information to a relational database off the chain for
accounting. Each table is described once here (column name, abstract type, meaning); the
SQLite and PostgreSQL writers turn the description into their DDL (``int`` is INTEGER /
BIGINT, ``text`` is TEXT). Every row names the block it comes from (``height``,
``block_hash``) and, where one transaction made it, that transaction (``tx_index``,
``tx_id``). The meaning of every column is documented in docs (market-evidence page).
"""

from __future__ import annotations

import attrs

__all__ = [
    "EVIDENCE_TABLES",
    "EXPORT_FORMAT",
    "TABLES",
    "TABLE_NAMES",
    "Column",
    "Table",
    "ddl",
    "table",
]

#: the value of ``chain.format`` in an exported database
EXPORT_FORMAT = "chargechain-export/1"


@attrs.frozen
class Column:
    """A column: name, abstract type (``int`` or ``text``), nullable, meaning."""

    name: str
    type: str
    meaning: str
    nullable: bool = False


@attrs.frozen
class Table:
    """A table: name, meaning, columns and primary key."""

    name: str
    meaning: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names in order."""
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: str, meaning: str, nullable: bool = False) -> Column:
    """Shorthand for a column."""
    return Column(name, type_, meaning, nullable)


def _origin(registered: bool) -> tuple[Column, ...]:
    """The block (and transaction) a row comes from."""
    what = "registered it" if registered else "made it"
    return (
        _c("height", "int", f"height of the block that {what}"),
        _c("tx_index", "int", f"index in that block of the transaction that {what}",
           nullable=registered),
        _c("tx_id", "text", f"SM3 id (hex) of the transaction that {what}",
           nullable=registered),
        _c("block_hash", "text", "hash (hex) of that block"),
    )


def _share_columns(ref_meaning: str) -> tuple[Column, ...]:
    """The columns of a table of evidence shares (settlements, fills, deviations)."""
    return (
        _c("ref", "text", ref_meaning),
        _c("record", "int", "index of the evidence record in the transaction's receipt"),
        _c("share", "int", "index of the share in the record"),
        _c("party", "text", "the party (user:EV1, operator:TELD, supplier:SGTJ, platform, ...)"),
        _c("role", "text", "what the party was in the record (user, owner, buyer, grid, ...)"),
        _c("year", "int", "local year of the block (IR-EVID-2)"),
        _c("quarter", "int", "local quarter 1..4 of the block (IR-EVID-2)"),
        _c("energy_ws", "int", "the party's energy, watt-seconds"),
        _c("paid_fen", "int", "money the party paid, fen"),
        _c("received_fen", "int", "money the party received, fen"),
        _c("commission_fen", "int", "commission in the party's share, fen"),
        _c("deviation_ws", "int", "energy bought from (+) or sold to (-) the grid as deviation"),
        _c("deviation_fen", "int", "money paid (+) or received (-) for deviations, fen"),
    ) + _origin(False)


SHARE_KEY = ("height", "tx_index", "record", "share")

TABLES: tuple[Table, ...] = (
    Table("chain", "the exported chain: one row", (
        _c("chain_id", "text", "the chain id"),
        _c("format", "text", f"the export format, {EXPORT_FORMAT}"),
        _c("height", "int", "height of the store's tip when exported"),
        _c("block_hash", "text", "hash (hex) of the tip block"),
        _c("genesis_hash", "text", "hash (hex) of block 0"),
    ), ("chain_id",)),
    Table("parties", "every operator, supplier and user, and the platform, at the tip", (
        _c("party", "text", "account-style id: operator:ORG, supplier:ID, user:EV, platform"),
        _c("party_type", "text", "operator, supplier, user or platform"),
        _c("name", "text", "English name (operator), name (supplier), '' otherwise"),
        _c("org_id", "text", "the operator itself, or the operator that registered a user"),
        _c("balance_fen", "int", "sum of the party's accounts at the tip, fen"),
    ) + _origin(True), ("party",)),
    Table("stations", "every charging station at the tip", (
        _c("station_id", "text", "station id"),
        _c("org_id", "text", "operating company"),
        _c("node_id", "text", "the billing node that settles its sessions"),
        _c("supplier_id", "text", "the power supplier"),
        _c("x_m", "int", "east coordinate, metres"),
        _c("y_m", "int", "north coordinate, metres"),
        _c("piles", "int", "number of piles"),
    ) + _origin(True), ("station_id",)),
    Table("piles", "every pile of every station at the tip", (
        _c("station_id", "text", "station id"),
        _c("pile", "int", "pile index at the station"),
        _c("pile_type", "text", "AC or DC"),
        _c("power_w", "int", "rated power, watts"),
    ) + _origin(True), ("station_id", "pile")),
    Table("sessions", "every settled charging session (the store's bill index)", (
        _c("session_id", "text", "session id"),
        _c("ev_id", "text", "the user"),
        _c("station_id", "text", "the station"),
        _c("pile", "int", "the pile"),
        _c("price_id", "text", "PriceID of the tariff"),
        _c("start_height", "int", "block that opened it"),
        _c("start_time", "int", "its time, seconds since 1970 UTC"),
        _c("settle_time", "int", "settlement time, seconds since 1970 UTC"),
        _c("energy_ws", "int", "energy delivered, watt-seconds"),
        _c("electricity_fen", "int", "electricity fee, fen"),
        _c("service_fen", "int", "service fee, fen"),
        _c("commission_fen", "int", "platform commission, fen"),
        _c("electricity_fen_per_kwh", "int", "electricity price, fen/kWh"),
        _c("service_fen_per_kwh", "int", "service price, fen/kWh"),
        _c("height", "int", "height of the block that settled it"),
        _c("tx_index", "int", "index of the settle_charging transaction in that block"),
        _c("tx_id", "text", "SM3 id (hex) of that transaction (NULL for an imported bill row)",
           nullable=True),
        _c("block_hash", "text", "hash (hex) of that block"),
    ), ("height", "tx_index", "session_id")),
    Table("settlements", "every share of every charge evidence record",
          _share_columns("the charging session id"), SHARE_KEY),
    Table("orders", "every order transaction of the market (place, market, cancel)", (
        _c("kind", "text", "the transaction kind (place_order, market_order, "
                           "supplier_place_order, supplier_market_order, cancel_order, "
                           "supplier_cancel_order)"),
        _c("author", "text", "who sent it (user:EV1, supplier:SGTJ, ...)"),
        _c("order_id", "text", "order id", nullable=True),
        _c("area_id", "text", "grid area of the market", nullable=True),
        _c("side", "text", "buy or sell", nullable=True),
        _c("price_fen_per_kwh", "int", "limit price, fen/kWh", nullable=True),
        _c("quantity_wh", "int", "quantity, Wh", nullable=True),
        _c("expires_height", "int", "last block of a limit order", nullable=True),
        _c("amount", "int", "amount of a market order (fen to spend or Wh to sell)",
           nullable=True),
        _c("min_return", "int", "least return a market order accepts", nullable=True),
    ) + _origin(False), ("height", "tx_index")),
    Table("fills", "every share of every market fill evidence record",
          _share_columns("the fill id"), SHARE_KEY),
    Table("contracts", "every signed supply contract (its terms)", (
        _c("contract_id", "text", "contract id"),
        _c("author", "text", "who sent sign_contract"),
        _c("supplier_id", "text", "the power supplier", nullable=True),
        _c("grid_id", "text", "the grid company", nullable=True),
        _c("station_id", "text", "the station supplied", nullable=True),
        _c("power_w", "int", "contracted power, watts", nullable=True),
        _c("energy_wh", "int", "contracted energy, Wh", nullable=True),
        _c("price_fen_per_kwh", "int", "price, fen/kWh", nullable=True),
        _c("window_start", "int", "start of the supply window", nullable=True),
        _c("window_end", "int", "end of the supply window", nullable=True),
        _c("confirm_deadline", "int", "last block for the confirmations", nullable=True),
    ) + _origin(False), ("height", "tx_index")),
    Table("deviations", "every share of every supply-contract settlement evidence record",
          _share_columns("the contract id"), SHARE_KEY),
)

TABLE_NAMES = tuple(t.name for t in TABLES)
#: evidence kind -> the table of its shares
EVIDENCE_TABLES = {"charge": "settlements", "fill": "fills", "contract": "deviations"}


def table(name: str) -> Table:
    """The description of table ``name``."""
    return next(t for t in TABLES if t.name == name)


def ddl(t: Table, types: dict[str, str]) -> str:
    """``CREATE TABLE`` of ``t`` with the abstract types mapped by ``types``."""
    columns = [f"{c.name} {types[c.type]}{'' if c.nullable else ' NOT NULL'}"
               for c in t.columns]
    return (f"CREATE TABLE {t.name} ({', '.join(columns)}, "
            f"PRIMARY KEY ({', '.join(t.key)}))")
