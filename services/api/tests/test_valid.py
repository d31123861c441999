"""GET /valid and GET /is-valid."""

from __future__ import annotations

import pytest
from api_fakes import FakeHub
from starlette.testclient import TestClient

from libcommon.storage.sqlite_cache import SqliteCacheStore


@pytest.fixture
def filled(cache: SqliteCacheStore) -> SqliteCacheStore:
    # valid: both kinds 200; "stale" is valid too; "half" lacks first rows; "broken" has only errors.
    for dataset in ("zeta", "alpha", "user/stale"):
        cache.upsert("/splits", dataset, content=b"{}", http_status=200)
        cache.upsert("/first-rows", dataset, "c", "s", content=b"{}", http_status=200)
        cache.upsert("/first-rows", dataset, "c", "t", content=b"{}", http_status=500, error_code="E")
    cache.mark_dataset_stale("user/stale")
    cache.upsert("/splits", "half", content=b"{}", http_status=200)
    cache.upsert("/splits", "broken", content=b"{}", http_status=500, error_code="E")
    cache.upsert("/first-rows", "broken", "c", "s", content=b"{}", http_status=200)
    return cache


def test_valid_lists_sorted_names_without_auth(client: TestClient, filled: SqliteCacheStore, hub: FakeHub) -> None:
    response = client.get("/valid")
    assert response.status_code == 200
    assert response.content == b'{"valid":["alpha","user/stale","zeta"]}'
    assert response.headers["cache-control"] == "max-age=120"
    assert "x-error-code" not in response.headers
    assert hub.requests == []


def test_valid_empty(client: TestClient) -> None:
    assert client.get("/valid").json() == {"valid": []}


@pytest.mark.parametrize(
    ("dataset", "valid"), [("alpha", True), ("user/stale", True), ("half", False), ("broken", False), ("nope", False)]
)
def test_is_valid(client: TestClient, filled: SqliteCacheStore, hub: FakeHub, dataset: str, valid: bool) -> None:
    response = client.get("/is-valid", params={"dataset": dataset})
    assert response.status_code == 200
    assert response.json() == {"valid": valid}
    assert response.headers["cache-control"] == "max-age=120"
    assert [str(request.url) for request in hub.requests] == [f"https://hub.test/api/datasets/{dataset}/auth-check"]


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("", "MissingRequiredParameter", "Parameter 'dataset' is required"),
        ("?dataset=%20", "MissingRequiredParameter", "Parameter 'dataset' is required"),
        (
            "?dataset=a/b/c",
            "InvalidParameter",
            "Parameter 'dataset' is not a valid dataset id: expected 'name' or 'namespace/name' "
            "(letters, digits, '-', '_', '.'; at most 96 characters each).",
        ),
    ],
)
def test_is_valid_bad_parameter(client: TestClient, hub: FakeHub, query: str, code: str, message: str) -> None:
    response = client.get("/is-valid" + query)
    assert response.status_code == 422
    assert response.headers["x-error-code"] == code
    assert response.json() == {"error": message}
    assert hub.requests == []


def test_is_valid_respects_the_hub(client: TestClient, filled: SqliteCacheStore, hub: FakeHub) -> None:
    hub.by_dataset["alpha"] = 404
    response = client.get("/is-valid?dataset=alpha")
    assert response.status_code == 404
    assert response.headers["x-error-code"] == "ExternalAuthenticatedError"
