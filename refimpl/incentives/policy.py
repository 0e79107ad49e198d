"""Which electricity price a charge pays: the operator's own (004) or the consortium's one
price for the period (000's uniform electrovalence), by the ``policy`` parameter (IR-PRICE-1)."""

from __future__ import annotations

from refimpl.errors import ChargeChainError
from refimpl.ledger.records import POLICY_UNIFORM, Params, Tariff

__all__ = ["uniform_price", "electricity_price"]


def uniform_price(params: Params, price_id: str) -> int | None:
    """The consortium's electricity price for ``price_id``, if it has one."""
    return next((p.electricity_fen_per_kwh for p in params.uniform_prices
                 if p.price_id == price_id), None)


def electricity_price(params: Params, tariff: Tariff) -> int:
    """The electricity price a session at ``tariff`` pays under the consortium's policy."""
    if params.policy != POLICY_UNIFORM:
        return tariff.electricity_fen_per_kwh
    price = uniform_price(params, tariff.price_id)
    if price is None:
        raise ChargeChainError("E_UNKNOWN_TARIFF", "the uniform policy has no electricity price "
                               "for this PriceID", field="price_id",
                               expected=[p.price_id for p in params.uniform_prices],
                               received=tariff.price_id)
    return price
