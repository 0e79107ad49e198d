"""Which electricity price a charge pays: the operator's own (004) or the consortium's one
price for the period (000's uniform electrovalence), by the ``policy`` parameter (IR-PRICE-1).

Under time-of-use tariffs the uniform price applies period by period, matched by PriceID: a
period whose PriceID has no uniform price cannot be charged at (IR-TOU-6)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from refimpl.errors import ChargeChainError
from refimpl.ledger.records import POLICY_UNIFORM, Params, TariffPeriod

__all__ = ["uniform_price", "electricity_price", "priced_periods"]


def uniform_price(params: Params, price_id: str) -> int | None:
    """The consortium's electricity price for ``price_id``, if it has one."""
    return next((p.electricity_fen_per_kwh for p in params.uniform_prices
                 if p.price_id == price_id), None)


def electricity_price(params: Params, period: TariffPeriod) -> int:
    """The electricity price a charge in ``period`` pays under the consortium's policy."""
    if params.policy != POLICY_UNIFORM:
        return period.electricity_fen_per_kwh
    price = uniform_price(params, period.price_id)
    if price is None:
        raise ChargeChainError("E_UNKNOWN_TARIFF", "the uniform policy has no electricity price "
                               "for this PriceID", field="price_id",
                               expected=[p.price_id for p in params.uniform_prices],
                               received=period.price_id)
    return price


def priced_periods(params: Params, periods: Sequence[TariffPeriod]) -> tuple[TariffPeriod, ...]:
    """An operator's periods with the electricity price the policy makes each pay."""
    return tuple(attrs.evolve(p, electricity_fen_per_kwh=electricity_price(params, p))
                 for p in periods)
