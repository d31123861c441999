"""The admin app: health, pending jobs and cache reports, over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from admin.app import create_app_with
from admin.config import AdminConfig, AppConfig
from libcommon.storage import CacheStore, JobQueue, open_cache, open_queue


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[CacheStore, JobQueue]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    cache, queue = open_cache(url, "unused"), open_queue(url, "unused", 1)
    yield cache, queue
    cache.close()
    queue.close()


@pytest.fixture
def client(stores: tuple[CacheStore, JobQueue]) -> TestClient:
    config = AppConfig(admin=AdminConfig(cache_reports_num_results=2, max_age=7))
    return TestClient(create_app_with(config, *stores))


def test_healthcheck(client: TestClient) -> None:
    response = client.get("/healthcheck")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_pending_jobs(client: TestClient, stores: tuple[CacheStore, JobQueue]) -> None:
    _, queue = stores
    queue.add("/splits", "user/a")
    queue.add("/splits", "user/b")
    queue.add("/first-rows", "user/a", "default", "train")
    started = queue.claim(["/splits"], "worker-1")
    assert started is not None
    response = client.get("/pending-jobs")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=7"
    body = response.json()
    assert set(body) == {"/splits", "/first-rows", "created_at"}
    assert body["created_at"].endswith("Z")
    assert [job["dataset"] for job in body["/splits"]["waiting"]] == ["user/b"]
    assert [job["dataset"] for job in body["/splits"]["started"]] == ["user/a"]
    assert body["/splits"]["started"][0]["worker_id"] == "worker-1"
    assert body["/splits"]["started"][0]["attempt"] == 1
    first_rows = body["/first-rows"]["waiting"][0]
    assert (first_rows["dataset"], first_rows["config"], first_rows["split"]) == ("user/a", "default", "train")
    assert body["/first-rows"]["started"] == []


def test_cache_reports_are_paginated(client: TestClient, stores: tuple[CacheStore, JobQueue]) -> None:
    cache, _ = stores
    for name in ["a", "b", "c"]:
        cache.upsert("/splits", f"user/{name}", content=b"{}", http_status=200)
    cache.upsert("/first-rows", "user/a", "default", "train", content=b"{}", http_status=500, error_code="Boom")
    first = client.get("/cache-reports/splits")
    assert first.status_code == 200
    body = first.json()
    assert [r["dataset"] for r in body["cache_reports"]] == ["user/a", "user/b"]
    assert body["next_cursor"]
    second = client.get("/cache-reports/splits", params={"cursor": body["next_cursor"]}).json()
    assert [r["dataset"] for r in second["cache_reports"]] == ["user/c"]
    assert second["next_cursor"] == ""
    reports = client.get("/cache-reports/first-rows").json()["cache_reports"]
    assert len(reports) == 1
    assert {k: reports[0][k] for k in ("kind", "config", "split", "http_status", "error_code")} == {
        "kind": "/first-rows",
        "config": "default",
        "split": "train",
        "http_status": 500,
        "error_code": "Boom",
    }
    assert "content" not in reports[0]


def test_invalid_cursor_is_422(client: TestClient) -> None:
    response = client.get("/cache-reports/splits", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.headers["X-Error-Code"] == "InvalidParameter"
    assert response.json() == {"error": "Invalid cursor."}


def test_unknown_route_is_404(client: TestClient) -> None:
    assert client.get("/cache-reports/rows").status_code == 404
