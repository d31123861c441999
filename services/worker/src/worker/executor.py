"""Running one job in a child process, with a time limit, a memory limit and a keep-alive callback.

Dataset code is hostile territory (aborts at exit, hangs, huge cells), so every job runs in its own process
forked from a forkserver that imported the heavy libraries once. The child sends one message back: the
serialised outcome. Whatever happens to the child (signal, abort, limit), the caller gets a JobOutcome
or a JobAbandoned, never an exception caused by the job.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.process
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

from libcommon.errors import DatasetsServerError, UnexpectedError
from libcommon.log import configure_logging
from libcommon.serialization import dumps
from worker.config import AppConfig
from worker.dtos import JobAbandoned, JobInfo, JobOutcome
from worker.environment import check_hub_environment, configure_hub_environment
from worker.errors import JobCrashedError, JobMemoryExceededError, JobTimeoutError, public_message
from worker.job_runners import BUILTIN_RUNNER_MODULES, get_runner

logger = logging.getLogger(__name__)

#: Imported once by the forkserver, so that each job's process starts with them loaded.
PRELOAD_MODULES: Final = [
    "datasets",
    "huggingface_hub",
    "pyarrow.parquet",
    "PIL.Image",
    "soundfile",
    "worker.hub",
    *BUILTIN_RUNNER_MODULES,
]
#: How often the supervisor checks the child (message, exit, time, memory) and calls keep_alive.
POLL_INTERVAL_SECONDS: Final = 0.1
#: Extra time after the job duration limit before a job process whose supervisor died ends itself.
ALARM_GRACE_SECONDS: Final = 60
_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")


def outcome_from_error(error: BaseException) -> JobOutcome:
    """The outcome of a failed job: an error with a code is kept, anything else becomes UnexpectedError.

    The body holds the public message only; the cause (type, message, traceback) is in `details`.
    """
    if not isinstance(error, DatasetsServerError):
        error = UnexpectedError(cause=error)
    return JobOutcome(
        http_status=int(error.status),
        content=dumps({**error.as_content(), "error": public_message(error)}),
        error_code=error.code,
        details=dumps(error.as_details()),
        retryable=type(error).retryable,
        stored=getattr(type(error), "stored", True),
    )


def run_job_here(job: JobInfo, config: AppConfig, runner_modules: Sequence[str]) -> JobOutcome:
    """Run the job's runner in the current process and turn its result or error into a JobOutcome."""
    try:
        check_hub_environment(config.common)
        runner = get_runner(job.type, runner_modules)
        result = runner(job, config)
        return JobOutcome(
            http_status=200,
            content=dumps(result.content),
            children=list(result.children),
            dataset_git_revision=result.dataset_git_revision,
        )
    except Exception as err:
        return outcome_from_error(err)


def _child_main(connection: Connection, job: JobInfo, config: AppConfig, runner_modules: Sequence[str]) -> None:
    # The supervisor decides when the child dies: ^C in a terminal must not kill it behind the loop's back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Safety net if the supervisor dies without killing us: SIGALRM's default action ends the process.
    signal.alarm(int(config.worker.max_job_duration_seconds) + ALARM_GRACE_SECONDS)
    configure_logging(config.common.log_level)
    # huggingface_hub's HTTP client logs every request at INFO (and may log URLs): keep it quiet.
    logging.getLogger("httpx2").setLevel(max(logging.WARNING, logging.getLevelName(config.common.log_level)))
    # tqdm (used by datasets) would create a named semaphore for its lock, which os._exit below would leak
    # in /dev/shm: give it a plain thread lock instead.
    import tqdm  # type: ignore[import-untyped]

    tqdm.tqdm.set_lock(threading.RLock())
    outcome = run_job_here(job, config, runner_modules)
    try:
        connection.send(outcome)
        connection.close()
        exit_code = 0
    except OSError:
        exit_code = 1  # the supervisor is gone (killed): nobody waits for this outcome
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter finalisation: Arrow and fsspec threads can abort or hang it after partial reads.
    os._exit(exit_code)


def _warm_up() -> None:
    """Target of the process that `Executor.start` forks to wait for the forkserver."""


