"""Switchable faults for reliability tests: added latency and a rate of 5xx / 429 answers."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

CONTROL_PREFIX = "/_localhub/"


@dataclass(frozen=True)
class Faults:
    """What to inject into the requests whose raw path starts with `path_prefix` (all when None).

    `latency` (seconds) is added before answering; then, with probability `error_rate`, the request is
    answered with `error_status` (429 or 5xx) instead of being served, with `Retry-After: retry_after`
    when set. The control endpoints under `/_localhub/` are never affected.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    path_prefix: str | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if self.error_status != 429 and not 500 <= self.error_status <= 599:
            raise ValueError("error_status must be 429 or a 5xx status")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")

    @property
    def enabled(self) -> bool:
        """Tell whether these faults change anything."""
        return self.latency > 0 or self.error_rate > 0

    def applies_to(self, raw_path: str) -> bool:
        """Tell whether a request for `raw_path` is subject to these faults."""
        if raw_path.startswith(CONTROL_PREFIX) or not self.enabled:
            return False
        return self.path_prefix is None or raw_path.startswith(self.path_prefix)

    def should_fail(self, rng: random.Random) -> bool:
        """Draw whether this request gets the injected error."""
        return self.error_rate >= 1.0 or (self.error_rate > 0 and rng.random() < self.error_rate)

    def to_json(self) -> dict[str, Any]:
        """The JSON form used by the control endpoint."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Parse the JSON form; raise ValueError on unknown keys or invalid values."""
        unknown = set(data) - {"latency", "error_rate", "error_status", "path_prefix", "retry_after"}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        try:
            return cls(
                latency=float(data.get("latency", 0.0)),
                error_rate=float(data.get("error_rate", 0.0)),
                error_status=int(data.get("error_status", 503)),
                path_prefix=None if data.get("path_prefix") is None else str(data["path_prefix"]),
                retry_after=None if data.get("retry_after") is None else int(data["retry_after"]),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"invalid fault settings: {err}") from err


NO_FAULTS = Faults()
