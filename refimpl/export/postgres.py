"""The PostgreSQL target of ``chargechain export`` (``postgresql://user@host:port/db``,
psycopg 3): one transaction, tables created and filled with COPY."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from refimpl.errors import ChargeChainError
from refimpl.export.tables import TABLE_NAMES, TABLES, ddl

__all__ = ["SCHEMES", "TYPES", "connect", "existing_tables", "write_tables"]

SCHEMES = ("postgresql://", "postgres://")
#: abstract column type -> PostgreSQL type
TYPES = {"int": "BIGINT", "text": "TEXT"}


def connect(url: str) -> Any:
    """A psycopg 3 connection to ``url`` (E_QUERY if it cannot be made)."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ChargeChainError("E_QUERY", f"cannot connect to PostgreSQL: {detail}",
                               field="to", received=_redacted(url)) from None


def _redacted(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"


def existing_tables(db: Any) -> list[str]:
    """The export's table names that already exist in the target's search path."""
    found = []
    for name in TABLE_NAMES:
        (oid,) = db.execute("SELECT to_regclass(%s)", (name,)).fetchone()
        if oid is not None:
            found.append(name)
    return found


def write_tables(url: str, rows: Mapping[str, Sequence[tuple]]) -> None:
    """Create every table and COPY its rows in one transaction; a target that already holds
    any of the tables is refused (E_QUERY) and left untouched."""
    import psycopg

    db = connect(url)
    try:
        with db.transaction():
            present = existing_tables(db)
            if present:
                raise ChargeChainError("E_QUERY", "the target already holds exported tables; "
                                       "export into an empty database", field="to",
                                       expected="none of " + ", ".join(TABLE_NAMES),
                                       received=", ".join(present))
            with db.cursor() as cursor:
                for t in TABLES:
                    cursor.execute(ddl(t, TYPES))
                    with cursor.copy(f"COPY {t.name} ({', '.join(t.column_names)}) "
                                     "FROM STDIN") as copy:
                        for row in rows[t.name]:
                            copy.write_row(row)
    except psycopg.Error as error:
        raise ChargeChainError("E_QUERY", f"the PostgreSQL target could not be written: "
                               f"{str(error).strip().splitlines()[0]}", field="to",
                               received=_redacted(url)) from None
    finally:
        db.close()
