"""`HEAD`/`GET /datasets/{id}/resolve/{rev}/{path}`: file bytes with single-range support.

No redirect and no compression: the clients read `X-Repo-Commit`, `ETag` and `Content-Length` from the
HEAD, and their ranged reads must get exactly the bytes asked for (a 200 with the whole body would
silently corrupt `HfFileSystem` reads), or a 416 past the end of the file (read as EOF).
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Mapping

import anyio
from starlette.responses import Response, StreamingResponse

from localhub.errors import HubError, entry_not_found
from localhub.storage import FileEntry, RepoSnapshot

CHUNK_SIZE = 1024 * 1024


class RangeNotSatisfiable(Exception):
    """The requested range starts at or after the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the inclusive (start, end) byte range to serve, or None to serve the whole file.

    Malformed headers and multi-range requests are ignored (RFC 9110 allows answering them with the
    whole file); a range starting at or after the end raises RangeNotSatisfiable.
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix < 0:
                return None
            if suffix == 0 or size == 0:
                raise RangeNotSatisfiable
            return max(0, size - suffix), size - 1
        start = int(first)
        end = int(last) if last != "" else size - 1
    except ValueError:
        return None
    if start < 0 or (last != "" and end < start):
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def file_headers(snapshot: RepoSnapshot, entry: FileEntry) -> dict[str, str]:
    """Headers common to every answer about one file."""
    media_type = mimetypes.guess_type(entry.path)[0] or "application/octet-stream"
    return {
        "X-Repo-Commit": snapshot.sha,
        "ETag": f'"{entry.etag}"',
        "Accept-Ranges": "bytes",
        "Content-Type": media_type,
        "Content-Disposition": "inline",
        "Cache-Control": "private, max-age=0",
    }


async def serve_file(method: str, headers: Mapping[str, str], snapshot: RepoSnapshot, path: str) -> Response:
    """Answer a HEAD or GET for `path` of `snapshot` (already authorised, revision already checked)."""
    entry = snapshot.files.get(path)
    if entry is None:
        raise entry_not_found(snapshot.sha)
    common = file_headers(snapshot, entry)
    try:
        byte_range = parse_range(headers.get("range"), entry.size)
    except RangeNotSatisfiable:
        error_headers = {key: common[key] for key in ("X-Repo-Commit", "ETag", "Accept-Ranges")}
        error_headers["Content-Range"] = f"bytes */{entry.size}"
        raise HubError(416, "Requested range not satisfiable", headers=error_headers) from None
    status = 200
    start, length = 0, entry.size
    if byte_range is not None:
        start, end = byte_range
        length = end - start + 1
        status = 206
        common["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
    common["Content-Length"] = str(length)
    if method == "HEAD":
        return Response(b"", status_code=status, headers=common)
    try:
        handle = await anyio.open_file(snapshot.local_path(entry), "rb")
    except FileNotFoundError:
        raise entry_not_found(snapshot.sha) from None
    return StreamingResponse(_read(handle, start, length), status_code=status, headers=common)


async def _read(handle: anyio.AsyncFile[bytes], start: int, length: int) -> AsyncIterator[bytes]:
    try:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await handle.aclose()
