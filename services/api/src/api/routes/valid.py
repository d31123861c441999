"""GET /valid and GET /is-valid: which datasets have a successful /splits and at least one /first-rows."""

from __future__ import annotations

from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.context import ApiContext
from api.params import read_key
from api.routes.base import Endpoint, api_endpoint
from libcommon.processing_graph import FIRST_ROWS, SPLITS
from libcommon.responses import json_response

#: A dataset is valid when it has a 200 entry of each of these kinds (stale entries count).
VALID_KINDS: Final = (SPLITS, FIRST_ROWS)


def create_valid_endpoint(context: ApiContext) -> Endpoint:
    """GET /valid → `{"valid": [sorted dataset names]}`; no access check (the list is public)."""

    @api_endpoint(context)
    async def endpoint(_: Request) -> Response:
        # A scan over the cache: run it off the event loop.
        names = await run_in_threadpool(context.cache.list_valid_datasets, list(VALID_KINDS))
        return json_response({"valid": names}, context.max_age_long)

    return endpoint


def create_is_valid_endpoint(context: ApiContext) -> Endpoint:
    """GET /is-valid?dataset= → `{"valid": true|false}`, after validation and the access check."""

    @api_endpoint(context, checks_access=True)
    async def endpoint(request: Request) -> Response:
        key = read_key(request.query_params, "dataset")
        await context.check_access(key.dataset, request)
        valid = context.cache.is_dataset_valid(key.dataset, list(VALID_KINDS))
        return json_response({"valid": valid}, context.max_age_long)

    return endpoint
