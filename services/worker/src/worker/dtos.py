"""Data passed between the loop and the process that runs a job (all picklable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from libcommon.storage import Job

#: A (config, split) pair; None where the level does not apply.
Key = tuple[str | None, str | None]


@dataclass(frozen=True)
class JobInfo:
    """What a runner needs to know about its job."""

    job_id: str
    type: str
    dataset: str
    config: str | None
    split: str | None
    attempt: int = 1

    @classmethod
    def from_job(cls, job: Job) -> JobInfo:
        """The runner's view of a queue job."""
        return cls(
            job_id=job.job_id,
            type=job.type,
            dataset=job.dataset,
            config=job.config,
            split=job.split,
            attempt=job.attempt,
        )


@dataclass(frozen=True)
class JobResult:
    """A runner's successful result.

    `content` is the JSON-able response body; `children` the (config, split) keys the child steps are
    enqueued for (reduced to the child's input level by the loop); `dataset_git_revision` the commit sha
    the runner read.
    """

    content: dict[str, Any]
    children: list[Key] = field(default_factory=list)
    dataset_git_revision: str | None = None


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended, as the loop stores it: serialised body and details, status, code, retry policy."""

    http_status: int
    content: bytes
    error_code: str | None = None
    details: bytes | None = None
    #: The loop may run the job again instead of storing this error.
    retryable: bool = False
    #: The error is written to the cache (404-class errors are not).
    stored: bool = True
    children: list[Key] = field(default_factory=list)
    dataset_git_revision: str | None = None

    @property
    def is_success(self) -> bool:
        """True if the runner returned a result."""
        return self.error_code is None


@dataclass(frozen=True)
class JobAbandoned:
    """The job was stopped without an outcome: `lost` (taken away from this worker) or `stopped` (shutdown)."""

    reason: str
