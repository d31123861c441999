"""Fixtures: a local hub serving the sample repos for the whole session, and a config that reads it.

The Hub libraries read their environment at import time, and the forkserver that runs every job is
started once per session with the environment of that moment: so HF_HOME is set when this file is
imported, and HF_ENDPOINT (the local hub's URL) by an autouse session fixture, before any job runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_HF_HOME = tempfile.mkdtemp(prefix="worker-tests-hf-home-")
os.environ["HF_HOME"] = _HF_HOME
for _name in ("HF_TOKEN", "COMMON_HF_TOKEN", "HF_ENDPOINT", "COMMON_HF_ENDPOINT"):
    os.environ.pop(_name, None)
# The test helpers and test-only runners live next to this file; job processes import them by name.
sys.path.insert(0, str(Path(__file__).parent))

from worker_test_helpers import ASSETS_BASE_URL  # noqa: E402

from libcommon.config import AssetsConfig, CommonConfig  # noqa: E402
from libcommon.storage import CacheStore, JobQueue, open_cache, open_queue  # noqa: E402
from localhub.samples import APP_TOKEN, generate_samples  # noqa: E402
from localhub.testing import running_hub  # noqa: E402
from worker.config import AppConfig, FirstRowsConfig, WorkerConfig  # noqa: E402
from worker.environment import configure_hub_environment  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def hub_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a local hub serving the sample repos; the Hub environment points at it."""
    root = tmp_path_factory.mktemp("hub")
    generate_samples(root)
    with running_hub(root) as endpoint:
        configure_hub_environment(CommonConfig(hf_endpoint=endpoint))
        yield endpoint
    shutil.rmtree(_HF_HOME, ignore_errors=True)


@pytest.fixture
def app_config(hub_endpoint: str, tmp_path: Path) -> AppConfig:
    """A config reading the local hub with the app token, assets in a temporary directory."""
    return AppConfig(
        assets=AssetsConfig(base_url=ASSETS_BASE_URL, storage_directory=tmp_path / "assets"),
        common=CommonConfig(hf_endpoint=hub_endpoint, hf_token=APP_TOKEN),
        first_rows=FirstRowsConfig(),
        worker=WorkerConfig(
            sleep_seconds=0.05,
            heartbeat_interval_seconds=0.2,
            max_job_duration_seconds=60,
            max_attempts=3,
            # the machine running the tests may be busy: the resource checks are tested on their own
            max_load_pct=0,
            max_memory_pct=0,
        ),
    )


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[CacheStore, JobQueue]]:
    """A SQLite cache and queue in tmp_path (no per-namespace limit)."""
    cache = open_cache(f"sqlite:///{tmp_path}/cache.db", "cache")
    queue = open_queue(f"sqlite:///{tmp_path}/queue.db", "queue", max_jobs_per_namespace=0)
    yield cache, queue
    cache.close()
    queue.close()
