"""Diagrams of the documentation, drawn with matplotlib from the reference implementation's data.

Three pictures, for places where a reader would rather look than read:

* ``tianjin-topology``: the Tianjin consortium of 004's Table 1
  (:data:`refimpl.scenario.tianjin.TIANJIN_OPERATORS`): each operator with its billing nodes
  (master node marked) and its stations, the proposer order of
  :func:`refimpl.consensus.schedule.company_order`, the supplier, and the PBFT committee of
  the 15 nodes with F and the quorum of :func:`refimpl.consensus.committee.quorum_size`;
* ``pbft``: PBFT's message pattern among 4 replicas (the four Tianjin companies, one replica
  each, as in the ``pbft-small`` model): request, pre-prepare, prepare, commit and decide /
  reply in view 0, then a view change and new view when the primary of view 0 is silent. The
  primaries come from :func:`refimpl.consensus.schedule.proposer`;
* ``charge-flow``: one charge from the user's wallet through the pile and the station's hosting
  node to the settlement contract, its split between supplier, operator and platform, and the
  block; the amounts are Table 2's TELD row computed by
  :func:`refimpl.contracts.money.settlement_amounts`.

Only SVG is written. The bytes are the same on every run: a fixed ``svg.hashsalt`` (the ids of
clip paths and glyphs), no date in the metadata, and text drawn as paths (``svg.fonttype`` =
``path``) with matplotlib's own DejaVu Sans, so no font is embedded or looked up that differs
between machines. Each text is preceded in the SVG by a comment holding the text itself, which
:func:`svg_labels` reads back (the tests check the labels against the scenario's data).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "DIAGRAMS",
    "STYLE",
    "METADATA",
    "charge_flow_figure",
    "pbft_figure",
    "topology_figure",
    "figure_labels",
    "render",
    "diagram_files",
    "write_diagrams",
    "svg_labels",
]

STYLE = {"svg.hashsalt": "chargechain-diagrams", "svg.fonttype": "path",
         "font.family": "DejaVu Sans", "mathtext.fontset": "dejavusans", "font.size": 9.0,
         "path.simplify": False}
METADATA = {"Date": None, "Creator": "chargechain diagrams"}

#: One colour per operator (Okabe-Ito, readable by colour-blind readers), by organisation id.
OPERATOR_COLOURS = {"TELD": "#0072B2", "STAR": "#E69F00", "PTNE": "#009E73",
                    "SMGD": "#CC79A7"}
FALLBACK_COLOURS = ("#56B4E9", "#D55E00", "#F0E442", "#000000")
INK = "#222222"
MUTED = "#666666"
LEDGER_FILL = "#EEF3F8"
BOX_FILL = "#F7F7F7"


# --- drawing helpers -----------------------------------------------------------------------


def _canvas(width: float, height: float):
    """A figure of ``width`` x ``height`` inches with one axis whose unit is one inch."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=72)
    FigureCanvasSVG(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return fig, ax


def _box(ax, x: float, y: float, w: float, h: float, text: str = "", *, fill: str = BOX_FILL,
         edge: str = INK, size: float | None = None, weight: str = "normal", lw: float = 1.0,
         style: str = "solid", gid: str | None = None) -> None:
    """A rounded box with its lower left corner at (x, y) and centred text."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=fill, edgecolor=edge, linewidth=lw, linestyle=style))
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size,
                fontweight=weight, color=INK, linespacing=1.35, gid=gid)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], *, colour: str = INK,
           lw: float = 1.0, style: str = "solid", head: str = "-|>") -> None:
    """A straight arrow from ``start`` to ``end``."""
    ax.annotate("", xy=end, xytext=start,
                arrowprops={"arrowstyle": head, "color": colour, "lw": lw, "linestyle": style,
                            "shrinkA": 0, "shrinkB": 0, "mutation_scale": 9})


def _operator_colour(org_id: str, index: int) -> str:
    return OPERATOR_COLOURS.get(org_id, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])


# --- the Tianjin topology ------------------------------------------------------------------


def topology_figure():
    """The Tianjin consortium: operators, their billing nodes and stations, the committee."""
    from refimpl.consensus.committee import quorum_size
    from refimpl.consensus.schedule import company_order
    from refimpl.scenario import tianjin

    operators = tianjin.TIANJIN_OPERATORS
    by_name = {op.english_name: op for op in operators}
    order = company_order(by_name)
    nodes = sum(len(op.node_numbers) for op in operators)
    faults = (nodes - 1) // 3
    quorum = quorum_size(nodes, faults)

    columns = 8  # stations per row of the station grid
    cell = 0.17
    rows = max(-(-op.stations // columns) for op in operators)
    panel_w, gap, margin = 2.15, 0.2, 0.3
    width = 2 * margin + len(order) * panel_w + (len(order) - 1) * gap
    grid_h = rows * cell
    height = 3.55 + grid_h
    fig, ax = _canvas(width, height)

    top = height - margin
    ledger_y = top - 0.62
    _box(ax, margin, ledger_y, width - 2 * margin, 0.62, fill=LEDGER_FILL, lw=1.2)
    ax.text(width / 2, ledger_y + 0.41, "Consortium ledger: one chain, every block decided by "
            f"PBFT among the {nodes} billing nodes", ha="center", va="center", fontsize=10,
            fontweight="bold", color=INK)
    ax.text(width / 2, ledger_y + 0.17, f"tolerates F = {faults} faulty nodes; a quorum is "
            f"{quorum} of {nodes} nodes; the proposer rotates over the companies in English-"
            "name order", ha="center", va="center", fontsize=8.5, color=MUTED)

    node_y = ledger_y - 1.0
    for turn, name in enumerate(order):
        op = by_name[name]
        colour = _operator_colour(op.org_id, turn)
        x0 = margin + turn * (panel_w + gap)
        panel_top = node_y + 0.55
        panel_bottom = node_y - 1.1 - grid_h
        _box(ax, x0, panel_bottom, panel_w, panel_top - panel_bottom, fill="#FFFFFF",
             edge=colour, lw=1.5)
        ax.text(x0 + panel_w / 2, panel_top - 0.2, op.english_name, ha="center", va="center",
                fontsize=11, fontweight="bold", color=colour, gid=f"operator-{op.org_id}")
        ax.text(x0 + panel_w - 0.1, panel_top - 0.12, f"turn {turn + 1}", ha="right",
                va="top", fontsize=7.5, color=MUTED)
        # the billing nodes, the first of each company is its master node
        count = len(op.node_numbers)
        spacing = min(0.4, (panel_w - 0.4) / max(count - 1, 1))
        first_x = x0 + panel_w / 2 - spacing * (count - 1) / 2
        for i, number in enumerate(op.node_numbers):
            cx, cy = first_x + i * spacing, node_y
            ax.plot([cx, cx], [cy + 0.16, ledger_y], color=colour, lw=0.8, alpha=0.7)
            master = i == 0
            ax.add_patch(_circle((cx, cy), 0.15, colour if master else "#FFFFFF", colour))
            ax.text(cx, cy, str(number), ha="center", va="center", fontsize=8,
                    fontweight="bold", color="#FFFFFF" if master else colour)
        ax.text(x0 + panel_w / 2, node_y - 0.34, f"{count} billing nodes", ha="center",
                va="center", fontsize=9, color=INK)
        ax.text(x0 + panel_w / 2, node_y - 0.55, f"master node {op.node_numbers[0]}",
                ha="center", va="center", fontsize=8, color=MUTED)
        # the stations, one square each
        ax.text(x0 + panel_w / 2, node_y - 0.85, f"{op.stations} stations", ha="center",
                va="center", fontsize=9, color=INK)
        grid_top = node_y - 1.0
        grid_x = x0 + (panel_w - columns * cell) / 2
        for index in range(op.stations):
            row, column = divmod(index, columns)
            ax.add_patch(_square(grid_x + column * cell + 0.02,
                                 grid_top - (row + 1) * cell + 0.02, cell - 0.04, colour))

    supplier_text = (f"Supplier {tianjin.SUPPLIER_NAME} ({tianjin.SUPPLIER_ID}) feeds every "
                     "station; its income is kept per operator")
    ax.text(width / 2, margin + 0.14, supplier_text, ha="center", va="center", fontsize=8.5,
            color=MUTED)
    legend_y = margin - 0.12
    ax.add_patch(_circle((margin + 0.1, legend_y), 0.07, INK, INK))
    ax.text(margin + 0.22, legend_y, "master node: proposes and signs its company's blocks",
            va="center", fontsize=7.5, color=MUTED)
    ax.add_patch(_circle((margin + 3.45, legend_y), 0.07, "#FFFFFF", INK))
    ax.text(margin + 3.57, legend_y, "billing node (numbered as in 004's Figure 4)",
            va="center", fontsize=7.5, color=MUTED)
    ax.add_patch(_square(margin + 6.3, legend_y - 0.06, 0.12, INK))
    ax.text(margin + 6.48, legend_y, "charging station (hosted by one of its company's nodes)",
            va="center", fontsize=7.5, color=MUTED)
    return fig


def _circle(centre: tuple[float, float], radius: float, fill: str, edge: str):
    from matplotlib.patches import Circle

    return Circle(centre, radius, facecolor=fill, edgecolor=edge, linewidth=1.2)


def _square(x: float, y: float, side: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), side, side, facecolor=colour, edgecolor="none", alpha=0.8)


# --- PBFT's message pattern ----------------------------------------------------------------


def pbft_figure():
    """PBFT among 4 replicas: the normal case of view 0, then a view change and new view."""
    from refimpl.consensus.committee import quorum_size
    from refimpl.consensus.schedule import company_order, proposer
    from refimpl.scenario import tianjin

    replicas = company_order(op.english_name for op in tianjin.TIANJIN_OPERATORS)
    colours = {op.english_name: _operator_colour(op.org_id, i)
               for i, op in enumerate(tianjin.TIANJIN_OPERATORS)}
    faults = (len(replicas) - 1) // 3
    quorum = quorum_size(len(replicas), faults)
    height = 1
    primary0, primary1 = proposer(replicas, height, 0), proposer(replicas, height, 1)

    width, fig_h = 9.6, 6.95
    fig, ax = _canvas(width, fig_h)
    left, right = 1.75, width - 0.2
    lane_gap = 0.42

    def lanes(top: float, names: Iterable[str]) -> dict[str, float]:
        return {name: top - i * lane_gap for i, name in enumerate(names)}

    def draw_lanes(ys: dict[str, float], primary: str, silent: str | None = None) -> None:
        for name, y in ys.items():
            colour = colours.get(name, INK)
            ax.plot([left, right], [y, y], color=colour if name in colours else MUTED,
                    lw=1.6 if name == primary else 0.9,
                    linestyle=":" if name == silent else "-")
            label = f"{name} (primary)" if name == primary else name
            ax.text(left - 0.08, y, label, ha="right", va="center", fontsize=8.5,
                    color=colour, fontweight="bold" if name == primary else "normal")

    def phases(xs: list[float], titles: list[str], top: float, bottom: float) -> None:
        for x in xs:
            ax.plot([x, x], [bottom, top], color="#BBBBBB", lw=0.7, linestyle="--")
        for a, b, title in zip(xs, xs[1:], titles):
            ax.text((a + b) / 2, top + 0.05, title, ha="center", va="bottom", fontsize=9,
                    fontweight="bold", color=INK)

    def send(ys: dict[str, float], sender: str, targets: Iterable[str], x0: float, x1: float,
             *, style: str = "solid") -> None:
        for target in targets:
            if target != sender:
                _arrow(ax, (x0, ys[sender]), (x1, ys[target]),
                       colour=colours.get(sender, INK), lw=0.9, style=style)

    # (a) the normal case
    ax.text(0.2, fig_h - 0.25, f"(a) Normal case: block {height}, view 0 (N = "
            f"{len(replicas)} replicas, F = {faults}, quorum {quorum})", fontsize=10,
            fontweight="bold", va="center", color=INK)
    client = "clients"
    ys = lanes(fig_h - 0.95, [client, *replicas])
    xs = [left + 0.05, 2.75, 4.3, 5.85, 7.4, right - 0.05]
    phases(xs, ["request", "pre-prepare", "prepare", "commit", "decide / reply"],
           ys[client] + 0.2, ys[replicas[-1]] - 0.15)
    draw_lanes(ys, primary0)
    colours[client] = MUTED
    _arrow(ax, (xs[0] + 0.1, ys[client]), (xs[1] - 0.05, ys[primary0]), colour=MUTED, lw=0.9)
    send(ys, primary0, replicas, xs[1] + 0.05, xs[2] - 0.05)
    for sender in replicas:
        if sender != primary0:  # the primary's pre-prepare counts as its prepare
            send(ys, sender, replicas, xs[2] + 0.05, xs[3] - 0.05)
    for sender in replicas:
        send(ys, sender, replicas, xs[3] + 0.05, xs[4] - 0.05)
    for name in replicas:
        ax.plot([xs[4] + 0.3], [ys[name]], marker="s", markersize=7, color=colours[name])
        _arrow(ax, (xs[4] + 0.4, ys[name]), (xs[5] - 0.1, ys[client]), colour=MUTED, lw=0.7,
               style="dotted")
    note_y = ys[replicas[-1]] - 0.45
    ax.text(xs[0], note_y, "request: users' and nodes' signed transactions reach the "
            "scheduled company's master node, which proposes a block of the valid ones",
            fontsize=8, color=MUTED, va="center")
    ax.text(xs[0], note_y - 0.22, f"prepare: every other replica that finds the block valid; "
            f"commit: after a quorum of {quorum} prepares; decide (square): after a quorum of "
            f"{quorum} commits", fontsize=8, color=MUTED, va="center")
    ax.text(xs[0], note_y - 0.44, "reply: the block, its receipts and its commit certificate "
            "(a quorum of signed commits) are in every node's store for clients to read",
            fontsize=8, color=MUTED, va="center")

    # (b) a view change
    top_b = note_y - 0.95
    ax.text(0.2, top_b, f"(b) View change: the primary of view 0 ({primary0}) is silent; "
            f"view 1's primary is the next company ({primary1})", fontsize=10,
            fontweight="bold", va="center", color=INK)
    ys_b = lanes(top_b - 0.7, replicas)
    xs_b = [left + 0.05, 3.05, 5.0, 6.95, right - 0.05]
    phases(xs_b, ["timer expires", "view-change (v = 1)", "new-view", "prepare, commit, decide"],
           ys_b[replicas[0]] + 0.2, ys_b[replicas[-1]] - 0.15)
    draw_lanes(ys_b, primary1, silent=primary0)
    ax.text((xs_b[0] + xs_b[1]) / 2, ys_b[primary0], "×  silent", ha="center",
            va="center", fontsize=10, fontweight="bold", color="#D55E00",
            bbox={"facecolor": "#FFFFFF", "edgecolor": "none", "pad": 1})
    honest = [name for name in replicas if name != primary0]
    for name in honest:
        ax.plot([xs_b[1] - 0.25], [ys_b[name]], marker="o", markersize=7, markerfacecolor="#FFFFFF",
                markeredgecolor=colours[name], markeredgewidth=1.4)
    for sender in honest:
        send(ys_b, sender, honest, xs_b[1] + 0.05, xs_b[2] - 0.05)
    send(ys_b, primary1, honest, xs_b[2] + 0.05, xs_b[3] - 0.05)
    for name in honest:
        ax.plot([xs_b[4] - 0.3], [ys_b[name]], marker="s", markersize=7, color=colours[name])
    ax.text((xs_b[3] + xs_b[4]) / 2 - 0.15, ys_b[replicas[-1]] + lane_gap * 1.5,
            "as in (a), among the\nreplicas in view 1", ha="center", va="center",
            fontsize=8, color=MUTED)
    note_b = ys_b[replicas[-1]] - 0.45
    ax.text(xs_b[0], note_b, "view-change: each replica whose timer expired moves to view 1 and "
            "reports its prepared certificate (if any)", fontsize=8, color=MUTED, va="center")
    ax.text(xs_b[0], note_b - 0.22, f"new-view: the new primary proposes the block that a "
            f"quorum of {quorum} view changes justifies (the highest prepared one, else any "
            "valid block)", fontsize=8, color=MUTED, va="center")
    return fig


# --- the charge flow -----------------------------------------------------------------------


def charge_flow_figure():
    """One charge: wallet, pile, hosting node, settlement and its split, block and store."""
    from refimpl.contracts.money import WS_PER_WH, settlement_amounts
    from refimpl.ledger.records import Params
    from refimpl.scenario import tianjin

    op = tianjin.TIANJIN_OPERATORS[0]
    kwh = tianjin.TABLE2_ENERGY_WH / 1000
    params = Params()
    amounts = settlement_amounts(op.electricity_fen_per_kwh, op.service_fen_per_kwh,
                                 tianjin.TABLE2_ENERGY_WH * WS_PER_WH, params.commission_bp)
    colour = _operator_colour(op.org_id, 0)
    bp = params.commission_bp

    width, height = 9.6, 5.3
    fig, ax = _canvas(width, height)
    row1, box_h, box_w = 3.95, 0.8, 1.95
    wallet_x, pile_x, node_x = 0.2, 3.05, 5.9
    _box(ax, wallet_x, row1, box_w, box_h, f"User's wallet\n(car {tianjin.TABLE2_EV})", lw=1.2)
    _box(ax, pile_x, row1, box_w, box_h, f"Pile at a\n{op.english_name} station",
         fill="#FFFFFF", edge=colour, lw=1.2)
    _box(ax, node_x, row1, width - 0.2 - node_x, box_h,
         f"{op.english_name} billing node\n(the station's hosting node)", fill="#FFFFFF",
         edge=colour, lw=1.2)
    mid = row1 + box_h / 2
    _arrow(ax, (wallet_x + box_w, mid), (pile_x, mid))
    ax.text((wallet_x + box_w + pile_x) / 2, row1 + box_h + 0.05,
            "1  start_charging\n(signed by the user;\nthe prices are fixed)", ha="center",
            va="bottom", fontsize=7.5, color=MUTED)
    _arrow(ax, (pile_x + box_w, mid), (node_x, mid))
    ax.text((pile_x + box_w + node_x) / 2, row1 + box_h + 0.05,
            "2  meter readings\n$E_s$, $E_e$ (Wh)", ha="center", va="bottom", fontsize=7.5,
            color=MUTED)

    contract_x, contract_y, contract_h = 4.85, 1.75, 1.75
    contract_w = width - 0.2 - contract_x
    cx = contract_x + contract_w / 2
    node_cx = node_x + (width - 0.2 - node_x) / 2
    _arrow(ax, (node_cx, row1), (node_cx, contract_y + contract_h))
    ax.text(node_cx - 0.1, row1 - 0.22, "3  settle_charging (signed by the node)", ha="right",
            va="center", fontsize=7.5, color=MUTED)
    _box(ax, contract_x, contract_y, contract_w, contract_h, fill=LEDGER_FILL, lw=1.2)
    ax.text(cx, contract_y + 1.5, "Settlement contract", ha="center", va="center",
            fontsize=9.5, fontweight="bold", color=INK)
    ax.text(cx, contract_y + 1.13, r"$F = (f_c + f_s)(E_e - E_s)$", ha="center",
            va="center", fontsize=12, color=INK, gid="formula")
    ax.text(cx, contract_y + 0.74, "each part rounded to the fen on its own; the commission\n"
            f"C is {bp / 100:g} % of the service part $F_s$", ha="center", va="center",
            fontsize=7.5, color=MUTED)
    ax.text(cx, contract_y + 0.27, f"Table 2, {op.english_name} at peak: {kwh:g} kWh × "
            f"({op.electricity_fen_per_kwh} + {op.service_fen_per_kwh}) fen/kWh\n= "
            f"{amounts.electricity} + {amounts.service} = {amounts.total} fen",
            ha="center", va="center", fontsize=8, color=INK)

    # the split: F leaves the wallet in three transfers
    split_y, split_h, split_w, split_gap = 0.2, 1.0, 1.45, 0.1
    targets = [
        (f"Supplier\nsupplier:{tianjin.SUPPLIER_ID}|{op.org_id}",
         f"electricity part\n$F_c$ = {amounts.electricity} fen", INK),
        (f"Operator\noperator:{op.org_id}",
         f"service part − C\n$F_s - C$ = {amounts.operator_share} fen", colour),
        (f"Platform\nplatform:{op.org_id}", f"commission\nC = {amounts.commission} fen", INK),
    ]
    bus_y = split_y + split_h + 0.35
    wallet_cx = wallet_x + box_w / 2
    centres = [0.2 + i * (split_w + split_gap) + split_w / 2 for i in range(len(targets))]
    ax.plot([wallet_cx, wallet_cx], [row1, bus_y], color=INK, lw=1.0)
    ax.plot([centres[0], centres[-1]], [bus_y, bus_y], color=INK, lw=1.0)
    for (who, amount, edge), centre in zip(targets, centres):
        _box(ax, centre - split_w / 2, split_y, split_w, split_h, f"{who}\n{amount}",
             fill="#FFFFFF", edge=edge, size=8)
        _arrow(ax, (centre, bus_y), (centre, split_y + split_h))
    ax.text(wallet_cx + 0.12, (row1 + bus_y) / 2 + 0.15, "4  the contract moves F out of the\n"
            "wallet in three transfers", ha="left", va="center", fontsize=7.5,
            color=MUTED)
    _arrow(ax, (contract_x, contract_y + 0.85), (wallet_cx + 0.05, contract_y + 0.85),
           colour=MUTED, lw=0.8, style="dashed")

    block_x, block_y, block_w, block_h = 4.85, 0.2, 2.6, 1.2
    _box(ax, block_x, block_y, block_w, block_h,
         "Block h: proposed by the scheduled\ncompany's master node, decided\n"
         "by PBFT among the 15 billing nodes", fill=LEDGER_FILL, size=8, lw=1.2)
    _arrow(ax, (block_x + block_w / 2, contract_y), (block_x + block_w / 2, block_y + block_h))
    ax.text(block_x + block_w / 2 + 0.1, (contract_y + block_y + block_h) / 2,
            "5  receipt, write set, state root", ha="left", va="center", fontsize=7.5,
            color=MUTED)
    store_x = block_x + block_w + 0.3
    _box(ax, store_x, block_y, width - 0.2 - store_x, block_h,
         "every node's store:\nblock, certificate,\nbills", fill=BOX_FILL, size=8)
    _arrow(ax, (block_x + block_w, block_y + block_h / 2), (store_x, block_y + block_h / 2))
    return fig


# --- rendering -----------------------------------------------------------------------------

#: Name -> the function drawing the diagram (the file is ``<name>.svg``).
DIAGRAMS: dict[str, Callable] = {
    "tianjin-topology": topology_figure,
    "pbft": pbft_figure,
    "charge-flow": charge_flow_figure,
}


def figure_labels(fig) -> list[str]:
    """Every non-empty text of a figure, in drawing order."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def render(draw: Callable) -> bytes:
    """The SVG bytes of a diagram: fixed hash salt, no date, text as paths of DejaVu Sans."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        fig = draw()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata=METADATA)
    return buffer.getvalue()


def diagram_files() -> dict[str, bytes]:
    """File name (``pbft.svg`` ...) to SVG bytes, for every diagram."""
    return {f"{name}.svg": render(draw) for name, draw in DIAGRAMS.items()}


def write_diagrams(out_dir: Path) -> list[Path]:
    """Write every diagram into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in diagram_files().items():
        (out_dir / name).write_bytes(data)
        paths.append(out_dir / name)
    return paths


_COMMENT = re.compile(r"<!-- (.*?) -->", re.S)


def svg_labels(svg: bytes) -> list[str]:
    """The texts of a rendered diagram, read back from the comments matplotlib writes (one per
    line of a text)."""
    import html

    return [html.unescape(text) for text in _COMMENT.findall(svg.decode("utf-8"))]
