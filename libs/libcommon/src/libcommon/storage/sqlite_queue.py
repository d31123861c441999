"""The job queue on SQLite. Every read-then-write runs in `BEGIN IMMEDIATE`, so it is atomic across processes."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from libcommon.clock import utc_now
from libcommon.dataset_names import get_namespace
from libcommon.storage.queue import JobQueue
from libcommon.storage.records import PENDING_STATUSES, Job, JobStatus, Priority
from libcommon.storage.sqlite_common import (
    KEY_COLUMNS,
    KEY_MATCH,
    SqliteDatabase,
    format_datetime,
    parse_datetime,
    parse_optional_datetime,
    placeholders,
)

_JOB_ID: Final = re.compile(r"[1-9][0-9]{0,17}")

# Status literals are written into the SQL (not bound) so that SQLite can use the partial indexes.
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    dataset TEXT NOT NULL,
    config TEXT,
    split TEXT,
    namespace TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    last_heartbeat TEXT,
    worker_id TEXT,
    attempt INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_pending_key ON jobs (type, dataset, {KEY_COLUMNS})
    WHERE status IN ('waiting', 'started');
CREATE INDEX IF NOT EXISTS jobs_waiting_order ON jobs (type, priority, created_at) WHERE status = 'waiting';
CREATE INDEX IF NOT EXISTS jobs_waiting_namespace ON jobs (type, namespace, priority, created_at)
    WHERE status = 'waiting';
CREATE INDEX IF NOT EXISTS jobs_started_namespace ON jobs (type, namespace) WHERE status = 'started';
CREATE INDEX IF NOT EXISTS jobs_started_heartbeat ON jobs (last_heartbeat) WHERE status = 'started';
CREATE INDEX IF NOT EXISTS jobs_type_status ON jobs (type, status, created_at);
CREATE INDEX IF NOT EXISTS jobs_dataset_status ON jobs (dataset, status, type);
"""

_PENDING_BY_KEY: Final = (
    f"SELECT * FROM jobs WHERE type = ? AND dataset = ? AND {KEY_MATCH} AND status IN ('waiting', 'started')"  # noqa: S608
)

# The oldest waiting job of a type whose namespace has no started job of that type.
_FIRST_IN_IDLE_NAMESPACE: Final = """
SELECT id, priority, created_at FROM jobs AS j
WHERE status = 'waiting' AND type = ? AND NOT EXISTS (
    SELECT 1 FROM jobs AS s WHERE s.status = 'started' AND s.type = j.type AND s.namespace = j.namespace
)
ORDER BY priority, created_at, id LIMIT 1
"""
_FIRST_IN_NAMESPACE: Final = """
SELECT id, priority, created_at FROM jobs WHERE status = 'waiting' AND type = ? AND namespace = ?
ORDER BY priority, created_at, id LIMIT 1
"""

# The distinct types of the waiting jobs, one index seek per type (a plain DISTINCT reads every waiting job).
_WAITING_TYPES: Final = """
WITH RECURSIVE types(type) AS (
    SELECT min(type) FROM jobs INDEXED BY jobs_waiting_order WHERE status = 'waiting'
    UNION ALL
    SELECT (
        SELECT min(type) FROM jobs INDEXED BY jobs_waiting_order WHERE status = 'waiting' AND type > types.type
    )
    FROM types WHERE types.type IS NOT NULL
)
SELECT type FROM types WHERE type IS NOT NULL
"""

#: Sort key of a claim candidate: (priority, started jobs of its type in its namespace, created_at, id).
_Candidate = tuple[int, int, str, int]


def _parse_job_id(job_id: str) -> int | None:
    return int(job_id) if isinstance(job_id, str) and _JOB_ID.fullmatch(job_id) else None


def _job(row: sqlite3.Row) -> Job:
    return Job(
        job_id=str(row["id"]),
        type=row["type"],
        dataset=row["dataset"],
        config=row["config"],
        split=row["split"],
        namespace=row["namespace"],
        status=JobStatus(row["status"]),
        priority=Priority(row["priority"]),
        created_at=parse_datetime(row["created_at"]),
        started_at=parse_optional_datetime(row["started_at"]),
        finished_at=parse_optional_datetime(row["finished_at"]),
        last_heartbeat=parse_optional_datetime(row["last_heartbeat"]),
        worker_id=row["worker_id"],
        attempt=row["attempt"],
    )


def _jobs(rows: list[sqlite3.Row]) -> list[Job]:
    # RETURNING yields rows in no defined order.
    return [_job(row) for row in sorted(rows, key=lambda row: int(row["id"]))]


