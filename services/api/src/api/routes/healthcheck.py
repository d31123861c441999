"""GET /healthcheck: the process is up (no store is touched)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from libcommon.responses import text_response


async def healthcheck_endpoint(_: Request) -> Response:
    """200 `ok`, never cached."""
    return text_response("ok", max_age=0)
