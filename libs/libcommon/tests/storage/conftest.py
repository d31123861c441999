"""Fixtures of the storage contract tests: every test runs once per engine.

- "sqlite": a file in the test's tmp_path (always);
- "mongomock": the MongoDB engine on mongomock (always; fails if the engine cannot be imported);
- "mongo": the MongoDB engine on the real server at TEST_MONGO_URL (skipped when it is not set). The test
  databases are dropped before and after each test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from libcommon.storage.cache import CacheStore
from libcommon.storage.queue import JobQueue

TEST_MONGO_URL = os.environ.get("TEST_MONGO_URL", "")
CACHE_DATABASE = "datasets_server_cache_test"
QUEUE_DATABASE = "datasets_server_queue_test"

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mongomock", id="mongomock"),
    pytest.param(
        "mongo",
        id="mongo",
        marks=[pytest.mark.mongo, pytest.mark.skipif(not TEST_MONGO_URL, reason="TEST_MONGO_URL is not set")],
    ),
]

MakeJobQueue = Callable[..., JobQueue]


def _checked_database(name: str) -> str:
    # The real-server tests drop their databases: never let them point at a database that is not a test one.
    if "test" not in name:
        raise RuntimeError(f"refusing to run storage tests on database {name!r}: its name must contain 'test'")
    return name


class _MongoDatabases:
    """Clients for one test on a Mongo engine, and the cleanup of its test database."""

    def __init__(self, engine: str, database: str) -> None:
        self.engine = engine
        self.database = _checked_database(database)
        self._mock_client: Any = None
        self._clients: list[Any] = []
        self.drop()

    def client(self) -> Any:
        """A client for a new store. On mongomock all stores share one client (its data lives in the client)."""
        if self.engine == "mongomock":
            import mongomock

            if self._mock_client is None:
                self._mock_client = mongomock.MongoClient(tz_aware=True)
            return self._mock_client
        from pymongo import MongoClient

        # Each store owns (and closes) its client, so each gets its own.
        client: Any = MongoClient(TEST_MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5_000)
        self._clients.append(client)
        return client

    def drop(self) -> None:
        """Drop the test database (on mongomock a fresh client starts empty: nothing to do)."""
        if self.engine != "mongo":
            return
        from pymongo import MongoClient

        admin: Any = MongoClient(TEST_MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5_000)
        try:
            admin.drop_database(self.database)
        finally:
            admin.close()

    def close(self) -> None:
        """Drop the database and close every client."""
        self.drop()
        for client in self._clients:
            client.close()


@pytest.fixture(params=ENGINES)
def cache_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheStore]:
    """An empty cache store on each engine."""
    engine: str = request.param
    if engine == "sqlite":
        from libcommon.storage.sqlite_cache import SqliteCacheStore

        store: CacheStore = SqliteCacheStore(tmp_path / "storage.db")
        yield store
        store.close()
        return
    from libcommon.storage.mongo_cache import MongoCacheStore

    databases = _MongoDatabases(engine, CACHE_DATABASE)
    try:
        store = MongoCacheStore(databases.client(), databases.database)
        yield store
    finally:
        databases.close()


@pytest.fixture(params=ENGINES)
def make_job_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeJobQueue]:
    """A factory of job queues on each engine: `make_job_queue(max_jobs_per_namespace)`.

    Every queue made in one test shares the same storage (as several workers would).
    """
    engine: str = request.param
    queues: list[JobQueue] = []
    databases = None if engine == "sqlite" else _MongoDatabases(engine, QUEUE_DATABASE)

    def make(max_jobs_per_namespace: int = 1) -> JobQueue:
        queue: JobQueue
        if databases is None:
            from libcommon.storage.sqlite_queue import SqliteJobQueue

            queue = SqliteJobQueue(tmp_path / "storage.db", max_jobs_per_namespace=max_jobs_per_namespace)
        else:
            from libcommon.storage.mongo_queue import MongoJobQueue

            queue = MongoJobQueue(
                databases.client(), databases.database, max_jobs_per_namespace=max_jobs_per_namespace
            )
        queues.append(queue)
        return queue

    try:
        yield make
    finally:
        if databases is None:
            for queue in queues:
                queue.close()
        else:
            databases.close()


@pytest.fixture
def job_queue(make_job_queue: MakeJobQueue) -> JobQueue:
    """An empty job queue on each engine, with the default limit of 1 started job per namespace and type."""
    return make_job_queue(1)
