"""The admin application: technical endpoints for operators (health, pending jobs, cache reports)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.config import AppConfig
from admin.routes.cache_reports import cache_reports_endpoint
from admin.routes.pending_jobs import pending_jobs_endpoint
from libcommon.config import exit_on_config_error
from libcommon.errors import DatasetsServerError, UnexpectedError
from libcommon.log import configure_logging
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, ProcessingGraph
from libcommon.responses import error_response, text_response
from libcommon.storage import CacheStore, JobQueue, open_cache, open_queue

logger = logging.getLogger(__name__)


def create_app_with(
    config: AppConfig, cache: CacheStore, queue: JobQueue, graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH
) -> Starlette:
    """Build the admin app on the given stores (the caller owns them)."""
    max_age = config.admin.max_age

    async def healthcheck(_: Request) -> Response:
        return text_response("ok", 0)

    async def on_known_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DatasetsServerError)
        return error_response(exc, max_age)

    async def on_unexpected_error(request: Request, exc: Exception) -> Response:
        logger.error("unexpected error", exc_info=exc, extra={"path": request.url.path})
        return error_response(UnexpectedError(), max_age)

    routes = [
        Route("/healthcheck", healthcheck),
        Route("/pending-jobs", pending_jobs_endpoint(queue, graph, max_age)),
    ]
    # /cache-reports/splits, /cache-reports/first-rows, ...: one route per processing step.
    routes += [
        Route(
            f"/cache-reports{step.name}",
            cache_reports_endpoint(cache, step.cache_kind, config.admin.cache_reports_num_results, max_age),
        )
        for step in graph
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Error-Code"],
        ),
        Middleware(GZipMiddleware),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={DatasetsServerError: on_known_error, Exception: on_unexpected_error},
    )


def create_app(config: AppConfig) -> Starlette:
    """Build the admin app and open its stores from the configuration (closed at shutdown)."""
    cache = open_cache(config.cache.mongo_url, config.cache.mongo_database)
    queue = open_queue(config.queue.mongo_url, config.queue.mongo_database, config.queue.max_jobs_per_namespace)
    app = create_app_with(config, cache, queue)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            cache.close()
            queue.close()

    app.router.lifespan_context = lifespan
    return app


def create_app_from_env() -> Starlette:
    """Factory for uvicorn: parse the environment (exit 2 on a bad value) and build the app."""
    config = exit_on_config_error(AppConfig.from_env)
    configure_logging(config.common.log_level)
    return create_app(config)
