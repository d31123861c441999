"""Process bodies of the SQLite multi-process tests (a plain module, so that spawned processes can import it)."""

from __future__ import annotations

import random
import sqlite3
import time
import traceback
from collections.abc import Sequence
from typing import Any

from libcommon.storage.records import JobStatus, Priority
from libcommon.storage.sqlite_queue import SqliteJobQueue

Key = tuple[str, str, str | None, str | None]


def claim_until_empty(
    path: str, worker_id: str, job_types: Sequence[str], limit: int, barrier: Any, results: Any
) -> None:
    """Claim and finish jobs until none is waiting.

    Reports the claimed ids, every limit violation, and the most started jobs seen in the namespace of a job.
    """
    claimed: list[str] = []
    violations: list[str] = []
    most_started = 0
    error = ""
    try:
        queue = SqliteJobQueue(path, max_jobs_per_namespace=limit)
        check = sqlite3.connect(path, timeout=30)
        barrier.wait()
        while True:
            job = queue.claim(None, worker_id)
            if job is None:
                if all(queue.count_by_status(job_type)[JobStatus.WAITING] == 0 for job_type in job_types):
                    break
                time.sleep(0.001)
                continue
            claimed.append(job.job_id)
            (started,) = check.execute(
                "SELECT count(*) FROM jobs WHERE status = 'started' AND type = ? AND namespace = ?",
                (job.type, job.namespace),
            ).fetchone()
            most_started = max(most_started, started)
            if started > limit:
                violations.append(f"{started} started jobs of {job.type} in {job.namespace}")
            if not queue.finish(job.job_id, job.attempt, JobStatus.SUCCESS):
                violations.append(f"could not finish job {job.job_id}")
    except Exception:
        error = traceback.format_exc()
    results.put((worker_id, claimed, violations, most_started, error))


def add_keys(path: str, keys: Sequence[Key], priority: int, seed: int, barrier: Any, results: Any) -> None:
    """Add every key (in a shuffled order) at once with the other processes; report the job id of each key."""
    ids: dict[Key, str] = {}
    error = ""
    try:
        queue = SqliteJobQueue(path)
        order = list(keys)
        random.Random(seed).shuffle(order)
        barrier.wait()
        for key in order:
            ids[key] = queue.add(*key, priority=Priority(priority)).job_id
    except Exception:
        error = traceback.format_exc()
    results.put((seed, ids, error))
