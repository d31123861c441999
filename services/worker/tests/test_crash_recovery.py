"""Real worker processes on one SQLite store, killed in the middle of a job: nothing is lost or done twice.

Each test starts two `worker_test_entry.py` processes (the real `run_worker`, with the test steps), with a
0.5 s heartbeat and 3 missing heartbeats (a zombie after 1.5 s), and jobs that sleep 2 s. Measured
re-queue times are attached to the test report (`record_property`) and printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from worker_test_entry import GRAPH
from worker_test_runners import SLEEP

from libcommon.serialization import loads
from libcommon.storage import CacheStore, Job, JobQueue, JobStatus, open_cache, open_queue
from worker.config import AppConfig, WorkerConfig
from worker.dtos import JobOutcome
from worker.loop import Loop

T = TypeVar("T")

HEARTBEAT_SECONDS = 0.5
MAX_MISSING_HEARTBEATS = 3
JOB_SECONDS = 2
TESTS_DIR = Path(__file__).parent
#: Variables of the environment running the tests that must not leak into the workers.
_FOREIGN = re.compile(r"^(HF_|COMMON_|CACHE_|QUEUE_|WORKER_|ASSETS_|FIRST_ROWS_|MONGO_|MAX_|ROWS_|MIN_CELL)")


def wait_for(condition: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `condition` every 20 ms until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def pid_of(worker_id: str | None) -> int | None:
    """The process id inside a worker id (`host-pid-suffix`)."""
    if worker_id is None:
        return None
    parts = worker_id.rsplit("-", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            children.append(int(entry))
    return children


@dataclass
class Worker:
    """One worker process and its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def job_lines(self, job_id: str) -> list[str]:
        """The `job finished` log lines of a job."""
        return [
            line
            for line in self.log.read_text().splitlines()
            if " job finished " in line and f"job_id={job_id} " in line
        ]


class Stack:
    """Stores in a temporary directory, sleep jobs, and worker processes started on them."""

    def __init__(self, tmp_path: Path, hub_endpoint: str) -> None:
        self.tmp_path = tmp_path
        cache_url, queue_url = f"sqlite:///{tmp_path}/cache.db", f"sqlite:///{tmp_path}/queue.db"
        self.cache: CacheStore = open_cache(cache_url, "cache")
        self.queue: JobQueue = open_queue(queue_url, "queue", 0)
        self.workers: list[Worker] = []
        self.env = {
            **{name: value for name, value in os.environ.items() if not _FOREIGN.match(name)},
            "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
            "HF_HOME": str(tmp_path / "hf-home"),
            "COMMON_HF_ENDPOINT": hub_endpoint,
            "CACHE_MONGO_URL": cache_url,
            "QUEUE_MONGO_URL": queue_url,
            "QUEUE_MAX_JOBS_PER_NAMESPACE": "0",
            "ASSETS_STORAGE_DIRECTORY": str(tmp_path / "assets"),
            "WORKER_JOB_TYPES": SLEEP,
            "WORKER_SLEEP_SECONDS": "0.1",
            "WORKER_HEARTBEAT_INTERVAL_SECONDS": str(HEARTBEAT_SECONDS),
            "WORKER_MAX_MISSING_HEARTBEATS": str(MAX_MISSING_HEARTBEATS),
            "WORKER_MAX_ATTEMPTS": "3",
            "WORKER_MAX_LOAD_PCT": "0",
            "WORKER_MAX_MEMORY_PCT": "0",
        }

    def add_jobs(self, count: int) -> list[Job]:
        """`count` jobs that sleep JOB_SECONDS, each in its own namespace."""
        return [self.queue.add(SLEEP, f"n{i}/sleep-{JOB_SECONDS}") for i in range(count)]

    def start_worker(self, name: str) -> Worker:
        """Start a worker process in its own process group (so that the teardown can end its job processes)."""
        log = self.tmp_path / f"worker-{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, str(TESTS_DIR / "worker_test_entry.py")],
                env=self.env,
                cwd=self.tmp_path,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log)
        self.workers.append(worker)
        return worker

    def started_by(self, worker: Worker) -> Job | None:
        """A job this worker has started (and still holds), if any."""
        started = self.queue.get_pending(SLEEP)[JobStatus.STARTED]
        return next((job for job in started if pid_of(job.worker_id) == worker.pid), None)

    def wait_until_all_succeed(self, jobs: list[Job], timeout: float = 60) -> None:
        """Wait until every job is SUCCESS."""

        def done() -> bool:
            return all((job := self.queue.get(j.job_id)) is not None and job.status == JobStatus.SUCCESS for j in jobs)

        wait_for(done, timeout, "every job to succeed")

    def close(self) -> None:
        """Kill what is left of the workers (and their job processes), close the stores."""
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.process.wait(10)
        self.cache.close()
        self.queue.close()


@pytest.fixture
def stack(tmp_path: Path, hub_endpoint: str) -> Iterator[Stack]:
    running = Stack(tmp_path, hub_endpoint)
    yield running
    running.close()


def assert_each_job_succeeded_once(stack: Stack, jobs: list[Job]) -> None:
    """SUCCESS in the queue, a 200 entry in the cache, and exactly one `status=success` line over all workers.

    Call it once the workers have stopped: a worker logs a job after finishing it in the queue.
    """
    for job in jobs:
        current = stack.queue.get(job.job_id)
        assert current is not None and current.status == JobStatus.SUCCESS
        entry = stack.cache.get(SLEEP, job.dataset)
        assert entry is not None and (entry.http_status, loads(entry.content)) == (200, {"slept": True})
        successes = [line for w in stack.workers for line in w.job_lines(job.job_id) if "status=success" in line]
        assert len(successes) == 1, successes
    counts = stack.queue.count_by_status(SLEEP)
    assert (counts[JobStatus.STARTED], counts[JobStatus.WAITING], counts[JobStatus.SUCCESS]) == (0, 0, len(jobs))


