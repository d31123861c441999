"""Runners for the loop tests, registered for test-only steps (imported by the job processes by name)."""

from __future__ import annotations

import os
import signal
import time

from worker.config import AppConfig
from worker.dtos import JobInfo, JobResult
from worker.errors import EmptyDatasetError
from worker.job_runners import register

CRASH = "/test-crash"
SLEEP = "/test-sleep"
MEMORY = "/test-memory"
FAIL = "/test-fail"
ECHO = "/test-echo"


@register(CRASH)
def crash(job: JobInfo, config: AppConfig) -> JobResult:
    """Die like an OOM-killed process."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


@register(SLEEP)
def sleep(job: JobInfo, config: AppConfig) -> JobResult:
    """Sleep the number of seconds given as the dataset name's suffix (`ns/sleep-3` → 3 s)."""
    time.sleep(float(job.dataset.rsplit("-", 1)[1]))
    return JobResult(content={"slept": True})


@register(MEMORY)
def memory(job: JobInfo, config: AppConfig) -> JobResult:
    """Hold 400 MB of touched memory for a while."""
    block = bytearray(400 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(30)
    return JobResult(content={"size": len(block)})


@register(FAIL)
def fail(job: JobInfo, config: AppConfig) -> JobResult:
    """Fail with a classified, non-retryable error."""
    raise EmptyDatasetError(cause=FileNotFoundError("nothing here"))


@register(ECHO)
def echo(job: JobInfo, config: AppConfig) -> JobResult:
    """Return the job key; the children are two (config, split) keys."""
    return JobResult(
        content={"dataset": job.dataset, "attempt": job.attempt},
        children=[("c1", "s1"), ("c1", "s2")],
        dataset_git_revision="0" * 40,
    )
