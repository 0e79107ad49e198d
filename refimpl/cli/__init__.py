"""The ``chargechain`` command line: demo, prove and bench here; validate, bills, stations,
state and store in :mod:`refimpl.cli.store_commands`; spec (TLC) in :mod:`refimpl.cli.spec`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from refimpl.cli.common import ChargeChainGroup, err, out
from refimpl.cli.common import emit_json as _emit_json
from refimpl.cli.common import fail as _fail
from refimpl.errors import ChargeChainError

__all__ = ["main"]


def _progress(label: str) -> Progress:
    """A progress bar on standard error (standard output stays clean for --json)."""
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


@click.group(cls=ChargeChainGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chargechain")
def main() -> None:
    """ChargeChain: reference implementation of a consortium ledger for EV-charging settlement."""


@main.command()
@click.option("--seed", default=2023, show_default=True, help="Seed of the simulated day.")
@click.option("--users", default=120, show_default=True, type=click.IntRange(1, 100_000),
              help="Fleet size (plus the Table 2 car).")
@click.option("--blocks", default=288, show_default=True, type=click.IntRange(40, 100_000),
              help="Blocks to produce (288 x 300 s = one day).")
@click.option("--db", "db_path", default="chargechain-demo.sqlite", show_default=True,
              type=click.Path(path_type=Path), metavar="FILE",
              help="SQLite file for the chain (checked before the day runs).")
@click.option("--byzantine", default=0, show_default=True, type=click.IntRange(0, 4),
              help="Byzantine nodes, at most f = 4 (non-master nodes 5, 8, 10, 15 in turn).")
@click.option("--byzantine-mode", default="silent", show_default=True,
              type=click.Choice(["silent", "double-vote", "late", "forge"]),
              help="What the Byzantine nodes do.")
@click.option("--drop-rate", "drop_permille", default=0, show_default=True,
              type=click.IntRange(0, 500), help="Messages lost at random, per thousand.")
@click.option("--partition-ms", default=5_000, show_default=True,
              type=click.IntRange(0, 3_600_000),
              help="How long nodes 2-4 and 11-13 are cut off, from 10 s on (0: never).")
@click.option("--policy", default="per_operator", show_default=True,
              type=click.Choice(["per_operator", "uniform"]),
              help="Electricity pricing: each operator's own (004's Table 2), or one price voted "
                   "in block 2 with bean rebates (000).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def demo(seed: int, users: int, blocks: int, db_path: Path, byzantine: int, byzantine_mode: str,
         drop_permille: int, partition_ms: int, policy: str, as_json: bool) -> None:
    """Run the Tianjin scenario (Cui et al. 2023) through a simulated day and report.

    Every block is decided by PBFT among the 15 billing nodes on a simulated network; by
    default six non-master nodes are partitioned for 5 s, which forces view changes.
    Reproduces Table 2 from the ledger, stores the chain in an SQLite file and re-validates it.
    """
    from refimpl.scenario.demo import DemoOptions, run_demo
    from refimpl.scenario.report import demo_report, demo_succeeded
    from refimpl.store.sync import check_target

    options = DemoOptions(seed=seed, users=users, blocks=blocks, byzantine=byzantine,
                          byzantine_mode=byzantine_mode, drop_permille=drop_permille,
                          partition_ms=partition_ms, policy=policy)
    try:
        check_target(db_path)  # fail fast: an unwritable --db is known before the day runs
        with _progress("producing blocks") as bar:
            task = bar.add_task("blocks", total=blocks)
            run = run_demo(options, progress=lambda done, total: bar.update(task, completed=done))
        with err.status("storing the chain and re-validating it from the file"):
            report = demo_report(run, db_path)
    except ChargeChainError as error:
        _fail(error)
    if as_json:
        _emit_json(report)
    else:
        _print_demo(report)
    sys.exit(0 if demo_succeeded(report) else 1)


def _print_incentives(report: dict[str, Any]) -> None:
    """The incentive layer per operator and the pool; reputation in one line."""
    incentives, reputation = report["incentives"], report["reputation"]
    prices = ", ".join(f"{k} {v}" for k, v in incentives["uniform_prices"].items())
    table = Table(title=f"Incentives (policy {incentives['policy']}"
                        f"{'; uniform electricity ' + prices + ' yuan/kWh' if prices else ''}; "
                        f"pool {incentives['pool_yuan']} yuan)")
    for col in ("Operator", "Margin", "Rewards", "Beans issued", "Redeemed", "Outstanding",
                "Reserve", "Revenue (yuan)"):
        table.add_column(col, justify="right" if col != "Operator" else "left")
    for name, row in incentives["operators"].items():
        table.add_row(name, row["margin_yuan"], row["rewards_yuan"], str(row["beans_issued"]),
                      str(row["beans_redeemed"]), str(row["beans_outstanding"]),
                      row["reward_reserve_yuan"], row["revenue_yuan"])
    out.print(table)
    out.print(f"reputation      M from {reputation['m_range'][0]} to {reputation['m_range'][1]}; "
              f"{reputation['stations_with_a_session']} of {reputation['stations']} stations had "
              f"a session; {reputation['wallets_in_debt']} wallets in debt (largest "
              f"{reputation['largest_debt_yuan']} yuan)")


def _print_demo(report: dict[str, Any]) -> None:
    """The demo report as tables."""
    chain = report["chain"]
    out.print(f"[bold]ChargeChain demo[/] — Tianjin scenario (Cui et al. 2023), seed "
              f"{report['scenario']['seed']}, {report['scenario']['users']} users")
    table = Table(title="Table 2 reproduced: one 26.4 kWh charge of the same car at each operator")
    for col in ("Operator", "Period", "Electricity (yuan/kWh)", "Service (yuan/kWh)",
                "Energy (kWh)", "Balance change (yuan)", "Paper (yuan)", "Match"):
        table.add_column(col, justify="right" if col != "Operator" else "left")
    for row in report["table2"]:
        match = row["matches_paper"] if row["compared_with"] == "paper" else row["matches_charge"]
        table.add_row(row["operator"], ", ".join(row["periods"]),
                      row["electricity_yuan_per_kwh"], row["service_yuan_per_kwh"],
                      row["energy_kwh"], row["balance_change_yuan"], row["paper_yuan"],
                      ("yes" if match else "NO") + ("" if row["compared_with"] == "paper"
                                                    else " (own charge)"))
    out.print(table)
    if "market" in report:
        from refimpl.cli.market_output import print_market

        print_market(report["market"])
    _print_incentives(report)
    out.print(f"chain file      {chain['file']}", markup=False)
    stored = chain.get("store")
    if stored is not None:
        action = "created" if stored["created"] else f"kept {stored['blocks_kept']} blocks"
        out.print(f"store           {action}, appended {stored['blocks_appended']} blocks, one "
                  "transaction each, with their commit certificates")
    out.print(f"chain id        {chain['chain_id']}")
    out.print(f"genesis hash    {chain['genesis_hash']}")
    out.print(f"tip hash        {chain['tip_hash']}")
    out.print(f"blocks          {chain['blocks']} (genesis included)")
    out.print(f"transactions    {chain['transactions']}")
    rejected = ", ".join(f"{k} x{v}" for k, v in chain["rejected_by_code"].items()) or "none"
    out.print(f"rejected        {rejected}")
    out.print("proposers       " + ", ".join(f"{k} {v}" for k, v in chain["blocks_by_proposer"].items()))
    s = report["sessions"]
    out.print(f"sessions        {s['opened']} opened, {s['settled']} settled, {s['rated']} rated, "
              f"{s['energy_kwh']} kWh")
    _print_consensus(report["consensus"])
    revenue = Table(title="Revenue by party (yuan)")
    revenue.add_column("Account")
    revenue.add_column("Balance", justify="right")
    for account, balance in report["revenue_yuan"].items():
        revenue.add_row(account, balance)
    out.print(revenue)
    for inv in report["invariants"]:
        out.print(f"invariant       {'holds ' if inv['holds'] else 'BROKEN'}  {inv['name']}")
    reval = report["revalidation"]
    verdict = "valid" if reval["ok"] else f"INVALID: {reval['first_error']}"
    out.print(f"re-validation   {verdict}; {reval['blocks_checked']} blocks re-derived from the file; "
              f"tip {'matches' if reval['same_tip_as_built'] else 'DIFFERS'}")


def _print_consensus(c: dict[str, Any]) -> None:
    """The consensus section of the demo report, a few lines."""
    out.print(f"consensus       {c['protocol']}, {c['nodes']} nodes, f = {c['f']}, quorum "
              f"{c['quorum']}; {c['heights_decided']} heights decided, all nodes agree"
              if c["agreement"] else "consensus       DISAGREEMENT")
    views = ", ".join(f"view {v}: {n}" for v, n in c["views_used"].items())
    out.print(f"views           heights decided in {views}; {c['view_changes']} view changes, "
              f"{c['new_views']} new view{'' if c['new_views'] == 1 else 's'}")
    m = c["messages"]
    out.print(f"messages        {m['delivered']} delivered, {m['dropped']} dropped, "
              f"{m['duplicated']} duplicated, {m['rejected']} rejected")
    out.print(f"network time    {c['simulated_seconds']} simulated s, "
              f"{c['blocks_per_simulated_second']} blocks per simulated second")
    faults = c["faults"]
    parts = []
    if faults["partition"]:
        p = faults["partition"]
        parts.append(f"{', '.join(p['nodes'])} cut off from {p['start_ms']} to {p['end_ms']} ms")
    if faults["byzantine_nodes"]:
        nodes = ", ".join(faults["byzantine_nodes"])
        parts.append(f"Byzantine ({faults['byzantine_mode']}): {nodes}")
    if faults["drop_permille"]:
        parts.append(f"{faults['drop_permille']} per thousand messages lost")
    out.print(f"faults          {'; '.join(parts) or 'none'}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def prove(as_json: bool) -> None:
    """Discharge every z3 obligation in proofs/ and list proved / counterexample with times."""
    from chargechain_proofs import run_all

    results = run_all()
    if as_json:
        _emit_json([r.as_dict() for r in results])
    else:
        table = Table(title="z3 obligations")
        for col in ("Obligation", "Result", "Seconds", "Statement"):
            table.add_column(col)
        for r in results:
            table.add_row(Text(r.name), Text(r.verdict), f"{r.seconds:.3f}", Text(r.statement))
        out.print(table)
        for r in results:
            if r.counterexample:
                out.print(f"counterexample for {r.name}: {r.counterexample}", markup=False)
    sys.exit(0 if all(r.verdict == "proved" for r in results) else 1)


def _sizes(_ctx: Any, _param: Any, value: str) -> tuple[int, ...]:
    """Comma-separated ledger sizes (users), each 1000..10,000,000."""
    try:
        sizes = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter("a comma-separated list of user counts") from None
    if not sizes or any(not 1_000 <= n <= 10_000_000 for n in sizes):
        raise click.BadParameter("each size is 1000..10000000 users")
    return sizes


@main.command()
@click.option("--quick", is_flag=True, help="Smaller samples (for smoke runs).")
@click.option("--scale", is_flag=True,
              help="Synthetic ledgers of 10^4, 10^5 and 10^6 users (see --sizes): settlements/s, "
                   "state-root ms, bill-query ms, store size, peak memory.")
@click.option("--sizes", default="10000,100000,1000000", show_default=True, callback=_sizes,
              help="With --scale: the ledger sizes in users.")
@click.option("--orders", type=click.IntRange(1, 1_000_000), default=None,
              help="The market instead: place this many random limit and market orders in one "
                   "grid area's book and print orders/s and fills/s.")
@click.option("--sm2-timing", is_flag=True,
              help="SM2 signing time instead, per bit length of the nonce k (1, 64, 128, 192, "
                   "256 bits): it should not fall with the bit length.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench(quick: bool, scale: bool, sizes: tuple[int, ...], orders: int | None,
          sm2_timing: bool, as_json: bool) -> None:
    """Print throughput figures: settlements/s, SM3 block hashing, demo wall time (no pass/fail)."""
    if sm2_timing:
        _bench_sm2_timing(50 if quick else 300, as_json)
        return
    if scale:
        _bench_scale(sizes, as_json)
        return
    if orders is not None:
        _bench_orders(orders, as_json)
        return
    from refimpl.bench import run_benchmarks

    figures = run_benchmarks(quick=quick, log=lambda msg: err.print(Text(msg, style="dim")))
    if as_json:
        _emit_json(figures)
        return
    table = Table(title="ChargeChain benchmarks (this machine)")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_column("Unit")
    for row in figures:
        table.add_row(row["figure"], row["value"], row["unit"])
    out.print(table)


def _bench_sm2_timing(samples: int, as_json: bool) -> None:
    """``bench --sm2-timing``: signing time per nonce bit length (refimpl.bench.sm2_timing)."""
    from refimpl.bench import sm2_timing

    rows = sm2_timing(samples, log=lambda msg: err.print(Text(msg, style="dim")))
    if as_json:
        _emit_json(rows)
        return
    table = Table(title=f"SM2 signing time by nonce bit length, {samples} nonces each "
                        "(this machine)")
    for heading in ("k bits", "sm2_sign mean ms", "sm2_sign median ms", "[k]G mean ms",
                    "[k]G median ms"):
        table.add_column(escape(heading), justify="right")
    for row in rows:
        table.add_row(str(row["nonce_bits"]), f"{row['sign_mean_ms']:.3f}",
                      f"{row['sign_median_ms']:.3f}", f"{row['kG_mean_ms']:.3f}",
                      f"{row['kG_median_ms']:.3f}")
    out.print(table)


def _bench_orders(orders: int, as_json: bool) -> None:
    """``bench --orders N``: the order book's matching throughput (refimpl.bench_orders)."""
    from refimpl.bench_orders import bench_orders

    figures = bench_orders(orders, seed=2023)
    if as_json:
        _emit_json(figures)
        return
    table = Table(title=f"Order book: {orders:,} orders (this machine)")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    for name, value in figures.items():
        table.add_row(name, f"{value:,}" if isinstance(value, int) else escape(str(value)))
    out.print(table)


