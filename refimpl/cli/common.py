"""What the ``chargechain`` commands share: the consoles, JSON output, exit statuses, one-line
errors, the last-resort handler of the entry point, tables.

Exit statuses (docs/cli.md, "Exit status"): 0 success (the store is valid, the proof holds,
...); 1 a check the command runs failed; 2 invalid usage (click's); 3 bad input, a bad store
or environment (every :class:`~refimpl.errors.ChargeChainError`, a missing or unwritable
file, no Java for ``spec``); 4 an internal error (a bug: an exception nobody expected).
Every error is one line on standard error, never wrapped, whatever the terminal's width.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from refimpl.errors import ChargeChainError

__all__ = ["out", "err", "emit_json", "fail", "fail_environment", "error_line", "one_line",
           "print_rows", "millionths", "ChargeChainGroup", "EXIT_OK", "EXIT_CHECK_FAILED",
           "EXIT_USAGE", "EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_STATUSES",
           "DEBUG_ENV"]

#: success: the command did what it was asked, and the check it runs (if any) passed
EXIT_OK = 0
#: the check the command runs failed: an invalid chain, a proof that does not hold, a demo
#: invariant or Table 2 row that fails, a surviving mutant, an export that differs
EXIT_CHECK_FAILED = 1
#: invalid usage: an unknown command or option, a missing argument, a value click refuses
EXIT_USAGE = 2
#: bad input, a bad store or environment: any typed error (ChargeChainError, TLC's errors),
#: a missing, unreadable or unwritable file or folder
EXIT_BAD_INPUT = 3
#: an internal error: an exception no check anticipated (a bug; CHARGECHAIN_DEBUG=1 shows it)
EXIT_INTERNAL = 4
#: interrupted (Ctrl-C): 128 + SIGINT, the shells' convention
EXIT_INTERRUPTED = 130
#: status -> meaning (the table of docs/cli.md)
EXIT_STATUSES: dict[int, str] = {
    EXIT_OK: "success: the store is valid, the proof holds, every check passed",
    EXIT_CHECK_FAILED: "a check the command runs failed (invalid chain, proof that does not "
                       "hold, demo invariant or Table 2 row, surviving mutant, differing export)",
    EXIT_USAGE: "invalid usage (click's): unknown command or option, missing argument, a value "
                "out of the option's range",
    EXIT_BAD_INPUT: "bad input, store or environment: a typed error (its code is printed), a "
                    "missing, unreadable or unwritable file, no Java for spec",
    EXIT_INTERNAL: "internal error: an unexpected exception (a bug); CHARGECHAIN_DEBUG=1 "
                   "shows the traceback",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
#: set to 1 to let unexpected exceptions through with their traceback
DEBUG_ENV = "CHARGECHAIN_DEBUG"

out = Console(highlight=False)
if not out.is_terminal and "COLUMNS" not in os.environ:  # pipes: 120 columns, not 80
    out = Console(highlight=False, width=120)
err = Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    """Print plain data as indented JSON with sorted keys."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def one_line(text: str) -> str:
    """``text`` on one line: line breaks, other control characters and lone surrogates are
    written as escapes (``\\n``, ``\\x1b``, ``\\udcff``), so nothing can break the line, move
    the cursor or fail to encode."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape",
                                                          "backslashreplace").decode("ascii")
                   for ch in text)


def error_line(text: str) -> None:
    """One line of plain text on standard error: no markup, no colour, never wrapped."""
    click.echo(one_line(text), err=True)


def fail(error: ChargeChainError) -> NoReturn:
    """Report a typed error (``error <CODE>: ...``) and exit with status 3."""
    error_line(f"error {error.describe()}")
    sys.exit(EXIT_BAD_INPUT)


def fail_environment(message: str) -> NoReturn:
    """Report an untyped problem of the environment (a file or folder that cannot be read or
    written) as ``error: ...`` and exit with status 3."""
    error_line(f"error: {message}")
    sys.exit(EXIT_BAD_INPUT)


def _os_error_text(error: OSError) -> str:
    """``<strerror>: <file>`` of an OSError."""
    text = error.strerror or str(error) or type(error).__name__
    if error.filename is not None:
        text += f": {os.fsdecode(error.filename)}"
    return text


def _internal(error: BaseException) -> NoReturn:
    """The last resort: one line naming the exception, status 4 (or the traceback with
    CHARGECHAIN_DEBUG=1)."""
    if os.environ.get(DEBUG_ENV) == "1":
        raise error
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - even the message may fail
        message = "(no message)"
    if len(message) > 2000:
        message = message[:2000] + "..."
    error_line(f"chargechain: internal error: {type(error).__name__}: {message} "
               f"(set {DEBUG_ENV}=1 for the traceback)")
    sys.exit(EXIT_INTERNAL)


class ChargeChainGroup(click.Group):
    """The ``chargechain`` group: its entry point turns every failure into one line on
    standard error and a documented exit status (see the module docstring)."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Run the command line; every failure ends as one line on standard error and its
        documented exit status (``standalone_mode=False``: click's behaviour, unchanged)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:  # no command: the help text
            error.show()
            sys.exit(EXIT_USAGE)
        except click.UsageError as error:
            where = f"; see '{error.ctx.command_path} --help'" if error.ctx is not None else ""
            error_line(f"usage error: {error.format_message().rstrip('.')}{where}")
            sys.exit(EXIT_USAGE)
        except click.Abort:
            error_line("chargechain: interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as error:
            fail_environment(error.format_message())
        except ChargeChainError as error:
            fail(error)
        except OSError as error:
            if os.environ.get(DEBUG_ENV) == "1":
                raise
            fail_environment(_os_error_text(error))
        except Exception as error:  # noqa: BLE001 - the documented last resort
            _internal(error)
        sys.exit(result if isinstance(result, int) else EXIT_OK)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen command; a closed standard output (``| head``) is status 3."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # the reader of standard output went away (``| head``)
            _silence_stdout()
            fail_environment("standard output was closed (broken pipe)")


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the exit's flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout
        pass


def print_rows(rows: list[dict[str, Any]], as_json: bool, title: str,
               columns: dict[str, Callable[[dict[str, Any]], str]]) -> None:
    """Query results as JSON, or as a table with one formatter per column (every title and
    cell is plain text: ids such as ``[/]`` or ``[bold]`` show as they are)."""
    if as_json:
        emit_json(rows)
        return
    table = Table(title=Text(title))
    for name in columns:
        table.add_column(Text(name))
    for row in rows:
        table.add_row(*(Text(fmt(row)) for fmt in columns.values()))
    out.print(table)


def millionths(value: int) -> str:
    """An integer count of millionths as an exact decimal string (no float; -1 -> -0.000001)."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 10**6}.{abs(value) % 10**6:06d}"
