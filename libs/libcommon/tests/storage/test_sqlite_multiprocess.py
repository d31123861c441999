"""The SQLite engine under concurrency: several processes and threads on one database file."""

from __future__ import annotations

import importlib
import multiprocessing
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from libcommon.storage import sqlite_common
from libcommon.storage.records import JobStatus, Priority
from libcommon.storage.sqlite_cache import SqliteCacheStore
from libcommon.storage.sqlite_queue import SqliteJobQueue

A = "/splits"
B = "/first-rows"
JOBS = 2_000
NAMESPACES = 20
WORKERS = 4
LIMIT = 2
TIMEOUT = 120


@pytest.fixture
def workers_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    # Spawned processes import the process bodies by module name: put their folder on the path they inherit.
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    return importlib.import_module("sqlite_mp_workers")


def run_processes(target: Callable[..., None], args_list: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Start one spawned process per args (released together by a barrier) and collect what each reports."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    barrier = ctx.Barrier(len(args_list))
    processes = [ctx.Process(target=target, args=(*args, barrier, results)) for args in args_list]
    try:
        for process in processes:
            process.start()
        reports = [results.get(timeout=TIMEOUT) for _ in processes]
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
        return reports
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()


def test_concurrent_claims_never_double_claim_nor_exceed_the_limit(tmp_path: Path, workers_module: Any) -> None:
    path = tmp_path / "queue.db"
    queue = SqliteJobQueue(path, max_jobs_per_namespace=LIMIT)
    added = set()
    for index in range(JOBS):
        # Half of the jobs share one namespace and type, so that the limit binds once the rest is done.
        if index % 2 == 0:
            job_type, namespace = B, 0
        else:
            job_type, namespace = (A if index % 4 == 1 else B), 1 + index % (NAMESPACES - 1)
        job = queue.add(job_type, f"ns{namespace}/ds{index % 3}", "default", f"split{index}")
        added.add(job.job_id)
    assert len(added) == JOBS

    reports = run_processes(
        workers_module.claim_until_empty, [(str(path), f"w{index}", [A, B], LIMIT) for index in range(WORKERS)]
    )

    assert [error for *_, error in reports] == [""] * WORKERS
    claimed = [job_id for _, ids, *_ in reports for job_id in ids]
    assert len(claimed) == JOBS
    assert [job_id for job_id, count in Counter(claimed).items() if count > 1] == []
    assert set(claimed) == added
    assert [violation for _, _, violations, *_ in reports for violation in violations] == []
    assert max(most_started for *_, most_started, _ in reports) == LIMIT
    assert all(len(ids) > 0 for _, ids, *_ in reports)
    counts = Counter[JobStatus]()
    for job_type in (A, B):
        counts.update(queue.count_by_status(job_type))
    assert dict(counts) == {
        JobStatus.WAITING: 0,
        JobStatus.STARTED: 0,
        JobStatus.SUCCESS: JOBS,
        JobStatus.ERROR: 0,
        JobStatus.CANCELLED: 0,
    }
    jobs = [queue.get(job_id) for job_id in added]
    assert {(job.status, job.attempt) for job in jobs if job is not None} == {(JobStatus.SUCCESS, 1)}
    queue.close()


def test_concurrent_adds_create_one_pending_job_per_key(tmp_path: Path, workers_module: Any) -> None:
    path = tmp_path / "queue.db"
    queue = SqliteJobQueue(path)
    keys: list[tuple[str, str, str | None, str | None]] = [
        (B, f"ns{index % 7}/ds{index % 11}", "c", f"s{index}") for index in range(200)
    ]
    keys += [(A, f"ns{index}/ds", None, None) for index in range(100)]
    # Two processes add at LOW priority, two at NORMAL: every key must end NORMAL.
    priorities = [Priority.LOW, Priority.NORMAL, Priority.LOW, Priority.NORMAL]
    reports = run_processes(
        workers_module.add_keys, [(str(path), keys, int(priority), seed) for seed, priority in enumerate(priorities)]
    )

    assert [error for *_, error in reports] == [""] * len(priorities)
    for key in keys:
        assert len({ids[key] for _, ids, _ in reports}) == 1, key
    assert queue.count_by_status(B)[JobStatus.WAITING] == 200
    assert queue.count_by_status(A)[JobStatus.WAITING] == 100
    assert sum(sum(queue.count_by_status(job_type).values()) for job_type in (A, B)) == 300
    pending = queue.get_pending(A)[JobStatus.WAITING] + queue.get_pending(B)[JobStatus.WAITING]
    assert {job.priority for job in pending} == {Priority.NORMAL}
    queue.close()


def test_cache_and_queue_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "storage.db"
    cache = SqliteCacheStore(path)
    queue = SqliteJobQueue(path)
    cache.upsert(A, "ds", content=b"{}", http_status=200)
    job = queue.add(A, "ds")
    other_cache = SqliteCacheStore(path)
    other_queue = SqliteJobQueue(path)
    entry = other_cache.get(A, "ds")
    assert entry is not None and entry.content == b"{}"
    assert other_queue.get(job.job_id) == job
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} >= {
        "cache_entries",
        "jobs",
    }
    raw.close()
    for store in (cache, queue, other_cache, other_queue):
        store.close()