def stop(worker: Worker) -> int:
    """SIGTERM, then the exit code."""
    worker.process.send_signal(signal.SIGTERM)
    return worker.process.wait(15)


def test_kill_9_of_a_worker_loop_requeues_its_job_for_another_worker(
    stack: Stack, app_config: AppConfig, record_property: Callable[[str, object], None]
) -> None:
    jobs = stack.add_jobs(4)
    a, b = stack.start_worker("a"), stack.start_worker("b")
    victim = wait_for(lambda: stack.started_by(a), 60, "worker a to start a job")

    killed_at = time.monotonic()
    os.kill(a.pid, signal.SIGKILL)
    assert a.process.wait(10) == -signal.SIGKILL

    def requeued() -> Job | None:
        job = stack.queue.get(victim.job_id)
        return job if job is not None and (job.status != JobStatus.STARTED or job.attempt > 1) else None

    wait_for(requeued, 15, "the zombie to be re-queued")
    requeue_seconds = time.monotonic() - killed_at
    record_property("zombie_requeue_seconds", round(requeue_seconds, 2))
    print(f"zombie re-queued {requeue_seconds:.2f} s after kill -9 (zombie after 1.5 s)")
    # 3 missing heartbeats (1.5 s) at most, checked every heartbeat interval by the live worker
    assert requeue_seconds < HEARTBEAT_SECONDS * (MAX_MISSING_HEARTBEATS + 1) + 3

    stack.wait_until_all_succeed(jobs)
    assert stop(b) == 0
    assert_each_job_succeeded_once(stack, jobs)
    done = stack.queue.get(victim.job_id)
    assert done is not None and done.attempt == 2 and pid_of(done.worker_id) == b.pid

    # The dead attempt comes back with a late result: fenced out everywhere.
    assert stack.queue.is_current(victim.job_id, 1) is False
    assert stack.queue.heartbeat(victim.job_id, 1) is False
    assert stack.queue.finish(victim.job_id, 1, JobStatus.ERROR) is False
    assert stack.queue.release(victim.job_id, 1) is False
    config = AppConfig(assets=app_config.assets, worker=WorkerConfig(job_types=(SLEEP,)))
    late = JobOutcome(http_status=200, content=b'{"late":true}')
    status, _ = Loop(config, stack.cache, stack.queue, graph=GRAPH, worker_id="zombie").conclude(victim, late)
    assert status == "lost"
    entry = stack.cache.get(SLEEP, victim.dataset)
    assert entry is not None and loads(entry.content) == {"slept": True}
    after = stack.queue.get(victim.job_id)
    assert after is not None and (after.status, after.attempt) == (JobStatus.SUCCESS, 2)


def test_kill_9_of_a_job_process_retries_the_job(stack: Stack) -> None:
    jobs = stack.add_jobs(3)
    a, _ = stack.start_worker("a"), stack.start_worker("b")
    victim = wait_for(lambda: stack.started_by(a), 60, "worker a to start a job")
    # worker a → forkserver → job process
    [job_process] = wait_for(
        lambda: [pid for child in children_of(a.pid) for pid in children_of(child)], 10, "the job process"
    )
    killed_at = time.monotonic()
    os.kill(job_process, signal.SIGKILL)

    def released() -> Job | None:
        job = stack.queue.get(victim.job_id)
        return job if job is not None and (job.status != JobStatus.STARTED or job.attempt > 1) else None

    wait_for(released, 10, "the crashed job to be released")
    print(f"crashed job released {time.monotonic() - killed_at:.2f} s after kill -9 of its process")

    stack.wait_until_all_succeed(jobs)
    assert a.process.poll() is None  # the loop survived its job's death
    assert [stop(worker) for worker in stack.workers] == [0, 0]
    assert_each_job_succeeded_once(stack, jobs)
    done = stack.queue.get(victim.job_id)
    assert done is not None and done.attempt == 2
    [crashed] = [line for line in a.job_lines(victim.job_id) if "status=released" in line]
    assert "error_code=JobCrashedError" in crashed and "killed by signal SIGKILL" in crashed


def test_sigterm_releases_the_job_and_exits_0_another_worker_completes_it(stack: Stack) -> None:
    jobs = stack.add_jobs(3)
    a, b = stack.start_worker("a"), stack.start_worker("b")
    victim = wait_for(lambda: stack.started_by(a), 60, "worker a to start a job")

    signalled_at = time.monotonic()
    assert stop(a) == 0
    exit_seconds = time.monotonic() - signalled_at
    print(f"worker exited {exit_seconds:.2f} s after SIGTERM")
    assert exit_seconds < 5
    released = stack.queue.get(victim.job_id)
    assert released is not None
    assert released.status == JobStatus.WAITING or (released.attempt == 2 and pid_of(released.worker_id) == b.pid)
    log = a.log.read_text()
    assert "worker stopped" in log and "signal=SIGTERM" in log
    assert [line for line in a.job_lines(victim.job_id) if "status=released" in line]

    stack.wait_until_all_succeed(jobs)
    assert stop(b) == 0
    assert_each_job_succeeded_once(stack, jobs)
    done = stack.queue.get(victim.job_id)
    assert done is not None and done.attempt == 2 and pid_of(done.worker_id) == b.pid
