"""Admission control with fake readings: load and memory percentages, cgroup limits, the loop's pause."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from libcommon.storage import JobStatus, open_cache, open_queue
from worker.config import AppConfig
from worker.loop import SLEEP_JITTER, Loop
from worker.resources import ResourceGate, cgroup_memory, load_pct, meminfo_memory, memory_pct

GIB = 1024**3


def meminfo(total_kb: int, available_kb: int, swap_total_kb: int = 0, swap_free_kb: int = 0) -> str:
    return (
        f"MemTotal:       {total_kb} kB\nMemFree:        1 kB\nMemAvailable:   {available_kb} kB\n"
        f"Cached:         5 kB\nSwapTotal:      {swap_total_kb} kB\nSwapFree:       {swap_free_kb} kB\n"
    )


def files(contents: dict[str, str]) -> Callable[[str], str | None]:
    return contents.get


@pytest.mark.parametrize(
    ("loadavg", "cpus", "expected"),
    [((1.0, 0.5, 0.1), 2, 50.0), ((0.5, 1.5, 3.0), 2, 75.0), ((4.0, 4.0, 4.0), 1, 400.0), ((0.0, 0.0, 0.0), 8, 0.0)],
)
def test_load_is_the_max_of_load1_and_load5_per_cpu(
    loadavg: tuple[float, float, float], cpus: int, expected: float
) -> None:
    assert load_pct(lambda: loadavg, lambda: cpus) == pytest.approx(expected)


def test_unreadable_load_is_none() -> None:
    def fail() -> tuple[float, float, float]:
        raise OSError("no load average here")

    assert load_pct(fail) is None


def test_host_memory_is_a_percentage_of_ram_plus_swap() -> None:
    # 16 GiB RAM with 4 available, 4 GiB swap with 1 free: (12 + 3) / 20 = 75 %, not 0.75
    text = meminfo(16 * 1024**2, 4 * 1024**2, 4 * 1024**2, 1 * 1024**2)
    assert meminfo_memory(text) == (15 * GIB, 20 * GIB)
    assert memory_pct(files({"/proc/meminfo": text})) == pytest.approx(75.0)
    assert memory_pct(files({"/proc/meminfo": meminfo(1000, 1000)})) == pytest.approx(0.0)
    assert memory_pct(files({"/proc/meminfo": "MemTotal: 10 kB\n"})) is None
    assert memory_pct(files({})) is None


def test_cgroup_v2_limit_wins_over_the_host() -> None:
    host = meminfo(64 * 1024**2, 60 * 1024**2)  # the host is almost idle
    readings = {
        "/proc/meminfo": host,
        "/sys/fs/cgroup/memory.max": f"{4 * GIB}\n",
        "/sys/fs/cgroup/memory.current": f"{3 * GIB + 512 * 1024**2}\n",
        "/sys/fs/cgroup/memory.stat": f"anon 123\ninactive_file {512 * 1024**2}\nactive_file 7\n",
    }
    # (3.5 GiB - 0.5 GiB of reclaimable page cache) / 4 GiB
    assert memory_pct(files(readings)) == pytest.approx(75.0)


def test_cgroup_v1_limit_is_read_too() -> None:
    readings = {
        "/proc/meminfo": meminfo(64 * 1024**2, 60 * 1024**2),
        "/sys/fs/cgroup/memory/memory.limit_in_bytes": f"{2 * GIB}",
        "/sys/fs/cgroup/memory/memory.usage_in_bytes": f"{GIB}",
        "/sys/fs/cgroup/memory/memory.stat": "total_inactive_file 0\n",
    }
    assert memory_pct(files(readings)) == pytest.approx(50.0)


@pytest.mark.parametrize(
    "limit",
    [
        "max",  # cgroup v2 without a limit
        str(9223372036854771712),  # cgroup v1 without a limit
        str(128 * GIB),  # more than the host's RAM: no limit in practice
    ],
)
def test_cgroup_without_a_real_limit_falls_back_to_the_host(limit: str) -> None:
    readings = {
        "/proc/meminfo": meminfo(64 * 1024**2, 16 * 1024**2),
        "/sys/fs/cgroup/memory.max": limit,
        "/sys/fs/cgroup/memory.current": str(GIB),
    }
    assert cgroup_memory(files(readings), 64 * GIB) is None
    assert memory_pct(files(readings)) == pytest.approx(75.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("load", "memory", "allowed"),
    [
        (69.9, 79.9, True),
        (70.0, 10.0, False),  # at the limit: busy
        (10.0, 80.0, False),
        (None, None, True),  # unreadable: never blocks
        (500.0, 99.0, False),
    ],
)
def test_gate_compares_percentages_with_the_limits(load: float | None, memory: float | None, allowed: bool) -> None:
    gate = ResourceGate(70, 80, load=lambda: load, memory=lambda: memory)
    assert gate.allows_claim() is allowed


def test_a_limit_of_zero_disables_the_check() -> None:
    def unexpected() -> float:
        raise AssertionError("a disabled check must not read anything")

    assert ResourceGate(0, 0, load=unexpected, memory=unexpected).allows_claim() is True
    assert ResourceGate(0, 80, load=unexpected, memory=lambda: 90.0).busy() == ("memory", 90.0, 80)


def test_busy_log_is_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    readings = {"load": 95.0, "memory": 10.0}
    clock = Clock()
    gate = ResourceGate(
        70, 80, load=lambda: readings["load"], memory=lambda: readings["memory"], clock=clock, log_interval_seconds=60
    )
    caplog.set_level(logging.WARNING, logger="worker.resources")
    for _ in range(50):
        assert gate.allows_claim() is False
        clock.now += 0.5
    assert len(caplog.records) == 1  # 25 s of refusals: one line
    record = caplog.records[0]
    fields = record.__dict__
    assert (record.getMessage(), fields["reason"], fields["used_pct"], fields["max_pct"]) == (
        "not enough resources, no job claimed",
        "load",
        95.0,
        70,
    )
    clock.now += 60
    assert gate.allows_claim() is False
    assert len(caplog.records) == 2  # the interval has passed
    readings["load"], readings["memory"] = 10.0, 90.0
    assert gate.allows_claim() is False
    assert len(caplog.records) == 3 and caplog.records[-1].__dict__["reason"] == "memory"
    readings["memory"] = 10.0
    assert gate.allows_claim() is True
    assert len(caplog.records) == 3


def test_loop_claims_nothing_while_busy_then_resumes(app_config: AppConfig, tmp_path: Path) -> None:
    cache = open_cache(f"sqlite:///{tmp_path}/cache.db", "cache")
    queue = open_queue(f"sqlite:///{tmp_path}/queue.db", "queue", max_jobs_per_namespace=0)
    job = queue.add("/splits", "samples/csv")
    busy = threading.Event()
    busy.set()
    checks: list[float] = []

    def memory() -> float:
        checks.append(time.monotonic())
        return 99.0 if busy.is_set() else 1.0

    gate = ResourceGate(0, 80, memory=memory)
    config = replace(app_config, worker=replace(app_config.worker, job_types=("/splits",), sleep_seconds=0.05))
    loop = Loop(config, cache, queue, resources=gate, worker_id="w1")
    runner = threading.Thread(target=loop.run)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while len(checks) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(checks) >= 5
        waiting = queue.get(job.job_id)
        assert waiting is not None and waiting.status == JobStatus.WAITING
        busy.clear()
        deadline = time.monotonic() + 60
        while (current := queue.get(job.job_id)) is not None and current.status != JobStatus.SUCCESS:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        loop.stop()
        runner.join(30)
        cache.close()
        queue.close()
    assert not runner.is_alive()


def test_sleep_is_jittered_between_75_and_125_percent(app_config: AppConfig, tmp_path: Path) -> None:
    assert SLEEP_JITTER == (0.75, 1.25)
    cache = open_cache(f"sqlite:///{tmp_path}/cache.db", "cache")
    queue = open_queue(f"sqlite:///{tmp_path}/queue.db", "queue", max_jobs_per_namespace=0)
    config = replace(app_config, worker=replace(app_config.worker, sleep_seconds=10))
    loop = Loop(config, cache, queue, worker_id="w1")
    durations = [loop.sleep_duration() for _ in range(2000)]
    cache.close()
    queue.close()
    assert all(7.5 <= duration <= 12.5 for duration in durations)
    # spread over the whole range, not a constant
    assert min(durations) < 7.75 and max(durations) > 12.25
    assert len(set(durations)) > 1900
