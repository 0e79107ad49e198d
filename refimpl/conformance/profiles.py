"""The conformance profiles: what each covers, its vector files and its operations.

A profile is the unit an implementation claims: it names the operations an adapter must
implement and the vector files whose every case it must pass. Each module of
``refimpl.conformance`` that defines ``PROFILES`` (a tuple of :class:`Profile`) contributes
its profiles; :data:`PROFILE_ORDER` fixes the order reports use.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from refimpl.conformance.cases import VectorFile

__all__ = ["Profile", "PROFILE_ORDER", "all_profiles", "operations"]

#: Reports list profiles in this order; a profile not named here comes after, by name.
PROFILE_ORDER = ("canonical-bytes", "sm3", "hmac-sm3", "sm2", "merkle", "state-tree",
                 "settlement", "credit", "evaluation", "bancor", "beans", "supply", "transactions",
                 "bad-input",
                 "chains", "consensus")


@attrs.frozen
class Profile:
    """A profile: its name, what it covers, its operations (name -> the reference's
    evaluation) and the builder of its vector files."""

    name: str
    summary: str
    operations: Mapping[str, Callable[[Mapping[str, Any]], dict[str, Any]]]
    build: Callable[[], list[VectorFile]]


def _rank(name: str) -> tuple[int, str]:
    """Sort key: the place in PROFILE_ORDER, then the name."""
    return (PROFILE_ORDER.index(name) if name in PROFILE_ORDER else len(PROFILE_ORDER), name)


def all_profiles() -> dict[str, Profile]:
    """Every profile of every module of this package, in report order."""
    import refimpl.conformance as package

    found: dict[str, Profile] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for profile in getattr(module, "PROFILES", ()):
            if profile.name in found:
                raise ValueError(f"profile {profile.name!r} defined twice")
            found[profile.name] = profile
    return {name: found[name] for name in sorted(found, key=_rank)}


def operations() -> dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, Any]]]]:
    """Every operation of every profile: name -> (profile, the reference's evaluation)."""
    table: dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, Any]]]] = {}
    for profile in all_profiles().values():
        for name, evaluate in profile.operations.items():
            if name in table:
                raise ValueError(f"operation {name!r} defined by two profiles")
            table[name] = (profile.name, evaluate)
    return table
