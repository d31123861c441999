"""The queue contract: jobs keyed by (type, dataset, config, split).

Rules (improving on the original, whose claim was not atomic and whose crashed jobs stayed started):
- a key has at most one pending (waiting or started) job: `add` on a key with a pending job is a no-op;
- `claim` is one atomic operation: no job is ever claimed twice, and no namespace ever has more than
  `max_jobs_per_namespace` started jobs of one type (a value < 1 means no limit);
- a claim increments `attempt`; heartbeats and finishes are fenced by (job_id, attempt), so a worker that
  comes back after its job was re-queued cannot touch the newer run;
- started jobs whose heartbeat is too old are zombies: `requeue_zombies` puts them back to waiting, or
  to error once they used their last attempt.

Engines: `libcommon.storage.sqlite_queue.SqliteJobQueue` and `libcommon.storage.mongo_queue.MongoJobQueue`.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from libcommon.storage.records import PENDING_STATUSES, Job, JobStatus, Priority


class JobQueue(ABC):
    """Repository of jobs."""

    max_jobs_per_namespace: int

    @abstractmethod
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

    @abstractmethod
    def claim(self, job_types: Sequence[str] | None, worker_id: str) -> Job | None:
        """Atomically start the next job of one of `job_types` (all types if None), or return None.

        Order: priority first; then jobs whose namespace has the fewest started jobs of that type
        (fairness); then oldest `created_at`. Namespaces at `max_jobs_per_namespace` started jobs of the
        job's type are skipped. The returned job is started, with `attempt` incremented, `worker_id`
        set and `started_at` = `last_heartbeat` = now.
        """

    @abstractmethod
    def heartbeat(self, job_id: str, attempt: int) -> bool:
        """Set `last_heartbeat` = now if the job is still started at this attempt. False otherwise."""

    @abstractmethod
    def is_current(self, job_id: str, attempt: int) -> bool:
        """True if the job is started at this attempt (the worker may still write its result)."""

    @abstractmethod
    def finish(self, job_id: str, attempt: int, status: JobStatus) -> bool:
        """Mark a started job SUCCESS or ERROR, fenced by attempt. False (no change) if not current."""

    @abstractmethod
    def release(self, job_id: str, attempt: int) -> bool:
        """Put a started job back to waiting for a retry, fenced by attempt (its `attempt` is kept, so the
        next claim counts one more attempt; worker_id is cleared). False (no change) if not current.
        """

    @abstractmethod
    def cancel(
        self,
        *,
        job_type: str | None = None,
        dataset: str | None = None,
        statuses: Sequence[JobStatus] = PENDING_STATUSES,
    ) -> list[Job]:
        """Cancel the jobs matching the filters (only waiting/started ones can be cancelled).

        Returns the cancelled jobs as they are after cancellation.
        """

    @abstractmethod
    def requeue_zombies(self, heartbeat_before: datetime, max_attempts: int) -> list[Job]:
        """Started jobs whose `last_heartbeat` is older than `heartbeat_before` are zombies.

        Each goes back to waiting (worker_id cleared), or to ERROR (with `finished_at`) if its attempt is
        already >= `max_attempts`. `started_at` and `last_heartbeat` keep the values of the dead run (for
        operators). Returns the affected jobs as they are afterwards.
        """

    @abstractmethod
    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""

    @abstractmethod
    def is_pending(self, job_type: str, dataset: str, config: str | None = None, split: str | None = None) -> bool:
        """True if a waiting or started job exists for the exact key."""

    @abstractmethod
    def has_pending_jobs(self, dataset: str, job_types: Sequence[str] | None = None) -> bool:
        """True if the dataset has any waiting or started job (of one of `job_types` if given)."""

    @abstractmethod
    def count_by_status(self, job_type: str) -> dict[JobStatus, int]:
        """Number of jobs of the type per status; all five statuses are keys."""

    @abstractmethod
    def get_pending(self, job_type: str) -> dict[JobStatus, list[Job]]:
        """Pending jobs of a type: {WAITING: [...], STARTED: [...]}, each oldest first."""

    @abstractmethod
    def is_available(self) -> bool:
        """True if the store can be reached now (used by health checks)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
