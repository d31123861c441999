"""GET /splits, GET /first-rows, ...: the cached response of one processing step, sent as stored.

Order (seeds): validate the parameters (422), check access with the Hub, read the cache; on a miss, answer
"not ready" (with `Retry-After`) if the response will be computed, "not found" otherwise.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.context import ApiContext
from api.errors import ResponseNotFoundError, ResponseNotReadyError
from api.params import read_key
from api.planning import ensure_planned
from api.routes.base import Endpoint, api_endpoint
from libcommon.responses import cached_response


def create_cached_response_endpoint(
    context: ApiContext,
    step_name: str,
    not_ready: type[ResponseNotReadyError],
    not_found: type[ResponseNotFoundError],
) -> Endpoint:
    """The endpoint serving the cache entries of the step `step_name` (its query parameters follow the
    step's input level: dataset; dataset, config; dataset, config, split).
    """
    step = context.graph.get(step_name)

    @api_endpoint(context, checks_access=True)
    async def endpoint(request: Request) -> Response:
        key = read_key(request.query_params, step.input_type)
        await context.check_access(key.dataset, request)
        # A point read takes microseconds on SQLite: cheaper inline than a hop to the thread pool.
        entry = context.cache.get(step.cache_kind, key.dataset, key.config, key.split)
        if entry is not None:
            return cached_response(entry, context.max_age_long, context.max_age_short)
        # The miss path may write to the queue (and wait for its lock): off the event loop.
        planned = await run_in_threadpool(ensure_planned, context.cache, context.queue, context.graph, step, key)
        raise not_ready() if planned else not_found()

    return endpoint
