"""The leader schedule: round-robin over the companies in case-folded English-name order."""

from __future__ import annotations

import pytest
from conftest import make_config
from hypothesis import given
from hypothesis import strategies as st

from refimpl.chain.block import scheduled_proposer
from refimpl.chain.genesis import genesis_state
from refimpl.consensus.schedule import company_order, proposer, proposer_index
from refimpl.crypto import sm2_keypair_from_seed
from refimpl.errors import ChargeChainError
from refimpl.ledger.state import ADMIN
from refimpl.scenario import tianjin
from refimpl.scenario.consortium import build_config
from refimpl.scenario.demo import DemoOptions

TIANJIN = ["TELD", "Star Charge", "PTNE", "Smart Grid"]  # Table 1 order
TIANJIN_ORDER = ("PTNE", "Smart Grid", "Star Charge", "TELD")


# --------------------------------------------------------------------------- company order


def test_tianjin_order():
    assert company_order(TIANJIN) == TIANJIN_ORDER


@pytest.mark.parametrize(("names", "expected"), [
    # byte order would put "Gamma Grid" (G = 0x47) before "beta power" (b = 0x62)
    (["Gamma Grid", "beta power", "Alpha Charge"], ("Alpha Charge", "beta power", "Gamma Grid")),
    (["zeta", "Alpha", "BETA", "gamma"], ("Alpha", "BETA", "gamma", "zeta")),
    # casefold, not lower(): "ß" folds to "ss", so "Straße A" ~ "strasse a" < "strasse b"
    (["Strasse B", "Straße A"], ("Straße A", "Strasse B")),
    # equal after folding: the exact name breaks the tie (byte order, "T" < "t")
    (["teld", "TELD", "Teld"], ("TELD", "Teld", "teld")),
])
def test_company_order_is_case_folded(names, expected):
    assert company_order(names) == expected
    assert company_order(reversed(names)) == expected


def test_byte_order_differs_from_schedule_order():
    """The test consortium's names were chosen so that byte order would be wrong."""
    names = ["Alpha Charge", "beta power", "Gamma Grid"]
    assert tuple(sorted(names)) == ("Alpha Charge", "Gamma Grid", "beta power")
    assert company_order(names) == ("Alpha Charge", "beta power", "Gamma Grid")


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8, unique=True))
def test_company_order_is_a_sorted_permutation(names):
    order = company_order(names)
    assert sorted(order) == sorted(names)
    folded = [n.casefold() for n in order]
    assert folded == sorted(folded)


@pytest.mark.parametrize("names", [["TELD", "TELD"], ["a", "b", "a"]])
def test_duplicate_names_are_rejected(names):
    with pytest.raises(ChargeChainError) as caught:
        company_order(names)
    assert caught.value.code == "E_DUPLICATE"


# --------------------------------------------------------------------------- proposer


# (height, view) -> proposer, for the order PTNE, Smart Grid, Star Charge, TELD; worked out by
# hand from order[(h - 1 + v) mod 4].
TIANJIN_TABLE = [
    (1, 0, "PTNE"), (2, 0, "Smart Grid"), (3, 0, "Star Charge"), (4, 0, "TELD"),
    (5, 0, "PTNE"), (6, 0, "Smart Grid"), (7, 0, "Star Charge"), (8, 0, "TELD"), (9, 0, "PTNE"),
    (100, 0, "TELD"), (288, 0, "TELD"), (289, 0, "PTNE"),
    (1, 1, "Smart Grid"), (1, 2, "Star Charge"), (1, 3, "TELD"), (1, 4, "PTNE"),
    (4, 1, "PTNE"), (3, 2, "PTNE"), (2, 7, "PTNE"), (2, 5, "Star Charge"), (10, 3, "PTNE"), (11, 3, "Smart Grid"),
]


@pytest.mark.parametrize(("height", "view", "expected"), TIANJIN_TABLE)
def test_tianjin_proposer_table(height, view, expected):
    assert proposer(company_order(TIANJIN), height, view) == expected


def test_view_defaults_to_zero():
    assert proposer(TIANJIN_ORDER, 2) == "Smart Grid"


@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=9, unique=True),
       st.integers(1, 10**6), st.integers(0, 10**6))
def test_every_company_proposes_once_in_n_consecutive_heights(names, start, view):
    order = company_order(names)
    window = [proposer(order, h, view) for h in range(start, start + len(order))]
    assert sorted(window) == sorted(names)


@given(st.integers(1, 10**6), st.integers(0, 10**6), st.integers(1, 50))
def test_a_view_change_passes_the_turn_to_the_next_company(height, view, n):
    assert proposer_index(height, view + 1, n) == (proposer_index(height, view, n) + 1) % n
    assert proposer_index(height + 1, view, n) == proposer_index(height, view + 1, n)


@pytest.mark.parametrize(("height", "view", "field"), [
    (0, 0, "height"), (-1, 0, "height"), (1, -1, "view"), (5, -3, "view"),
])
def test_bad_height_or_view_is_rejected(height, view, field):
    with pytest.raises(ChargeChainError) as caught:
        proposer(TIANJIN_ORDER, height, view)
    assert (caught.value.code, caught.value.field) == ("E_PARAMETER", field)


def test_an_empty_consortium_has_no_proposer():
    with pytest.raises(ChargeChainError) as caught:
        proposer((), 1)
    assert caught.value.code == "E_PARAMETER"


# --------------------------------------------------------------------------- on the ledger


def test_scheduled_proposer_of_the_test_consortium():
    """Alpha Charge, beta power, Gamma Grid in turn; each company's first node proposes."""
    state = genesis_state(make_config())
    expected = [("ALPHA", "A1"), ("BETA", "B1"), ("GAMMA", "G1")] * 3
    assert [scheduled_proposer(state, h) for h in range(1, 10)] == expected
    assert scheduled_proposer(state, 1, view=1) == ("BETA", "B1")
    assert scheduled_proposer(state, 3, view=1) == ("ALPHA", "A1")


def test_scheduled_proposer_of_tianjin_uses_the_master_nodes():
    """Section 5.1 of 004: master nodes 1 (TELD), 6 (Star Charge), 9 (PTNE) and 14 (Smart Grid)."""
    authors = [ADMIN] + [f"operator:{op.org_id}" for op in tianjin.TIANJIN_OPERATORS] + [
        f"node:N{n:02d}" for op in tianjin.TIANJIN_OPERATORS for n in op.node_numbers]
    keys = {a: sm2_keypair_from_seed(f"tests/schedule/{a}".encode()) for a in authors}
    state = genesis_state(build_config(DemoOptions(), keys))
    assert [scheduled_proposer(state, h) for h in range(1, 6)] == [
        ("PTNE", "N09"), ("SMGD", "N14"), ("STAR", "N06"), ("TELD", "N01"), ("PTNE", "N09")]
