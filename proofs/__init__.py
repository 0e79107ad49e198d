"""z3 obligations of ChargeChain (importable as ``chargechain_proofs``; run: ``chargechain prove``).

Each obligation states a property of the reference implementation and asks z3 for a
counterexample to it. The obligations call the refimpl's own functions with z3 terms in place of
integers, so what is proved is the code that runs, not a transcription of it.
"""

from __future__ import annotations

from chargechain_proofs import (
    incentive_conservation,
    market_conservation,
    settlement_conservation,
    supply_conservation,
)
from chargechain_proofs.harness import Obligation, ObligationResult, discharge

__all__ = ["OBLIGATIONS", "Obligation", "ObligationResult", "discharge", "run_all"]

#: Every obligation, in the order ``chargechain prove`` lists them.
OBLIGATIONS: tuple[Obligation, ...] = (settlement_conservation.OBLIGATIONS
                                       + incentive_conservation.OBLIGATIONS
                                       + market_conservation.OBLIGATIONS
                                       + supply_conservation.OBLIGATIONS)


def run_all() -> list[ObligationResult]:
    """Discharge every obligation."""
    return [discharge(obligation) for obligation in OBLIGATIONS]
