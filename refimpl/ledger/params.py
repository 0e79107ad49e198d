"""The admitted range of every consortium parameter (checked at genesis and at every enactment)."""

from __future__ import annotations

from refimpl.errors import ChargeChainError
from refimpl.ledger import fields
from refimpl.ledger.records import POLICIES, POLICY_UNIFORM, Params

__all__ = ["validate_params", "MAX_PRICE_FEN_PER_KWH", "MAX_AMOUNT_FEN"]

MAX_PRICE_FEN_PER_KWH = 100_000
MAX_AMOUNT_FEN = 10**12


def _uniform_prices_ok(params: Params) -> bool:
    """Uniform prices: distinct identifier PriceIDs, prices in range, one at least if uniform."""
    ids = [p.price_id for p in params.uniform_prices]
    try:
        for price_id in ids:
            fields.text({"price_id": price_id}, "price_id")
    except ChargeChainError:
        return False
    return (len(set(ids)) == len(ids)
            and all(0 <= p.electricity_fen_per_kwh <= MAX_PRICE_FEN_PER_KWH
                    for p in params.uniform_prices)
            and (params.policy != POLICY_UNIFORM or bool(ids)))


def validate_params(params: Params) -> None:
    """Every parameter lies in its admitted range (E_PARAMETER names the first that does not)."""
    checks = [
        ("block_interval_s", params.block_interval_s >= 1, ">= 1"),
        ("commission_bp", 0 <= params.commission_bp <= 10_000, "0..10000"),
        ("credit_min", -1 <= params.credit_min <= 1, "-1..1"),
        ("beta", 0 <= params.beta <= 1, "0..1"),
        ("alpha", params.alpha >= 1, ">= 1"),
        ("sigma", params.sigma > 0, "> 0"),
        ("evaluation_max", params.evaluation_max >= 1, ">= 1"),
        ("rating_max", params.rating_max >= 1, ">= 1"),
        ("utc_offset_minutes", -720 <= params.utc_offset_minutes <= 840, "-720..840"),
        ("policy", params.policy in POLICIES, list(POLICIES)),
        ("uniform_prices", _uniform_prices_ok(params),
         "distinct PriceIDs, prices 0..100000 fen/kWh, at least one under the uniform policy"),
        ("margin_fen", 0 <= params.margin_fen <= MAX_AMOUNT_FEN, f"0..{MAX_AMOUNT_FEN}"),
        ("reward_fen", 0 <= params.reward_fen <= MAX_AMOUNT_FEN, f"0..{MAX_AMOUNT_FEN}"),
        ("max_rebate_bp", 0 <= params.max_rebate_bp <= 10_000, "0..10000"),
        ("min_bean_price_bp", 1 <= params.min_bean_price_bp <= 10_000, "1..10000"),
        ("rating_full_weight_fen", 1 <= params.rating_full_weight_fen <= MAX_AMOUNT_FEN,
         f"1..{MAX_AMOUNT_FEN}"),
        ("min_start_balance_fen", 0 <= params.min_start_balance_fen <= MAX_AMOUNT_FEN,
         f"0..{MAX_AMOUNT_FEN}"),
    ]
    for name, ok, expected in checks:
        if not ok:
            raise ChargeChainError("E_PARAMETER", "parameter out of range", field=name,
                                   expected=expected, received=str(getattr(params, name)))
