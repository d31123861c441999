"""Typed records returned by the storage engines. Engines convert their rows/documents to these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class JobStatus(StrEnum):
    """Lifecycle of a job. Pending = waiting or started."""

    WAITING = "waiting"
    STARTED = "started"
    SUCCESS = "success"
    ERROR = "error"
    CANCELLED = "cancelled"


PENDING_STATUSES: tuple[JobStatus, ...] = (JobStatus.WAITING, JobStatus.STARTED)


class Priority(IntEnum):
    """Lower value = claimed first. Webhooks and user requests are NORMAL; backfills are LOW."""

    NORMAL = 0
    LOW = 1


@dataclass(frozen=True, slots=True)
class Job:
    """A job of the queue. `attempt` counts the times it was claimed (0 while never started)."""

    job_id: str
    type: str
    dataset: str
    config: str | None
    split: str | None
    namespace: str
    status: JobStatus
    priority: Priority
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_heartbeat: datetime | None
    worker_id: str | None
    attempt: int


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A precomputed response. `content` holds the response body as serialised JSON bytes."""

    kind: str
    dataset: str
    config: str | None
    split: str | None
    http_status: int
    error_code: str | None
    content: bytes
    #: Private details as serialised JSON bytes (error cause and traceback), or None. Never public.
    details: bytes | None
    job_runner_version: int | None
    dataset_git_revision: str | None
    updated_at: datetime
    stale: bool


@dataclass(frozen=True, slots=True)
class CacheReport:
    """One line of a cache report (no content)."""

    kind: str
    dataset: str
    config: str | None
    split: str | None
    http_status: int
    error_code: str | None
    job_runner_version: int | None
    dataset_git_revision: str | None
    updated_at: datetime
    stale: bool


@dataclass(frozen=True, slots=True)
class CacheReportsPage:
    """A page of reports. `next_cursor` is "" when there is nothing after this page."""

    cache_reports: list[CacheReport]
    next_cursor: str


@dataclass(frozen=True, slots=True)
class CacheCount:
    """Number of entries of a kind with a given status and error code."""

    kind: str
    http_status: int
    error_code: str | None
    count: int
