"""The worker loop: claim a job, run it in a child process, store the outcome, enqueue the children.

Nothing a job does can end the loop: crashes, timeouts and memory overruns come back as outcomes, and an
error of the stores is logged and followed by a pause. Writes are fenced by (job_id, attempt): a job taken
away from this worker (heartbeat refused) never writes its result. No job is claimed while the machine is
too busy (`worker.resources`).

Asset files: a job writes them under its own staging directory; when its result is accepted, the split's
directory is swapped with the staged one (`libcommon.assets.publish_split_dir`), so the API never serves a
half-written split and a rerun leaves exactly the current files. Directories of splits and configs that
the parent step no longer lists, of splits whose entry became an error, and of datasets that no longer
exist are deleted.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Final

from libcommon.assets import (
    delete_asset_dirs,
    delete_old_staging_directories,
    delete_staging_directory,
    prune_asset_dirs,
    publish_split_dir,
    staging_directory,
)
from libcommon.clock import utc_now
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, FIRST_ROWS, ProcessingGraph, ProcessingStep
from libcommon.serialization import dumps
from libcommon.storage import CacheStore, Job, JobQueue, JobStatus
from worker.config import AppConfig
from worker.dtos import JobAbandoned, JobInfo, JobOutcome, Key
from worker.errors import DatasetNotFoundError, JobCrashedError, details_summary
from worker.executor import Executor
from worker.resources import ResourceGate

logger = logging.getLogger(__name__)

#: Steps whose jobs write asset files, one directory per split (`<dataset>/--/<config>/<split>`).
ASSET_STEPS: Final = (FIRST_ROWS,)
#: The pause between polls is `sleep_seconds` times a random factor in this range, so that workers
#: started together do not poll the queue in step.
SLEEP_JITTER: Final = (0.75, 1.25)


def new_worker_id() -> str:
    """A unique id for this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def child_keys(step: ProcessingStep, keys: Sequence[Key]) -> list[Key]:
    """The keys a child step is enqueued for, reduced to its input level, unique, in first-seen order."""
    if step.input_type == "dataset":
        reduced: list[Key] = [(None, None)]
    elif step.input_type == "config":
        reduced = [(config, None) for config, _ in keys]
    else:
        reduced = list(keys)
    return list(dict.fromkeys(reduced))


