"""The Starlette application of the public API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from api.authentication import HubAuthChecker, create_hub_client
from api.config import AppConfig
from api.context import ApiContext
from api.errors import (
    FirstRowsResponseNotFoundError,
    FirstRowsResponseNotReadyError,
    SplitsResponseNotFoundError,
    SplitsResponseNotReadyError,
)
from api.middleware import AccessLogMiddleware
from api.routes.cached import create_cached_response_endpoint
from api.routes.healthcheck import healthcheck_endpoint
from api.routes.valid import create_is_valid_endpoint, create_valid_endpoint
from api.routes.webhook import create_webhook_endpoint
from libcommon.config import exit_on_config_error
from libcommon.log import configure_logging
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, FIRST_ROWS, SPLITS, ProcessingGraph
from libcommon.responses import ERROR_CODE_HEADER
from libcommon.storage import CacheStore, JobQueue, open_cache, open_queue

#: Level 6 compresses JSON nearly as well as 9 for a fraction of the CPU time.
GZIP_COMPRESS_LEVEL: Final = 6
GZIP_MINIMUM_SIZE: Final = 500


def assets_directory(config: AppConfig) -> str:
    """The assets directory, created if missing so that a fresh install serves 404s, not errors."""
    directory = config.assets.storage_directory
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory)


def create_app_with(
    config: AppConfig,
    cache: CacheStore,
    queue: JobQueue,
    hub_client: httpx.AsyncClient | None = None,
    graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH,
    *,
    close_stores: bool = False,
) -> Starlette:
    """The app on the given stores. Without `hub_client`, the lifespan creates one (and closes it) when
    the Hub access check is enabled; an injected client is left open. `close_stores` closes the stores
    at shutdown.
    """
    auth = HubAuthChecker(config.hf_auth_url_template, config.api.hf_timeout_seconds)
    context = ApiContext(config=config, cache=cache, queue=queue, graph=graph, auth=auth, hub_client=hub_client)
    owns_client = hub_client is None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if owns_client and auth.enabled:
            context.hub_client = create_hub_client(config.api.hf_timeout_seconds)
        try:
            yield
        finally:
            if owns_client and context.hub_client is not None:
                await context.hub_client.aclose()
                context.hub_client = None
            if close_stores:
                cache.close()
                queue.close()

    routes = [
        Route("/healthcheck", healthcheck_endpoint),
        Route("/valid", create_valid_endpoint(context)),
        Route("/is-valid", create_is_valid_endpoint(context)),
        Route(
            "/splits",
            create_cached_response_endpoint(context, SPLITS, SplitsResponseNotReadyError, SplitsResponseNotFoundError),
        ),
        Route(
            "/first-rows",
            create_cached_response_endpoint(
                context, FIRST_ROWS, FirstRowsResponseNotReadyError, FirstRowsResponseNotFoundError
            ),
        ),
        Route("/webhook", create_webhook_endpoint(context), methods=["POST"]),
        # StaticFiles resolves real paths and refuses anything outside the directory (symlinks included).
        Mount("/assets", app=StaticFiles(directory=assets_directory(config), check_dir=False), name="assets"),
    ]
    middleware = [
        Middleware(AccessLogMiddleware),
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=False,
            expose_headers=[ERROR_CODE_HEADER, "Retry-After"],
        ),
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_COMPRESS_LEVEL),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.context = context
    return app


def create_app(config: AppConfig) -> Starlette:
    """The app on the stores named by the configuration (closed at shutdown)."""
    cache = open_cache(config.cache.mongo_url, config.cache.mongo_database)
    queue = open_queue(config.queue.mongo_url, config.queue.mongo_database, config.queue.max_jobs_per_namespace)
    return create_app_with(config, cache, queue, close_stores=True)


def create_app_from_env() -> Starlette:
    """Factory for uvicorn (each worker process calls it): read the environment, log, build the app."""
    config = exit_on_config_error(AppConfig.from_env)
    configure_logging(config.common.log_level)
    return create_app(config)
