"""SQLite plumbing shared by the cache and the queue: connections per thread and per process, transactions, dates.

Many processes (api, workers, admin) use one database file at once, and the API calls the store from several
threads. Each thread gets its own connection; a process created by fork never touches the connections it
inherited (SQLite forbids using a connection across fork) and opens new ones.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Final

from libcommon.clock import as_utc

#: How long a statement waits for another process's write lock before failing with "database is locked".
BUSY_TIMEOUT_SECONDS: Final = 30.0

# A unique index treats NULLs as distinct, but a NULL config/split is part of the key. ifnull(x, 0) maps
# NULL to the integer 0, which equals itself and never equals a TEXT value (not even '' or '0').
KEY_COLUMNS: Final = "ifnull(config, 0), ifnull(split, 0)"
KEY_MATCH: Final = "ifnull(config, 0) = ifnull(?, 0) AND ifnull(split, 0) = ifnull(?, 0)"

# Connections inherited through fork: kept referenced so that garbage collection never closes them in the
# child (closing runs SQLite code on state that belongs to the parent process).
_INHERITED: list[sqlite3.Connection] = []
_DATABASES: weakref.WeakSet[SqliteDatabase] = weakref.WeakSet()


def format_datetime(value: datetime) -> str:
    """Fixed-width UTC ISO text (always with microseconds), so that text order is time order."""
    return as_utc(value).isoformat(timespec="microseconds")


def parse_datetime(value: str) -> datetime:
    """The tz-aware UTC datetime of a value written by `format_datetime`."""
    return as_utc(datetime.fromisoformat(value))


def parse_optional_datetime(value: str | None) -> datetime | None:
    """`parse_datetime`, keeping None."""
    return None if value is None else parse_datetime(value)


def placeholders(values: Sequence[object]) -> str:
    """`?, ?, ?` for an `IN (...)` clause with one parameter per value."""
    return ", ".join("?" * len(values))


class SqliteDatabase:
    """One SQLite file: creates it and its schema, and hands out a connection per thread.

    Connections run in autocommit mode; `transaction()` opens an explicit `BEGIN IMMEDIATE` transaction,
    which takes the database write lock up front so that read-then-write sequences are atomic across
    processes.
    """

    def __init__(self, path: str | os.PathLike[str], schema: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pid = os.getpid()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        _DATABASES.add(self)
        # executescript commits any open transaction first, so the BEGIN/COMMIT must be part of the script.
        self.connection().executescript(f"BEGIN IMMEDIATE;\n{schema}\nCOMMIT;")

    def connection(self) -> sqlite3.Connection:
        """The connection of the current thread in the current process (opened on first use)."""
        if os.getpid() != self._pid:
            self._forget_inherited_connections()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (`BEGIN IMMEDIATE` … `COMMIT`), rolled back if the block raises."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def is_available(self) -> bool:
        """True if the file can be opened and queried now."""
        try:
            self.connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        """Close the connections of every thread of this process. Later calls open new ones."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
        for _, conn in connections:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so that close() and the pruning below may close another thread's
        # connection; a connection is otherwise used by the thread that opened it.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.row_factory = sqlite3.Row
        with self._lock:
            # Thread pools (e.g. the API's) end idle threads: close what their connections left behind.
            alive = [(thread, c) for thread, c in self._connections if thread.is_alive()]
            dead = [c for thread, c in self._connections if not thread.is_alive()]
            self._connections = [*alive, (threading.current_thread(), conn)]
        for dead_conn in dead:
            dead_conn.close()
        return conn

    def _forget_inherited_connections(self) -> None:
        _INHERITED.extend(conn for _, conn in self._connections)
        inherited: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if inherited is not None:
            _INHERITED.append(inherited)
        self._connections = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()


def _after_fork_in_child() -> None:
    # Runs in the child while it has a single thread, so resetting the lock is safe here.
    for database in list(_DATABASES):
        database._forget_inherited_connections()


os.register_at_fork(after_in_child=_after_fork_in_child)
