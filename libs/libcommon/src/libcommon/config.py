"""Configuration shared by every process, one frozen dataclass per scope.

The scoped names (`COMMON_HF_ENDPOINT`, `CACHE_MONGO_URL`, ...) are primary; the names of the older
service READMEs (`HF_ENDPOINT`, `MONGO_URL`, `ASSETS_DIRECTORY`, ...) are accepted as aliases, and the
scoped name wins when both are set. Each `from_env` raises `ConfigError` naming the variable when a value
is invalid; entry points turn that into a one-line message and a non-zero exit (`exit_on_config_error`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from platformdirs import user_cache_dir

from libcommon.env import ConfigError, http_url, one_of, read, store_url

T = TypeVar("T")

#: Public base URL of the asset files; relative by default, as in the original services.
ASSETS_BASE_URL: Final = "assets"
#: Sub-directory of the OS user cache dir used when no assets directory is configured.
ASSETS_DEFAULT_SUBDIRECTORY: Final = "datasets_server_assets"
COMMON_HF_ENDPOINT: Final = "https://huggingface.co"
COMMON_LOG_LEVEL: Final = "INFO"
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MONGO_URL: Final = "mongodb://localhost:27017"
CACHE_MONGO_DATABASE: Final = "datasets_server_cache"
QUEUE_MONGO_DATABASE: Final = "datasets_server_queue"
#: At most this many started jobs per namespace and job type (a value < 1 means no limit).
QUEUE_MAX_JOBS_PER_NAMESPACE: Final = 1


@dataclass(frozen=True)
class AssetsConfig:
    """Where image and audio files are written, and the public URL they are served under."""

    base_url: str = ASSETS_BASE_URL
    storage_directory: Path = field(default_factory=lambda: Path(user_cache_dir(ASSETS_DEFAULT_SUBDIRECTORY)))

    @classmethod
    def from_env(cls) -> AssetsConfig:
        """Read ASSETS_BASE_URL and ASSETS_STORAGE_DIRECTORY (alias ASSETS_DIRECTORY)."""
        default = cls()
        return cls(
            base_url=read("ASSETS_BASE_URL", default.base_url).rstrip("/") or "/",
            storage_directory=read(("ASSETS_STORAGE_DIRECTORY", "ASSETS_DIRECTORY"), default.storage_directory, "path")
            .expanduser()
            .absolute(),
        )


@dataclass(frozen=True)
class CommonConfig:
    """Hub endpoint and token, log level."""

    hf_endpoint: str = COMMON_HF_ENDPOINT
    hf_token: str | None = field(default=None, repr=False)
    log_level: str = COMMON_LOG_LEVEL

    @classmethod
    def from_env(cls) -> CommonConfig:
        """Read COMMON_HF_ENDPOINT, COMMON_HF_TOKEN, COMMON_LOG_LEVEL (aliases without the prefix)."""
        return cls(
            # A trailing slash breaks the `datasets` library (it builds `//datasets/...` URLs): drop it.
            hf_endpoint=read(("COMMON_HF_ENDPOINT", "HF_ENDPOINT"), COMMON_HF_ENDPOINT, validate=http_url).rstrip("/"),
            hf_token=read(("COMMON_HF_TOKEN", "HF_TOKEN"), None),
            log_level=read(
                ("COMMON_LOG_LEVEL", "LOG_LEVEL"),
                COMMON_LOG_LEVEL,
                validate=lambda v: one_of(LOG_LEVELS)(v.upper()),
            ).upper(),
        )


@dataclass(frozen=True)
class CacheConfig:
    """Where the cache of precomputed responses is stored (MongoDB or SQLite, chosen by URL scheme)."""

    mongo_url: str = MONGO_URL
    mongo_database: str = CACHE_MONGO_DATABASE

    @classmethod
    def from_env(cls) -> CacheConfig:
        """Read CACHE_MONGO_URL (alias MONGO_URL) and CACHE_MONGO_DATABASE (alias MONGO_CACHE_DATABASE)."""
        return cls(
            mongo_url=read(("CACHE_MONGO_URL", "MONGO_URL"), MONGO_URL, validate=store_url),
            mongo_database=read(("CACHE_MONGO_DATABASE", "MONGO_CACHE_DATABASE"), CACHE_MONGO_DATABASE),
        )


@dataclass(frozen=True)
class QueueConfig:
    """Where the job queue is stored, and the per-namespace concurrency limit."""

    max_jobs_per_namespace: int = QUEUE_MAX_JOBS_PER_NAMESPACE
    mongo_url: str = MONGO_URL
    mongo_database: str = QUEUE_MONGO_DATABASE

    @classmethod
    def from_env(cls) -> QueueConfig:
        """Read QUEUE_MAX_JOBS_PER_NAMESPACE, QUEUE_MONGO_URL (alias MONGO_URL), QUEUE_MONGO_DATABASE."""
        return cls(
            max_jobs_per_namespace=read("QUEUE_MAX_JOBS_PER_NAMESPACE", QUEUE_MAX_JOBS_PER_NAMESPACE, "int"),
            mongo_url=read(("QUEUE_MONGO_URL", "MONGO_URL"), MONGO_URL, validate=store_url),
            mongo_database=read(("QUEUE_MONGO_DATABASE", "MONGO_QUEUE_DATABASE"), QUEUE_MONGO_DATABASE),
        )


def exit_on_config_error(load: Callable[[], T]) -> T:
    """Run `load`; on ConfigError print one line naming the variable and exit with status 2."""
    try:
        return load()
    except ConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