def test_close_then_reuse(tmp_path: Path) -> None:
    cache = SqliteCacheStore(tmp_path / "storage.db")
    cache.upsert(A, "ds", content=b"1", http_status=200)
    cache.close()
    assert cache.is_available() is True
    entry = cache.get(A, "ds")
    assert entry is not None and entry.content == b"1"
    cache.close()


def test_threads_use_their_own_connections(tmp_path: Path) -> None:
    cache = SqliteCacheStore(tmp_path / "storage.db")
    errors: list[BaseException] = []
    connections: set[int] = set()

    def work(thread_index: int) -> None:
        try:
            connections.add(id(cache._db.connection()))
            for index in range(50):
                cache.upsert(B, "ds", f"t{thread_index}", f"s{index}", content=b"x", http_status=200)
                cache.upsert(A, "shared", content=str(thread_index).encode(), http_status=200)
                assert cache.get(B, "ds", f"t{thread_index}", f"s{index}") is not None
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(connections) == 8
    assert len(cache.list_keys(B, "ds")) == 8 * 50
    assert cache.list_keys(A, "shared") == [(None, None)]
    # The connections of the ended threads are closed when the next thread connects.
    last = threading.Thread(target=cache.is_available)
    last.start()
    last.join()
    assert len(cache._db._connections) == 2  # this thread's and the last one's
    cache.close()


def _use_store_in_child(cache: SqliteCacheStore, results: Any) -> None:
    try:
        inherited = len(sqlite_common._INHERITED)
        cache.upsert(A, "from-child", content=b"child", http_status=200)
        entry = cache.get(A, "from-parent")
        results.put((inherited, None if entry is None else entry.content, ""))
    except BaseException as err:
        results.put((0, None, repr(err)))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_process_opens_its_own_connection(tmp_path: Path) -> None:
    cache = SqliteCacheStore(tmp_path / "storage.db")
    cache.upsert(A, "from-parent", content=b"parent", http_status=200)
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_use_store_in_child, args=(cache, results))
    child.start()
    try:
        inherited, content, error = results.get(timeout=TIMEOUT)
        child.join(timeout=30)
    finally:
        if child.is_alive():
            child.terminate()
            child.join()
    assert error == ""
    assert inherited >= 1
    assert content == b"parent"
    assert child.exitcode == 0
    entry = cache.get(A, "from-child")
    assert entry is not None and entry.content == b"child"
    cache.upsert(A, "from-parent", content=b"again", http_status=200)
    cache.close()
