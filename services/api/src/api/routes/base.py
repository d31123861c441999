"""What every JSON endpoint shares: errors become `{"error": ...}` responses, unexpected ones are logged."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from api.context import ApiContext
from libcommon.errors import DatasetsServerError, UnexpectedError
from libcommon.responses import error_response

logger = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

#: Responses of endpoints that check access with the Hub depend on these request headers: a shared cache
#: must not serve a response computed for one caller's credentials to another caller.
AUTH_VARY: Final = "Authorization, Cookie"


def api_endpoint(context: ApiContext, *, checks_access: bool = False) -> Callable[[Endpoint], Endpoint]:
    """Wrap a handler: DatasetsServerError → its public body and code; any other exception → 500
    UnexpectedError, logged with its traceback (which never reaches the body).
    """

    def decorate(handler: Endpoint) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                response = await handler(request)
            except DatasetsServerError as err:
                if err.cause is not None:
                    logger.info(
                        "request failed", extra={"path": request.url.path, "code": err.code, "cause": repr(err.cause)}
                    )
                response = error_response(err, context.max_age_short)
            except Exception:
                logger.exception("unexpected error", extra={"path": request.url.path})
                response = error_response(UnexpectedError(), context.max_age_short)
            if checks_access and context.auth.enabled:
                response.headers["Vary"] = AUTH_VARY
            return response

        return endpoint

    return decorate
