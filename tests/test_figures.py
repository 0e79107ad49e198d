"""Figures 6-8 of 004: the paper's claims checked on the series the ledger's formula (3) computes.

The claims are checked on numbers, not pictures: the evaluation settles after about 200
transactions, a higher mean rating and a higher M give a higher evaluation, and in Figure 8
Scenario 1 rises faster than Scenario 2, which rises faster than the baseline. Each ordering is
also checked with the parameters swapped, so that no check holds whatever the data. The
command writes six files, the same bytes on a second run, and its --json output parses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pytest

from refimpl.ledger.records import Params
from refimpl.scenario.figures import (
    FIG8_START,
    RISE_AT,
    SETTLE_WINDOW,
    TRANSACTIONS,
    FigureData,
    average_series,
    draw_ratings,
    draw_weights,
    figure6,
    figure7,
    figure8,
    final_mean,
    settle_index,
)

MICRO = 1_000_000
FILES = sorted(f"fig{n}.{ext}" for n in (6, 7, 8) for ext in ("png", "svg"))


@pytest.fixture(scope="module")
def fig6() -> FigureData:
    return figure6()


@pytest.fixture(scope="module")
def fig7() -> FigureData:
    return figure7()


@pytest.fixture(scope="module")
def fig8() -> FigureData:
    return figure8()


def _after(figure: FigureData, n: int = RISE_AT) -> list[int]:
    """Each curve's R_cs (millionths) after n transactions of the curve."""
    return [s.values[n] for s in figure.series]


def _descending(values: list) -> bool:
    return all(a > b for a, b in pairwise(values))


def _ascending(values: list) -> bool:
    return all(a < b for a, b in pairwise(values))


# --- the draws -----------------------------------------------------------------------------


def test_ratings_are_integers_with_the_rounded_normal_frequencies():
    """N(3, 0.6) rounded and clamped: P(3) = 0.595, P(2) = P(4) = 0.196, P(1) = P(5) = 0.006."""
    ratings = draw_ratings(7, "test/frequencies", 3, n=4000)
    assert all(type(r) is int and 1 <= r <= 5 for r in ratings)
    share = {k: ratings.count(k) / len(ratings) for k in range(1, 6)}
    for k, expected in {1: 0.0062, 2: 0.1961, 3: 0.5953, 4: 0.1961, 5: 0.0062}.items():
        assert abs(share[k] - expected) < 0.025, (k, share)
    assert abs(sum(ratings) / len(ratings) - 3) < 0.03


def test_draws_are_seeded_and_shared_by_label():
    """Same seed and label: same ratings; another seed: others; another mean: shifted by it."""
    first = draw_ratings(2023, "fig6/ratings", 3)
    assert first == draw_ratings(2023, "fig6/ratings", 3)
    assert first != draw_ratings(2024, "fig6/ratings", 3)
    higher = draw_ratings(2023, "fig6/ratings", 4)
    assert all(h == min(r + 1, 5) for r, h in zip(first, higher))


def test_credits_are_exact_fractions_in_their_range():
    weights = draw_weights(1, "test/credits", 1, 4, n=2000)
    assert all(isinstance(w, Fraction) and 1 <= w <= 4 for w in weights)
    assert all((w * 1000).denominator == 1 for w in weights)
    assert abs(float(sum(weights)) / len(weights) - 2.5) < 0.1
    assert len(set(weights)) > 500


# --- settling ------------------------------------------------------------------------------


def test_settle_rule_on_known_series():
    """A constant settles at once, a step 20 values after it, a ramp never."""
    assert settle_index([3 * MICRO] * 300) == SETTLE_WINDOW - 1
    assert settle_index([0] * 150 + [1000] * 150) == 168
    assert settle_index(list(range(1, 301))) is None


def test_evaluation_settles_after_about_200_transactions(fig6, fig7):
    """004: 'the evaluation becomes stable after ... about 200 transactions' (M = 0.1 curves)."""
    curves = [*fig6.series, fig7.series[0]]
    settled = [settle_index(s.values) for s in curves]
    assert all(n is not None and 100 <= n <= 300 for n in settled), settled


def test_a_slower_evaluation_would_not_settle_within_300():
    """The check above can fail: with alpha = 40 instead of 10 no curve settles in 300."""
    slow = figure6(params=Params(alpha=Fraction(40)))
    assert [settle_index(s.values) for s in slow.series] == [None, None, None]


# --- Figure 6 ------------------------------------------------------------------------------


