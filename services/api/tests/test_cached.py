"""GET /splits and GET /first-rows: validation, access check, cached bytes, not-ready / not-found, errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest
from api_fakes import AppFactory, FakeHub, make_config
from starlette.testclient import TestClient

from libcommon.storage import JobStatus
from libcommon.storage.sqlite_cache import SqliteCacheStore
from libcommon.storage.sqlite_queue import SqliteJobQueue

if TYPE_CHECKING:
    from httpx2 import Response as ClientResponse

SPLITS_CONTENT = (
    b'{ "splits" :[\n  {"dataset": "user/ds", "config":"default","split":"train",'
    b'"num_bytes":null,"num_examples":  4}],  "note":"caf\\u00e9 \xc3\xa9"}'
)
FIRST_ROWS_CONTENT = b'{"features":[] ,  "rows":[{"row_idx":0,"row":{"a":1.50},"truncated_cells":[]}]}'
MISSING_DATASET = {"error": "Parameter 'dataset' is required"}
MISSING_SPLIT_PARAMS = {"error": "Parameters 'dataset', 'config' and 'split' are required"}
INVALID_DATASET = {
    "error": "Parameter 'dataset' is not a valid dataset id: expected 'name' or 'namespace/name' "
    "(letters, digits, '-', '_', '.'; at most 96 characters each)."
}
SPLITS_NOT_READY = {"error": "The list of splits is not ready yet. Please retry later."}
FIRST_ROWS_NOT_READY = {"error": "The list of the first rows is not ready yet. Please retry later."}
NOT_FOUND = {"error": "Not found."}
UNAUTHENTICATED = {
    "error": "The dataset does not exist, or is not accessible without authentication (private or gated). "
    "Please retry with authentication."
}
AUTHENTICATED = {
    "error": "The dataset does not exist, or is not accessible with the current credentials (private or gated)."
}
AUTH_CHECK_BAD = {"error": "The access check on the Hub returned an unexpected response. Please retry later."}
AUTH_CHECK_DOWN = {"error": "The access check on the Hub could not be completed. Please retry later."}
FIRST_ROWS_URL = "/first-rows?dataset=user/ds&config=default&split=train"


def assert_error(response: ClientResponse, status: int, code: str, body: dict[str, str]) -> None:
    assert response.status_code == status
    assert response.headers["x-error-code"] == code
    assert response.headers["cache-control"] == "max-age=10"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


def store_splits(cache: SqliteCacheStore, content: bytes = SPLITS_CONTENT, status: int = 200) -> None:
    cache.upsert("/splits", "user/ds", content=content, http_status=status, error_code=None if status == 200 else "E")


def waiting(queue: SqliteJobQueue, job_type: str) -> int:
    return queue.count_by_status(job_type)[JobStatus.WAITING]


def test_splits_entry_is_sent_byte_identical(client: TestClient, cache: SqliteCacheStore, hub: FakeHub) -> None:
    store_splits(cache)
    response = client.get("/splits", params={"dataset": "user/ds"})
    assert response.status_code == 200
    assert response.content == SPLITS_CONTENT
    assert response.headers["cache-control"] == "max-age=120"
    assert response.headers["content-type"] == "application/json"
    assert "x-error-code" not in response.headers
    assert "retry-after" not in response.headers
    assert response.headers["vary"] == "Authorization, Cookie, Origin"
    assert len(hub.requests) == 1


def test_first_rows_entry_is_sent_byte_identical(client: TestClient, cache: SqliteCacheStore) -> None:
    cache.upsert("/first-rows", "user/ds", "default", "train", content=FIRST_ROWS_CONTENT, http_status=200)
    response = client.get(FIRST_ROWS_URL)
    assert response.status_code == 200
    assert response.content == FIRST_ROWS_CONTENT
    assert response.headers["cache-control"] == "max-age=120"
    assert "x-error-code" not in response.headers


def test_large_entry_is_gzipped_and_identical_once_decoded(client: TestClient, cache: SqliteCacheStore) -> None:
    content = b'{"splits": [' + b", ".join([b'{"dataset":"user/ds","config":"c","split":"s"}'] * 100) + b"]}"
    store_splits(cache, content)
    response = client.get("/splits?dataset=user/ds", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == content
    assert response.headers["vary"] == "Authorization, Cookie, Accept-Encoding, Origin"


def test_stale_entry_is_still_served(client: TestClient, cache: SqliteCacheStore) -> None:
    store_splits(cache)
    cache.mark_dataset_stale("user/ds")
    response = client.get("/splits?dataset=user/ds")
    assert response.status_code == 200
    assert response.content == SPLITS_CONTENT


def test_stored_error_is_replayed(client: TestClient, cache: SqliteCacheStore) -> None:
    content = b'{"error" :  "Cannot get the split names for the dataset."}'
    cache.upsert("/splits", "user/ds", content=content, http_status=500, error_code="SplitsNamesError")
    response = client.get("/splits?dataset=user/ds")
    assert response.status_code == 500
    assert response.content == content
    assert response.headers["x-error-code"] == "SplitsNamesError"
    assert response.headers["cache-control"] == "max-age=10"
    stored_404 = b'{"error":"gone"}'
    cache.upsert("/first-rows", "user/ds", "default", "train", content=stored_404, http_status=404, error_code="X")
    response = client.get(FIRST_ROWS_URL)
    assert (response.status_code, response.content, response.headers["x-error-code"]) == (404, stored_404, "X")


@pytest.mark.parametrize("query", ["", "?dataset=", "?dataset=%20%20", "?other=glue", "?dataset=%09"])
def test_splits_missing_parameter(client: TestClient, hub: FakeHub, queue: SqliteJobQueue, query: str) -> None:
    assert_error(client.get("/splits" + query), 422, "MissingRequiredParameter", MISSING_DATASET)
    assert hub.requests == []
    assert waiting(queue, "/splits") == 0


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?dataset=user/ds",
        "?dataset=user/ds&config=default",
        "?dataset=user/ds&split=train",
        "?config=default&split=train",
        "?dataset=&config=default&split=train",
        "?dataset=user/ds&config=%20&split=train",
        "?dataset=user/ds&config=default&split=",
    ],
)
def test_first_rows_missing_parameters(client: TestClient, hub: FakeHub, query: str) -> None:
    assert_error(client.get("/first-rows" + query), 422, "MissingRequiredParameter", MISSING_SPLIT_PARAMS)
    assert hub.requests == []


INVALID_NAMES = [
    "../x",
    "a/b/c",
    "a" * 200,
    "user/" + "b" * 97,
    "-glue",
    "glue-",
    "a--b",
    "a..b",
    " glue",
    "glue ",
    "%2e%2e",
    "user/../x",
    "/glue",
    "glue/",
    "gl ue",
    "glue\x00",
    "glüe",
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_dataset_is_422_without_hub_call(
    client: TestClient, hub: FakeHub, queue: SqliteJobQueue, name: str
) -> None:
    assert_error(client.get("/splits", params={"dataset": name}), 422, "InvalidParameter", INVALID_DATASET)
    response = client.get("/first-rows", params={"dataset": name, "config": "c", "split": "s"})
    assert_error(response, 422, "InvalidParameter", INVALID_DATASET)
    assert hub.requests == []
    assert waiting(queue, "/splits") == 0
    assert waiting(queue, "/first-rows") == 0


@pytest.mark.parametrize(
    ("hub_status", "status", "code", "body"),
    [
        (401, 401, "ExternalUnauthenticatedError", UNAUTHENTICATED),
        (403, 404, "ExternalAuthenticatedError", AUTHENTICATED),
        (404, 404, "ExternalAuthenticatedError", AUTHENTICATED),
        (500, 502, "ExternalAuthCheckError", AUTH_CHECK_BAD),
        (503, 502, "ExternalAuthCheckError", AUTH_CHECK_BAD),
        (429, 502, "ExternalAuthCheckError", AUTH_CHECK_BAD),
        (307, 502, "ExternalAuthCheckError", AUTH_CHECK_BAD),
        (400, 502, "ExternalAuthCheckError", AUTH_CHECK_BAD),
    ],
)
def test_hub_refusal_fails_closed(
    client: TestClient,
    cache: SqliteCacheStore,
    queue: SqliteJobQueue,
    hub: FakeHub,
    hub_status: int,
    status: int,
    code: str,
    body: dict[str, str],
) -> None:
    store_splits(cache)
    cache.upsert("/first-rows", "user/ds", "default", "train", content=FIRST_ROWS_CONTENT, http_status=200)
    hub.status = hub_status
    for url in ("/splits?dataset=user/ds", FIRST_ROWS_URL, "/is-valid?dataset=user/ds", "/splits?dataset=other"):
        response = client.get(url)
        assert_error(response, status, code, body)
        assert "retry-after" not in response.headers
        assert response.headers["vary"] == "Authorization, Cookie, Origin"
    assert len(hub.requests) == 4
    assert waiting(queue, "/splits") == 0


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed"),
    ],
)
def test_hub_unreachable_fails_closed(
    client: TestClient, cache: SqliteCacheStore, hub: FakeHub, error: Exception
) -> None:
    store_splits(cache)
    hub.error = error
    response = client.get("/splits?dataset=user/ds")
    assert_error(response, 503, "ExternalAuthCheckError", AUTH_CHECK_DOWN)
    assert response.headers["retry-after"] == "5"


def test_only_cookie_and_authorization_are_forwarded(
    client: TestClient, cache: SqliteCacheStore, hub: FakeHub
) -> None:
    store_splits(cache)
    headers = {
        "Cookie": "token=abc",
        "Authorization": "Bearer hf_secretvalue123",
        "X-Custom": "1",
        "Referer": "https://evil.test/",
        "X-Forwarded-For": "1.2.3.4",
        "User-Agent": "browser/1.0",
    }
    assert client.get("/splits?dataset=user/ds", headers=headers).status_code == 200
    sent = hub.requests[0]
    assert str(sent.url) == "https://hub.test/api/datasets/user/ds/auth-check"
    assert sent.method == "GET"
    assert sent.headers["cookie"] == "token=abc"
    assert sent.headers["authorization"] == "Bearer hf_secretvalue123"
    assert set(sent.headers) == {
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "user-agent",
        "cookie",
        "authorization",
    }
    assert sent.headers["user-agent"].startswith("python-httpx/")
    assert client.get("/splits?dataset=user/ds").status_code == 200
    assert set(hub.requests[1].headers) == {"host", "accept", "accept-encoding", "connection", "user-agent"}


def test_hub_cookies_are_never_replayed_to_other_callers(
    client: TestClient, cache: SqliteCacheStore, hub: FakeHub
) -> None:
    store_splits(cache)
    hub.response_headers = {"Set-Cookie": "session=victim; Domain=hub.test; Path=/"}
    client.get("/splits?dataset=user/ds", headers={"Cookie": "token=victim"})
    client.get("/splits?dataset=user/ds")
    assert "cookie" not in hub.requests[1].headers


def test_forwarded_credentials_are_not_logged(
    client: TestClient, cache: SqliteCacheStore, hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub.error = httpx.ConnectError("down")
    caplog.set_level(logging.DEBUG)
    client.get("/splits?dataset=user/ds", headers={"Cookie": "token=cookie-secret", "Authorization": "Bearer s3cr3t"})
    assert "cookie-secret" not in caplog.text
    assert "s3cr3t" not in caplog.text


def test_auth_disabled_calls_no_hub(make_app: AppFactory, cache: SqliteCacheStore, hub: FakeHub) -> None:

    store_splits(cache)
    with TestClient(make_app(make_config(hf_auth_path=None))) as client:
        response = client.get("/splits?dataset=user/ds", headers={"Cookie": "a=b"})
    assert response.status_code == 200
    assert response.content == SPLITS_CONTENT
    assert response.headers["vary"] == "Origin"
    assert hub.requests == []


def test_splits_miss_enqueues_and_answers_not_ready(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue
) -> None:
    cache.upsert("/first-rows", "user/ds", "old", "train", content=b"{}", http_status=200)
    response = client.get("/splits?dataset=user/ds")
    assert_error(response, 500, "SplitsResponseNotReady", SPLITS_NOT_READY)
    assert response.headers["retry-after"] == "10"
    assert queue.is_pending("/splits", "user/ds")
    entry = cache.get("/first-rows", "user/ds", "old", "train")
    assert entry is not None and entry.stale
    response = client.get("/splits?dataset=user/ds")
    assert_error(response, 500, "SplitsResponseNotReady", SPLITS_NOT_READY)
    assert waiting(queue, "/splits") == 1
    assert waiting(queue, "/first-rows") == 0


def test_splits_miss_with_pending_job_is_not_ready(client: TestClient, queue: SqliteJobQueue) -> None:
    job = queue.add("/splits", "user/ds")
    queue.claim(["/splits"], "worker-1")
    assert_error(client.get("/splits?dataset=user/ds"), 500, "SplitsResponseNotReady", SPLITS_NOT_READY)
    pending = queue.get_pending("/splits")
    assert [j.job_id for j in pending[JobStatus.STARTED]] == [job.job_id]
    assert pending[JobStatus.WAITING] == []


def test_first_rows_miss_listed_split_enqueues(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue
) -> None:
    store_splits(cache)
    response = client.get(FIRST_ROWS_URL)
    assert_error(response, 500, "FirstRowsResponseNotReady", FIRST_ROWS_NOT_READY)
    assert response.headers["retry-after"] == "10"
    assert queue.is_pending("/first-rows", "user/ds", "default", "train")
    assert waiting(queue, "/first-rows") == 1
    assert waiting(queue, "/splits") == 0
    assert_error(client.get(FIRST_ROWS_URL), 500, "FirstRowsResponseNotReady", FIRST_ROWS_NOT_READY)
    assert waiting(queue, "/first-rows") == 1


@pytest.mark.parametrize(
    "url",
    [
        "/first-rows?dataset=user/ds&config=default&split=test",
        "/first-rows?dataset=user/ds&config=other&split=train",
        "/first-rows?dataset=user/ds&config=default&split=train%20",
    ],
)
def test_first_rows_miss_unlisted_split_is_not_found(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue, url: str
) -> None:
    store_splits(cache)
    response = client.get(url)
    assert_error(response, 404, "FirstRowsResponseNotFound", NOT_FOUND)
    assert "retry-after" not in response.headers
    assert waiting(queue, "/first-rows") == 0
    assert waiting(queue, "/splits") == 0


def test_first_rows_miss_with_splits_error_is_not_found(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue
) -> None:
    store_splits(cache, b'{"error":"x"}', status=500)
    assert_error(client.get(FIRST_ROWS_URL), 404, "FirstRowsResponseNotFound", NOT_FOUND)
    assert waiting(queue, "/first-rows") == 0


def test_first_rows_miss_with_pending_splits_job_is_not_ready(
    client: TestClient, cache: SqliteCacheStore, queue: SqliteJobQueue
) -> None:
    store_splits(cache)
    queue.add("/splits", "user/ds")
    assert_error(client.get(FIRST_ROWS_URL), 500, "FirstRowsResponseNotReady", FIRST_ROWS_NOT_READY)
    assert waiting(queue, "/first-rows") == 0


def test_first_rows_miss_without_splits_entry_plans_the_dataset(client: TestClient, queue: SqliteJobQueue) -> None:
    assert_error(client.get(FIRST_ROWS_URL), 500, "FirstRowsResponseNotReady", FIRST_ROWS_NOT_READY)
    assert queue.is_pending("/splits", "user/ds")
    assert waiting(queue, "/first-rows") == 0


class BrokenCache(SqliteCacheStore):
    def get(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> None:
        raise RuntimeError("boom: /secret/path/db")

    def is_dataset_valid(self, dataset: str, kinds: object) -> bool:
        raise RuntimeError("boom: /secret/path/db")


def test_store_exception_is_unexpected_error_without_traceback(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenCache(tmp_path / "broken.db")
    caplog.set_level(logging.ERROR)
    with TestClient(make_app(cache_store=broken)) as client:
        for url in ("/splits?dataset=user/ds", FIRST_ROWS_URL, "/is-valid?dataset=user/ds"):
            response = client.get(url)
            assert response.status_code == 500
            assert response.content == orjson.dumps({"error": "Unexpected error."})
            assert response.headers["x-error-code"] == "UnexpectedError"
            assert response.headers["cache-control"] == "max-age=10"
    assert "Traceback" in caplog.text
    assert "boom: /secret/path/db" in caplog.text
    broken.close()


def test_head_is_allowed_and_post_is_not(client: TestClient, cache: SqliteCacheStore) -> None:
    store_splits(cache)
    head = client.head("/splits?dataset=user/ds")
    assert head.status_code == 200
    assert head.content == b""
    assert client.post("/splits?dataset=user/ds").status_code == 405
