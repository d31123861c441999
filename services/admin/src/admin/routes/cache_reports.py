"""`/cache-reports/<step>`: paginated reports on the cache entries of one processing step."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin.errors import InvalidParameterError
from libcommon.responses import json_response
from libcommon.storage import CacheReport, CacheStore, InvalidCursor


def report_to_dict(report: CacheReport) -> dict[str, Any]:
    """The public view of a cache report (no content, no details)."""
    return {
        "kind": report.kind,
        "dataset": report.dataset,
        "config": report.config,
        "split": report.split,
        "http_status": report.http_status,
        "error_code": report.error_code,
        "job_runner_version": report.job_runner_version,
        "dataset_git_revision": report.dataset_git_revision,
        "updated_at": report.updated_at,
        "stale": report.stale,
    }


def cache_reports_endpoint(cache: CacheStore, kind: str, num_results: int, max_age: int) -> Any:
    """Build the endpoint: `{"cache_reports": [...], "next_cursor": "..."}`; `?cursor=` continues a listing."""

    async def endpoint(request: Request) -> Response:
        cursor = request.query_params.get("cursor", "")
        try:
            page = cache.get_reports(kind, cursor=cursor, limit=num_results)
        except InvalidCursor:
            raise InvalidParameterError("Invalid cursor.") from None
        content = {"cache_reports": [report_to_dict(r) for r in page.cache_reports], "next_cursor": page.next_cursor}
        return json_response(content, max_age)

    return endpoint