def test_fig6_higher_mean_rating_gives_higher_evaluation(fig6):
    finals = [s.values[-1] for s in fig6.series]
    levels = [final_mean(s.values) for s in fig6.series]
    assert _descending(finals) and _descending(levels)
    for mean, level in zip((4, 3, 2), levels):  # the fixed point is the mean rating (IR-EVAL-2)
        assert abs(level / MICRO - mean) < Fraction(15, 100), (mean, float(level) / MICRO)


def test_fig6_order_follows_the_means_not_the_position():
    swapped = figure6(means=(2, 3, 4))
    assert _ascending([s.values[-1] for s in swapped.series])
    assert _ascending([final_mean(s.values) for s in swapped.series])


# --- Figure 7 ------------------------------------------------------------------------------


def test_fig7_higher_m_gives_higher_evaluation_while_rising(fig7):
    """After 50 transactions and on average over the first 100: M = 0.9 > 0.5 > 0.1."""
    assert _descending(_after(fig7)[::-1])
    early = [Fraction(sum(s.values[:101]), 101) for s in fig7.series]
    assert _ascending(early)


def test_fig7_order_follows_m_not_the_position():
    swapped = figure7(ms=(Fraction(9, 10), Fraction(1, 2), Fraction(1, 10)))
    assert _descending(_after(swapped))


def test_fig7_curves_level_off_at_the_mean_rating(fig7):
    """Unlike 004's figure, M sets only the speed: the three levels agree within 0.1 of 3."""
    levels = [final_mean(s.values) / MICRO for s in fig7.series]
    assert all(abs(level - 3) < Fraction(1, 10) for level in levels), levels


# --- Figure 8 ------------------------------------------------------------------------------


def test_fig8_starts_at_two_points_after_200_transactions(fig8):
    assert FIG8_START.r_micro == 2 * MICRO and FIG8_START.ratings == 200
    for s in fig8.series:
        assert s.first == 200 and s.values[0] == 2 * MICRO and len(s.values) == TRANSACTIONS + 1


def test_fig8_scenario_1_rises_faster_than_2_and_2_faster_than_3(fig8):
    """'Rises faster': the higher R_cs after 50 transactions and over the first 100."""
    assert _descending(_after(fig8))
    early = [Fraction(sum(s.values[:101]), 101) for s in fig8.series]
    assert _descending(early)
    assert final_mean(fig8.series[2].values) < 35 * MICRO // 10  # the baseline stays below 3.5


def test_fig8_order_follows_the_credit_range_not_the_position():
    swapped = figure8(scenarios=(("a", 1, 2, "formula"), ("b", 1, 4, "formula")))
    assert _ascending(_after(swapped))


def test_baseline_is_the_weighted_mean_with_the_history():
    """200 earlier ratings of 2 points (weight 1), then a 5 with weight 2 and a 4 with weight 0."""
    values = average_series(2 * MICRO, Fraction(200), [5, 4], [Fraction(2), Fraction(0)],
                            Params())
    assert values == (2 * MICRO, 2_029_703, 2_029_703)  # 410/202 = 2.0297029..., rounded


# --- the command ---------------------------------------------------------------------------


def _chargechain() -> list[str]:
    script = Path(sys.executable).with_name("chargechain")
    return [str(script)] if script.exists() else [shutil.which("chargechain") or "chargechain"]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(_chargechain() + ["figures", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_command_writes_six_identical_files_twice_and_json_parses(tmp_path, fig6):
    first = _run("--out", str(tmp_path / "a"), "--json")
    second = _run("--out", str(tmp_path / "b"))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    for folder in ("a", "b"):
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == FILES
    for name in FILES:
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes(), name
        assert data.startswith(b"\x89PNG") if name.endswith(".png") else b"<svg" in data
    assert b"<dc:date>" not in (tmp_path / "a" / "fig6.svg").read_bytes()

    report = json.loads(first.stdout)
    assert report["seed"] == 2023 and len(report["files"]) == 6
    fig6_json = report["figures"][0]
    assert fig6_json["figure"] == "fig6"
    for curve, series in zip(fig6_json["series"], fig6.series):
        assert curve["settles_at"] == settle_index(series.values)
        assert curve["final"] == f"{series.values[-1] // MICRO}.{series.values[-1] % MICRO:06d}"
    notes = " ".join(f["note"] for f in report["figures"])
    assert "M = 0.9 cannot occur" in notes and "[-1, 1]" in notes
    assert "Settles at" in second.stdout and "fig8" in second.stdout
