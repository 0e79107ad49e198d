"""Figures 6, 7 and 8 of 004 (Cui et al. 2023, section 5.2) from the ledger's formula (3).

Every value that enters :func:`refimpl.contracts.evaluation.update_evaluation` is exact: the
ratings are integers 1..5, M and R_v are fractions, and every random draw comes from the
seeded SM3 stream :class:`refimpl.rng.Rng` (IR-DEMO-1), so the series are the same integers on
every machine. Floats appear only where matplotlib draws the curves. The choices (the normal
draw, common random numbers, the Figure 8 baseline, the settle rule) are explained on the
documentation page ``docs/figures.md``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from refimpl.arith import fraction_round_half_up
from refimpl.contracts.evaluation import MICRO, endorsement_experience, update_evaluation
from refimpl.ledger.records import Evaluation, Params
from refimpl.rng import Rng

__all__ = [
    "DEFAULT_SEED",
    "TRANSACTIONS",
    "Series",
    "FigureData",
    "normal_rating",
    "draw_ratings",
    "draw_weights",
    "formula3_series",
    "average_series",
    "final_mean",
    "settle_index",
    "figure6",
    "figure7",
    "figure8",
    "all_figures",
    "render",
    "figure_files",
    "write_figures",
    "summary",
]

DEFAULT_SEED = 2023
#: Ratings per curve (004: the evaluation is stable after about 200).
TRANSACTIONS = 300
RATING_SD = Fraction(3, 5)
RATING_RANGE = (1, 5)
#: Irwin-Hall: the sum of 12 uniforms minus 6 has mean 0 and variance 1.
UNIFORMS = 12
UNIFORM_BITS = 32
#: R_v is uniform on the grid low + (high - low) * k / 1000, k = 0..1000.
WEIGHT_GRID = 1000
FIG6_MEANS = (4, 3, 2)
FIG6_M = Fraction(1, 10)
FIG7_MEAN = 3
FIG7_MS = (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10))
FIG8_MEAN = 4
FIG8_M = Fraction(1, 10)
#: 004: "the evaluation after ... the first 200 transactions ... is two points".
FIG8_START = Evaluation(2 * MICRO, 200)
#: (label, R_v low, R_v high, method): "formula" is formula (3), "average" the baseline.
FIG8_SCENARIOS = (("Scenario 1", 1, 4, "formula"), ("Scenario 2", 1, 2, "formula"),
                  ("Scenario 3", 0, 2, "average"))
SETTLE_BAND = Fraction(1, 20)
SETTLE_WINDOW = 20
FINAL_WINDOW = 100
RISE_AT = 50
STYLE = {"svg.hashsalt": "chargechain-figures", "svg.fonttype": "path",
         "font.family": "DejaVu Sans", "font.size": 10.0, "axes.grid": True,
         "grid.alpha": 0.3, "lines.linewidth": 1.2}
METADATA = {"svg": {"Date": None, "Creator": "chargechain figures"},
            "png": {"Software": "chargechain figures"}}
LINE_STYLES = ("-", "--", ":")


@attrs.frozen
class Series:
    """One curve: R_cs in millionths after first, first + 1, ... transactions."""

    label: str
    first: int
    values: tuple[int, ...]
    parameters: str


@attrs.frozen
class FigureData:
    """One figure of 004: its file name, title, curves and the caveat printed with it."""

    name: str
    title: str
    series: tuple[Series, ...]
    note: str


def normal_rating(rng: Rng, mean: int) -> int:
    """A rating from N(mean, 0.6) by Irwin-Hall (12 uniforms), rounded half up, in 1..5."""
    unit = 1 << UNIFORM_BITS
    total = sum(rng.below(unit) for _ in range(UNIFORMS))
    z = Fraction(2 * total + UNIFORMS - UNIFORMS * unit, 2 * unit)  # midpoints, minus 6
    return min(max(fraction_round_half_up(mean + RATING_SD * z), RATING_RANGE[0]), RATING_RANGE[1])


def draw_ratings(seed: int, label: str, mean: int, n: int = TRANSACTIONS) -> list[int]:
    """n ratings around ``mean`` from the stream of ``label`` (same label: same uniforms)."""
    rng = Rng(seed, f"figures/{label}")
    return [normal_rating(rng, mean) for _ in range(n)]


def draw_weights(seed: int, label: str, low: int, high: int,
                 n: int = TRANSACTIONS) -> list[Fraction]:
    """n exact credits R_v uniform on the 1/1000 grid of [low, high] (same label: same k)."""
    rng = Rng(seed, f"figures/{label}")
    return [low + (high - low) * Fraction(rng.below(WEIGHT_GRID + 1), WEIGHT_GRID)
            for _ in range(n)]


def formula3_series(start: Evaluation, ratings: Sequence[int], weights: Sequence[Fraction],
                    m: Fraction, params: Params) -> tuple[int, ...]:
    """R_cs before and after each rating, computed by the ledger's update_evaluation."""
    evaluation, values = start, [start.r_micro]
    for rating, r_v in zip(ratings, weights, strict=True):
        evaluation = update_evaluation(evaluation, rating, r_v, m, params)
        values.append(evaluation.r_micro)
    return tuple(values)


