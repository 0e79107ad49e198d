"""The SQLite target of ``chargechain export`` (``sqlite:///relative.db``,
``sqlite:////absolute/path.db``, SQLAlchemy's spelling): the embedded default."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from refimpl.errors import ChargeChainError
from refimpl.export.tables import TABLE_NAMES, TABLES, ddl

__all__ = ["SCHEME", "TYPES", "connect", "existing_tables", "path_of", "write_tables"]

SCHEME = "sqlite:///"
#: abstract column type -> SQLite type
TYPES = {"int": "INTEGER", "text": "TEXT"}


def path_of(url: str) -> Path:
    """The file of a ``sqlite:///`` URL (E_QUERY if there is none)."""
    rest = url[len(SCHEME):] if url.startswith(SCHEME) else ""
    if not rest or "?" in rest or "#" in rest:
        raise ChargeChainError("E_QUERY", "an SQLite target is sqlite:///FILE", field="to",
                               expected="sqlite:///FILE or postgresql://...", received=url)
    return Path(rest)


def connect(url: str, *, create: bool) -> sqlite3.Connection:
    """A connection to the target file (created if ``create``; E_QUERY if it cannot be)."""
    path = path_of(url)
    if not create and not path.is_file():
        raise ChargeChainError("E_QUERY", "no such SQLite file", field="to", received=url)
    try:
        mode = "rwc" if create else "ro"
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True,
                               isolation_level=None)
    except (sqlite3.Error, OSError) as error:
        raise ChargeChainError("E_QUERY", f"cannot open the SQLite target: {error}",
                               field="to", received=url) from None


def existing_tables(db: sqlite3.Connection) -> list[str]:
    """The export's table names that already exist in the target."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [n for n in TABLE_NAMES if n in names]


def write_tables(url: str, rows: Mapping[str, Sequence[tuple]]) -> None:
    """Create every table and insert its rows in one transaction; a target that already
    holds any of the tables is refused (E_QUERY) and left untouched."""
    db = connect(url, create=True)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            present = existing_tables(db)
            if present:
                raise ChargeChainError("E_QUERY", "the target already holds exported tables; "
                                       "export into an empty database", field="to",
                                       expected="none of " + ", ".join(TABLE_NAMES),
                                       received=", ".join(present))
            for t in TABLES:
                db.execute(ddl(t, TYPES))
                marks = ", ".join("?" * len(t.columns))
                db.executemany(f"INSERT INTO {t.name} VALUES ({marks})", rows[t.name])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    except sqlite3.Error as error:
        raise ChargeChainError("E_QUERY", f"the SQLite target could not be written: {error}",
                               field="to", received=url) from None
    finally:
        db.close()
