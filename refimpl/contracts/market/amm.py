"""Bancor markets (001 §2.1.2): opening a grid area's market, token balances, buying from and
selling to the market's reserve at Bancor's returns (IR-BANCOR-1, IR-MKT-1, IR-MKT-5).

A market's reserve B is the balance of ``market:<area>``; its supply S is ``Market.supply_wh``,
always the sum of the area's token balances. A purchase mints tokens, a sale burns them; both
keep S >= 1 and B >= 1, so the spot price B / (S x CRR) stays defined.
"""

from __future__ import annotations

import attrs

from refimpl.errors import ChargeChainError
from refimpl.ledger.accounts import apply_transfers
from refimpl.ledger.events import Evidence, Share, emit
from refimpl.ledger.records_market import Market, market_reserve_account, token_key
from refimpl.ledger.state import State
from refimpl.contracts.market import amounts
from refimpl.contracts.market.bancor import purchase_return, sale_return

__all__ = [
    "MAX_RESERVE_FEN",
    "MAX_SUPPLY_WH",
    "WS_PER_WH",
    "bancor_buy",
    "bancor_sell",
    "fill_evidence",
    "market_of",
    "move_tokens",
    "open_market",
    "reserve_of",
    "tokens_of",
]

#: a market's supply stays within 10**12 Wh (1 TWh), so any fill's energy in Ws (x 3600) stays
#: exact in canonical JSON (below 2**53), and its reserve within 10**15 fen
MAX_SUPPLY_WH = 10**12
MAX_RESERVE_FEN = 10**15
WS_PER_WH = 3600


def market_of(state: State, area_id: str, field: str = "area_id") -> Market:
    """The area's market, or E_UNKNOWN_MARKET naming the field."""
    market = state.markets.get(area_id)
    if market is None:
        raise ChargeChainError("E_UNKNOWN_MARKET", "no energy market for that grid area",
                               field=field, received=area_id)
    return market


def reserve_of(state: State, area_id: str) -> int:
    """The market's reserve B (fen)."""
    return state.accounts.get(market_reserve_account(area_id), 0)


def tokens_of(state: State, holder: str, area_id: str) -> int:
    """A holder's tokens (Wh) of one area; absent means 0."""
    return state.tokens.get(token_key(holder, area_id), 0)


def move_tokens(state: State, source: str, target: str, area_id: str, wh: int) -> State:
    """``wh`` tokens of an area from one holder to another; a balance that reaches 0 leaves."""
    if wh == 0:
        return state
    src, dst = token_key(source, area_id), token_key(target, area_id)
    tokens = apply_transfers(state.tokens, amounts.fill_token_transfers(src, dst, wh))
    if tokens[src] == 0:
        tokens = tokens.remove(src)
    return attrs.evolve(state, tokens=tokens)


def fill_evidence(ref: str, buyer: str, seller: str, wh: int, fen: int,
                  buyer_role: str = "buyer", seller_role: str = "seller") -> Evidence:
    """The evidence of one fill: the buyer paid ``fen`` for ``wh``, the seller received it."""
    energy = wh * WS_PER_WH
    return Evidence("fill", ref, energy, (
        Share(buyer, buyer_role, energy_ws=energy, paid_fen=fen),
        Share(seller, seller_role, energy_ws=energy, received_fen=fen)))


def open_market(state: State, area_id: str, grid: str, grid_id: str, reserve_fen: int,
                supply_wh: int, crr_ppm: int) -> State:
    """The grid company funds the reserve from its account and receives the initial supply."""
    market = Market(area_id, grid_id, crr_ppm, supply_wh, state.height)
    reserve = market_reserve_account(area_id)
    accounts = apply_transfers(state.accounts,
                               amounts.bancor_buy_transfers(grid, reserve, reserve_fen))
    return attrs.evolve(state, markets=state.markets.set(area_id, market), accounts=accounts,
                        tokens=state.tokens.set(token_key(grid, area_id), supply_wh))


def bancor_buy(state: State, area_id: str, buyer: str, deposit: int,
               ref: str) -> tuple[State, int]:
    """Spend ``deposit`` fen at the market: purchase_return tokens are minted to the buyer.

    A deposit that buys no token is not spent (the state is returned unchanged, 0 tokens).
    """
    if deposit <= 0:
        return state, 0
    market = state.markets[area_id]
    reserve = market_reserve_account(area_id)
    bought = purchase_return(market.supply_wh, reserve_of(state, area_id), market.crr_ppm, deposit)
    if bought == 0:
        return state, 0
    if market.supply_wh + bought > MAX_SUPPLY_WH:
        raise ChargeChainError("E_TX_FIELD", "the purchase would raise the supply above its "
                               "bound", field="amount",
                               expected=f"supply <= {MAX_SUPPLY_WH}",
                               received=market.supply_wh + bought)
    accounts, tokens, supply = amounts.bancor_buy_moves(
        state.accounts, state.tokens, market.supply_wh, buyer, reserve, token_key(buyer, area_id),
        deposit, bought)
    state = attrs.evolve(state, accounts=accounts, tokens=tokens, markets=state.markets.set(
        area_id, attrs.evolve(market, supply_wh=supply)))
    return emit(state, fill_evidence(ref, buyer, reserve, bought, deposit,
                                     seller_role="market")), bought


def bancor_sell(state: State, area_id: str, seller: str, wh: int, ref: str) -> tuple[State, int]:
    """Sell ``wh`` tokens to the market: they are burnt and the reserve pays sale_return fen.

    The market keeps at least one token (so B >= 1 too); a sale that returns 0 fen does not
    happen (the state is returned unchanged).
    """
    if wh <= 0:
        return state, 0
    market = state.markets[area_id]
    if wh >= market.supply_wh:
        raise ChargeChainError("E_ORDER_STATE", "the market keeps at least one token",
                               field="amount", expected=f"< {market.supply_wh}", received=wh)
    reserve = market_reserve_account(area_id)
    money = sale_return(market.supply_wh, reserve_of(state, area_id), market.crr_ppm, wh)
    if money == 0:
        return state, 0
    key = token_key(seller, area_id)
    accounts, tokens, supply = amounts.bancor_sell_moves(
        state.accounts, state.tokens, market.supply_wh, reserve, seller, key, wh, money)
    state = attrs.evolve(state, accounts=accounts,
                         tokens=tokens if tokens[key] else tokens.remove(key),
                         markets=state.markets.set(area_id, attrs.evolve(market,
                                                                         supply_wh=supply)))
    return emit(state, fill_evidence(ref, reserve, seller, wh, money,
                                     buyer_role="market")), money
