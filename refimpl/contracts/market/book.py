"""The order book's index: price-time priority in O(log n) without scanning (IR-MKT-4).

Per market and side, the prices with resting orders form a 32-ary trie over 20-bit prices:
four levels of 32-bit masks, each a state entry ``area|side|depth|prefix`` of
``State.book_masks`` whose bit d says that the child ``prefix x 32 + d`` holds a price. The
best price (highest buy, lowest sell) takes four look-ups; adding or removing a price touches
at most four masks. Per price a :class:`Level` names the first and last order of a FIFO queue,
and each order's :class:`Link` names its neighbours, so arrival order breaks price ties and any
order leaves its queue in O(1). Every structure is a key-value entry, as Fabric chaincode would
keep it with GetState/PutState; orders of different owners share only these index keys.
"""

from __future__ import annotations

import attrs

from refimpl.encoding import FrozenMap
from refimpl.ledger.records_market import BUY, Level, Link, Order, level_key, mask_key
from refimpl.ledger.state import State

__all__ = [
    "BITS",
    "DEPTHS",
    "MAX_BOOK_PRICE",
    "best_price",
    "head_order",
    "level_orders",
    "remove_order",
    "rest_order",
]

#: each trie node has 2**BITS children; DEPTHS levels cover prices 0 .. 2**20 - 1
BITS = 5
DEPTHS = 4
MAX_BOOK_PRICE = 2 ** (BITS * DEPTHS) - 1
_FANOUT_MASK = 2**BITS - 1


def _prefix(price: int, depth: int) -> int:
    """The trie node at ``depth`` (0 = root) on the path to ``price``."""
    return price >> (BITS * (DEPTHS - depth))


def _digit(price: int, depth: int) -> int:
    """The child of the depth-``depth`` node that leads to ``price``."""
    return (price >> (BITS * (DEPTHS - 1 - depth))) & _FANOUT_MASK


def _mark(masks: FrozenMap, area_id: str, side: str, price: int) -> FrozenMap:
    """Masks with ``price`` present: set its bit from the leaf up to the first node already set."""
    for depth in reversed(range(DEPTHS)):
        key = mask_key(area_id, side, depth, _prefix(price, depth))
        old = masks.get(key, 0)
        masks = masks.set(key, old | (1 << _digit(price, depth)))
        if old:
            break
    return masks


def _unmark(masks: FrozenMap, area_id: str, side: str, price: int) -> FrozenMap:
    """Masks without ``price``: clear its bit, and a parent's bit when a node becomes empty."""
    for depth in reversed(range(DEPTHS)):
        key = mask_key(area_id, side, depth, _prefix(price, depth))
        left = masks[key] & ~(1 << _digit(price, depth))
        if left:
            return masks.set(key, left)
        masks = masks.remove(key)
    return masks


def best_price(state: State, area_id: str, side: str) -> int | None:
    """The best price with resting orders on ``side`` (highest buy, lowest sell), or None."""
    prefix = 0
    for depth in range(DEPTHS):
        mask = state.book_masks.get(mask_key(area_id, side, depth, prefix), 0)
        if not mask:
            return None
        child = mask.bit_length() - 1 if side == BUY else (mask & -mask).bit_length() - 1
        prefix = (prefix << BITS) | child
    return prefix


def head_order(state: State, area_id: str, side: str) -> Order | None:
    """The first order at the best price of ``side`` (price-time priority), or None."""
    price = best_price(state, area_id, side)
    if price is None:
        return None
    return state.orders[state.book_levels[level_key(area_id, side, price)].head]


def rest_order(state: State, order: Order) -> State:
    """The state with ``order`` stored and queued last at its price."""
    key = level_key(order.area_id, order.side, order.price_fen_per_kwh)
    levels, links, masks = state.book_levels, state.book_links, state.book_masks
    level = levels.get(key)
    if level is None:
        levels = levels.set(key, Level(order.order_id, order.order_id, 1))
        links = links.set(order.order_id, Link())
        masks = _mark(masks, order.area_id, order.side, order.price_fen_per_kwh)
    else:
        links = links.update({level.tail: attrs.evolve(links[level.tail], next=order.order_id),
                              order.order_id: Link(prev=level.tail)})
        levels = levels.set(key, Level(level.head, order.order_id, level.orders + 1))
    return attrs.evolve(state, orders=state.orders.set(order.order_id, order),
                        book_levels=levels, book_links=links, book_masks=masks)


def _unlink(links: FrozenMap, order_id: str) -> FrozenMap:
    """Links with ``order_id`` taken out of its queue (its neighbours point at each other)."""
    link = links[order_id]
    changes = {}
    if link.prev:
        changes[link.prev] = attrs.evolve(links[link.prev], next=link.next)
    if link.next:
        changes[link.next] = attrs.evolve(links[link.next], prev=link.prev)
    return links.update(changes).remove(order_id)


def remove_order(state: State, order: Order) -> State:
    """The state without ``order``: out of the orders, its queue and (if it was alone) the trie."""
    key = level_key(order.area_id, order.side, order.price_fen_per_kwh)
    level = state.book_levels[key]
    link = state.book_links[order.order_id]
    levels, masks = state.book_levels, state.book_masks
    if level.orders == 1:
        levels = levels.remove(key)
        masks = _unmark(masks, order.area_id, order.side, order.price_fen_per_kwh)
    else:
        head = link.next if level.head == order.order_id else level.head
        tail = link.prev if level.tail == order.order_id else level.tail
        levels = levels.set(key, Level(head, tail, level.orders - 1))
    return attrs.evolve(state, orders=state.orders.remove(order.order_id), book_levels=levels,
                        book_links=_unlink(state.book_links, order.order_id), book_masks=masks)


def level_orders(state: State, area_id: str, side: str, price: int) -> list[str]:
    """The order ids queued at one price, first to last (for queries and tests; O(level))."""
    level = state.book_levels.get(level_key(area_id, side, price))
    ids, current = [], level.head if level else ""
    while current:
        ids.append(current)
        current = state.book_links[current].next
    return ids
