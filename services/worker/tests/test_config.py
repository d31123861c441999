"""Worker configuration: defaults, aliases, validation naming the variable."""

from __future__ import annotations

import pytest

from libcommon.env import ConfigError
from worker.config import AppConfig, FirstRowsConfig, WorkerConfig

VARIABLES = [
    "WORKER_JOB_TYPES",
    "WORKER_SLEEP_SECONDS",
    "WORKER_HEARTBEAT_INTERVAL_SECONDS",
    "WORKER_MAX_MISSING_HEARTBEATS",
    "WORKER_MAX_JOB_DURATION_SECONDS",
    "WORKER_MAX_JOB_MEMORY_BYTES",
    "WORKER_MAX_ATTEMPTS",
    "MAX_JOB_RETRIES",
    "WORKER_MAX_LOAD_PCT",
    "MAX_LOAD_PCT",
    "WORKER_MAX_MEMORY_PCT",
    "MAX_MEMORY_PCT",
    "FIRST_ROWS_MAX_NUMBER",
    "ROWS_MAX_NUMBER",
    "FIRST_ROWS_MIN_NUMBER",
    "ROWS_MIN_NUMBER",
    "FIRST_ROWS_MAX_BYTES",
    "ROWS_MAX_BYTES",
    "FIRST_ROWS_MIN_CELL_BYTES",
    "MIN_CELL_BYTES",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    assert WorkerConfig.from_env() == WorkerConfig(
        job_types=("/splits", "/first-rows"),
        sleep_seconds=15,
        heartbeat_interval_seconds=10,
        max_missing_heartbeats=3,
        max_job_duration_seconds=1200,
        max_job_memory_bytes=8 * 1024**3,
        max_attempts=3,
    )
    assert WorkerConfig().zombie_after_seconds == 30
    assert FirstRowsConfig.from_env() == FirstRowsConfig(
        max_number=100, min_number=10, max_bytes=1_000_000, min_cell_bytes=100
    )


def test_scoped_names_and_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_JOB_TYPES", " /first-rows ")
    monkeypatch.setenv("WORKER_SLEEP_SECONDS", "0.5")
    monkeypatch.setenv("WORKER_MAX_JOB_MEMORY_BYTES", "0")
    monkeypatch.setenv("MAX_JOB_RETRIES", "5")  # retries: 6 runs
    monkeypatch.setenv("ROWS_MAX_NUMBER", "4")
    monkeypatch.setenv("ROWS_MIN_NUMBER", "2")
    monkeypatch.setenv("ROWS_MAX_BYTES", "2000")
    monkeypatch.setenv("MIN_CELL_BYTES", "50")
    monkeypatch.setenv("FIRST_ROWS_MIN_CELL_BYTES", "60")  # the scoped name wins
    worker = WorkerConfig.from_env()
    assert (worker.job_types, worker.sleep_seconds, worker.max_job_memory_bytes, worker.max_attempts) == (
        ("/first-rows",),
        0.5,
        0,
        6,
    )
    assert FirstRowsConfig.from_env() == FirstRowsConfig(max_number=4, min_number=2, max_bytes=2000, min_cell_bytes=60)
    assert AppConfig.from_env().worker == worker


@pytest.mark.parametrize(
    ("name", "value", "config_class"),
    [
        ("WORKER_JOB_TYPES", "/splits,/unknown", WorkerConfig),
        ("WORKER_SLEEP_SECONDS", "soon", WorkerConfig),
        ("WORKER_MAX_ATTEMPTS", "0", WorkerConfig),
        ("MAX_JOB_RETRIES", "-1", WorkerConfig),
        ("WORKER_MAX_LOAD_PCT", "-1", WorkerConfig),
        ("MAX_MEMORY_PCT", "lots", WorkerConfig),
        ("WORKER_MAX_JOB_MEMORY_BYTES", "-5", WorkerConfig),
        ("FIRST_ROWS_MAX_NUMBER", "0", FirstRowsConfig),
        ("FIRST_ROWS_MIN_NUMBER", "1000", FirstRowsConfig),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, config_class: type[WorkerConfig] | type[FirstRowsConfig]
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        config_class.from_env()


@pytest.mark.parametrize(
    ("variables", "attempts"),
    [
        ({}, 3),
        ({"WORKER_MAX_ATTEMPTS": "1"}, 1),
        ({"MAX_JOB_RETRIES": "0"}, 1),
        ({"MAX_JOB_RETRIES": "3"}, 4),  # the original: 3 retries = up to 4 runs
        ({"WORKER_MAX_ATTEMPTS": "2", "MAX_JOB_RETRIES": "7"}, 2),  # the scoped name wins
    ],
)
def test_max_attempts_counts_runs_and_max_job_retries_counts_retries(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], attempts: int
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert WorkerConfig.from_env().max_attempts == attempts


def test_resource_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (WorkerConfig.from_env().max_load_pct, WorkerConfig.from_env().max_memory_pct) == (70, 80)
    monkeypatch.setenv("MAX_LOAD_PCT", "0")
    monkeypatch.setenv("MAX_MEMORY_PCT", "95")
    assert (WorkerConfig.from_env().max_load_pct, WorkerConfig.from_env().max_memory_pct) == (0, 95)
    monkeypatch.setenv("WORKER_MAX_LOAD_PCT", "50.5")  # the scoped name wins
    monkeypatch.setenv("WORKER_MAX_MEMORY_PCT", "0")
    assert (WorkerConfig.from_env().max_load_pct, WorkerConfig.from_env().max_memory_pct) == (50.5, 0)
