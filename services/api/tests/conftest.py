"""Fixtures: SQLite stores in tmp_path, a fake Hub auth-check (httpx.MockTransport), the app and a client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from api_fakes import AppFactory, FakeHub, make_config

from api.app import create_app_with
from api.authentication import create_hub_client
from api.config import AppConfig
from libcommon.storage import CacheStore, JobQueue
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


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def make_app(cache: SqliteCacheStore, queue: SqliteJobQueue, hub: FakeHub) -> AppFactory:
    def make(
        config: AppConfig | None = None, *, cache_store: CacheStore | None = None, job_queue: JobQueue | None = None
    ) -> Starlette:
        hub_client = create_hub_client(10.0, transport=httpx.MockTransport(hub.handle))
        return create_app_with(config or make_config(), cache_store or cache, job_queue or queue, hub_client)

    return make


@pytest.fixture
def client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client
