"""`python -m worker` as a real process: environment, stores from URLs, structured logs, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from libcommon.storage import open_cache, open_queue
from localhub.samples import APP_TOKEN


def test_worker_process_computes_a_dataset_and_stops_on_sigterm(hub_endpoint: str, tmp_path: Path) -> None:
    cache_url, queue_url = f"sqlite:///{tmp_path}/cache.db", f"sqlite:///{tmp_path}/queue.db"
    cache, queue = open_cache(cache_url, "cache"), open_queue(queue_url, "queue", 1)
    queue.add("/splits", "samples/jsonl")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "WORKER_", "COMMON_"))},
        "HF_HOME": str(tmp_path / "hf-home"),
        "COMMON_HF_ENDPOINT": hub_endpoint + "/",  # the trailing slash must not reach `datasets`
        "COMMON_HF_TOKEN": APP_TOKEN,
        "CACHE_MONGO_URL": cache_url,
        "QUEUE_MONGO_URL": queue_url,
        "ASSETS_STORAGE_DIRECTORY": str(tmp_path / "assets"),
        "WORKER_SLEEP_SECONDS": "0.2",
        "WORKER_HEARTBEAT_INTERVAL_SECONDS": "1",
        "WORKER_MAX_LOAD_PCT": "0",  # the machine running the tests may be busy
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(cache.list_keys("/first-rows", "samples/jsonl")) < 2:
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        assert cache.list_keys("/first-rows", "samples/jsonl") == [("default", "train"), ("default", "validation")]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    splits = cache.get("/splits", "samples/jsonl")
    assert splits is not None and splits.http_status == 200
    job_lines = [line for line in stderr.splitlines() if " job finished " in line]
    assert len(job_lines) == 3
    assert all("status=success" in line and "http_status=200" in line for line in job_lines)
    assert any("job_type=/splits dataset=samples/jsonl config=None split=None" in line for line in job_lines)
    assert "worker stopped" in stderr
    assert APP_TOKEN not in stderr
    cache.close()
    queue.close()
