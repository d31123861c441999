"""Switchable faults: latency and 5xx/429 rates, at creation and at runtime, restricted to a prefix."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from localhub.faults import Faults
from localhub.testing import running_hub

CSV = "/datasets/samples/csv/resolve/main/train.csv"


def test_faults_at_creation_apply_to_the_prefix_only(hub_root: Path) -> None:
    faults = Faults(error_rate=1.0, error_status=503, path_prefix="/datasets/samples/csv/")
    with running_hub(hub_root, faults) as url, httpx.Client(base_url=url) as http:
        for _ in range(5):
            response = http.get(CSV)
            assert response.status_code == 503
            assert response.headers["X-Localhub-Fault"] == "1"
        assert http.get("/datasets/samples/jsonl/resolve/main/data/train.jsonl").status_code == 200
        assert http.get("/api/datasets/samples/csv").status_code == 200
        assert http.get("/_localhub/health").status_code == 200


def test_faults_at_runtime(hub_root: Path) -> None:
    with running_hub(hub_root) as url, httpx.Client(base_url=url) as http:
        assert http.get(CSV).status_code == 200
        settings = {"error_rate": 1.0, "error_status": 429, "retry_after": 1, "path_prefix": "/api/"}
        response = http.post("/_localhub/faults", json=settings)
        assert response.status_code == 200
        assert response.json() == {**settings, "latency": 0.0}
        limited = http.get("/api/datasets/samples/csv")
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
        assert http.get(CSV).status_code == 200
        assert http.get("/_localhub/faults").json()["error_status"] == 429
        assert http.delete("/_localhub/faults").json() == Faults().to_json()
        assert http.get("/api/datasets/samples/csv").status_code == 200


def test_latency_and_partial_error_rate(hub_root: Path) -> None:
    with running_hub(hub_root) as url, httpx.Client(base_url=url) as http:
        http.post("/_localhub/faults", json={"latency": 0.3, "path_prefix": "/api/"})
        started = time.perf_counter()
        assert http.get("/api/datasets/samples/csv").status_code == 200
        assert time.perf_counter() - started >= 0.3
        started = time.perf_counter()
        http.head(CSV)
        assert time.perf_counter() - started < 0.3
        http.post("/_localhub/faults", json={"error_rate": 0.5, "error_status": 500})
        statuses = [http.head(CSV).status_code for _ in range(200)]
        assert set(statuses) == {200, 500}


@pytest.mark.parametrize(
    "settings",
    [{"error_status": 404}, {"error_rate": 2}, {"latency": -1}, {"unknown": 1}, {"error_rate": "x"}, [1, 2]],
)
def test_invalid_fault_settings_are_400(hub_url: str, settings: object) -> None:
    response = httpx.post(f"{hub_url}/_localhub/faults", json=settings)
    assert response.status_code == 400
    assert httpx.get(f"{hub_url}/_localhub/faults").json() == Faults().to_json()


def test_faults_object() -> None:
    assert not Faults().enabled
    faults = Faults(latency=0.1, path_prefix="/datasets/")
    assert faults.applies_to("/datasets/a/b/resolve/main/x")
    assert not faults.applies_to("/api/datasets/a/b")
    assert not Faults(error_rate=1.0).applies_to("/_localhub/faults")
    assert Faults.from_json(faults.to_json()) == faults
    with pytest.raises(ValueError, match="error_status"):
        Faults(error_status=302)
