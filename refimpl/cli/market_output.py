"""The demo report's market part as the terminal shows it: the community's private piles, the
area's energy market, the supply contract and the grid company's quarter (all read back from
the re-validated store)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from refimpl.cli.common import out

__all__ = ["print_market"]


def print_market(market: dict[str, Any]) -> None:
    """Community, market and supply-contract lines after Table 2."""
    community = market["community"]
    piles = Table(title=f"Shared private piles of the {escape(community['community'])} community")
    for col in ("Pile", "Owner", "Shared with", "Windows (local)"):
        piles.add_column(col)
    for pile in community["private_piles"]:
        piles.add_row(escape(pile["station"]), escape(pile["owner"]), pile["shared_with"],
                      ", ".join(pile["windows"]))
    out.print(piles)
    owners = ", ".join(f"{k} {v}" for k, v in community["owners_received_yuan"].items()) or "none"
    out.print(f"private piles   {community['sessions']} sessions, {community['energy_kwh']} kWh; "
              f"owners received (yuan): {owners}", markup=False)
    m = market["market"]
    out.print(f"energy market   {m['area']}: {m['fills']} fills ({m['fills_with_bancor']} with "
              f"Bancor), {m['energy_traded_kwh']} kWh for {m['money_traded_yuan']} yuan; reserve "
              f"{m.get('reserve_yuan', '-')} yuan, supply {m.get('supply_kwh', '-')} kWh, CRR "
              f"{m.get('crr_ppm', '-')} ppm, spot {m.get('spot_yuan_per_kwh_rounded_down', '-')} "
              "yuan/kWh", markup=False)
    c = market["supply_contract"]
    if c["final"]:
        out.print(f"supply contract {c['contract']}: {c['contracted_kwh']} kWh contracted, "
                  f"{c['delivered_kwh']} delivered; user paid {c['user_paid_yuan']} yuan, "
                  f"supplier received {c['supplier_received_yuan']}, grid deviation "
                  f"{c['grid_deviation_kwh']} kWh / {c['grid_deviation_yuan']} yuan",
                  markup=False)
    else:
        out.print(f"supply contract {c['contract']}: not final by the end of the run",
                  markup=False)
    g = market["grid_company_quarter"]
    out.print(f"evidence        {g['party']} {g['year']} Q{g['quarter']}: {g['records']} records, "
              f"{g['energy_kwh']} kWh, received {g['received_fen']} fen, deviations "
              f"{g['deviation_wh']} Wh / {g['deviation_fen']} fen", markup=False)
