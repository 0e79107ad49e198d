"""A naive reference engine for one market: plain lists sorted by price then arrival, plain dicts
of balances, amounts computed with Fractions. It re-states the rules of IR-MKT-2..8 without the
book index, the trie or the refimpl's arithmetic helpers; only Bancor's returns are shared
(refimpl.contracts.market.bancor, tested on its own in tests/test_bancor.py)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from fractions import Fraction

from refimpl.contracts.market.bancor import purchase_return, sale_return

STEPS = 32  # MAX_MATCH_STEPS, stated again


class Reject(Exception):
    """The reference rejects the operation with this code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def up(x: Fraction) -> int:
    return math.ceil(x)


def down(x: Fraction) -> int:
    return math.floor(x)


@dataclass
class ROrder:
    oid: str
    owner: str
    side: str
    price: int
    remaining: int
    expires: int
    seq: int
    escrow: int = 0  # fen for a buy, Wh for a sell


@dataclass
class Ref:
    area: str
    crr: int
    supply: int
    money: dict = field(default_factory=dict)   # account -> fen (reserve under market:<area>)
    tokens: dict = field(default_factory=dict)  # holder -> Wh (free tokens only)
    book: list = field(default_factory=list)
    height: int = 1
    seq: int = 0

    @property
    def reserve_account(self) -> str:
        return f"market:{self.area}"

    # --- helpers ---------------------------------------------------------------------------
    def _queue(self, side: str) -> list:
        """Resting orders of one side by priority: best price first, then arrival."""
        mine = [o for o in self.book if o.side == side]
        return sorted(mine, key=lambda o: (-o.price if side == "buy" else o.price, o.seq))

    def _drop(self, o: ROrder) -> None:
        self.book.remove(o)
        if o.side == "buy":
            self.money[o.owner] = self.money.get(o.owner, 0) + o.escrow
        else:
            self.tokens[o.owner] = self.tokens.get(o.owner, 0) + o.escrow

    def _walk(self, owner: str, side: str, ok, want_wh: int, budget: int | None,
              fills: list, oid: str) -> tuple[int, int]:
        """Take the opposite side; returns (Wh traded, fen moved)."""
        other = "sell" if side == "buy" else "buy"
        done = moved = steps = 0
        while done < want_wh and steps < STEPS:
            queue = self._queue(other)
            if not queue or not ok(queue[0].price):
                break
            head = queue[0]
            steps += 1
            if head.expires < self.height or head.owner == owner:
                self._drop(head)
                continue
            q = min(head.remaining, want_wh - done)
            if side == "buy":
                if budget is not None:
                    # the most Wh whose rounded-up cost fits in what is left
                    q = _most_affordable(head.price, budget - moved, q)
                if q == 0:
                    break
                fen = up(Fraction(head.price * q, 1000))
                self.money[owner] = self.money.get(owner, 0) - fen
                self.money[head.owner] = self.money.get(head.owner, 0) + fen
                self.tokens[owner] = self.tokens.get(owner, 0) + q
                head.escrow -= q
                fills.append((f"{oid}:{len(fills)}", owner, head.owner, q, fen))
            else:
                fen = down(Fraction(head.price * q, 1000))
                self.tokens[owner] -= q
                self.tokens[head.owner] = self.tokens.get(head.owner, 0) + q
                keep = up(Fraction(head.price * (head.remaining - q), 1000))
                self.money[owner] = self.money.get(owner, 0) + fen
                self.money[head.owner] = self.money.get(head.owner, 0) + head.escrow - fen - keep
                head.escrow = keep
                fills.append((f"{oid}:{len(fills)}", head.owner, owner, q, fen))
            head.remaining -= q
            if head.remaining == 0:
                self._drop(head)
            done, moved = done + q, moved + fen
        return done, moved

    # --- operations (each returns the fills, or raises Reject leaving self unchanged) -------
    def place(self, owner: str, oid: str, side: str, price: int, qty: int, expires: int) -> list:
        if any(o.oid == oid for o in self.book):
            raise Reject("E_DUPLICATE")
        if expires < self.height:
            raise Reject("E_TX_FIELD")
        if side == "sell" and self.tokens.get(owner, 0) < qty:
            raise Reject("E_INSUFFICIENT_TOKENS")
        trial = copy.deepcopy(self)
        fills: list = []
        ok = (lambda p: p <= price) if side == "buy" else (lambda p: p >= price)
        done, _ = trial._walk(owner, side, ok, qty, None, fills, oid)
        left = qty - done
        if left:
            trial.seq += 1
            o = ROrder(oid, owner, side, price, left, expires, trial.seq)
            if side == "buy":
                o.escrow = up(Fraction(price * left, 1000))
                trial.money[owner] = trial.money.get(owner, 0) - o.escrow
            else:
                o.escrow = left
                trial.tokens[owner] -= left
            trial.book.append(o)
        if trial.money.get(owner, 0) < 0:
            raise Reject("E_INSUFFICIENT_FUNDS")
        self.__dict__.update(trial.__dict__)
        return fills

    def market(self, owner: str, oid: str, side: str, amount: int, min_return: int) -> list:
        if any(o.oid == oid for o in self.book):
            raise Reject("E_DUPLICATE")
        if side == "buy" and self.money.get(owner, 0) < amount:
            raise Reject("E_INSUFFICIENT_FUNDS")
        if side == "sell" and self.tokens.get(owner, 0) < amount:
            raise Reject("E_INSUFFICIENT_TOKENS")
        trial = copy.deepcopy(self)
        fills: list = []
        spot = Fraction(1000 * trial.money[trial.reserve_account] * 1_000_000,
                        trial.supply * trial.crr)  # fen per kWh
        if side == "buy":
            done, paid = trial._walk(owner, "buy", lambda p: p <= spot, 10**30, amount, fills, oid)
            rest = amount - paid
            got = purchase_return(trial.supply, trial.money[trial.reserve_account], trial.crr,
                                  rest) if rest else 0
            if got:
                trial.money[owner] -= rest
                trial.money[trial.reserve_account] += rest
                trial.tokens[owner] = trial.tokens.get(owner, 0) + got
                trial.supply += got
                fills.append((f"{oid}:{len(fills)}", owner, trial.reserve_account, got, rest))
            total = done + got
        else:
            done, received = trial._walk(owner, "sell", lambda p: p >= spot, amount, None, fills,
                                         oid)
            rest = amount - done
            if rest >= trial.supply:
                raise Reject("E_ORDER_STATE")
            got = sale_return(trial.supply, trial.money[trial.reserve_account], trial.crr,
                              rest) if rest else 0
            if got:
                trial.money[owner] = trial.money.get(owner, 0) + got
                trial.money[trial.reserve_account] -= got
                trial.tokens[owner] -= rest
                trial.supply -= rest
                fills.append((f"{oid}:{len(fills)}", trial.reserve_account, owner, rest, got))
            total = received + got
        if total < min_return:
            raise Reject("E_ORDER_STATE")
        self.__dict__.update(trial.__dict__)
        return fills

    def cancel(self, owner: str, oid: str) -> list:
        mine = [o for o in self.book if o.oid == oid]
        if not mine:
            raise Reject("E_UNKNOWN_ORDER")
        if mine[0].owner != owner:
            raise Reject("E_ORDER_STATE")
        self._drop(mine[0])
        return []

    def resting(self) -> dict:
        """Each side's (order id, remaining) in priority order."""
        return {side: [(o.oid, o.remaining) for o in self._queue(side)] for side in ("buy", "sell")}



def _most_affordable(price: int, money: int, cap: int) -> int:
    """The largest n <= cap whose rounded-up cost fits in ``money`` (binary search)."""
    low, high = 0, cap
    while low < high:
        mid = (low + high + 1) // 2
        if up(Fraction(price * mid, 1000)) <= money:
            low = mid
        else:
            high = mid - 1
    return low