def _bench_scale(sizes: tuple[int, ...], as_json: bool) -> None:
    """``bench --scale``: one synthetic ledger per size, measured in its own process."""
    from refimpl.bench_scale import SCALE_KEYS, run_scale

    results = run_scale(sizes, log=lambda msg: err.print(Text(msg, style="dim")))
    if as_json:
        _emit_json(results)
        return
    table = Table(title="ChargeChain at scale (this machine; goals in brackets)")
    headings = ("users", "settlements/s unsigned", "settlements/s signed",
                "state root ms / 100 tx [<= 100]", "bill query ms [<= 50]", "store MB",
                "peak RSS MB [<= 4096]")
    for heading in headings:
        table.add_column(heading, justify="right")
    for row in results:
        values = [row[k] for k in SCALE_KEYS]
        table.add_row(f"{values[0]:,}", f"{values[1]:,}", f"{values[2]:,}", f"{values[3]}",
                      f"{values[4]}", f"{values[5] // 2**20:,}", f"{values[6] // 2**20:,}")
    out.print(table)
    first, last = results[0], results[-1]
    ratio = last["settlements_per_s_unsigned"] / max(1, first["settlements_per_s_unsigned"])
    out.print(f"settlements/s at {last['users']:,} users = {100 * ratio:.0f} % of the figure at "
              f"{first['users']:,} (goal: at least 50 %)")


def _register_optional_commands() -> None:
    """Attach the commands that live in their own modules (store readers, the TLC runner)."""
    from refimpl.cli.store_commands import COMMANDS

    for command in COMMANDS:
        main.add_command(command)
    from refimpl.cli.evidence_commands import COMMANDS as EVIDENCE_COMMANDS

    for command in EVIDENCE_COMMANDS:
        main.add_command(command)
    from refimpl.cli.figures_command import figures

    main.add_command(figures)
    from refimpl.cli.conformance import COMMANDS as CONFORMANCE_COMMANDS

    for command in CONFORMANCE_COMMANDS:
        main.add_command(command)
    try:
        from refimpl.cli.spec import spec
    except ImportError:  # pragma: no cover - the spec group is part of the package
        return
    main.add_command(spec)


_register_optional_commands()
