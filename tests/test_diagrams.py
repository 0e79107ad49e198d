"""The documentation's diagrams: the same SVG bytes on every run, and labels that agree with the data.

The topology's labels are checked against :mod:`refimpl.scenario.tianjin` (operator names,
station and node counts, node numbers), the PBFT diagram's against the schedule and the quorum,
and the charge flow's amounts against :func:`refimpl.contracts.money.settlement_amounts`. The
labels are read back from the SVG itself (the comment matplotlib writes before each text) and
compared with the figure's text artists.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refimpl.consensus.committee import quorum_size
from refimpl.consensus.schedule import company_order, proposer
from refimpl.contracts.money import WS_PER_WH, settlement_amounts
from refimpl.ledger.records import Params
from refimpl.scenario import tianjin
from refimpl.scenario.diagrams import (
    DIAGRAMS,
    STYLE,
    diagram_files,
    figure_labels,
    svg_labels,
    write_diagrams,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return diagram_files()


def _artist_labels(name: str) -> list[str]:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        return figure_labels(DIAGRAMS[name]())


def test_every_diagram_is_an_svg(files):
    assert sorted(files) == sorted(f"{name}.svg" for name in DIAGRAMS)
    for name, data in files.items():
        text = data.decode("utf-8")
        assert text.startswith("<?xml") and "<svg" in text, name


def test_same_bytes_on_a_second_run(files):
    assert diagram_files() == files


def test_same_bytes_in_a_fresh_process(files, tmp_path):
    """Another interpreter, with another hash seed and an empty matplotlib cache (the font list
    is rebuilt), writes the same bytes."""
    code = ("import hashlib\nfrom refimpl.scenario.diagrams import diagram_files\n"
            "for name, data in sorted(diagram_files().items()):\n"
            "    print(name, hashlib.sha256(data).hexdigest())\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "PYTHONHASHSEED": "12345",
                                 "MPLCONFIGDIR": str(tmp_path / "mplconfig")})
    assert result.returncode == 0, result.stderr
    expected = "".join(f"{name} {hashlib.sha256(data).hexdigest()}\n"
                       for name, data in sorted(files.items()))
    assert result.stdout == expected


def test_no_date_no_font_no_raster(files):
    """Nothing that varies between runs or machines: no date, no font reference, no bitmap."""
    for name, data in files.items():
        text = data.decode("utf-8")
        assert "<dc:date>" not in text, name
        assert "<text" not in text and "@font-face" not in text and "font-family" not in text, name
        assert "<image" not in text, name


def test_write_diagrams(tmp_path, files):
    paths = write_diagrams(tmp_path / "out")
    assert {p.name: p.read_bytes() for p in paths} == files


def test_svg_labels_are_the_figures_texts(files):
    """The SVG holds every text of the figure (one comment per line of a text)."""
    for name in DIAGRAMS:
        lines = [line for label in _artist_labels(name) for line in label.split("\n")]
        assert svg_labels(files[f"{name}.svg"]) == lines, name


def test_topology_labels_match_the_tianjin_scenario(files):
    labels = svg_labels(files["tianjin-topology.svg"])
    operators = tianjin.TIANJIN_OPERATORS
    for op in operators:
        assert op.english_name in labels, op.english_name
        assert f"{op.stations} stations" in labels, op.org_id
        assert f"{len(op.node_numbers)} billing nodes" in labels, op.org_id
        assert f"master node {op.node_numbers[0]}" in labels, op.org_id
    numbers = sorted(int(label) for label in labels if label.isdigit())
    assert numbers == sorted(n for op in operators for n in op.node_numbers)
    nodes = sum(len(op.node_numbers) for op in operators)
    faults = (nodes - 1) // 3
    assert any(f"PBFT among the {nodes} billing nodes" in label for label in labels)
    assert any(f"F = {faults} faulty nodes" in label
               and f"quorum is {quorum_size(nodes, faults)} of {nodes}" in label
               for label in labels)
    # the operators are drawn in proposer order: turn i is the i-th company of the schedule
    order = company_order(op.english_name for op in operators)
    names = [label for label in labels if label in order]
    assert names == list(order)
    assert any(tianjin.SUPPLIER_NAME in label for label in labels)


def test_topology_counts_are_drawn_not_only_written():
    """One square per station and one circle per node, in each operator's colour."""
    import matplotlib
    from matplotlib.patches import Circle, Rectangle

    from refimpl.scenario.diagrams import OPERATOR_COLOURS, topology_figure

    with matplotlib.rc_context(STYLE):
        fig = topology_figure()
    ax = fig.axes[0]

    def colour(patch):
        return matplotlib.colors.to_hex(patch.get_facecolor(), keep_alpha=False).upper()

    for op in tianjin.TIANJIN_OPERATORS:
        hex_colour = OPERATOR_COLOURS[op.org_id].upper()
        squares = [p for p in ax.patches if isinstance(p, Rectangle) and colour(p) == hex_colour]
        circles = [p for p in ax.patches if isinstance(p, Circle)
                   and matplotlib.colors.to_hex(p.get_edgecolor(), keep_alpha=False).upper()
                   == hex_colour]
        assert len(squares) == op.stations, op.org_id
        assert len(circles) == len(op.node_numbers), op.org_id


def test_pbft_labels(files):
    labels = svg_labels(files["pbft.svg"])
    replicas = company_order(op.english_name for op in tianjin.TIANJIN_OPERATORS)
    assert len(replicas) == 4
    for phase in ("request", "pre-prepare", "prepare", "commit", "decide / reply",
                  "view-change (v = 1)", "new-view"):
        assert phase in labels, phase
    assert f"{proposer(replicas, 1, 0)} (primary)" in labels
    assert f"{proposer(replicas, 1, 1)} (primary)" in labels
    faults = (len(replicas) - 1) // 3
    assert any(f"F = {faults}, quorum {quorum_size(len(replicas), faults)}" in label
               for label in labels)


def test_charge_flow_labels(files):
    labels = svg_labels(files["charge-flow.svg"])
    op = tianjin.TIANJIN_OPERATORS[0]
    amounts = settlement_amounts(op.electricity_fen_per_kwh, op.service_fen_per_kwh,
                                 tianjin.TABLE2_ENERGY_WH * WS_PER_WH, Params().commission_bp)
    assert amounts.total == -tianjin.TABLE2_PAPER_BALANCE_FEN[op.org_id]
    assert r"$F = (f_c + f_s)(E_e - E_s)$" in labels
    text = "\n".join(labels)
    for figure in (amounts.electricity, amounts.operator_share, amounts.commission,
                   amounts.total):
        assert f"{figure} fen" in text, figure
    for account in (f"supplier:{tianjin.SUPPLIER_ID}|{op.org_id}", f"operator:{op.org_id}",
                    f"platform:{op.org_id}"):
        assert account in text, account
