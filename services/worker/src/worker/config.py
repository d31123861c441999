"""Configuration of the worker, parsed once at start-up from the environment.

Scoped names (`WORKER_*`, `FIRST_ROWS_*`) are primary; the seeds' older names (`MAX_JOB_RETRIES`,
`ROWS_MAX_NUMBER`, ...) are accepted as aliases. Invalid values raise `ConfigError` naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from libcommon.config import AssetsConfig, CacheConfig, CommonConfig, QueueConfig
from libcommon.env import ConfigError, at_least, read
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, ProcessingGraph

WORKER_SLEEP_SECONDS: Final = 15.0
WORKER_HEARTBEAT_INTERVAL_SECONDS: Final = 10.0
WORKER_MAX_MISSING_HEARTBEATS: Final = 3
WORKER_MAX_JOB_DURATION_SECONDS: Final = 1200.0
WORKER_MAX_JOB_MEMORY_BYTES: Final = 8 * 1024**3
WORKER_MAX_ATTEMPTS: Final = 3
WORKER_MAX_LOAD_PCT: Final = 70.0
WORKER_MAX_MEMORY_PCT: Final = 80.0

FIRST_ROWS_MAX_NUMBER: Final = 100
FIRST_ROWS_MIN_NUMBER: Final = 10
FIRST_ROWS_MAX_BYTES: Final = 1_000_000
FIRST_ROWS_MIN_CELL_BYTES: Final = 100
#: Below MongoDB's 16 MiB document limit, with room for the entry's other fields.
FIRST_ROWS_MAX_RESPONSE_BYTES: Final = 10_000_000


@dataclass(frozen=True)
class WorkerConfig:
    """The loop: which job types it serves, how it sleeps, heartbeats, retries, and limits each job."""

    #: Step names (= job types) this process serves; empty means every step of the graph.
    job_types: tuple[str, ...] = ()
    sleep_seconds: float = WORKER_SLEEP_SECONDS
    heartbeat_interval_seconds: float = WORKER_HEARTBEAT_INTERVAL_SECONDS
    #: A started job is a zombie once its heartbeat is older than interval × this.
    max_missing_heartbeats: int = WORKER_MAX_MISSING_HEARTBEATS
    max_job_duration_seconds: float = WORKER_MAX_JOB_DURATION_SECONDS
    #: Resident memory limit of the process running a job; 0 means no limit.
    max_job_memory_bytes: int = WORKER_MAX_JOB_MEMORY_BYTES
    #: Runs of a job, the first one included (the legacy MAX_JOB_RETRIES counts the runs after the first).
    max_attempts: int = WORKER_MAX_ATTEMPTS
    #: No job is claimed while max(load1, load5) / CPUs is at or above this percentage; 0 disables the check.
    max_load_pct: float = WORKER_MAX_LOAD_PCT
    #: No job is claimed while the used memory is at or above this percentage; 0 disables the check.
    max_memory_pct: float = WORKER_MAX_MEMORY_PCT

    @property
    def zombie_after_seconds(self) -> float:
        """Age of the last heartbeat after which a started job is considered dead."""
        return self.heartbeat_interval_seconds * self.max_missing_heartbeats

    @staticmethod
    def _max_attempts_from_env() -> int:
        attempts: int | None = read("WORKER_MAX_ATTEMPTS", None, "int", validate=at_least(1))
        if attempts is not None:
            return attempts
        retries: int = read("MAX_JOB_RETRIES", WORKER_MAX_ATTEMPTS - 1, "int", validate=at_least(0))
        return retries + 1

    @classmethod
    def from_env(cls, graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH) -> WorkerConfig:
        """Read the WORKER_* variables (and their legacy aliases); job types must be steps of `graph`.

        WORKER_MAX_ATTEMPTS counts runs; the legacy MAX_JOB_RETRIES counts retries, so it gives
        `MAX_JOB_RETRIES + 1` attempts (as in the original: 3 retries = up to 4 runs). The scoped name wins.
        """
        listed: list[str] = read("WORKER_JOB_TYPES", [], "list")
        job_types = tuple(name.strip() for name in listed if name.strip())
        unknown = [t for t in job_types if t not in graph]
        if unknown:
            raise ConfigError(
                f"WORKER_JOB_TYPES: unknown job type(s) {', '.join(unknown)} (known: {', '.join(graph.names)})"
            )
        return cls(
            job_types=job_types or tuple(graph.names),
            sleep_seconds=read("WORKER_SLEEP_SECONDS", WORKER_SLEEP_SECONDS, "float", validate=at_least(0)),
            heartbeat_interval_seconds=read(
                "WORKER_HEARTBEAT_INTERVAL_SECONDS", WORKER_HEARTBEAT_INTERVAL_SECONDS, "float", validate=at_least(0.1)
            ),
            max_missing_heartbeats=read(
                "WORKER_MAX_MISSING_HEARTBEATS", WORKER_MAX_MISSING_HEARTBEATS, "int", validate=at_least(1)
            ),
            max_job_duration_seconds=read(
                "WORKER_MAX_JOB_DURATION_SECONDS", WORKER_MAX_JOB_DURATION_SECONDS, "float", validate=at_least(1)
            ),
            max_job_memory_bytes=read(
                "WORKER_MAX_JOB_MEMORY_BYTES", WORKER_MAX_JOB_MEMORY_BYTES, "int", validate=at_least(0)
            ),
            max_attempts=cls._max_attempts_from_env(),
            max_load_pct=read(
                ("WORKER_MAX_LOAD_PCT", "MAX_LOAD_PCT"), WORKER_MAX_LOAD_PCT, "float", validate=at_least(0)
            ),
            max_memory_pct=read(
                ("WORKER_MAX_MEMORY_PCT", "MAX_MEMORY_PCT"), WORKER_MAX_MEMORY_PCT, "float", validate=at_least(0)
            ),
        )


@dataclass(frozen=True)
class FirstRowsConfig:
    """Limits of the `/first-rows` responses."""

    max_number: int = FIRST_ROWS_MAX_NUMBER
    min_number: int = FIRST_ROWS_MIN_NUMBER
    max_bytes: int = FIRST_ROWS_MAX_BYTES
    min_cell_bytes: int = FIRST_ROWS_MIN_CELL_BYTES
    #: Hard cap on the serialised response, features included (see `worker.truncation.fit_response`).
    max_response_bytes: int = FIRST_ROWS_MAX_RESPONSE_BYTES

    @classmethod
    def from_env(cls) -> FirstRowsConfig:
        """Read FIRST_ROWS_* (aliases ROWS_MAX_NUMBER, ROWS_MIN_NUMBER, ROWS_MAX_BYTES, MIN_CELL_BYTES)."""
        config = cls(
            max_number=read(
                ("FIRST_ROWS_MAX_NUMBER", "ROWS_MAX_NUMBER"), FIRST_ROWS_MAX_NUMBER, "int", validate=at_least(1)
            ),
            min_number=read(
                ("FIRST_ROWS_MIN_NUMBER", "ROWS_MIN_NUMBER"), FIRST_ROWS_MIN_NUMBER, "int", validate=at_least(0)
            ),
            max_bytes=read(
                ("FIRST_ROWS_MAX_BYTES", "ROWS_MAX_BYTES"), FIRST_ROWS_MAX_BYTES, "int", validate=at_least(1)
            ),
            min_cell_bytes=read(
                ("FIRST_ROWS_MIN_CELL_BYTES", "MIN_CELL_BYTES"), FIRST_ROWS_MIN_CELL_BYTES, "int", validate=at_least(0)
            ),
            max_response_bytes=read(
                "FIRST_ROWS_MAX_RESPONSE_BYTES", FIRST_ROWS_MAX_RESPONSE_BYTES, "int", validate=at_least(1)
            ),
        )
        if config.min_number > config.max_number:
            raise ConfigError(
                f"FIRST_ROWS_MIN_NUMBER ({config.min_number}) must not exceed"
                f" FIRST_ROWS_MAX_NUMBER ({config.max_number})"
            )
        return config


@dataclass(frozen=True)
class AppConfig:
    """Everything the worker reads from the environment."""

    assets: AssetsConfig = field(default_factory=AssetsConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    common: CommonConfig = field(default_factory=CommonConfig)
    first_rows: FirstRowsConfig = field(default_factory=FirstRowsConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)

    @classmethod
    def from_env(cls, graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH) -> AppConfig:
        """Read every scope; raises ConfigError naming the first invalid variable."""
        return cls(
            assets=AssetsConfig.from_env(),
            cache=CacheConfig.from_env(),
            common=CommonConfig.from_env(),
            first_rows=FirstRowsConfig.from_env(),
            queue=QueueConfig.from_env(),
            worker=WorkerConfig.from_env(graph),
        )