def resident_memory_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (0 if it cannot be read, e.g. the process is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


class Executor:
    """Starts job processes from a forkserver and supervises them."""

    def __init__(self, config: AppConfig, runner_modules: Sequence[str] = BUILTIN_RUNNER_MODULES) -> None:
        self.config = config
        self.runner_modules = tuple(runner_modules)
        # The forkserver inherits this process's environment when it starts: set the Hub's first.
        configure_hub_environment(config.common)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([*PRELOAD_MODULES, *self.runner_modules])

    def start(self) -> None:
        """Start the forkserver and wait until it has imported the libraries, instead of on the first job.

        A job claimed before that would spend the import time (seconds) without heartbeats or a time limit.
        """
        multiprocessing.forkserver.ensure_running()
        warm_up = self._context.Process(target=_warm_up, name="warm-up")
        warm_up.start()  # returns once the forkserver, done with its imports, has forked the process
        warm_up.join()
        warm_up.close()

    def run(
        self,
        job: JobInfo,
        keep_alive: Callable[[], bool],
        should_stop: Callable[[], bool],
        assets_directory: Path | None = None,
    ) -> JobOutcome | JobAbandoned:
        """Run `job` in a child process and wait for its outcome.

        The job writes its asset files under `assets_directory` when given (a staging directory), else
        under the configured one.

        `keep_alive` is called about every POLL_INTERVAL_SECONDS; when it returns False the job was taken
        away: the child is killed and JobAbandoned("lost") returned. When `should_stop` returns True the
        child is killed and JobAbandoned("stopped") returned. Time and memory limits kill the child and
        give JobTimeoutError / JobMemoryExceededError; a child that dies without answering gives
        JobCrashedError.
        """
        limits = self.config.worker
        config = self.config
        if assets_directory is not None:
            config = replace(config, assets=replace(config.assets, storage_directory=assets_directory))
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_child_main, args=(sender, job, config, self.runner_modules), name=f"job-{job.job_id}"
        )
        process.start()
        sender.close()  # only the child holds the sending end now, so its death closes the pipe
        deadline = time.monotonic() + limits.max_job_duration_seconds
        answered = False
        try:
            while True:
                if receiver.poll(POLL_INTERVAL_SECONDS):
                    try:
                        message = receiver.recv()
                    except (EOFError, OSError):
                        process.join(5)
                        return self._crashed(process.exitcode)
                    answered = True
                    if isinstance(message, JobOutcome):
                        return message
                    return outcome_from_error(RuntimeError(f"unexpected message from the job: {message!r}"))
                if not process.is_alive():
                    if receiver.poll(0):
                        continue  # the answer arrived between the poll and the exit
                    return self._crashed(process.exitcode)
                if time.monotonic() > deadline:
                    return outcome_from_error(
                        JobTimeoutError(cause=TimeoutError(f"killed after {limits.max_job_duration_seconds} s"))
                    )
                memory = resident_memory_bytes(process.pid) if process.pid else 0
                if limits.max_job_memory_bytes and memory > limits.max_job_memory_bytes:
                    return outcome_from_error(
                        JobMemoryExceededError(
                            cause=MemoryError(f"resident memory {memory} B > {limits.max_job_memory_bytes} B")
                        )
                    )
                if should_stop():
                    return JobAbandoned("stopped")
                if not keep_alive():
                    return JobAbandoned("lost")
        finally:
            receiver.close()
            self._reap(process, answered)

    @staticmethod
    def _crashed(exitcode: int | None) -> JobOutcome:
        if exitcode is not None and exitcode < 0:
            try:
                how = f"was killed by signal {signal.Signals(-exitcode).name}"
            except ValueError:
                how = f"was killed by signal {-exitcode}"
        else:
            how = f"exited with code {exitcode} without a result"
        return outcome_from_error(JobCrashedError(cause=ChildProcessError(f"the job process {how}")))

    @staticmethod
    def _reap(process: multiprocessing.process.BaseProcess, answered: bool) -> None:
        if answered:
            process.join(1)  # a child that answered exits at once
        if process.is_alive():
            process.kill()
        process.join(10)
        if process.is_alive():
            logger.error("the job process %s did not exit after SIGKILL", process.pid)
        else:
            process.close()
