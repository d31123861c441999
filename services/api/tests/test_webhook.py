"""POST /webhook: add/update refresh a dataset, remove deletes it and cancels its jobs; bad bodies are 400/413."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from api_fakes import AppFactory, FakeHub, make_config
from starlette.testclient import TestClient

from libcommon.storage import JobStatus
from libcommon.storage.sqlite_cache import SqliteCacheStore
from libcommon.storage.sqlite_queue import SqliteJobQueue

if TYPE_CHECKING:
    from httpx2 import Response as ClientResponse

OK = {"status": "ok"}
PARSE_ERROR = {"status": "error", "error": "the body could not be parsed as a JSON"}
PAYLOAD_ERROR = {"status": "error", "error": "the JSON payload is invalid"}
TOO_LARGE = {"status": "error", "error": "the body is larger than 65536 bytes"}


def fill(cache: SqliteCacheStore, dataset: str) -> None:
    cache.upsert("/splits", dataset, content=b'{"splits":[]}', http_status=200)
    cache.upsert("/first-rows", dataset, "c", "s1", content=b"{}", http_status=200)
    cache.upsert("/first-rows", dataset, "c", "s2", content=b'{"error":"x"}', http_status=500, error_code="E")


def entries(cache: SqliteCacheStore, dataset: str) -> list[tuple[str, str | None, str | None, bool]]:
    keys = [("/splits", None, None), ("/first-rows", "c", "s1"), ("/first-rows", "c", "s2")]
    found = [(kind, config, split, cache.get(kind, dataset, config, split)) for kind, config, split in keys]
    return [(kind, config, split, entry.stale) for kind, config, split, entry in found if entry is not None]


def assert_status(response: ClientResponse, status: int, body: dict[str, str]) -> None:
    assert response.status_code == status
    assert response.json() == body
    assert response.headers["cache-control"] == "no-store"
    assert "x-error-code" not in response.headers


@pytest.mark.parametrize("action", ["add", "update"])
def test_add_and_update_mark_stale_and_enqueue(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue, hub: FakeHub, action: str
) -> None:
    fill(cache, "user/ds")
    fill(cache, "other")
    assert_status(client.post("/webhook", json={action: "datasets/user/ds"}), 200, OK)
    assert entries(cache, "user/ds") == [
        ("/splits", None, None, True),
        ("/first-rows", "c", "s1", True),
        ("/first-rows", "c", "s2", True),
    ]
    assert [stale for *_, stale in entries(cache, "other")] == [False, False, False]
    pending = queue.get_pending("/splits")[JobStatus.WAITING]
    assert [(job.type, job.dataset, job.config, job.split) for job in pending] == [("/splits", "user/ds", None, None)]
    assert queue.count_by_status("/first-rows")[JobStatus.WAITING] == 0
    assert hub.requests == []


def test_repeated_updates_keep_one_job(client: TestClient, queue: SqliteJobQueue) -> None:
    for _ in range(3):
        assert client.post("/webhook", json={"update": "datasets/glue"}).status_code == 200
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 1


def test_remove_deletes_entries_and_cancels_jobs(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue
) -> None:
    fill(cache, "user/ds")
    fill(cache, "other")
    started = queue.add("/splits", "user/ds")
    assert queue.claim(["/splits"], "worker-1") is not None
    waiting = queue.add("/first-rows", "user/ds", "c", "s1")
    kept = queue.add("/splits", "other")
    assert_status(client.post("/webhook", json={"remove": "datasets/user/ds"}), 200, OK)
    assert entries(cache, "user/ds") == []
    assert len(entries(cache, "other")) == 3
    for job in (started, waiting):
        current = queue.get(job.job_id)
        assert current is not None and current.status == JobStatus.CANCELLED
    current = queue.get(kept.job_id)
    assert current is not None and current.status == JobStatus.WAITING


def test_remove_deletes_the_asset_files(make_app: AppFactory, cache: SqliteCacheStore, tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    for relative in ("user/ds/--/c/s1/0/image/image.jpg", "user/kept/--/c/s1/0/image/image.jpg"):
        (assets / relative).parent.mkdir(parents=True)
        (assets / relative).write_bytes(b"jpeg")
    fill(cache, "user/ds")
    with TestClient(make_app(make_config(assets_directory=assets))) as client:
        assert_status(client.post("/webhook", json={"remove": "datasets/user/ds"}), 200, OK)
        assert client.get("/assets/user/ds/--/c/s1/0/image/image.jpg").status_code == 404
        assert client.get("/assets/user/kept/--/c/s1/0/image/image.jpg").content == b"jpeg"
    assert entries(cache, "user/ds") == []
    assert not (assets / "user/ds").exists()
    assert (assets / "user/kept/--/c/s1/0/image/image.jpg").exists()


def test_actions_run_in_order_add_update_remove(client: TestClient, queue: SqliteJobQueue) -> None:
    body = {"remove": "datasets/a", "add": "datasets/a", "update": "datasets/b"}
    assert_status(client.post("/webhook", json=body), 200, OK)
    assert not queue.is_pending("/splits", "a")
    assert queue.is_pending("/splits", "b")
    assert queue.count_by_status("/splits")[JobStatus.CANCELLED] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"add": None},
        {"add": "models/bert-base"},
        {"update": "spaces/user/app"},
        {"update": "glue"},
        {"add": "datasets/"},
        {"add": "datasets/../x"},
        {"add": "datasets/a/b/c"},
        {"remove": "datasets/" + "a" * 200},
        {"other": "datasets/glue", "event": "add"},
    ],
)
def test_ignored_ids_answer_ok_and_do_nothing(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue, body: dict[str, object]
) -> None:
    fill(cache, "glue")
    assert_status(client.post("/webhook", json=body), 200, OK)
    assert queue.count_by_status("/splits") == {status: 0 for status in JobStatus}
    assert [stale for *_, stale in entries(cache, "glue")] == [False, False, False]


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"{'add': 'datasets/glue'}", b"\xff\xfe", b'{"add":"x"}x'])
def test_unparsable_body_is_400(client: TestClient, queue: SqliteJobQueue, body: bytes) -> None:
    response = client.post("/webhook", content=body, headers={"Content-Type": "application/json"})
    assert_status(response, 400, PARSE_ERROR)
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 0


@pytest.mark.parametrize(
    "body",
    [b"[]", b'["datasets/glue"]', b"1", b"null", b'"datasets/glue"', b'{"add": 1}', b'{"update": ["datasets/glue"]}'],
)
def test_invalid_payload_is_400(client: TestClient, queue: SqliteJobQueue, body: bytes) -> None:
    assert_status(client.post("/webhook", content=body), 400, PAYLOAD_ERROR)
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 0


def test_a_valid_key_next_to_an_invalid_one_is_not_applied(client: TestClient, queue: SqliteJobQueue) -> None:
    assert_status(client.post("/webhook", json={"add": "datasets/glue", "remove": 3}), 400, PAYLOAD_ERROR)
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 0


def test_oversized_body_is_413(client: TestClient, queue: SqliteJobQueue) -> None:
    padding = " " * (64 * 1024)
    body = ('{"add": "datasets/glue"' + padding + "}").encode()
    assert_status(client.post("/webhook", content=body), 413, TOO_LARGE)
    assert queue.count_by_status("/splits")[JobStatus.WAITING] == 0


def test_oversized_chunked_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"add": "datasets/glue"'
        for _ in range(20):
            yield b" " * 4096

    response = client.post("/webhook", content=chunks())
    assert_status(response, 413, TOO_LARGE)


def test_body_at_the_limit_is_accepted(client: TestClient, queue: SqliteJobQueue) -> None:
    start = b'{"add": "datasets/glue"'
    body = start + b" " * (64 * 1024 - len(start) - 1) + b"}"
    assert len(body) == 64 * 1024
    assert_status(client.post("/webhook", content=body), 200, OK)
    assert queue.is_pending("/splits", "glue")


class BrokenQueue(SqliteJobQueue):
    def add(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise RuntimeError("queue down")


def test_store_failure_is_500(make_app: AppFactory, tmp_path: Path) -> None:
    broken = BrokenQueue(tmp_path / "broken.db")
    with TestClient(make_app(job_queue=broken)) as client:
        response = client.post("/webhook", json={"add": "datasets/glue"})
    assert_status(response, 500, {"status": "error", "error": "unexpected error"})
    broken.close()


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/webhook").status_code == 405
