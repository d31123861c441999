"""The loop end to end on a SQLite store: results, children, retries, crashes, limits, lost jobs, SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from worker_test_helpers import TEST_RUNNER_MODULES
from worker_test_runners import CRASH, ECHO, FAIL, MEMORY, SLEEP

from libcommon.clock import utc_now
from libcommon.processing_graph import FIRST_ROWS, SPLITS, ProcessingGraph, ProcessingStep
from libcommon.serialization import loads
from libcommon.storage import CacheStore, JobQueue, JobStatus
from worker.config import AppConfig
from worker.errors import JobCrashedError, JobMemoryExceededError, JobTimeoutError
from worker.executor import Executor
from worker.loop import Loop

SPLIT_CHILD = "/test-split-child"
CONFIG_CHILD = "/test-config-child"
GRAPH = ProcessingGraph(
    [
        ProcessingStep(SPLITS, "dataset", 1, children=(FIRST_ROWS,)),
        ProcessingStep(FIRST_ROWS, "split", 1),
        ProcessingStep(ECHO, "dataset", 2, children=(SPLIT_CHILD, CONFIG_CHILD)),
        ProcessingStep(SPLIT_CHILD, "split", 1),
        ProcessingStep(CONFIG_CHILD, "config", 1),
        *(ProcessingStep(name, "dataset", 1) for name in (CRASH, SLEEP, MEMORY, FAIL)),
    ]
)


@pytest.fixture
def make_loop(app_config: AppConfig, stores: tuple[CacheStore, JobQueue]) -> Callable[..., Loop]:
    def make(job_types: tuple[str, ...], **worker_settings: Any) -> Loop:
        config = replace(app_config, worker=replace(app_config.worker, job_types=job_types, **worker_settings))
        cache, queue = stores
        return Loop(config, cache, queue, graph=GRAPH, executor=Executor(config, TEST_RUNNER_MODULES), worker_id="w1")

    return make


def body(cache: CacheStore, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> Any:
    entry = cache.get(kind, dataset, config, split)
    assert entry is not None
    return loads(entry.content)


def test_splits_job_stores_the_result_and_enqueues_first_rows(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    dataset = "samples/csv"
    for split in ("train", "obsolete"):
        cache.upsert(FIRST_ROWS, dataset, "default", split, content=b"{}", http_status=200)
    job = queue.add(SPLITS, dataset)
    loop = make_loop((SPLITS, FIRST_ROWS))

    assert loop.process_next_job() is True
    entry = cache.get(SPLITS, dataset)
    assert entry is not None
    assert (entry.http_status, entry.error_code, entry.job_runner_version) == (200, None, 1)
    assert entry.dataset_git_revision is not None and len(entry.dataset_git_revision) == 40
    assert loads(entry.content) == {
        "splits": [
            {"dataset": dataset, "config": "default", "split": s, "num_bytes": None, "num_examples": None}
            for s in ("train", "test")
        ]
    }
    finished = queue.get(job.job_id)
    assert finished is not None and (finished.status, finished.attempt) == (JobStatus.SUCCESS, 1)
    waiting = queue.get_pending(FIRST_ROWS)[JobStatus.WAITING]
    assert [(j.dataset, j.config, j.split) for j in waiting] == [
        (dataset, "default", "train"),
        (dataset, "default", "test"),
    ]
    assert cache.list_keys(FIRST_ROWS, dataset) == [("default", "train")]

    assert loop.process_next_job() is True
    assert loop.process_next_job() is True
    assert loop.process_next_job() is False
    for split, first_id in (("train", 0), ("test", 100)):
        rows = body(cache, FIRST_ROWS, dataset, "default", split)["rows"]
        assert rows[0]["row"]["id"] == first_id
    assert queue.count_by_status(FIRST_ROWS)[JobStatus.SUCCESS] == 2


def test_children_are_enqueued_at_their_level(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    queue.add(ECHO, "ns/echo")
    assert make_loop((ECHO,)).process_next_job() is True
    entry = cache.get(ECHO, "ns/echo")
    assert entry is not None
    assert (entry.job_runner_version, entry.dataset_git_revision) == (2, "0" * 40)
    assert loads(entry.content) == {"dataset": "ns/echo", "attempt": 1}
    split_jobs = queue.get_pending(SPLIT_CHILD)[JobStatus.WAITING]
    assert [(j.config, j.split) for j in split_jobs] == [("c1", "s1"), ("c1", "s2")]
    config_jobs = queue.get_pending(CONFIG_CHILD)[JobStatus.WAITING]
    assert [(j.config, j.split) for j in config_jobs] == [("c1", None)]


def test_crashed_job_is_retried_then_stored(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    job = queue.add(CRASH, "ns/crash")
    loop = make_loop((CRASH,), max_attempts=2)

    assert loop.process_next_job() is True
    released = queue.get(job.job_id)
    assert released is not None and (released.status, released.attempt) == (JobStatus.WAITING, 1)
    assert cache.get(CRASH, "ns/crash") is None

    assert loop.process_next_job() is True
    failed = queue.get(job.job_id)
    assert failed is not None and (failed.status, failed.attempt) == (JobStatus.ERROR, 2)
    entry = cache.get(CRASH, "ns/crash")
    assert entry is not None and (entry.http_status, entry.error_code) == (500, "JobCrashedError")
    assert loads(entry.content) == {"error": JobCrashedError.default_message}
    assert entry.details is not None
    assert loads(entry.details)["cause_message"] == "the job process was killed by signal SIGKILL"

    # the loop is still usable
    queue.add(ECHO, "ns/after-crash")
    assert make_loop((ECHO,)).process_next_job() is True
    assert loop.process_next_job() is False


def test_job_over_the_time_limit_is_killed(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    queue.add(SLEEP, "ns/sleep-60")
    started = time.monotonic()
    assert make_loop((SLEEP,), max_job_duration_seconds=1, max_attempts=1).process_next_job() is True
    assert time.monotonic() - started < 10
    entry = cache.get(SLEEP, "ns/sleep-60")
    assert entry is not None and (entry.http_status, entry.error_code) == (500, JobTimeoutError.code)


def test_timeout_is_retried_and_stored_only_after_the_last_attempt(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    cache.upsert(SLEEP, "ns/sleep-30", content=b'{"slept":true}', http_status=200)  # an earlier result
    job = queue.add(SLEEP, "ns/sleep-30")
    loop = make_loop((SLEEP,), max_job_duration_seconds=1, max_attempts=2)

    assert loop.process_next_job() is True
    released = queue.get(job.job_id)
    assert released is not None and (released.status, released.attempt) == (JobStatus.WAITING, 1)
    kept = cache.get(SLEEP, "ns/sleep-30")
    assert kept is not None and (kept.http_status, kept.error_code) == (200, None)  # still served

    assert loop.process_next_job() is True
    failed = queue.get(job.job_id)
    assert failed is not None and (failed.status, failed.attempt) == (JobStatus.ERROR, 2)
    entry = cache.get(SLEEP, "ns/sleep-30")
    assert entry is not None and (entry.http_status, entry.error_code) == (500, JobTimeoutError.code)
    assert loads(entry.content) == {"error": JobTimeoutError.default_message}


def test_job_over_the_memory_limit_is_killed_retried_then_stored(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    job = queue.add(MEMORY, "ns/memory")
    loop = make_loop((MEMORY,), max_job_memory_bytes=300 * 1024 * 1024, max_attempts=2)
    started = time.monotonic()
    assert loop.process_next_job() is True
    assert time.monotonic() - started < 20
    released = queue.get(job.job_id)
    assert released is not None and (released.status, released.attempt) == (JobStatus.WAITING, 1)
    assert cache.get(MEMORY, "ns/memory") is None
    assert loop.process_next_job() is True
    entry = cache.get(MEMORY, "ns/memory")
    assert entry is not None and (entry.http_status, entry.error_code) == (500, JobMemoryExceededError.code)
    failed = queue.get(job.job_id)
    assert failed is not None and (failed.status, failed.attempt) == (JobStatus.ERROR, 2)


def test_classified_error_is_stored_at_the_first_attempt(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    queue.add(FAIL, "ns/fail")
    assert make_loop((FAIL,)).process_next_job() is True
    entry = cache.get(FAIL, "ns/fail")
    assert entry is not None and (entry.http_status, entry.error_code) == (400, "EmptyDatasetError")
    assert queue.count_by_status(FAIL)[JobStatus.ERROR] == 1


def test_dataset_not_found_deletes_its_entries(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    dataset = "samples/deleted-since"
    cache.upsert(SPLITS, dataset, content=b"{}", http_status=200)
    cache.upsert(FIRST_ROWS, dataset, "default", "train", content=b"{}", http_status=200)
    job = queue.add(SPLITS, dataset)
    assert make_loop((SPLITS,)).process_next_job() is True
    assert cache.get(SPLITS, dataset) is None
    assert cache.list_keys(FIRST_ROWS, dataset) == []
    finished = queue.get(job.job_id)
    assert finished is not None and finished.status == JobStatus.ERROR


def test_job_taken_away_does_not_write_its_result(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    job = queue.add(SLEEP, "ns/sleep-5")
    loop = make_loop((SLEEP,), heartbeat_interval_seconds=0.2)

    def take_away() -> None:
        deadline = time.monotonic() + 10
        while not queue.get_pending(SLEEP)[JobStatus.STARTED] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        # as if this worker had missed its heartbeats: the job goes back to waiting for another worker
        queue.requeue_zombies(utc_now() + timedelta(hours=1), max_attempts=5)

    thief = threading.Thread(target=take_away)
    thief.start()
    started = time.monotonic()
    assert loop.process_next_job() is True
    thief.join()
    assert time.monotonic() - started < 4
    assert cache.get(SLEEP, "ns/sleep-5") is None
    current = queue.get(job.job_id)
    assert current is not None and (current.status, current.attempt, current.worker_id) == (JobStatus.WAITING, 1, None)


def test_zombies_of_dead_workers_are_requeued_or_failed(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    retried, last_try = queue.add(ECHO, "ns/zombie-1"), queue.add(ECHO, "ns/zombie-2")
    for _ in range(2):
        assert queue.claim([ECHO], "dead-worker") is not None
    loop = make_loop((ECHO,), heartbeat_interval_seconds=0.1, max_missing_heartbeats=1, max_attempts=2)
    # the second job already used its last attempt
    queue.release(last_try.job_id, 1)
    assert queue.claim([ECHO], "dead-worker") is not None
    time.sleep(0.3)
    loop.requeue_zombies_if_due()
    first, second = queue.get(retried.job_id), queue.get(last_try.job_id)
    assert first is not None and (first.status, first.attempt) == (JobStatus.WAITING, 1)
    assert second is not None and (second.status, second.attempt) == (JobStatus.ERROR, 2)
    assert cache.get(ECHO, "ns/zombie-1") is None
    entry = cache.get(ECHO, "ns/zombie-2")
    assert entry is not None and (entry.http_status, entry.error_code, entry.job_runner_version) == (
        500,
        "JobCrashedError",
        2,
    )


def test_sigterm_releases_the_current_job_and_stops(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    job = queue.add(SLEEP, "ns/sleep-20")
    loop = make_loop((SLEEP,))

    def terminate() -> None:
        deadline = time.monotonic() + 10
        while not queue.get_pending(SLEEP)[JobStatus.STARTED] and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    killer = threading.Thread(target=terminate)
    started = time.monotonic()
    try:
        killer.start()
        loop.run()
    finally:
        killer.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert time.monotonic() - started < 10
    current = queue.get(job.job_id)
    assert current is not None and (current.status, current.attempt) == (JobStatus.WAITING, 1)
    assert cache.get(SLEEP, "ns/sleep-20") is None


def test_loop_pauses_after_releasing_a_job_for_a_retry(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    job = queue.add(CRASH, "ns/crash-twice")
    loop = make_loop((CRASH,), max_attempts=2, sleep_seconds=1.0)
    runner = threading.Thread(target=loop.run)
    started = time.monotonic()
    runner.start()
    try:
        deadline = started + 20
        while cache.get(CRASH, "ns/crash-twice") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        loop.stop()
        runner.join(10)
    assert not runner.is_alive()
    failed = queue.get(job.job_id)
    assert failed is not None and (failed.status, failed.attempt) == (JobStatus.ERROR, 2)
    # one pause of sleep_seconds × [0.75, 1.25] between the two attempts
    assert elapsed >= 0.75
