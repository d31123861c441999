"""Configuration of the API service: `ApiConfig` (its own variables) and `AppConfig` (everything it reads).

Scoped names (`API_PORT`, ...) are primary; the names of the seed README (`APP_PORT`, `HF_AUTH_PATH`,
`MAX_AGE_LONG_SECONDS`, ...) are accepted as aliases. Invalid values raise `ConfigError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from marshmallow import ValidationError

from libcommon.config import AssetsConfig, CacheConfig, CommonConfig, QueueConfig
from libcommon.env import at_least, read

API_HOSTNAME: Final = "localhost"
API_PORT: Final = 8000
API_NUM_WORKERS: Final = 2
API_MAX_AGE_LONG_SECONDS: Final = 120
API_MAX_AGE_SHORT_SECONDS: Final = 10
API_HF_AUTH_PATH: Final = "/api/datasets/%s/auth-check"
#: Generous on purpose: the original's 0.2 s dropped over half of the requests when the Hub was slow
#: (dataset-viewer#950), and a timeout fails closed (the caller gets a 503, not the data).
API_HF_TIMEOUT_SECONDS: Final = 10.0

_AUTH_PATH_NAMES: Final = ("API_HF_AUTH_PATH", "HF_AUTH_PATH")


def _port(value: int) -> None:
    if not 1 <= value <= 65535:
        raise ValidationError(f"must be a TCP port between 1 and 65535, got {value}")


def auth_path_template(value: str) -> None:
    """Validator: a path starting with `/` that contains `%s` once and no other `%` placeholder."""
    if not value.startswith("/"):
        raise ValidationError(f"must start with '/', got {value!r}")
    if value.count("%s") != 1:
        raise ValidationError(f"must contain '%s' exactly once (replaced by the dataset name), got {value!r}")
    try:
        value % "dataset"
    except (TypeError, ValueError):
        raise ValidationError(f"must not contain '%' placeholders other than '%s', got {value!r}") from None


def _read_auth_path(default: str | None) -> str | None:
    # `read` treats a blank value as unset (then the default applies), but the seeds document that an
    # EMPTY HF_AUTH_PATH disables the Hub check: the first of the names present in the environment
    # decides, and a blank value there means "disabled".
    for name in _AUTH_PATH_NAMES:
        raw = os.environ.get(name)
        if raw is None:
            continue
        if not raw.strip():
            return None
        value: str = read(name, API_HF_AUTH_PATH, validate=auth_path_template)
        return value
    return default


@dataclass(frozen=True)
class ApiConfig:
    """Where the API listens, its cache headers and how it checks access with the Hub.

    `hf_auth_path` None means the Hub access check is disabled (every dataset is public).
    """

    hostname: str = API_HOSTNAME
    port: int = API_PORT
    num_workers: int = API_NUM_WORKERS
    max_age_long_seconds: int = API_MAX_AGE_LONG_SECONDS
    max_age_short_seconds: int = API_MAX_AGE_SHORT_SECONDS
    hf_auth_path: str | None = API_HF_AUTH_PATH
    hf_timeout_seconds: float = API_HF_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> ApiConfig:
        """Read the API_* variables (and their seed aliases APP_*, MAX_AGE_*, HF_AUTH_PATH).

        API_HF_AUTH_PATH / HF_AUTH_PATH set to an empty value disables the Hub access check; unset, it
        takes the default. API_NUM_WORKERS also accepts WEB_CONCURRENCY (the seed's example).
        """
        non_negative: Callable[[float], None] = at_least(0)
        return cls(
            hostname=read(("API_HOSTNAME", "APP_HOSTNAME"), API_HOSTNAME),
            port=read(("API_PORT", "APP_PORT"), API_PORT, "int", validate=_port),
            num_workers=read(
                ("API_NUM_WORKERS", "APP_NUM_WORKERS", "WEB_CONCURRENCY"), API_NUM_WORKERS, "int", validate=at_least(1)
            ),
            max_age_long_seconds=read(
                ("API_MAX_AGE_LONG_SECONDS", "MAX_AGE_LONG_SECONDS"),
                API_MAX_AGE_LONG_SECONDS,
                "int",
                validate=non_negative,
            ),
            max_age_short_seconds=read(
                ("API_MAX_AGE_SHORT_SECONDS", "MAX_AGE_SHORT_SECONDS"),
                API_MAX_AGE_SHORT_SECONDS,
                "int",
                validate=non_negative,
            ),
            hf_auth_path=_read_auth_path(API_HF_AUTH_PATH),
            hf_timeout_seconds=read(
                "API_HF_TIMEOUT_SECONDS", API_HF_TIMEOUT_SECONDS, "float", validate=at_least(0.001)
            ),
        )


@dataclass(frozen=True)
class AppConfig:
    """Everything the API process reads from the environment, parsed once at start-up."""

    common: CommonConfig = field(default_factory=CommonConfig)
    assets: AssetsConfig = field(default_factory=AssetsConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    @classmethod
    def from_env(cls) -> AppConfig:
        """Read every scope; raises ConfigError naming the first invalid variable."""
        return cls(
            common=CommonConfig.from_env(),
            assets=AssetsConfig.from_env(),
            cache=CacheConfig.from_env(),
            queue=QueueConfig.from_env(),
            api=ApiConfig.from_env(),
        )

    @property
    def hf_auth_url_template(self) -> str | None:
        """The Hub access-check URL with `%s` for the dataset, or None when the check is disabled."""
        if self.api.hf_auth_path is None:
            return None
        return self.common.hf_endpoint + self.api.hf_auth_path
