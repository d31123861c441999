"""The cache on SQLite: one row per (kind, dataset, config, split), the response body kept as JSON bytes."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Sequence
from typing import Final

from libcommon.clock import utc_now
from libcommon.storage.cache import CacheStore, InvalidCursor, InvalidLimit
from libcommon.storage.records import CacheCount, CacheEntry, CacheReport, CacheReportsPage
from libcommon.storage.sqlite_common import (
    KEY_COLUMNS,
    KEY_MATCH,
    SqliteDatabase,
    format_datetime,
    parse_datetime,
    placeholders,
)

_OK: Final = 200

# The cursor of a report page is the id of the page's last row.
_CURSOR: Final = re.compile(r"[1-9][0-9]{0,17}")

_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS cache_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    dataset TEXT NOT NULL,
    config TEXT,
    split TEXT,
    http_status INTEGER NOT NULL,
    error_code TEXT,
    content BLOB NOT NULL,
    details BLOB,
    job_runner_version INTEGER,
    dataset_git_revision TEXT,
    updated_at TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS cache_entries_key ON cache_entries (kind, dataset, {KEY_COLUMNS});
CREATE INDEX IF NOT EXISTS cache_entries_dataset ON cache_entries (dataset);
CREATE INDEX IF NOT EXISTS cache_entries_kind_status_dataset ON cache_entries (kind, http_status, dataset);
CREATE INDEX IF NOT EXISTS cache_entries_kind_status_error ON cache_entries (kind, http_status, error_code);
CREATE INDEX IF NOT EXISTS cache_entries_kind ON cache_entries (kind);
"""

_UPSERT: Final = f"""
INSERT INTO cache_entries (
    kind, dataset, config, split, http_status, error_code, content, details,
    job_runner_version, dataset_git_revision, updated_at, stale
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
ON CONFLICT (kind, dataset, {KEY_COLUMNS}) DO UPDATE SET
    http_status = excluded.http_status,
    error_code = excluded.error_code,
    content = excluded.content,
    details = excluded.details,
    job_runner_version = excluded.job_runner_version,
    dataset_git_revision = excluded.dataset_git_revision,
    updated_at = excluded.updated_at,
    stale = 0
"""  # noqa: S608

_REPORT_COLUMNS: Final = (
    "id, kind, dataset, config, split, http_status, error_code, job_runner_version, dataset_git_revision, "
    "updated_at, stale"
)


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _entry(row: sqlite3.Row) -> CacheEntry:
    return CacheEntry(
        kind=row["kind"],
        dataset=row["dataset"],
        config=row["config"],
        split=row["split"],
        http_status=row["http_status"],
        error_code=row["error_code"],
        content=row["content"],
        details=row["details"],
        job_runner_version=row["job_runner_version"],
        dataset_git_revision=row["dataset_git_revision"],
        updated_at=parse_datetime(row["updated_at"]),
        stale=bool(row["stale"]),
    )


def _report(row: sqlite3.Row) -> CacheReport:
    return CacheReport(
        kind=row["kind"],
        dataset=row["dataset"],
        config=row["config"],
        split=row["split"],
        http_status=row["http_status"],
        error_code=row["error_code"],
        job_runner_version=row["job_runner_version"],
        dataset_git_revision=row["dataset_git_revision"],
        updated_at=parse_datetime(row["updated_at"]),
        stale=bool(row["stale"]),
    )


