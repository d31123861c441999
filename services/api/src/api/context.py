"""What the route handlers share: configuration, stores, processing graph and the Hub access check."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.requests import Request

from api.authentication import HubAuthChecker
from api.config import AppConfig
from libcommon.processing_graph import ProcessingGraph
from libcommon.storage import CacheStore, JobQueue


@dataclass
class ApiContext:
    """State of one app. `hub_client` is set by the app's lifespan (or injected by tests)."""

    config: AppConfig
    cache: CacheStore
    queue: JobQueue
    graph: ProcessingGraph
    auth: HubAuthChecker
    hub_client: httpx.AsyncClient | None = None

    @property
    def max_age_long(self) -> int:
        """`max-age` of successful data responses."""
        return self.config.api.max_age_long_seconds

    @property
    def max_age_short(self) -> int:
        """`max-age` of errors and technical responses."""
        return self.config.api.max_age_short_seconds

    async def check_access(self, dataset: str, request: Request) -> None:
        """Raise an ApiError unless the caller may access `dataset` (a valid repo id) on the Hub."""
        await self.auth.check(dataset, request.headers, self.hub_client)
