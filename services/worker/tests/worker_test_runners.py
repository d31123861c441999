"""Runners for the loop tests, registered for test-only steps (imported by the job processes by name)."""

from __future__ import annotations

import os
import signal
import socket
import time

from libcommon.assets import asset_path
from worker.config import AppConfig
from worker.dtos import JobInfo, JobResult
from worker.errors import EmptyDatasetError
from worker.job_runners import register

CRASH = "/test-crash"
SLEEP = "/test-sleep"
MEMORY = "/test-memory"
FAIL = "/test-fail"
ECHO = "/test-echo"
ASSETS = "/test-assets"
HUB_CALL = "/test-hub-call"


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


@register(ASSETS)
def assets(job: JobInfo, config: AppConfig) -> JobResult:
    """Write `0/col/file.txt` (content: the attempt) for the split, except for the splits named `empty`;
    the split `fail` raises EmptyDatasetError after writing its file."""
    if job.config is None or job.split is None:
        raise ValueError("a split job")
    if job.split != "empty":
        path = asset_path(config.assets.storage_directory, job.dataset, job.config, job.split, 0, "col", "file.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(job.attempt))
    if job.split == "fail":
        raise EmptyDatasetError()
    return JobResult(content={"split": job.split})


@register(HUB_CALL)
def hub_call(job: JobInfo, config: AppConfig) -> JobResult:
    """Make the Hub call named by the job's config for its dataset, at the revision given as the split (main
    if None), and raise what `classify_hub_error` makes of its failure.

    Calls: `info` (HfApi.dataset_info), `config_names` (datasets), `unreachable` (dataset_info on a closed
    port); anything else raises ValueError.
    """
    import datasets
    import huggingface_hub

    from worker.errors import UnexpectedError
    from worker.hub import classify_hub_error, token_of

    token = token_of(config.common)
    try:
        if job.config == "info":
            huggingface_hub.HfApi(endpoint=config.common.hf_endpoint).dataset_info(
                job.dataset, revision=job.split, token=token
            )
        elif job.config == "config_names":
            datasets.get_dataset_config_names(job.dataset, revision=job.split, token=token)
        elif job.config == "unreachable":
            with socket.socket() as closed:
                closed.bind(("127.0.0.1", 0))
                port = closed.getsockname()[1]
            huggingface_hub.HfApi(endpoint=f"http://127.0.0.1:{port}").dataset_info(job.dataset, token=token)
        else:
            raise ValueError(f"unknown call {job.config!r} in {os.getcwd()}/")
    except Exception as err:
        raise classify_hub_error(err, default=UnexpectedError) from err
    return JobResult(content={"called": job.config})