class SqliteCacheStore(CacheStore):
    """Cache entries in the `cache_entries` table of a SQLite file (which the queue may share)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._db = SqliteDatabase(path, _SCHEMA)

    def upsert(
        self,
        kind: str,
        dataset: str,
        config: str | None = None,
        split: str | None = None,
        *,
        content: bytes,
        http_status: int,
        error_code: str | None = None,
        details: bytes | None = None,
        job_runner_version: int | None = None,
        dataset_git_revision: str | None = None,
    ) -> None:
        """Create or replace the entry for the key. Sets every field, `stale=False`, `updated_at=now`."""
        self._db.connection().execute(
            _UPSERT,
            (
                kind,
                dataset,
                config,
                split,
                int(http_status),
                error_code,
                bytes(content),
                None if details is None else bytes(details),
                job_runner_version,
                dataset_git_revision,
                format_datetime(utc_now()),
            ),
        )

    def get(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> CacheEntry | None:
        """The entry for the exact key, or None."""
        row = (
            self._db.connection()
            .execute(
                f"SELECT * FROM cache_entries WHERE kind = ? AND dataset = ? AND {KEY_MATCH}",  # noqa: S608
                (kind, dataset, config, split),
            )
            .fetchone()
        )
        return None if row is None else _entry(row)

    def delete(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> bool:
        """Delete the entry for the exact key. True if one was deleted."""
        cursor = self._db.connection().execute(
            f"DELETE FROM cache_entries WHERE kind = ? AND dataset = ? AND {KEY_MATCH}",  # noqa: S608
            (kind, dataset, config, split),
        )
        return cursor.rowcount > 0

    def delete_dataset(self, dataset: str) -> int:
        """Delete every entry of the dataset, all kinds. Returns the number deleted."""
        return self._db.connection().execute("DELETE FROM cache_entries WHERE dataset = ?", (dataset,)).rowcount

    def mark_dataset_stale(self, dataset: str, kind: str | None = None) -> int:
        """Set `stale=True` on every entry of the dataset (of one kind if given). Returns the number marked.

        Entries that were already stale are counted too: the result is the number of matching entries.
        """
        conn = self._db.connection()
        if kind is None:
            return conn.execute("UPDATE cache_entries SET stale = 1 WHERE dataset = ?", (dataset,)).rowcount
        return conn.execute(
            "UPDATE cache_entries SET stale = 1 WHERE kind = ? AND dataset = ?", (kind, dataset)
        ).rowcount

    def list_keys(self, kind: str, dataset: str) -> list[tuple[str | None, str | None]]:
        """The (config, split) keys of the dataset's entries of one kind, sorted (None first)."""
        rows = (
            self._db.connection()
            .execute(
                "SELECT config, split FROM cache_entries WHERE kind = ? AND dataset = ? ORDER BY config, split",
                (kind, dataset),
            )
            .fetchall()
        )
        return [(row["config"], row["split"]) for row in rows]

    def list_valid_datasets(self, kinds: Sequence[str]) -> list[str]:
        """Sorted names of the datasets that have at least one 200 entry of **every** kind in `kinds`.

        Stale entries count. With no kinds, no dataset is valid.
        """
        wanted = _unique(kinds)
        if not wanted:
            return []
        rows = (
            self._db.connection()
            .execute(
                f"SELECT dataset FROM cache_entries WHERE kind IN ({placeholders(wanted)}) AND http_status = ? "  # noqa: S608
                "GROUP BY dataset HAVING count(DISTINCT kind) = ? ORDER BY dataset",
                (*wanted, _OK, len(wanted)),
            )
            .fetchall()
        )
        return [row["dataset"] for row in rows]

    def is_dataset_valid(self, dataset: str, kinds: Sequence[str]) -> bool:
        """True if the dataset has at least one 200 entry of every kind in `kinds` (False with no kinds)."""
        wanted = _unique(kinds)
        if not wanted:
            return False
        conn = self._db.connection()
        for kind in wanted:
            row = conn.execute(
                "SELECT 1 FROM cache_entries WHERE kind = ? AND http_status = ? AND dataset = ? LIMIT 1",
                (kind, _OK, dataset),
            ).fetchone()
            if row is None:
                return False
        return True

    def list_datasets_with_errors(self, kinds: Sequence[str]) -> list[str]:
        """Sorted names of the datasets that have at least one non-200 entry of one of `kinds`."""
        wanted = _unique(kinds)
        if not wanted:
            return []
        rows = (
            self._db.connection()
            .execute(
                f"SELECT DISTINCT dataset FROM cache_entries WHERE kind IN ({placeholders(wanted)}) "  # noqa: S608
                "AND http_status != ? ORDER BY dataset",
                (*wanted, _OK),
            )
            .fetchall()
        )
        return [row["dataset"] for row in rows]

    def count_by_status_and_error_code(self) -> list[CacheCount]:
        """Entry counts grouped by (kind, http_status, error_code), sorted by those three fields (None first)."""
        rows = (
            self._db.connection()
            .execute(
                "SELECT kind, http_status, error_code, count(*) AS n FROM cache_entries "
                "GROUP BY kind, http_status, error_code ORDER BY kind, http_status, error_code"
            )
            .fetchall()
        )
        return [
            CacheCount(kind=row["kind"], http_status=row["http_status"], error_code=row["error_code"], count=row["n"])
            for row in rows
        ]

    def get_reports(self, kind: str, cursor: str = "", limit: int = 100) -> CacheReportsPage:
        """One page of the entries of a kind, in insertion order, without content.

        `cursor` is "" for the first page, otherwise a `next_cursor` returned earlier by this store
        (anything else raises InvalidCursor). `limit <= 0` raises InvalidLimit. `next_cursor` is set when
        the page is full (a final empty page is possible) and "" otherwise.
        """
        if cursor == "":
            after = 0
        elif isinstance(cursor, str) and _CURSOR.fullmatch(cursor):
            after = int(cursor)
        else:
            raise InvalidCursor(f"invalid cursor: {cursor!r}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            raise InvalidLimit(f"invalid limit: {limit!r}, must be a strictly positive integer")
        rows = (
            self._db.connection()
            .execute(
                f"SELECT {_REPORT_COLUMNS} FROM cache_entries WHERE kind = ? AND id > ? ORDER BY id LIMIT ?",  # noqa: S608
                (kind, after, limit),
            )
            .fetchall()
        )
        next_cursor = str(rows[-1]["id"]) if len(rows) == limit else ""
        return CacheReportsPage(cache_reports=[_report(row) for row in rows], next_cursor=next_cursor)

    def is_available(self) -> bool:
        """True if the store can be reached now (used by health checks)."""
        return self._db.is_available()

    def close(self) -> None:
        """Release connections."""
        self._db.close()
