"""The energy market conserves money and tokens and its escrows cover their fills: obligations
over the market's own arithmetic (refimpl/contracts/market/amounts.py), run on z3 terms.

Every obligation calls the functions the matching and Bancor code calls (``floordiv`` is
:func:`~chargechain_proofs.harness.z3_floordiv`). Bancor's returns themselves are computed in
120-digit decimals (IR-BANCOR-1) and cannot run on z3 terms: the obligations take the return as
a symbolic value with the bound ``bancor.py`` guarantees as a premise (0 <= tokens bought;
0 <= money paid < reserve for a sale of fewer tokens than the supply). That no buy-then-sell
round trip through Bancor returns more than it cost is a Hypothesis property instead
(``tests/test_bancor.py``, ``tests/test_market_trading.py``).
"""

from __future__ import annotations

from typing import Any

import z3
from chargechain_proofs.harness import Obligation, z3_floordiv
from chargechain_proofs.incentive_conservation import moves_exactly

from refimpl.encoding import FrozenMap
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.params import MAX_PRICE_FEN_PER_KWH
from refimpl.contracts.market.amm import MAX_RESERVE_FEN, MAX_SUPPLY_WH
from refimpl.contracts.market.amounts import (
    WH_PER_KWH,
    affordable_wh,
    bancor_buy_moves,
    bancor_sell_moves,
    buy_escrow_fen,
    fill_token_transfers,
    fill_transfers,
    resting_buy_fill,
    resting_buy_transfers,
    taker_buy_cost_fen,
)
from refimpl.contracts.market.trading import MAX_ORDER_WH

__all__ = ["OBLIGATIONS"]

TAKER, MAKER, ESCROW, RESERVE, BYSTANDER = ("user:T", "user:M", "escrow:order:o", "market:A",
                                            "user:B")
ACCOUNTS = (TAKER, MAKER, ESCROW, RESERVE, BYSTANDER)
HOLDERS = tuple(f"{a}|A" for a in (TAKER, MAKER, ESCROW, BYSTANDER))


def _in_range(term: Any, low: int, high: int) -> Any:
    """low <= term <= high."""
    return z3.And(low <= term, term <= high)


def _money() -> FrozenMap:
    """A symbolic balance per account."""
    return FrozenMap({a: z3.Int(f"fen[{a}]") for a in ACCOUNTS})


def _tokens() -> FrozenMap:
    """A symbolic token balance per holder key."""
    return FrozenMap({h: z3.Int(f"wh[{h}]") for h in HOLDERS})


def _order() -> tuple[list[Any], Any, Any, Any]:
    """A price, an open quantity and a fill of it: 1 <= wh <= remaining."""
    price, remaining, wh = z3.Ints("price remaining_wh wh")
    return ([_in_range(price, 1, MAX_PRICE_FEN_PER_KWH), _in_range(remaining, 1, MAX_ORDER_WH),
             _in_range(wh, 1, remaining)], price, remaining, wh)


def _taking_buyer_fill() -> tuple[list[Any], Any]:
    """matching._take_sell: the taker pays taker_buy_cost_fen from its wallet to the seller and
    gets the tokens from the sell's escrow."""
    premises, price, _, wh = _order()
    money, tokens = _money(), _tokens()
    cost = taker_buy_cost_fen(price, wh, z3_floordiv)
    money_after = apply_transfers(money, fill_transfers(TAKER, MAKER, cost))
    tokens_after = apply_transfers(tokens, fill_token_transfers(f"{ESCROW}|A", f"{TAKER}|A", wh))
    exact = price * wh  # 1000 x the exact value
    return premises, z3.And(
        z3.Sum(*money_after.values()) == z3.Sum(*money.values()),
        z3.Sum(*tokens_after.values()) == z3.Sum(*tokens.values()),
        moves_exactly(money, money_after, {TAKER: -cost, MAKER: cost}),
        moves_exactly(tokens, tokens_after, {f"{ESCROW}|A": -wh, f"{TAKER}|A": wh}),
        cost * WH_PER_KWH >= exact, cost * WH_PER_KWH < exact + WH_PER_KWH, cost >= 1)


def _resting_buy() -> tuple[list[Any], dict[str, Any]]:
    """matching._take_buy on a buy whose escrow holds buy_escrow_fen(price, remaining)
    (the invariant escrows_match_orders, established by trading._rest)."""
    premises, price, remaining, wh = _order()
    money, tokens = _money(), _tokens()
    premises.append(money[ESCROW] == buy_escrow_fen(price, remaining, z3_floordiv))
    fill = resting_buy_fill(money[ESCROW], price, remaining, wh, z3_floordiv)
    money_after = apply_transfers(money, resting_buy_transfers(ESCROW, TAKER, MAKER, fill))
    tokens_after = apply_transfers(tokens, fill_token_transfers(f"{TAKER}|A", f"{MAKER}|A", wh))
    return premises, {"price": price, "remaining": remaining, "wh": wh, "fill": fill,
                      "money": money, "money_after": money_after, "tokens": tokens,
                      "tokens_after": tokens_after}


