"""update_dataset and delete_dataset on the SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from libcommon.operations import DeletedDataset, delete_dataset, update_dataset
from libcommon.processing_graph import ProcessingGraph, ProcessingStep
from libcommon.storage import JobStatus, Priority
from libcommon.storage.sqlite_cache import SqliteCacheStore
from libcommon.storage.sqlite_queue import SqliteJobQueue


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[SqliteCacheStore]:
    store = SqliteCacheStore(tmp_path / "cache.db")
    yield store
    store.close()


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SqliteJobQueue]:
    store = SqliteJobQueue(tmp_path / "queue.db", max_jobs_per_namespace=1)
    yield store
    store.close()


def fill(cache: SqliteCacheStore, dataset: str) -> None:
    cache.upsert("/splits", dataset, content=b"{}", http_status=200)
    cache.upsert("/first-rows", dataset, "c", "s", content=b"{}", http_status=200)
    cache.upsert("/first-rows", dataset, "c", "t", content=b"{}", http_status=500, error_code="E")


def stale_flags(cache: SqliteCacheStore, dataset: str) -> list[bool]:
    keys = [("/splits", None, None), ("/first-rows", "c", "s"), ("/first-rows", "c", "t")]
    return [entry.stale for kind, c, s in keys if (entry := cache.get(kind, dataset, c, s)) is not None]


def test_update_marks_stale_and_adds_one_root_job(cache: SqliteCacheStore, queue: SqliteJobQueue) -> None:
    fill(cache, "user/ds")
    fill(cache, "other")
    jobs = update_dataset("user/ds", cache, queue)
    assert [(job.type, job.dataset, job.config, job.split, job.status, job.priority) for job in jobs] == [
        ("/splits", "user/ds", None, None, JobStatus.WAITING, Priority.NORMAL)
    ]
    assert jobs[0].namespace == "user"
    assert stale_flags(cache, "user/ds") == [True, True, True]
    assert stale_flags(cache, "other") == [False, False, False]
    assert queue.count_by_status("/first-rows")[JobStatus.WAITING] == 0


def test_update_twice_keeps_the_pending_job_and_raises_its_priority(
    cache: SqliteCacheStore, queue: SqliteJobQueue
) -> None:
    [low] = update_dataset("glue", cache, queue, priority=Priority.LOW)
    assert low.priority == Priority.LOW
    [normal] = update_dataset("glue", cache, queue)
    assert normal.job_id == low.job_id
    assert normal.priority == Priority.NORMAL
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 1


def test_update_of_an_unknown_dataset_only_adds_the_job(cache: SqliteCacheStore, queue: SqliteJobQueue) -> None:
    [job] = update_dataset("new", cache, queue)
    assert job.type == "/splits"
    assert cache.list_keys("/splits", "new") == []


def test_update_enqueues_only_dataset_level_roots(cache: SqliteCacheStore, queue: SqliteJobQueue) -> None:
    graph = ProcessingGraph(
        [
            ProcessingStep("a", "dataset", 1, children=("c",)),
            ProcessingStep("b", "dataset", 1),
            ProcessingStep("c", "split", 1),
            ProcessingStep("orphan-split-step", "split", 1),
        ]
    )
    jobs = update_dataset("glue", cache, queue, graph, Priority.LOW)
    assert [(job.type, job.priority) for job in jobs] == [("a", Priority.LOW), ("b", Priority.LOW)]


def test_delete_removes_entries_and_cancels_pending_jobs(cache: SqliteCacheStore, queue: SqliteJobQueue) -> None:
    fill(cache, "user/ds")
    fill(cache, "other")
    done = queue.add("/splits", "user/ds")
    claimed = queue.claim(["/splits"], "w1")
    assert claimed is not None and claimed.job_id == done.job_id
    queue.finish(claimed.job_id, claimed.attempt, JobStatus.SUCCESS)
    started = queue.add("/first-rows", "user/ds", "c", "s")
    assert queue.claim(["/first-rows"], "w2") is not None
    waiting = queue.add("/first-rows", "user/ds", "c", "t")
    other = queue.add("/splits", "other")

    result = delete_dataset("user/ds", cache, queue)

    assert isinstance(result, DeletedDataset)
    assert result.deleted_entries == 3
    assert sorted(job.job_id for job in result.cancelled_jobs) == sorted([started.job_id, waiting.job_id])
    assert all(job.status == JobStatus.CANCELLED for job in result.cancelled_jobs)
    assert stale_flags(cache, "user/ds") == []
    assert stale_flags(cache, "other") == [False, False, False]
    statuses = {job_id: queue.get(job_id) for job_id in (done.job_id, other.job_id)}
    assert {job_id: job.status for job_id, job in statuses.items() if job is not None} == {
        done.job_id: JobStatus.SUCCESS,
        other.job_id: JobStatus.WAITING,
    }
    assert not queue.has_pending_jobs("user/ds")


def test_delete_of_an_unknown_dataset(cache: SqliteCacheStore, queue: SqliteJobQueue) -> None:
    assert delete_dataset("nothing", cache, queue) == DeletedDataset(deleted_entries=0, cancelled_jobs=[])


@pytest.mark.parametrize("name", ["", "../x", "a/b/c", "a--b", "x" * 200])
def test_invalid_names_touch_nothing(cache: SqliteCacheStore, queue: SqliteJobQueue, name: str) -> None:
    with pytest.raises(ValueError, match="invalid dataset name"):
        update_dataset(name, cache, queue)
    with pytest.raises(ValueError, match="invalid dataset name"):
        delete_dataset(name, cache, queue)
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 0


def test_delete_removes_the_asset_files_of_the_dataset_only(
    cache: SqliteCacheStore, queue: SqliteJobQueue, tmp_path: Path
) -> None:
    assets = tmp_path / "assets"
    for relative in ("user/ds/--/c/s/0/image/image.jpg", "user/other/--/c/s/0/image/image.jpg"):
        (assets / relative).parent.mkdir(parents=True)
        (assets / relative).write_bytes(b"jpeg")
    fill(cache, "user/ds")

    result = delete_dataset("user/ds", cache, queue, assets)

    assert (result.deleted_entries, result.deleted_assets) == (3, True)
    assert not (assets / "user/ds").exists()
    assert (assets / "user/other/--/c/s/0/image/image.jpg").read_bytes() == b"jpeg"
    assert delete_dataset("user/ds", cache, queue, assets).deleted_assets is False
    # without an assets directory, the files are not looked at
    assert delete_dataset("user/other", cache, queue).deleted_assets is False
    assert (assets / "user/other").exists()
