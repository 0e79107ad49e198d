"""Profiles of the market and incentive arithmetic: Bancor, order fills, beans, supply contracts.

Operations (every amount an integer; exact ratios ``"n/d"``):

* ``bancor.spot`` ``{supply, reserve, crr_ppm}`` -> ``{"price": "n/d"}``, P = B / (S · CRR)
  fen per token (001 §2.1.2); ``bancor.purchase`` (+ ``deposit``) -> ``{"tokens"}``;
  ``bancor.sale`` (+ ``tokens``) -> ``{"fen"}``; both rounded down in the reserve's favour
  (IR-BANCOR-1); ``E_PARAMETER`` outside S, B >= 1, 1 <= CRR <= 10^6 ppm, amounts <= 10^18.
* ``market.fill`` a price (fen/kWh), a quantity (Wh), a buyer's money, a resting buy's escrow
  and open quantity, and a Bancor market -> what a taking buyer pays (rounded up), what a
  taking seller receives (rounded down), a buy's escrow (up), the most Wh the money buys, the
  split of a resting buy's escrow, and whether the price is within the spot price on each
  side (001 §3 (1); IR-MKT-2, IR-MKT-5).
* ``beans.amounts`` -> the block reward due, the issuer's bean headroom, a rebate, the beans a
  settlement redeems, the price of beans, withdrawable reward money and the approvals a
  proposal needs (000; IR-POOL-2, IR-BEAN-1..3, IR-GOV-1).
* ``supply.amounts`` a supply contract's energy, delivery, prices and power window -> the
  delivery cap, the escrow and the final settlement with the grid (001 §3 (2)-(4);
  IR-SUPPLY-4, IR-SUPPLY-5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refimpl.conformance import inputs
from refimpl.conformance.cases import VectorFile
from refimpl.conformance.profiles import Profile
from refimpl.contracts.market import amounts as market
from refimpl.contracts.market import supply_amounts as supply
from refimpl.contracts.market.bancor import purchase_return, sale_return, spot_price
from refimpl.encoding.canonical import fraction_to_str
from refimpl.incentives import amounts as beans

__all__ = ["PROFILES", "bancor_spot", "bancor_purchase", "bancor_sale", "market_fill",
           "beans_amounts", "supply_amounts"]

BIG = 10**30


def _ints(payload: Mapping[str, Any], names: tuple[str, ...], low: int = -BIG,
          high: int = BIG) -> list[int]:
    """Integer fields (type-checked; ranges are the kernel's own)."""
    inputs.only_keys(payload, set(names))
    return [inputs.integer(payload, name, low, high) for name in names]


def bancor_spot(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``bancor.spot``."""
    return {"price": fraction_to_str(spot_price(*_ints(payload, ("supply", "reserve", "crr_ppm"))))}


def bancor_purchase(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``bancor.purchase``."""
    return {"tokens": purchase_return(*_ints(payload, ("supply", "reserve", "crr_ppm",
                                                       "deposit")))}


def bancor_sale(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``bancor.sale``."""
    return {"fen": sale_return(*_ints(payload, ("supply", "reserve", "crr_ppm", "tokens")))}


def market_fill(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``market.fill``: the money of one fill, every side of it."""
    price, wh, money, escrow, remaining, s, b, crr = _ints(
        payload, ("price", "wh", "money", "escrow_fen", "remaining_wh", "supply", "reserve",
                  "crr_ppm"), 0, 10**15)
    fill = market.resting_buy_fill(escrow, price, remaining, wh)
    return {"taker_buy_cost_fen": market.taker_buy_cost_fen(price, wh),
            "taker_sell_proceeds_fen": market.taker_sell_proceeds_fen(price, wh),
            "buy_escrow_fen": market.buy_escrow_fen(price, wh),
            "affordable_wh": market.affordable_wh(price, money) if price else None,
            "resting_buy_fill": {"proceeds": fill.proceeds, "keep": fill.keep,
                                 "surplus": fill.surplus},
            "sell_within_spot": market.sell_within_spot(price, s, b, crr),
            "buy_within_spot": market.buy_within_spot(price, s, b, crr)}


def beans_amounts(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``beans.amounts``: the incentive layer's arithmetic on one set of balances."""
    (pool, reward, reserve, outstanding, paid, rebate_bp, max_beans, held, electricity, count,
     price_bp, members) = _ints(payload, (
        "pool_fen", "reward_fen", "reserve_fen", "outstanding_beans", "money_paid_fen",
        "rebate_bp", "max_beans", "held_beans", "electricity_fen", "beans", "price_bp",
        "members"), 0, 10**15)
    headroom = beans.bean_headroom(reserve, outstanding)
    return {"reward_due_fen": beans.reward_due(pool, reward), "headroom_beans": headroom,
            "rebate_beans": beans.rebate_beans(paid, rebate_bp, headroom),
            "redeemable_beans": beans.beans_redeemable(max_beans, held, electricity),
            "price_fen": beans.bean_price_fen(count, price_bp),
            "withdrawable_fen": beans.withdrawable_fen(reserve, outstanding),
            "approvals_needed": beans.approvals_needed(members)}


def supply_amounts(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``supply.amounts``: a supply contract's cap, escrow and settlement."""
    energy, delivered, price, catalog, power, window = _ints(payload, (
        "energy_wh", "delivered_wh", "price_fen_per_kwh", "catalog_fen_per_kwh", "power_w",
        "window_s"), 0, 10**12)
    cap = supply.delivery_cap_wh(power, window)
    escrowed = supply.escrow_fen(energy, price, cap, catalog)
    final = supply.settlement_amounts(energy, delivered, price, catalog, escrowed)
    return {"cap_wh": cap, "escrow_fen": escrowed, "supplier_fen": final.supplier_fen,
            "excess_fen": final.excess_fen, "shortfall_fen": final.shortfall_fen,
            "refund_fen": final.refund_fen, "deviation_fen": final.deviation_fen}


_BAD = {"OutOfRange": "an argument out of the kernel's range: E_PARAMETER or E_TX_FIELD",
        "BadInput": "an argument of the wrong type: E_DECODING"}


def _bancor_files() -> list[VectorFile]:
    """Spot prices, purchases and sales over a grid of markets, fills over a grid of prices."""
    f = VectorFile("bancor", "bancor-market", "Bancor P = B / (S CRR) and order fills (001)",
                   ["Bancor spot prices, purchase and sale returns rounded down in the "
                    "reserve's favour, and the money of order fills rounded in the maker's "
                    "favour."],
                   {"Exact": "CRR = 100 %: the return is an exact floor",
                    "Power": "CRR < 100 %: the return comes from the power formula",
                    "Edge": "a zero amount, or a sale of the whole supply",
                    "Rounding": "a value with a fraction of a fen or a token",
                    "Bounds": "a market at the lower bounds (one token, S = 1, or one fen, "
                              "B = 1) or at CRR = 1 ppm or 100 %", **_BAD})
    markets = [(1000, 1000, 1_000_000), (1000, 1000, 500_000), (10**6, 3 * 10**6, 200_000),
               (7, 10**12, 999_999), (10**12, 5, 1), (123_456, 654_321, 333_333)]
    f.group("bancor.spot", "spot prices")
    for s, b, crr in markets:
        f.add(bancor_spot, f"S={s} B={b} CRR={crr} ppm", {"supply": s, "reserve": b,
                                                          "crr_ppm": crr}, [])
    f.add(bancor_spot, "a CRR of 0", {"supply": 1, "reserve": 1, "crr_ppm": 0}, ["OutOfRange"],
          expect={"error": "E_PARAMETER"})
    f.group("bancor.purchase", "purchase returns")
    for s, b, crr in markets:
        for deposit in (0, 1, 999, b, 10 * b + 7):
            flags = ["Edge"] if deposit == 0 else (["Exact"] if crr == 1_000_000 else ["Power"])
            f.add(bancor_purchase, f"S={s} B={b} CRR={crr}: deposit {deposit}",
                  {"supply": s, "reserve": b, "crr_ppm": crr, "deposit": deposit}, flags)
    f.add(bancor_purchase, "CRR 50 %, deposit 3B: S((1 + 3)^(1/2) - 1) is exactly 1000; the margin gives 999 (IR-BANCOR-1)",
          {"supply": 1000, "reserve": 1000, "crr_ppm": 500_000, "deposit": 3000}, ["Power"],
          expect={"output": {"tokens": 999}})
    f.add(bancor_purchase, "a negative deposit", {"supply": 1, "reserve": 1, "crr_ppm": 1,
                                                  "deposit": -1}, ["OutOfRange"],
          expect={"error": "E_PARAMETER"})
    f.add(bancor_purchase, "an empty reserve", {"supply": 1, "reserve": 0, "crr_ppm": 1,
                                                "deposit": 1}, ["OutOfRange"],
          expect={"error": "E_PARAMETER"})
    f.group("bancor.sale", "sale returns")
    for s, b, crr in markets:
        for tokens in (0, 1, s // 2, s - 1, s):
            flags = (["Edge"] if tokens in (0, s) else
                     (["Exact"] if crr == 1_000_000 else ["Power"]))
            f.add(bancor_sale, f"S={s} B={b} CRR={crr}: sell {tokens}",
                  {"supply": s, "reserve": b, "crr_ppm": crr, "tokens": tokens}, flags)
    f.add(bancor_sale, "selling more than the supply", {"supply": 5, "reserve": 5,
                                                        "crr_ppm": 1, "tokens": 6},
          ["OutOfRange"], expect={"error": "E_PARAMETER"})
    f.add(bancor_sale, "tokens given as a string", {"supply": 5, "reserve": 5, "crr_ppm": 1,
                                                    "tokens": "1"}, ["BadInput"],
          expect={"error": "E_DECODING"})
    f.group("market.fill", "the money of fills")
    for price in (0, 1, 47, 999, 1000, 1001, 141_000):
        for wh in (0, 1, 333, 1000, 12_345):
            f.add(market_fill, f"{wh} Wh at {price} fen/kWh",
                  {"price": price, "wh": wh, "money": 500, "escrow_fen": 20_000,
                   "remaining_wh": wh + 100, "supply": 10_000, "reserve": 500,
                   "crr_ppm": 500_000}, ["Rounding"] if price * wh % 1000 else [])
    f.add(market_fill, "a spot price exactly met on both sides",
          {"price": 100, "wh": 1, "money": 0, "escrow_fen": 1, "remaining_wh": 1,
           "supply": 10, "reserve": 1, "crr_ppm": 1_000_000}, ["Edge"])
    f.add(market_fill, "a negative price", {"price": -1, "wh": 1, "money": 0, "escrow_fen": 1,
                                            "remaining_wh": 1, "supply": 10, "reserve": 1,
                                            "crr_ppm": 1}, ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    _bancor_bounds(f)
    return [f]


def _bancor_bounds(f: VectorFile) -> None:
    """Markets at the lower bounds S = 1, B = 1 and CRR at both ends (groups appended after
    the first release, so earlier tcIds stay)."""
    f.group("bancor.spot", "markets at the bounds of S, B and CRR")
    for s, b, crr in ((1, 1, 1_000_000), (1, 7, 1), (9, 1, 3)):
        f.add(bancor_spot, f"S={s} B={b} CRR={crr} ppm", {"supply": s, "reserve": b,
                                                          "crr_ppm": crr}, ["Bounds"])
    for comment, s, b, crr in (("a supply of 0", 0, 1, 1), ("a reserve of 0", 1, 0, 1),
                               ("a CRR above 100 %", 1, 1, 1_000_001)):
        f.add(bancor_spot, comment, {"supply": s, "reserve": b, "crr_ppm": crr},
              ["OutOfRange"], expect={"error": "E_PARAMETER"})
    f.group("bancor.purchase", "purchases from markets of one token or one fen")
    for s, b, crr, deposit in ((1, 1, 500_000, 3), (1, 1, 500_000, 8), (1, 1, 1_000_000, 5),
                               (1, 2, 250_000, 30), (5, 1, 1, 10**6)):
        f.add(bancor_purchase, f"S={s} B={b} CRR={crr}: deposit {deposit}",
              {"supply": s, "reserve": b, "crr_ppm": crr, "deposit": deposit},
              ["Bounds", "Exact" if crr == 1_000_000 else "Power"])
    f.group("bancor.sale", "sales to markets of one token or one fen")
    for s, b, crr, tokens in ((1, 1, 500_000, 1), (1, 9, 1, 0), (2, 1, 500_000, 1),
                              (3, 1, 1_000_000, 2), (4, 1_000, 400_000, 3)):
        f.add(bancor_sale, f"S={s} B={b} CRR={crr}: sell {tokens}",
              {"supply": s, "reserve": b, "crr_ppm": crr, "tokens": tokens},
              (["Bounds"] if 1 in (s, b) else []) + (["Edge"] if tokens in (0, s) else
                                                     ["Exact" if crr == 1_000_000 else "Power"]))
    f.add(bancor_sale, "selling nothing to a market of no supply",
          {"supply": 0, "reserve": 1, "crr_ppm": 1, "tokens": 0}, ["OutOfRange"],
          expect={"error": "E_PARAMETER"})


def _beans_files() -> list[VectorFile]:
    """The incentive arithmetic over a grid of balances."""
    f = VectorFile("beans", "incentive-amounts", "pool, rewards and electric beans (000)",
                   ["Block rewards within the pool, bean headroom, rebates rounded down, "
                    "redemptions within allowance, holdings and charge, bean prices rounded up, "
                    "withdrawable reward money and the two-thirds approvals."],
                   {"Empty": "an empty pool or no headroom", "Rounding": "a fraction rounded",
                    **_BAD})
    f.group("beans.amounts", "balances")
    rows = [(1_000_000, 100, 5_000, 1_200, 10_000, 500, 300, 250, 260, 7, 5_000, 4),
            (50, 100, 100, 100, 999, 1_000, 0, 10, 5, 3, 7_500, 1),
            (0, 100, 10, 20, 1, 1, 9, 9, 9, 1, 9_999, 2),
            (100, 100, 1_000, 0, 12_345, 9_999, 50, 40, 30, 12_345, 5_001, 3),
            (7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10_000, 15),
            (10**12, 10**6, 10**9, 10**9 - 1, 10**9, 333, 10**6, 10**7, 10**5, 10**6, 5_000, 5)]
    names = ("pool_fen", "reward_fen", "reserve_fen", "outstanding_beans", "money_paid_fen",
             "rebate_bp", "max_beans", "held_beans", "electricity_fen", "beans", "price_bp",
             "members")
    for row in rows:
        payload = dict(zip(names, row))
        f.add(beans_amounts, ", ".join(f"{k}={v}" for k, v in payload.items())[:90], payload,
              ["Empty"] if row[0] == 0 or row[2] <= row[3] else ["Rounding"])
    f.add(beans_amounts, "7 beans at 5000 bp: 3.5 fen rounds up to 4",
          {**dict(zip(names, rows[0])), "beans": 7, "price_bp": 5_000}, ["Rounding"])
    for members in (1, 2, 3, 4, 5, 6, 7, 15):
        f.add(beans_amounts, f"{members} members", {**dict(zip(names, rows[0])),
                                                    "members": members}, [])
    f.add(beans_amounts, "a negative reserve", {**dict(zip(names, rows[0])), "reserve_fen": -1},
          ["OutOfRange"], expect={"error": "E_TX_FIELD"})
    return [f]


def _supply_files() -> list[VectorFile]:
    """Supply contracts: exact delivery, excess, shortfall, rounding of each value."""
    f = VectorFile("supply", "supply-amounts", "supply contracts settled with the grid (001)",
                   ["A contract's delivery cap (power x window), escrow (contracted value plus "
                    "the cap's extra energy at catalog price) and settlement: the supplier gets "
                    "the contracted value, deviations are bought from or sold to the grid at "
                    "catalog price, each value rounded half up once."],
                   {"Exact": "delivered exactly the contracted energy",
                    "Excess": "delivered more: the user pays the grid",
                    "Shortfall": "delivered less: the grid pays the user",
                    "Rounding": "a value of exactly half a fen", **_BAD})
    f.group("supply.amounts", "contracts")
    for energy, delivered in ((10_000, 10_000), (10_000, 13_000), (10_000, 7_000), (0, 0),
                              (0, 500), (10_000, 0), (1, 2), (12_345, 12_346)):
        flag = ("Exact" if energy == delivered else
                "Excess" if delivered > energy else "Shortfall")
        f.add(supply_amounts, f"{energy} Wh contracted, {delivered} delivered",
              {"energy_wh": energy, "delivered_wh": delivered, "price_fen_per_kwh": 60,
               "catalog_fen_per_kwh": 141, "power_w": 7_000, "window_s": 7_200}, [flag])
    f.add(supply_amounts, "500 Wh at 1 fen/kWh is half a fen: rounds up",
          {"energy_wh": 500, "delivered_wh": 500, "price_fen_per_kwh": 1,
           "catalog_fen_per_kwh": 1, "power_w": 1_000, "window_s": 1_800}, ["Rounding", "Exact"])
    f.add(supply_amounts, "a window that gives a fraction of a Wh",
          {"energy_wh": 100, "delivered_wh": 99, "price_fen_per_kwh": 55,
           "catalog_fen_per_kwh": 97, "power_w": 1_001, "window_s": 3_599}, ["Shortfall"])
    f.add(supply_amounts, "a negative delivery",
          {"energy_wh": 100, "delivered_wh": -1, "price_fen_per_kwh": 55,
           "catalog_fen_per_kwh": 97, "power_w": 1_001, "window_s": 3_599}, ["OutOfRange"],
          expect={"error": "E_TX_FIELD"})
    f.add(supply_amounts, "a price given as a float",
          {"energy_wh": 100, "delivered_wh": 1, "price_fen_per_kwh": 55.5,
           "catalog_fen_per_kwh": 97, "power_w": 1_001, "window_s": 3_599}, ["BadInput"],
          expect={"error": "E_DECODING"})
    return [f]


PROFILES = (
    Profile("bancor", "the Bancor market's spot price, purchase and sale returns, and the "
            "money of order fills (001)",
            {"bancor.spot": bancor_spot, "bancor.purchase": bancor_purchase,
             "bancor.sale": bancor_sale, "market.fill": market_fill}, _bancor_files),
    Profile("beans", "the pool, block rewards and electric beans (000)",
            {"beans.amounts": beans_amounts}, _beans_files),
    Profile("supply", "supply contracts: cap, escrow and settlement with the grid (001)",
            {"supply.amounts": supply_amounts}, _supply_files),
)