def average_series(start_micro: int, prior_weight: Fraction, ratings: Sequence[int],
                   weights: Sequence[Fraction], params: Params) -> tuple[int, ...]:
    """Scenario 3's baseline: the R_v-weighted mean of every rating so far, history included."""
    scale = Fraction(params.evaluation_max, params.rating_max)
    total, weighted = prior_weight, prior_weight * Fraction(start_micro, MICRO)
    values = [start_micro]
    for rating, r_v in zip(ratings, weights, strict=True):
        total, weighted = total + r_v, weighted + r_v * rating * scale
        values.append(fraction_round_half_up(weighted / total * MICRO) if total else values[-1])
    return tuple(values)


def final_mean(values: Sequence[int]) -> Fraction:
    """The exact mean of the last 100 values (the level a curve settles at)."""
    tail = values[-FINAL_WINDOW:]
    return Fraction(sum(tail), len(tail))


def settle_index(values: Sequence[int]) -> int | None:
    """First index from which the 20-value moving average stays within 5 % of final_mean."""
    target = final_mean(values)
    inside = [abs(Fraction(sum(values[i - SETTLE_WINDOW + 1:i + 1]), SETTLE_WINDOW) - target)
              <= SETTLE_BAND * target for i in range(SETTLE_WINDOW - 1, len(values))]
    if not inside or not inside[-1]:
        return None
    k = len(inside)
    while k > 0 and inside[k - 1]:
        k -= 1
    return k + SETTLE_WINDOW - 1


def _decimal(value: Fraction) -> str:
    """A fraction of a point, rounded half up, as a decimal string with up to 3 places."""
    q = fraction_round_half_up(value * 1000)
    return f"{q // 1000}.{q % 1000:03d}".rstrip("0").rstrip(".")


def figure6(seed: int = DEFAULT_SEED, means: Sequence[int] = FIG6_MEANS,
            params: Params | None = None) -> FigureData:
    """Figure 6: M = 0.1, R_v = 1, ratings N(4, 0.6), N(3, 0.6), N(2, 0.6) from R_cs = 0."""
    params = params or Params()
    ones = [Fraction(1)] * TRANSACTIONS
    series = tuple(Series(f"N({mean}, 0.6)", 0, formula3_series(
        Evaluation(), draw_ratings(seed, "fig6/ratings", mean), ones, FIG6_M, params),
        f"mean rating {mean}, M = {_decimal(FIG6_M)}, R_v = 1") for mean in means)
    return FigureData("fig6", "Figure 6: service evaluation for different user ratings", series,
                      "M = 0.1 and R_v = 1 for every rating; initial evaluation 0.")


def figure7(seed: int = DEFAULT_SEED, ms: Sequence[Fraction] = FIG7_MS,
            params: Params | None = None) -> FigureData:
    """Figure 7: ratings N(3, 0.6), R_v = 1, M = 0.1, 0.5, 0.9 passed directly to formula (3)."""
    params = params or Params()
    ratings = draw_ratings(seed, "fig7/ratings", FIG7_MEAN)
    ones = [Fraction(1)] * TRANSACTIONS
    series = tuple(Series(f"M = {_decimal(m)}", 0, formula3_series(
        Evaluation(), ratings, ones, m, params), f"M = {_decimal(m)}, mean rating 3, R_v = 1")
        for m in ms)
    cap = endorsement_experience(1, 1, params.beta)
    return FigureData("fig7", "Figure 7: service evaluation for different endorsement experience",
                      series, f"M is passed directly to formula (3). Formula (1) with beta = "
                      f"{_decimal(params.beta)} gives M <= {_decimal(cap)}, so M = 0.9 cannot "
                      "occur on the ledger; 004's figure uses it anyway. Here M sets only the "
                      "speed: every curve levels off at the mean rating.")


