"""The records of the energy market (001 §2.1.2, §3 (1)): Bancor markets, orders, the book index.

A market trades energy tokens of one grid area. One token is the right to one Wh delivered by
the area's grid company (IR-BANCOR-1, IR-MKT-1). Money is in fen, tokens in Wh, prices in fen
per kWh. Token balances live in ``State.tokens`` under :func:`token_key` (holder ``|`` area).
"""

from __future__ import annotations

import attrs

__all__ = [
    "BUY",
    "SELL",
    "SIDES",
    "Level",
    "Link",
    "Market",
    "Order",
    "level_key",
    "market_reserve_account",
    "mask_key",
    "opposite",
    "order_escrow_account",
    "token_key",
]

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)


@attrs.frozen
class Market:
    """A Bancor market of one grid area: its grid company, CRR (ppm) and token supply S (Wh).

    The reserve B is the balance of :func:`market_reserve_account` (money lives in accounts
    only); ``supply_wh`` equals the sum of every token balance of the area (IR-MKT-1).
    """

    area_id: str
    grid_id: str
    crr_ppm: int
    supply_wh: int
    opened_height: int


@attrs.frozen
class Order:
    """A resting limit order: its owner (an account id such as ``user:EV1``), side, limit price,
    quantity placed, quantity still open and the last height at which it may match.

    A buy's escrow is the balance of :func:`order_escrow_account`; a sell's escrow is the token
    balance of that account in its area. The order's place in its price level's queue (time
    priority) is kept by the book index (:class:`Level`, :class:`Link`), not here.
    """

    order_id: str
    owner: str
    area_id: str
    side: str
    price_fen_per_kwh: int
    quantity_wh: int
    remaining_wh: int
    expires_height: int
    placed_height: int


@attrs.frozen
class Level:
    """The FIFO queue of resting orders at one price of one side of one market (order ids)."""

    head: str
    tail: str
    orders: int


@attrs.frozen
class Link:
    """An order's neighbours in its level's queue ('' at either end)."""

    prev: str = ""
    next: str = ""


def opposite(side: str) -> str:
    """The other side of the book."""
    return SELL if side == BUY else BUY


def market_reserve_account(area_id: str) -> str:
    """The account holding a market's Bancor reserve B."""
    return f"market:{area_id}"


def order_escrow_account(order_id: str) -> str:
    """The escrow of one order: its money (a buy) or, as a token holder, its tokens (a sell)."""
    return f"escrow:order:{order_id}"


def token_key(holder: str, area_id: str) -> str:
    """Key of a holder's tokens of one area in ``State.tokens``."""
    return f"{holder}|{area_id}"


def level_key(area_id: str, side: str, price: int) -> str:
    """Key of the queue of one price in ``State.book_levels``."""
    return f"{area_id}|{side}|{price}"


def mask_key(area_id: str, side: str, depth: int, prefix: int) -> str:
    """Key of one node of a side's price trie in ``State.book_masks``."""
    return f"{area_id}|{side}|{depth}|{prefix}"
