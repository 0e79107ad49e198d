"""Discharging an obligation: assert the premises and the negated claim, ask z3 for a model."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs
import z3

__all__ = ["Obligation", "ObligationResult", "discharge", "z3_floordiv"]


def z3_floordiv(numerator: Any, denominator: Any) -> Any:
    """Floor division on z3 integer terms (SMT-LIB ``div`` is floor for a positive divisor)."""
    return numerator / denominator


@attrs.frozen
class Obligation:
    """A named claim: ``build()`` returns (premises, claim) over fresh z3 constants."""

    name: str
    statement: str
    build: Callable[[], tuple[list[Any], Any]]


@attrs.frozen
class ObligationResult:
    """Outcome of one obligation: 'proved', 'counterexample' or 'unknown', with the time taken."""

    name: str
    statement: str
    verdict: str
    seconds: float
    counterexample: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return {"name": self.name, "statement": self.statement, "verdict": self.verdict,
                "seconds": round(self.seconds, 3), "counterexample": self.counterexample}


def discharge(obligation: Obligation, timeout_ms: int = 60_000) -> ObligationResult:
    """Proved when premises and not(claim) are unsatisfiable; otherwise report z3's model."""
    started = time.perf_counter()
    premises, claim = obligation.build()
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*premises)
    solver.add(z3.Not(claim))
    outcome = solver.check()
    seconds = time.perf_counter() - started
    if outcome == z3.unsat:
        return ObligationResult(obligation.name, obligation.statement, "proved", seconds)
    if outcome == z3.sat:
        model = solver.model()
        example = {str(d): str(model[d]) for d in sorted(model.decls(), key=str)}
        return ObligationResult(obligation.name, obligation.statement, "counterexample", seconds,
                                example)
    return ObligationResult(obligation.name, obligation.statement, "unknown", seconds)
