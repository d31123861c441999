"""The loop and asset files: staged then swapped in on success, deleted when a split, config or dataset goes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from worker_test_helpers import TEST_RUNNER_MODULES
from worker_test_runners import ASSETS, ECHO

from libcommon.assets import STAGING_DIRECTORY
from libcommon.processing_graph import FIRST_ROWS, SPLITS, ProcessingGraph, ProcessingStep
from libcommon.storage import CacheStore, JobQueue, JobStatus
from worker.config import AppConfig
from worker.executor import Executor
from worker.loop import Loop

GRAPH = ProcessingGraph(
    [
        ProcessingStep(SPLITS, "dataset", 1, children=(FIRST_ROWS,)),
        ProcessingStep(FIRST_ROWS, "split", 1),
        ProcessingStep(ECHO, "dataset", 1, children=(ASSETS,)),
        ProcessingStep(ASSETS, "split", 1),
    ]
)


@pytest.fixture
def make_loop(app_config: AppConfig, stores: tuple[CacheStore, JobQueue]) -> Callable[..., Loop]:
    def make(job_types: tuple[str, ...], **worker_settings: Any) -> Loop:
        config = replace(app_config, worker=replace(app_config.worker, job_types=job_types, **worker_settings))
        cache, queue = stores
        executor = Executor(config, TEST_RUNNER_MODULES)
        return Loop(
            config, cache, queue, graph=GRAPH, executor=executor, worker_id="w1", asset_steps=(ASSETS, FIRST_ROWS)
        )

    return make


def files_under(root: Path) -> list[str]:
    """Relative paths of the files (and symlinks) under `root`, sorted."""
    found = []
    for directory, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(directory, name), root) for name in names]
    return sorted(found)


def put(root: Path, relative: str, content: str = "old") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


def test_rerun_leaves_exactly_the_current_files(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    cache, queue = stores
    root = app_config.assets.storage_directory
    put(root, "ns/ds/--/c/files/0/col/file.txt", "previous run")
    put(root, "ns/ds/--/c/files/7/col/stale.txt")  # a row the new run does not have
    put(root, "ns/ds/--/c/other/0/col/file.txt")  # another split: untouched
    job = queue.add(ASSETS, "ns/ds", "c", "files")
    assert make_loop((ASSETS,)).process_next_job() is True
    done = queue.get(job.job_id)
    assert done is not None and done.status == JobStatus.SUCCESS
    assert files_under(root) == ["ns/ds/--/c/files/0/col/file.txt", "ns/ds/--/c/other/0/col/file.txt"]
    assert (root / "ns/ds/--/c/files/0/col/file.txt").read_text() == "1"
    assert not (root / STAGING_DIRECTORY).exists() or files_under(root / STAGING_DIRECTORY) == []


def test_a_run_without_files_deletes_the_previous_ones(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    _, queue = stores
    root = app_config.assets.storage_directory
    put(root, "ns/ds/--/c/empty/0/col/image.jpg")
    put(root, "ns/ds/--/c/kept/0/col/image.jpg")
    queue.add(ASSETS, "ns/ds", "c", "empty")
    assert make_loop((ASSETS,)).process_next_job() is True
    assert files_under(root) == ["ns/ds/--/c/kept/0/col/image.jpg"]


def test_a_failed_job_publishes_nothing_and_forgets_the_split(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    cache, queue = stores
    root = app_config.assets.storage_directory
    put(root, "ns/ds/--/c/fail/0/col/file.txt", "previous run")
    queue.add(ASSETS, "ns/ds", "c", "fail")
    assert make_loop((ASSETS,)).process_next_job() is True
    entry = cache.get(ASSETS, "ns/ds", "c", "fail")
    assert entry is not None and entry.error_code == "EmptyDatasetError"
    # the error entry references no file: the previous ones are gone, the failed run's were never published
    assert files_under(root) == []


def test_splits_and_configs_no_longer_listed_lose_their_directories(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    _, queue = stores
    root = app_config.assets.storage_directory
    # ECHO lists (c1, s1) and (c1, s2)
    for relative in (
        "ns/echo/--/c1/s1/0/col/file.txt",
        "ns/echo/--/c1/gone/0/col/file.txt",
        "ns/echo/--/c2/s1/0/col/file.txt",
        "ns/other/--/c2/s1/0/col/file.txt",
    ):
        put(root, relative)
    queue.add(ECHO, "ns/echo")
    assert make_loop((ECHO,)).process_next_job() is True
    assert files_under(root) == ["ns/echo/--/c1/s1/0/col/file.txt", "ns/other/--/c2/s1/0/col/file.txt"]


def test_dataset_not_found_deletes_its_directory(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    _, queue = stores
    root = app_config.assets.storage_directory
    put(root, "samples/deleted-since/--/default/train/0/image/image.jpg")
    put(root, "samples/csv/--/default/train/0/image/image.jpg")
    queue.add(SPLITS, "samples/deleted-since")
    assert make_loop((SPLITS,)).process_next_job() is True
    assert files_under(root) == ["samples/csv/--/default/train/0/image/image.jpg"]


def test_zombie_on_its_last_attempt_forgets_the_split(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    cache, queue = stores
    root = app_config.assets.storage_directory
    put(root, "ns/ds/--/c/files/0/col/file.txt")
    queue.add(ASSETS, "ns/ds", "c", "files")
    assert queue.claim([ASSETS], "dead-worker") is not None
    loop = make_loop((ASSETS,), heartbeat_interval_seconds=0.1, max_missing_heartbeats=1, max_attempts=1)
    time.sleep(0.3)
    loop.requeue_zombies_if_due()
    entry = cache.get(ASSETS, "ns/ds", "c", "files")
    assert entry is not None and entry.error_code == "JobCrashedError"
    assert files_under(root) == []


def test_first_rows_of_images_are_staged_then_published(
    make_loop: Callable[..., Loop], stores: tuple[CacheStore, JobQueue], app_config: AppConfig
) -> None:
    _, queue = stores
    root = app_config.assets.storage_directory
    split_dir = "samples/images/--/default/train"
    put(root, f"{split_dir}/99/image/image.jpg")  # from an older revision with more rows
    put(root, "samples/images/--/default/test/0/image/image.jpg")  # a split /splits no longer lists
    loop = make_loop((SPLITS, FIRST_ROWS))
    queue.add(SPLITS, "samples/images")
    assert loop.process_next_job() is True
    assert files_under(root) == [f"{split_dir}/99/image/image.jpg"]
    assert loop.process_next_job() is True
    assert files_under(root) == [f"{split_dir}/{row}/image/image.jpg" for row in range(6)]
