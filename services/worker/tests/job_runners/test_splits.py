"""`/splits` against the local hub: exact responses, children, revision, error codes."""

from __future__ import annotations

import json
import urllib.request

import pytest
from worker_test_helpers import content_of, run_job, without_token

from localhub.samples import APP_TOKEN
from worker.config import AppConfig


def hub_sha(endpoint: str, dataset: str) -> str:
    """The commit sha of the dataset's main branch, as the Hub API gives it."""
    request = urllib.request.Request(
        f"{endpoint}/api/datasets/{dataset}", headers={"authorization": f"Bearer {APP_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        sha: str = json.load(response)["sha"]
    return sha


def split_item(
    dataset: str, config: str, split: str, num_bytes: int | None = None, num_examples: int | None = None
) -> dict[str, object]:
    """One item of a /splits response."""
    return {"dataset": dataset, "config": config, "split": split, "num_bytes": num_bytes, "num_examples": num_examples}


@pytest.mark.parametrize(
    ("dataset", "splits"),
    [
        ("samples/csv", [("default", "train"), ("default", "test")]),
        ("samples/parquet", [("default", "train"), ("default", "test")]),
        ("samples/images", [("default", "train")]),
        ("samples/jsonl", [("default", "train"), ("default", "validation")]),
        ("samples/audio-folder", [("default", "train")]),
    ],
)
def test_splits_without_sizes(
    app_config: AppConfig, hub_endpoint: str, dataset: str, splits: list[tuple[str, str]]
) -> None:
    outcome = run_job(app_config, "/splits", dataset)
    assert outcome.http_status == 200
    assert outcome.error_code is None
    assert content_of(outcome) == {"splits": [split_item(dataset, config, split) for config, split in splits]}
    assert outcome.children == splits
    assert outcome.dataset_git_revision == hub_sha(hub_endpoint, dataset)


def test_splits_with_sizes_from_the_card(app_config: AppConfig) -> None:
    outcome = run_job(app_config, "/splits", "samples/two-configs")
    assert content_of(outcome) == {
        "splits": [
            split_item("samples/two-configs", "first", "train", 342, 20),
            split_item("samples/two-configs", "first", "test", 223, 10),
            split_item("samples/two-configs", "second", "train", 112, 15),
        ]
    }
    assert outcome.children == [("first", "train"), ("first", "test"), ("second", "train")]


def test_gated_and_private_with_the_app_token(app_config: AppConfig) -> None:
    for dataset in ("samples/gated", "samples/private"):
        outcome = run_job(app_config, "/splits", dataset)
        assert content_of(outcome) == {"splits": [split_item(dataset, "default", "train")]}


@pytest.mark.parametrize(
    ("dataset", "token", "status", "code", "stored"),
    [
        ("samples/gated", False, 403, "GatedDatasetError", True),
        ("samples/private", False, 404, "DatasetNotFoundError", False),
        ("samples/does-not-exist", True, 404, "DatasetNotFoundError", False),
        ("samples/script", True, 501, "DatasetWithScriptNotSupportedError", True),
        ("samples/empty", True, 400, "EmptyDatasetError", True),
    ],
)
def test_splits_errors(app_config: AppConfig, dataset: str, token: bool, status: int, code: str, stored: bool) -> None:
    outcome = run_job(app_config if token else without_token(app_config), "/splits", dataset)
    assert (outcome.http_status, outcome.error_code, outcome.stored, outcome.retryable) == (
        status,
        code,
        stored,
        False,
    )
    body = content_of(outcome)
    assert list(body) == ["error"]
    assert "Traceback" not in body["error"]
    assert outcome.details is not None
    details = json.loads(outcome.details)
    assert details["error_code"] == code
    assert details["cause_traceback"][0].startswith("Traceback")
    assert outcome.children == []


def set_faults(endpoint: str, faults: dict[str, object]) -> None:
    """Switch the local hub's injected faults (an empty dict removes them)."""
    request = urllib.request.Request(f"{endpoint}/_localhub/faults", data=json.dumps(faults).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).close()


@pytest.mark.parametrize("status", [503, 429])
def test_hub_failures_are_retryable(app_config: AppConfig, hub_endpoint: str, status: int) -> None:
    set_faults(hub_endpoint, {"error_rate": 1.0, "error_status": status, "path_prefix": "/api/datasets/samples/csv"})
    try:
        outcome = run_job(app_config, "/splits", "samples/csv")
    finally:
        set_faults(hub_endpoint, {})
    assert (outcome.http_status, outcome.error_code, outcome.retryable, outcome.stored) == (
        502,
        "HubUnavailableError",
        True,
        True,
    )


def test_invalid_dataset_name_is_not_found(app_config: AppConfig) -> None:
    outcome = run_job(app_config, "/splits", "a/b/c")
    assert (outcome.http_status, outcome.error_code, outcome.stored) == (404, "DatasetNotFoundError", False)
