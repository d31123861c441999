"""Admin service configuration: its own scope plus the shared libcommon scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from libcommon.config import CacheConfig, CommonConfig, QueueConfig
from libcommon.env import at_least, read

ADMIN_HOSTNAME: Final = "localhost"
ADMIN_PORT: Final = 8000
ADMIN_NUM_WORKERS: Final = 2
#: Number of results of one /cache-reports page.
ADMIN_CACHE_REPORTS_NUM_RESULTS: Final = 100
#: `max-age` of the admin responses (technical endpoints: short).
ADMIN_MAX_AGE_SECONDS: Final = 10


@dataclass(frozen=True)
class AdminConfig:
    """Where the admin API listens and how it pages and caches its answers."""

    hostname: str = ADMIN_HOSTNAME
    port: int = ADMIN_PORT
    num_workers: int = ADMIN_NUM_WORKERS
    cache_reports_num_results: int = ADMIN_CACHE_REPORTS_NUM_RESULTS
    max_age: int = ADMIN_MAX_AGE_SECONDS

    @classmethod
    def from_env(cls) -> AdminConfig:
        """Read the ADMIN_* variables (aliases: the original admin README's names)."""
        return cls(
            hostname=read(("ADMIN_HOSTNAME", "APP_HOSTNAME"), ADMIN_HOSTNAME),
            port=read(("ADMIN_PORT", "APP_PORT"), ADMIN_PORT, "int", validate=at_least(0)),
            num_workers=read(("ADMIN_NUM_WORKERS", "APP_NUM_WORKERS"), ADMIN_NUM_WORKERS, "int", validate=at_least(1)),
            cache_reports_num_results=read(
                ("ADMIN_CACHE_REPORTS_NUM_RESULTS", "CACHE_REPORTS_NUM_RESULTS"),
                ADMIN_CACHE_REPORTS_NUM_RESULTS,
                "int",
                validate=at_least(1),
            ),
            max_age=read(("ADMIN_MAX_AGE_SECONDS", "MAX_AGE_SHORT_SECONDS"), ADMIN_MAX_AGE_SECONDS, "int"),
        )


@dataclass(frozen=True)
class AppConfig:
    """Everything the admin service reads at start-up."""

    admin: AdminConfig = field(default_factory=AdminConfig)
    common: CommonConfig = field(default_factory=CommonConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)

    @classmethod
    def from_env(cls) -> AppConfig:
        """Parse every scope once."""
        return cls(
            admin=AdminConfig.from_env(),
            common=CommonConfig.from_env(),
            cache=CacheConfig.from_env(),
            queue=QueueConfig.from_env(),
        )
