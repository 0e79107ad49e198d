"""The leader schedule: the proposer rotates round-robin over the companies in English-name order.

Paper 000, step (3): the billing nodes record blocks "sorted by the first letter of the company's
English name"; after the last company the turn returns to the first. A view change (PBFT) passes
the turn to the next company. This module is the single definition used by the ledger, the
replicas, the docs and the TLA+ cross-check (spec/Leaders.tla, operator ``Proposer``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from refimpl.errors import ChargeChainError

__all__ = ["company_order", "english_name_key", "proposer", "proposer_index"]


def english_name_key(english_name: str) -> tuple[str, str]:
    """Sort key of a company: its English name case-folded, ties broken by the exact name."""
    return (english_name.casefold(), english_name)


def company_order(english_names: Iterable[str]) -> tuple[str, ...]:
    """The companies in schedule order (interpretation register: IR-CONS-1)."""
    names = list(english_names)
    if len(set(names)) != len(names):
        raise ChargeChainError(
            "E_DUPLICATE", "English names of companies must be unique", field="english_name",
            received=sorted(names),
        )
    return tuple(sorted(names, key=english_name_key))


def proposer_index(height: int, view: int, company_count: int) -> int:
    """Index into the company order of the proposer of block ``height`` in ``view``."""
    if company_count < 1:
        raise ChargeChainError("E_PARAMETER", "the schedule needs at least one company",
                               field="company_count", expected=">= 1", received=company_count)
    if height < 1:
        raise ChargeChainError("E_PARAMETER", "only blocks above genesis have a proposer",
                               field="height", expected=">= 1", received=height)
    if view < 0:
        raise ChargeChainError("E_PARAMETER", "views are numbered from 0",
                               field="view", expected=">= 0", received=view)
    return (height - 1 + view) % company_count


def proposer(order: Sequence[str], height: int, view: int = 0) -> str:
    """The company scheduled to propose block ``height`` in ``view`` (height 1 -> first company)."""
    return order[proposer_index(height, view, len(order))]
