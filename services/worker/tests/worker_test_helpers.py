"""Helpers shared by the worker tests (importable by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from libcommon.serialization import loads
from worker.config import AppConfig
from worker.dtos import JobInfo, JobOutcome
from worker.executor import Executor
from worker.job_runners import BUILTIN_RUNNER_MODULES

TEST_RUNNER_MODULES = (*BUILTIN_RUNNER_MODULES, "worker_test_runners")
ASSETS_BASE_URL = "http://localhost/assets"


def without_token(config: AppConfig) -> AppConfig:
    """The same config without the app token."""
    return replace(config, common=replace(config.common, hf_token=None))


def run_job(
    config: AppConfig, job_type: str, dataset: str, config_name: str | None = None, split: str | None = None
) -> JobOutcome:
    """Run one job in a job process (as the loop does) and return its outcome."""
    outcome = Executor(config, TEST_RUNNER_MODULES).run(
        JobInfo("job-1", job_type, dataset, config_name, split), keep_alive=lambda: True, should_stop=lambda: False
    )
    assert isinstance(outcome, JobOutcome)
    return outcome


def content_of(outcome: JobOutcome) -> Any:
    """The decoded response body."""
    return loads(outcome.content)
