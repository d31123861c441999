"""Classification of the Hub's failures (`worker.hub.classify_hub_error`) against the local hub, in job processes.

Every code a Hub call can give, with its status, storage and retry policy; and the retry of a transient
failure through the loop: released until the last attempt, then stored.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest
from worker_test_helpers import TEST_RUNNER_MODULES, content_of, run_job, without_token
from worker_test_runners import HUB_CALL

from libcommon.processing_graph import SPLITS, ProcessingGraph, ProcessingStep
from libcommon.serialization import loads
from libcommon.storage import CacheStore, JobQueue, JobStatus
from worker.config import AppConfig
from worker.errors import (
    DatasetNotFoundError,
    DatasetWithScriptNotSupportedError,
    EmptyDatasetError,
    GatedDatasetError,
    HubUnavailableError,
    RevisionNotFoundError,
    UnexpectedError,
)
from worker.executor import Executor
from worker.loop import Loop

UNKNOWN_SHA = "0" * 40


def set_faults(endpoint: str, faults: dict[str, object]) -> None:
    """Switch the local hub's injected faults (an empty dict removes them)."""
    request = urllib.request.Request(f"{endpoint}/_localhub/faults", data=json.dumps(faults).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def faults(hub_endpoint: str) -> Iterator[str]:
    """The hub endpoint; faults set during the test are removed afterwards."""
    yield hub_endpoint
    set_faults(hub_endpoint, {})


@pytest.mark.parametrize(
    ("dataset", "call", "revision", "token", "error"),
    [
        ("samples/does-not-exist", "info", None, True, DatasetNotFoundError),
        ("samples/private", "info", None, False, DatasetNotFoundError),
        ("samples/private", "config_names", None, False, DatasetNotFoundError),
        ("not a repo id", "info", None, True, DatasetNotFoundError),
        ("samples/gated", "config_names", None, False, GatedDatasetError),
        ("samples/csv", "info", UNKNOWN_SHA, True, RevisionNotFoundError),
        ("samples/csv", "config_names", "no-such-branch", True, RevisionNotFoundError),
        ("samples/script", "config_names", None, True, DatasetWithScriptNotSupportedError),
        ("samples/empty", "config_names", None, True, EmptyDatasetError),
        ("samples/csv", "unreachable", None, True, HubUnavailableError),
        ("samples/csv", "something-else", None, True, UnexpectedError),
    ],
)
def test_hub_failures_have_stable_codes(
    app_config: AppConfig,
    dataset: str,
    call: str,
    revision: str | None,
    token: bool,
    error: type[DatasetNotFoundError],
) -> None:
    outcome = run_job(app_config if token else without_token(app_config), HUB_CALL, dataset, call, revision)
    assert (outcome.error_code, outcome.http_status, outcome.stored, outcome.retryable) == (
        error.code,
        int(error.status),
        getattr(error, "stored", True),
        error.retryable,
    )
    # the public body is the message of the class, nothing of the cause; the cause is in the details
    assert content_of(outcome) == {"error": error.default_message}
    assert outcome.details is not None
    details = loads(outcome.details)
    assert details["error_code"] == error.code
    assert details["cause_traceback"][0].startswith("Traceback")


@pytest.mark.parametrize(
    ("status", "call"), [(500, "info"), (503, "config_names"), (429, "info"), (429, "config_names")]
)
def test_hub_5xx_and_429_are_transient(app_config: AppConfig, faults: str, status: int, call: str) -> None:
    set_faults(faults, {"error_rate": 1.0, "error_status": status, "path_prefix": "/api/datasets/samples/csv"})
    outcome = run_job(app_config, HUB_CALL, "samples/csv", call)
    assert (outcome.error_code, outcome.http_status, outcome.retryable) == ("HubUnavailableError", 502, True)
    assert content_of(outcome) == {"error": HubUnavailableError.default_message}


def test_hub_outage_is_retried_then_stored_after_the_last_attempt(
    app_config: AppConfig, faults: str, stores: tuple[CacheStore, JobQueue]
) -> None:
    cache, queue = stores
    cache.upsert(SPLITS, "samples/csv", content=b'{"splits":[]}', http_status=200)  # computed earlier
    job = queue.add(SPLITS, "samples/csv")
    config = replace(app_config, worker=replace(app_config.worker, job_types=(SPLITS,), max_attempts=2))
    graph = ProcessingGraph([ProcessingStep(SPLITS, "dataset", 1)])
    loop = Loop(config, cache, queue, graph=graph, executor=Executor(config, TEST_RUNNER_MODULES), worker_id="w1")
    set_faults(faults, {"error_rate": 1.0, "error_status": 503, "path_prefix": "/api/datasets/samples/csv"})

    assert loop.process_next_job() is True
    released = queue.get(job.job_id)
    assert released is not None and (released.status, released.attempt) == (JobStatus.WAITING, 1)
    kept = cache.get(SPLITS, "samples/csv")
    assert kept is not None and (kept.http_status, kept.content) == (200, b'{"splits":[]}')  # still served

    assert loop.process_next_job() is True
    failed = queue.get(job.job_id)
    assert failed is not None and (failed.status, failed.attempt) == (JobStatus.ERROR, 2)
    entry = cache.get(SPLITS, "samples/csv")
    assert entry is not None and (entry.http_status, entry.error_code) == (502, "HubUnavailableError")

    set_faults(faults, {})
    queue.add(SPLITS, "samples/csv")
    assert loop.process_next_job() is True
    recovered = cache.get(SPLITS, "samples/csv")
    assert recovered is not None and recovered.http_status == 200