def figure8(seed: int = DEFAULT_SEED,
            scenarios: Sequence[tuple[str, int, int, str]] = FIG8_SCENARIOS,
            params: Params | None = None) -> FigureData:
    """Figure 8: from R_cs = 2 after 200 transactions, ratings N(4, 0.6), three scenarios."""
    params = params or Params()
    ratings = draw_ratings(seed, "fig8/ratings", FIG8_MEAN)
    series = []
    for label, low, high, method in scenarios:
        weights = draw_weights(seed, "fig8/credits", low, high)
        if method == "formula":
            values = formula3_series(FIG8_START, ratings, weights, FIG8_M, params)
            how = f"formula (3), M = {_decimal(FIG8_M)}"
        else:
            values = average_series(FIG8_START.r_micro, Fraction(FIG8_START.ratings), ratings,
                                    weights, params)
            how = "baseline: R_v-weighted mean of all ratings"
        series.append(Series(f"{label}: R_v ~ U[{low}, {high}]", FIG8_START.ratings, values,
                             f"{how}, R_v uniform on [{low}, {high}], mean rating 4"))
    return FigureData("fig8", "Figure 8: service evaluation after the service improves",
                      tuple(series), "Starts at R_cs = 2 after 200 transactions. R_v is passed "
                      "as the rating weight although formula (2) keeps R_v in [-1, 1] "
                      "(IR-EVAL-3). Scenario 3 is a baseline: the R_v-weighted running mean of "
                      "all ratings, the 200 earlier ones (2 points, weight 1 each) included.")


def all_figures(seed: int = DEFAULT_SEED) -> tuple[FigureData, ...]:
    """Figures 6, 7 and 8 for one seed."""
    return figure6(seed), figure7(seed), figure8(seed)


def render(figure: FigureData, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes; fixed font, hash salt and metadata give the same bytes."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for i, series in enumerate(figure.series):
            xs = range(series.first, series.first + len(series.values))
            ax.plot(xs, [v / MICRO for v in series.values], LINE_STYLES[i % len(LINE_STYLES)],
                    label=series.label)
        ax.set(title=figure.title, xlabel="Transactions of the charging station node",
               ylabel="Service evaluation R_cs (points)", ylim=(0, 5))
        ax.legend(loc="lower right")
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=METADATA[fmt])
    return buffer.getvalue()


def figure_files(figures: Sequence[FigureData]) -> dict[str, bytes]:
    """File name (fig6.png, fig6.svg, ...) to bytes, for every figure."""
    return {f"{f.name}.{fmt}": render(f, fmt) for f in figures for fmt in ("png", "svg")}


def write_figures(out_dir: Path, figures: Sequence[FigureData]) -> list[Path]:
    """Write the PNG and SVG files of the figures into out_dir; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in figure_files(figures).items():
        (out_dir / name).write_bytes(data)
        paths.append(out_dir / name)
    return paths


def _micro(value: Fraction | int) -> str:
    """A number of millionths of a point (rounded half up) as a decimal string."""
    micro = fraction_round_half_up(Fraction(value))
    sign, micro = ("-" if micro < 0 else ""), abs(micro)
    return f"{sign}{micro // MICRO}.{micro % MICRO:06d}"


def summary(seed: int, figures: Sequence[FigureData]) -> dict[str, Any]:
    """Per curve: final value, mean of the last 100, value after 50, settle point (plain data)."""
    rows = []
    for figure in figures:
        curves = []
        for s in figure.series:
            settle = settle_index(s.values)
            curves.append({"label": s.label, "parameters": s.parameters,
                           "first_transaction": s.first,
                           "last_transaction": s.first + len(s.values) - 1,
                           "final": _micro(s.values[-1]),
                           "mean_last_100": _micro(final_mean(s.values)),
                           f"after_{RISE_AT}": _micro(s.values[RISE_AT]),
                           "settles_at": None if settle is None else s.first + settle})
        rows.append({"figure": figure.name, "title": figure.title, "note": figure.note,
                     "series": curves})
    return {"seed": seed, "transactions_per_series": TRANSACTIONS, "figures": rows,
            "rating_draw": "N(mean, 0.6) as mean + 0.6 (sum of 12 uniforms - 6), rounded half "
                           "up, clamped to 1..5; SM3 stream figures/<figure>/ratings",
            "settle_rule": f"first transaction from which the {SETTLE_WINDOW}-transaction "
                           f"moving average stays within 5 % of the mean of the last "
                           f"{FINAL_WINDOW} values"}
