"""HTTP response helpers shared by the API and the admin service: cache headers, JSON and error bodies.

Rules (seeds): 200 responses carry the long max-age, errors the short one plus `X-Error-Code`; a max-age
of 0 becomes `no-store`.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.responses import PlainTextResponse, Response

from libcommon.errors import DatasetsServerError
from libcommon.serialization import dumps
from libcommon.storage import CacheEntry

JSON: Final = "application/json"
ERROR_CODE_HEADER: Final = "X-Error-Code"


def cache_control(max_age: int) -> str:
    """`max-age=N` for a positive N, `no-store` otherwise."""
    return f"max-age={max_age}" if max_age > 0 else "no-store"


def json_response(content: Any, max_age: int, status_code: int = 200) -> Response:
    """A JSON body serialised with orjson."""
    return Response(dumps(content), status_code, {"Cache-Control": cache_control(max_age)}, JSON)


def text_response(text: str, max_age: int, status_code: int = 200) -> Response:
    """A text/plain body."""
    return PlainTextResponse(text, status_code, {"Cache-Control": cache_control(max_age)})


def error_response(error: DatasetsServerError, max_age: int) -> Response:
    """`{"error": message}` with the error's status, `X-Error-Code`, and `Retry-After` when it has one."""
    headers = {"Cache-Control": cache_control(max_age), ERROR_CODE_HEADER: error.code}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(dumps(error.as_content()), int(error.status), headers, JSON)


def cached_response(entry: CacheEntry, max_age_long: int, max_age_short: int) -> Response:
    """A cache entry as it was stored: its status and its content bytes, never decoded nor re-encoded."""
    if entry.http_status == 200:
        return Response(entry.content, 200, {"Cache-Control": cache_control(max_age_long)}, JSON)
    headers = {"Cache-Control": cache_control(max_age_short)}
    if entry.error_code:
        headers[ERROR_CODE_HEADER] = entry.error_code
    return Response(entry.content, entry.http_status, headers, JSON)