class SqliteJobQueue(JobQueue):
    """Jobs in the `jobs` table of a SQLite file (which the cache may share)."""

    def __init__(self, path: str | os.PathLike[str], max_jobs_per_namespace: int = 1) -> None:
        self.max_jobs_per_namespace = max_jobs_per_namespace
        self._db = SqliteDatabase(path, _SCHEMA)

    def add(
        self,
        job_type: str,
        dataset: str,
        config: str | None = None,
        split: str | None = None,
        *,
        priority: Priority = Priority.NORMAL,
    ) -> Job:
        """Add a waiting job for the key, or return the pending job that already exists for it.

        If the existing job is waiting with a lower priority (higher value), its priority is raised.
        """
        with self._db.transaction() as conn:
            row = conn.execute(_PENDING_BY_KEY, (job_type, dataset, config, split)).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO jobs (type, dataset, config, split, namespace, status, priority, created_at) "
                    "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?) RETURNING *",
                    (
                        job_type,
                        dataset,
                        config,
                        split,
                        get_namespace(dataset),
                        int(priority),
                        format_datetime(utc_now()),
                    ),
                ).fetchone()
            elif row["status"] == JobStatus.WAITING and row["priority"] > priority:
                row = conn.execute(
                    "UPDATE jobs SET priority = ? WHERE id = ? RETURNING *", (int(priority), row["id"])
                ).fetchone()
            return _job(row)

    def claim(self, job_types: Sequence[str] | None, worker_id: str) -> Job | None:
        """Atomically start the next job of one of `job_types` (all types if None), or return None.

        Order: priority first; then jobs whose namespace has the fewest started jobs of that type
        (fairness); then oldest `created_at` (then lowest id). Namespaces at `max_jobs_per_namespace` started
        jobs of the job's type are skipped. The returned job is started, with `attempt` incremented,
        `worker_id` set and `started_at` = `last_heartbeat` = now.
        """
        with self._db.transaction() as conn:
            if job_types is None:
                types = [row["type"] for row in conn.execute(_WAITING_TYPES)]
            else:
                types = list(dict.fromkeys(job_types))
            candidates = [c for c in (self._best_candidate(conn, job_type) for job_type in types) if c is not None]
            if not candidates:
                return None
            now = format_datetime(utc_now())
            row = conn.execute(
                "UPDATE jobs SET status = 'started', attempt = attempt + 1, worker_id = ?, started_at = ?, "
                "last_heartbeat = ? WHERE id = ? RETURNING *",
                (worker_id, now, now, min(candidates)[3]),
            ).fetchone()
            return _job(row)

    def _best_candidate(self, conn: sqlite3.Connection, job_type: str) -> _Candidate | None:
        # Started jobs are few (one per busy worker), waiting jobs may be many: instead of ranking every
        # waiting job, take the oldest one among the idle namespaces (an index walk) and the oldest one of
        # each busy namespace under the limit. The best of those is the best of all.
        limit = self.max_jobs_per_namespace
        candidates: list[_Candidate] = []
        row = conn.execute(_FIRST_IN_IDLE_NAMESPACE, (job_type,)).fetchone()
        if row is not None:
            candidates.append((row["priority"], 0, row["created_at"], row["id"]))
        busy = conn.execute(
            "SELECT namespace, count(*) AS n FROM jobs WHERE status = 'started' AND type = ? GROUP BY namespace",
            (job_type,),
        ).fetchall()
        for namespace_row in busy:
            started: int = namespace_row["n"]
            if limit >= 1 and started >= limit:
                continue
            row = conn.execute(_FIRST_IN_NAMESPACE, (job_type, namespace_row["namespace"])).fetchone()
            if row is not None:
                candidates.append((row["priority"], started, row["created_at"], row["id"]))
        return min(candidates, default=None)

    def heartbeat(self, job_id: str, attempt: int) -> bool:
        """Set `last_heartbeat` = now if the job is still started at this attempt. False otherwise."""
        job_rowid = _parse_job_id(job_id)
        if job_rowid is None:
            return False
        cursor = self._db.connection().execute(
            "UPDATE jobs SET last_heartbeat = ? WHERE id = ? AND status = 'started' AND attempt = ?",
            (format_datetime(utc_now()), job_rowid, attempt),
        )
        return cursor.rowcount == 1

    def is_current(self, job_id: str, attempt: int) -> bool:
        """True if the job is started at this attempt (the worker may still write its result)."""
        job_rowid = _parse_job_id(job_id)
        if job_rowid is None:
            return False
        row = (
            self._db.connection()
            .execute("SELECT 1 FROM jobs WHERE id = ? AND status = 'started' AND attempt = ?", (job_rowid, attempt))
            .fetchone()
        )
        return row is not None

    def finish(self, job_id: str, attempt: int, status: JobStatus) -> bool:
        """Mark a started job SUCCESS or ERROR, fenced by attempt. False (no change) if not current."""
        if status not in (JobStatus.SUCCESS, JobStatus.ERROR):
            raise ValueError(f"a job finishes as success or error, not {status!r}")
        job_rowid = _parse_job_id(job_id)
        if job_rowid is None:
            return False
        cursor = self._db.connection().execute(
            "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ? AND status = 'started' AND attempt = ?",
            (str(status), format_datetime(utc_now()), job_rowid, attempt),
        )
        return cursor.rowcount == 1

    def release(self, job_id: str, attempt: int) -> bool:
        """Put a started job back to waiting for a retry, fenced by attempt (its `attempt` is kept, so the
        next claim counts one more attempt; worker_id is cleared). False (no change) if not current.
        """
        job_rowid = _parse_job_id(job_id)
        if job_rowid is None:
            return False
        cursor = self._db.connection().execute(
            "UPDATE jobs SET status = 'waiting', worker_id = NULL WHERE id = ? AND status = 'started' AND attempt = ?",
            (job_rowid, attempt),
        )
        return cursor.rowcount == 1

    def cancel(
        self,
        *,
        job_type: str | None = None,
        dataset: str | None = None,
        statuses: Sequence[JobStatus] = PENDING_STATUSES,
    ) -> list[Job]:
        """Cancel the jobs matching the filters (only waiting/started ones can be cancelled).

        Returns the cancelled jobs as they are after cancellation, by id.
        """
        wanted = [str(status) for status in dict.fromkeys(statuses) if status in PENDING_STATUSES]
        if not wanted:
            return []
        conditions = [f"status IN ({placeholders(wanted)})"]
        params: list[object] = [*wanted]
        if job_type is not None:
            conditions.append("type = ?")
            params.append(job_type)
        if dataset is not None:
            conditions.append("dataset = ?")
            params.append(dataset)
        with self._db.transaction() as conn:
            rows = conn.execute(
                f"UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE {' AND '.join(conditions)} "  # noqa: S608
                "RETURNING *",
                (format_datetime(utc_now()), *params),
            ).fetchall()
        return _jobs(rows)

    def requeue_zombies(self, heartbeat_before: datetime, max_attempts: int) -> list[Job]:
        """Started jobs whose `last_heartbeat` is older than `heartbeat_before` are zombies.

        Each goes back to waiting (worker_id cleared), or to ERROR (with `finished_at`) if its attempt is
        already >= `max_attempts`. Returns the affected jobs as they are afterwards, by id.
        """
        before = format_datetime(heartbeat_before)
        with self._db.transaction() as conn:
            failed = conn.execute(
                "UPDATE jobs SET status = 'error', finished_at = ? "
                "WHERE status = 'started' AND last_heartbeat < ? AND attempt >= ? RETURNING *",
                (format_datetime(utc_now()), before, max_attempts),
            ).fetchall()
            requeued = conn.execute(
                "UPDATE jobs SET status = 'waiting', worker_id = NULL "
                "WHERE status = 'started' AND last_heartbeat < ? RETURNING *",
                (before,),
            ).fetchall()
        return _jobs([*failed, *requeued])

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        job_rowid = _parse_job_id(job_id)
        if job_rowid is None:
            return None
        row = self._db.connection().execute("SELECT * FROM jobs WHERE id = ?", (job_rowid,)).fetchone()
        return None if row is None else _job(row)

    def is_pending(self, job_type: str, dataset: str, config: str | None = None, split: str | None = None) -> bool:
        """True if a waiting or started job exists for the exact key."""
        row = self._db.connection().execute(_PENDING_BY_KEY, (job_type, dataset, config, split)).fetchone()
        return row is not None

    def has_pending_jobs(self, dataset: str, job_types: Sequence[str] | None = None) -> bool:
        """True if the dataset has any waiting or started job (of one of `job_types` if given)."""
        query = "SELECT 1 FROM jobs WHERE dataset = ? AND status IN ('waiting', 'started')"
        params: list[object] = [dataset]
        if job_types is not None:
            types = list(dict.fromkeys(job_types))
            if not types:
                return False
            query += f" AND type IN ({placeholders(types)})"
            params.extend(types)
        return self._db.connection().execute(query + " LIMIT 1", params).fetchone() is not None

    def count_by_status(self, job_type: str) -> dict[JobStatus, int]:
        """Number of jobs of the type per status; all five statuses are keys."""
        counts = dict.fromkeys(JobStatus, 0)
        rows = self._db.connection().execute(
            "SELECT status, count(*) AS n FROM jobs WHERE type = ? GROUP BY status", (job_type,)
        )
        for row in rows:
            counts[JobStatus(row["status"])] = row["n"]
        return counts

    def get_pending(self, job_type: str) -> dict[JobStatus, list[Job]]:
        """Pending jobs of a type: {WAITING: [...], STARTED: [...]}, each oldest first."""
        conn = self._db.connection()
        return {
            status: [
                _job(row)
                for row in conn.execute(
                    "SELECT * FROM jobs WHERE type = ? AND status = ? ORDER BY created_at, id", (job_type, str(status))
                )
            ]
            for status in PENDING_STATUSES
        }

    def is_available(self) -> bool:
        """True if the store can be reached now (used by health checks)."""
        return self._db.is_available()

    def close(self) -> None:
        """Release connections."""
        self._db.close()