def _resting_buy_fill_conserves() -> tuple[list[Any], Any]:
    premises, r = _resting_buy()
    fill = r["fill"]
    return premises, z3.And(
        z3.Sum(*r["money_after"].values()) == z3.Sum(*r["money"].values()),
        z3.Sum(*r["tokens_after"].values()) == z3.Sum(*r["tokens"].values()),
        moves_exactly(r["money"], r["money_after"], {ESCROW: -(fill.proceeds + fill.surplus),
                                                     TAKER: fill.proceeds, MAKER: fill.surplus}),
        fill.proceeds * WH_PER_KWH <= r["price"] * r["wh"],
        (fill.proceeds + 1) * WH_PER_KWH > r["price"] * r["wh"])


def _escrow_covers_fills() -> tuple[list[Any], Any]:
    premises, r = _resting_buy()
    fill, after = r["fill"], r["money_after"]
    return premises, z3.And(
        fill.proceeds >= 0, fill.surplus >= 0, fill.keep >= 0,
        after[ESCROW] == buy_escrow_fen(r["price"], r["remaining"] - r["wh"], z3_floordiv),
        z3.Implies(r["wh"] == r["remaining"], after[ESCROW] == 0))


def _affordable_is_the_most() -> tuple[list[Any], Any]:
    """matching.match_buy under a budget: affordable_wh is the largest q whose cost fits."""
    price, budget = z3.Ints("price budget_fen")
    q = affordable_wh(price, budget, z3_floordiv)
    premises = [_in_range(price, 1, MAX_PRICE_FEN_PER_KWH), _in_range(budget, 0, 10**15)]
    return premises, z3.And(q >= 0, taker_buy_cost_fen(price, q, z3_floordiv) <= budget,
                            taker_buy_cost_fen(price, q + 1, z3_floordiv) > budget)


def _bancor_trade() -> tuple[list[Any], dict[str, Any]]:
    """amm.bancor_buy and amm.bancor_sell's moves with the return symbolic."""
    money, tokens = _money(), _tokens()
    supply, deposit, bought, sold, paid = z3.Ints("supply deposit bought sold paid")
    held = tokens[f"{TAKER}|A"]
    premises = [_in_range(supply, 1, MAX_SUPPLY_WH), _in_range(money[RESERVE], 1, MAX_RESERVE_FEN),
                # the supply is every token balance (tokens_are_conserved), each >= 0
                supply == z3.Sum(*tokens.values()), *(t >= 0 for t in tokens.values()),
                _in_range(deposit, 1, money[TAKER]), bought >= 0,
                # a sale: fewer tokens than the supply (bancor_sell's check), held by the seller,
                # and sale_return's bound 0 <= paid < reserve for such a sale (IR-BANCOR-1)
                _in_range(sold, 1, held), sold < supply, _in_range(paid, 0, money[RESERVE] - 1)]
    buy = bancor_buy_moves(money, tokens, supply, TAKER, RESERVE, f"{TAKER}|A", deposit, bought)
    sell = bancor_sell_moves(money, tokens, supply, RESERVE, TAKER, f"{TAKER}|A", sold, paid)
    return premises, {"money": money, "tokens": tokens, "supply": supply, "buy": buy,
                      "sell": sell, "deposit": deposit, "bought": bought, "sold": sold,
                      "paid": paid}


def _bancor_trade_conserves() -> tuple[list[Any], Any]:
    premises, r = _bancor_trade()
    money = r["money"]
    claims = []
    for (money_after, tokens_after, supply_after), moved in (
            (r["buy"], {TAKER: -r["deposit"], RESERVE: r["deposit"]}),
            (r["sell"], {TAKER: r["paid"], RESERVE: -r["paid"]})):
        claims += [z3.Sum(*money_after.values()) == z3.Sum(*money.values()),
                   supply_after == z3.Sum(*tokens_after.values()),
                   moves_exactly(money, money_after, moved),
                   supply_after >= 1, money_after[RESERVE] >= 1]
    return premises, z3.And(*claims)


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("market_taking_buyer_fill_conserves",
               "a taking buyer's fill moves cost fen wallet -> seller and wh tokens escrow -> "
               "buyer, nothing else; cost = p x q / 1000 rounded up (never below, < 1 fen above)",
               _taking_buyer_fill),
    Obligation("market_resting_buy_fill_conserves",
               "a resting buy's fill moves proceeds to the seller and the surplus to the owner "
               "from the escrow, and wh tokens seller -> owner; proceeds rounded down",
               _resting_buy_fill_conserves),
    Obligation("market_buy_escrow_covers_fills",
               "a resting buy's escrow (ceil(p x remaining / 1000)) pays every fill: proceeds, "
               "surplus and kept escrow >= 0, the kept escrow is exactly ceil(p x rest / 1000), "
               "0 when filled", _escrow_covers_fills),
    Obligation("market_affordable_is_the_most",
               "under a budget, affordable_wh is the largest quantity whose rounded-up cost "
               "fits", _affordable_is_the_most),
    Obligation("market_bancor_trade_conserves",
               "a Bancor buy or sell conserves money, keeps supply == sum of token balances and "
               "leaves supply >= 1 and reserve >= 1", _bancor_trade_conserves),
)
