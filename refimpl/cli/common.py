"""What the ``chargechain`` commands share: the consoles, JSON output, typed failures, tables."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from refimpl.errors import ChargeChainError

__all__ = ["out", "err", "emit_json", "fail", "print_rows", "millionths"]

out = Console(highlight=False)
if not out.is_terminal and "COLUMNS" not in os.environ:  # pipes: 120 columns, not 80
    out = Console(highlight=False, width=120)
err = Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    """Print plain data as indented JSON with sorted keys."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def fail(error: ChargeChainError) -> NoReturn:
    """Report a typed error and exit with status 2."""
    err.print(f"[bold red]error[/] {escape(error.describe())}", soft_wrap=True)
    sys.exit(2)


def print_rows(rows: list[dict[str, Any]], as_json: bool, title: str,
               columns: dict[str, Callable[[dict[str, Any]], str]]) -> None:
    """Query results as JSON, or as a table with one formatter per column."""
    if as_json:
        emit_json(rows)
        return
    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(fmt(row) for fmt in columns.values()))
    out.print(table)


def millionths(value: int) -> str:
    """An integer count of millionths as an exact decimal string (no float; -1 -> -0.000001)."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 10**6}.{abs(value) % 10**6:06d}"