class Loop:
    """Claims and processes jobs of `config.worker.job_types` until stopped."""

    def __init__(
        self,
        config: AppConfig,
        cache: CacheStore,
        queue: JobQueue,
        graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH,
        executor: Executor | None = None,
        worker_id: str | None = None,
        resources: ResourceGate | None = None,
        asset_steps: Collection[str] = ASSET_STEPS,
    ) -> None:
        self.config = config
        self.cache = cache
        self.queue = queue
        self.graph = graph
        self.executor = executor or Executor(config)
        self.worker_id = worker_id or new_worker_id()
        self.resources = resources or ResourceGate(config.worker.max_load_pct, config.worker.max_memory_pct)
        self.asset_steps = frozenset(asset_steps)
        self.assets_directory = config.assets.storage_directory
        self.job_types = list(config.worker.job_types or graph.names)
        unknown = [job_type for job_type in self.job_types if job_type not in graph]
        if unknown:
            raise ValueError(f"job types not in the processing graph: {', '.join(unknown)}")
        self._stop = threading.Event()
        #: Set when the last job was released for a retry: pause before claiming again, so that a failing Hub
        #: or a crashing dataset is not hammered in a tight loop.
        self._pause = False
        self._next_heartbeat = 0.0
        self._next_zombie_check = 0.0
        self._stopped_by: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def run(self) -> None:
        """Process jobs until SIGTERM/SIGINT (or `stop()`); the current job is finished or released first."""
        self._install_signal_handlers()
        logger.info("worker started", extra={"worker_id": self.worker_id, "job_types": ",".join(self.job_types)})
        # Left by workers killed in the middle of a job; a job never lives longer than its duration limit.
        older_than = 2 * self.config.worker.max_job_duration_seconds
        self._clean_assets(lambda: delete_old_staging_directories(self.assets_directory, older_than))
        self.executor.start()
        while not self._stop.is_set():
            try:
                self.requeue_zombies_if_due()
                if self.resources.allows_claim() and self.process_next_job() and not self._pause:
                    continue
            except Exception:
                logger.exception("worker loop error, pausing")
            self._stop.wait(self.sleep_duration())
        logger.info("worker stopped", extra={"worker_id": self.worker_id, "signal": self._stopped_by})

    def sleep_duration(self) -> float:
        """The next pause: `sleep_seconds` × a random factor in SLEEP_JITTER."""
        return self.config.worker.sleep_seconds * random.uniform(*SLEEP_JITTER)

    def stop(self) -> None:
        """Ask the loop to stop: it releases or finishes the current job, then returns from `run`."""
        self._stop.set()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handle(signum: int, _frame: FrameType | None) -> None:
            # No logging here: the handler may interrupt the main thread in the middle of a log call.
            self._stopped_by = signal.Signals(signum).name
            self.stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    # -- one job -----------------------------------------------------------------------------------------

    def process_next_job(self) -> bool:
        """Claim one job and process it. False if there was no job to claim."""
        job = self.queue.claim(self.job_types, self.worker_id)
        if job is None:
            return False
        started = time.monotonic()
        self._next_heartbeat = started + self.config.worker.heartbeat_interval_seconds
        staging_name = f"{job.job_id}-{job.attempt}"
        staging = staging_directory(self.assets_directory, staging_name)
        try:
            result = self.executor.run(
                JobInfo.from_job(job),
                keep_alive=lambda: self._keep_alive(job),
                should_stop=self._stop.is_set,
                assets_directory=staging,
            )
            status, outcome = self.conclude(job, result, staging)
        finally:
            self._clean_assets(lambda: delete_staging_directory(self.assets_directory, staging_name))
        self._pause = status == "released"
        logger.info(
            "job finished",
            extra={
                "job_id": job.job_id,
                "job_type": job.type,
                "dataset": job.dataset,
                "config": job.config,
                "split": job.split,
                "attempt": job.attempt,
                "status": status,
                "http_status": outcome.http_status if outcome else None,
                "error_code": outcome.error_code if outcome else None,
                "cause": details_summary(outcome.details) if outcome else None,
                "duration": round(time.monotonic() - started, 3),
            },
        )
        return True

    def _keep_alive(self, job: Job) -> bool:
        now = time.monotonic()
        if now < self._next_heartbeat:
            return True
        self._next_heartbeat = now + self.config.worker.heartbeat_interval_seconds
        try:
            alive = self.queue.heartbeat(job.job_id, job.attempt)
        except Exception:
            # The store may be briefly unreachable: keep working; the fenced writes decide at the end.
            logger.warning("heartbeat failed", exc_info=True, extra={"job_id": job.job_id})
            return True
        try:
            self.requeue_zombies_if_due()
        except Exception:
            logger.warning("zombie check failed", exc_info=True)
        return alive

    def conclude(
        self, job: Job, result: JobOutcome | JobAbandoned, staging: Path | None = None
    ) -> tuple[str, JobOutcome | None]:
        """Write what `result` means for `job` (fenced by its attempt) and say what happened.

        Returns the status (`success`, `error`, `released` or `lost`) and the outcome. Released: given
        back for a retry (retryable error before the last attempt, or shutdown). Lost: the job is no longer
        this worker's (re-queued as a zombie, cancelled): nothing is written. The asset files the job wrote
        under `staging` are published on success.
        """
        if isinstance(result, JobAbandoned):
            if result.reason == "stopped":
                self.queue.release(job.job_id, job.attempt)
                return "released", None
            return "lost", None
        if not result.is_success and result.retryable and job.attempt < self.config.worker.max_attempts:
            released = self.queue.release(job.job_id, job.attempt)
            return ("released" if released else "lost"), result
        if not self.queue.is_current(job.job_id, job.attempt):
            return "lost", result
        step = self.graph.get(job.type)
        if result.is_success:
            if self._owns_split_assets(step) and staging is not None:
                publish_split_dir(self.assets_directory, staging, job.dataset, str(job.config), str(job.split))
            self._store(step, job, result)
            self._update_children(step, job, result.children)
            finished = self.queue.finish(job.job_id, job.attempt, JobStatus.SUCCESS)
            return ("success" if finished else "lost"), result
        if result.stored:
            self._store(step, job, result)
        elif result.error_code == DatasetNotFoundError.code:
            # The dataset does not exist (or is private now): stop serving what was computed before.
            self.cache.delete_dataset(job.dataset)
            self._clean_assets(lambda: delete_asset_dirs(self.assets_directory, job.dataset))
        else:
            self.cache.delete(step.cache_kind, job.dataset, job.config, job.split)
        self._forget_split_assets(step, job.dataset, job.config, job.split)
        finished = self.queue.finish(job.job_id, job.attempt, JobStatus.ERROR)
        return ("error" if finished else "lost"), result

    def _owns_split_assets(self, step: ProcessingStep) -> bool:
        return step.name in self.asset_steps and step.input_type == "split"

    def _forget_split_assets(self, step: ProcessingStep, dataset: str, config: str | None, split: str | None) -> None:
        """The split's entry is an error now (or gone): its asset files are not referenced any more."""
        if self._owns_split_assets(step) and config is not None and split is not None:
            self._clean_assets(lambda: delete_asset_dirs(self.assets_directory, dataset, config, split))

    @staticmethod
    def _clean_assets(deletion: Callable[[], object]) -> None:
        # Leftover files must not fail a job whose result is already decided: log and go on.
        try:
            deletion()
        except Exception:
            logger.warning("could not delete asset files", exc_info=True)

    def _store(self, step: ProcessingStep, job: Job, outcome: JobOutcome) -> None:
        self.cache.upsert(
            step.cache_kind,
            job.dataset,
            job.config,
            job.split,
            content=outcome.content,
            http_status=outcome.http_status,
            error_code=outcome.error_code,
            details=outcome.details,
            job_runner_version=step.job_runner_version,
            dataset_git_revision=outcome.dataset_git_revision,
        )

    def _update_children(self, step: ProcessingStep, job: Job, keys: Sequence[Key]) -> None:
        for child in self.graph.children(step.name):
            wanted = child_keys(child, keys)
            for config, split in wanted:
                self.queue.add(child.job_type, job.dataset, config, split, priority=job.priority)
            for obsolete in set(self.cache.list_keys(child.cache_kind, job.dataset)) - set(wanted):
                self.cache.delete(child.cache_kind, job.dataset, *obsolete)
            if self._owns_split_assets(child):
                kept = [(config, split) for config, split in wanted if config is not None and split is not None]
                self._clean_assets(partial(prune_asset_dirs, self.assets_directory, job.dataset, kept))

    # -- zombies -----------------------------------------------------------------------------------------

    def requeue_zombies_if_due(self) -> None:
        """Every heartbeat interval: put back jobs whose worker died; write JobCrashedError for the last tries."""
        now = time.monotonic()
        if now < self._next_zombie_check:
            return
        self._next_zombie_check = now + self.config.worker.heartbeat_interval_seconds
        limit = utc_now() - timedelta(seconds=self.config.worker.zombie_after_seconds)
        for zombie in self.queue.requeue_zombies(limit, self.config.worker.max_attempts):
            logger.warning(
                "zombie job requeued" if zombie.status == JobStatus.WAITING else "zombie job failed",
                extra={"job_id": zombie.job_id, "job_type": zombie.type, "dataset": zombie.dataset},
            )
            if zombie.status == JobStatus.ERROR and zombie.type in self.graph:
                step = self.graph.get(zombie.type)
                error = JobCrashedError(cause=ChildProcessError(f"no heartbeat since {zombie.last_heartbeat}"))
                self.cache.upsert(
                    step.cache_kind,
                    zombie.dataset,
                    zombie.config,
                    zombie.split,
                    content=dumps(error.as_content()),
                    http_status=int(error.status),
                    error_code=error.code,
                    details=dumps(error.as_details()),
                    job_runner_version=step.job_runner_version,
                )
                self._forget_split_assets(step, zombie.dataset, zombie.config, zombie.split)
