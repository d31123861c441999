"""The local hub application: routing on the raw path, auth, faults and one log line per request.

Routing uses `scope["raw_path"]` because clients percent-encode revisions (`refs%2Fconvert%2Fparquet`)
and folder paths in tree URLs (`train%2Fcat`): the decoded path could not tell the revision from the
file path. Each segment is percent-decoded on its own (`+` stays a plus sign).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from pathlib import Path
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from localhub import api
from localhub.accounts import ConfigLoader
from localhub.auth import ANONYMOUS, Caller, identify
from localhub.errors import HubError, entry_not_found, json_response, not_found, repo_not_found
from localhub.faults import NO_FAULTS, Faults
from localhub.files import serve_file
from localhub.storage import RepoStore

logger = logging.getLogger("localhub.access")

DEFAULT_TREE_PAGE_SIZE = 1000
DEFAULT_LIST_PAGE_SIZE = 1000
SPECIAL_REF_KINDS = frozenset({"convert", "pr", "heads", "tags"})
_SLASHES = re.compile(rb"/{2,}")


class LocalHub:
    """State shared by all requests: the repo store, the configuration loader and the current faults."""

    def __init__(self, root: Path, faults: Faults | None, tree_page_size: int, list_page_size: int) -> None:
        self.root = root
        self.store = RepoStore(root)
        self.config = ConfigLoader(root)
        self.faults = faults or NO_FAULTS
        self.tree_page_size = tree_page_size
        self.list_page_size = list_page_size
        self._rng = random.Random()

    async def handle(self, request: Request) -> Response:
        """Serve one request and log it (method, path, status, duration, user name: never the token)."""
        started = time.perf_counter()
        raw_path = _SLASHES.sub(b"/", request.scope.get("raw_path") or request.url.path.encode())
        caller = ANONYMOUS
        try:
            fault = await self._inject_faults(raw_path.decode("latin-1"))
            if fault is not None:
                response = fault
            elif raw_path.startswith(b"/_localhub/"):
                response = await self._control(request, raw_path)
            else:
                config = self.config.get()
                caller = identify(request.headers, config)
                ctx = api.Context(
                    request, raw_path, config, caller, self.store, self.tree_page_size, self.list_page_size
                )
                response = await self._route(ctx, _segments(raw_path))
        except HubError as err:
            response = err.to_response()
        except Exception:
            logger.exception("unexpected error on %s %s", request.method, raw_path.decode("latin-1"))
            response = json_response({"error": "Internal Error"}, 500)
        _log(request, raw_path, response.status_code, time.perf_counter() - started, caller)
        return response

    async def _inject_faults(self, raw_path: str) -> Response | None:
        faults = self.faults
        if not faults.applies_to(raw_path):
            return None
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if not faults.should_fail(self._rng):
            return None
        headers = {"X-Localhub-Fault": "1"}
        if faults.retry_after is not None:
            headers["Retry-After"] = str(faults.retry_after)
        return json_response({"error": f"Injected fault ({faults.error_status})"}, faults.error_status, headers)

    async def _control(self, request: Request, raw_path: bytes) -> Response:
        if raw_path == b"/_localhub/health":
            return json_response({"status": "ok"})
        if raw_path != b"/_localhub/faults":
            raise not_found()
        if request.method == "POST":
            try:
                self.faults = Faults.from_json(json.loads(await request.body() or b"{}"))
            except (ValueError, AttributeError) as err:
                raise HubError(400, str(err)) from None
        elif request.method == "DELETE":
            self.faults = NO_FAULTS
        return json_response(self.faults.to_json())

    async def _route(self, ctx: api.Context, segments: list[str]) -> Response:
        method = ctx.request.method
        if len(segments) >= 5 and segments[0] == "datasets" and segments[3] == "resolve":
            _allow(method, "GET", "HEAD")
            repo_id = f"{segments[1]}/{segments[2]}"
            revision, rest = _take_revision(segments[4:])
            path = "/".join(rest)
            snapshot = await api.readable_snapshot(ctx, repo_id, revision, content=True)
            if not rest or any(part in ("", ".", "..") for part in rest):
                raise entry_not_found(snapshot.sha)
            return await serve_file(method, ctx.request.headers, snapshot, path)
        if len(segments) < 2 or segments[0] != "api":
            raise not_found()
        head, rest = segments[1], segments[2:]
        if head == "whoami-v2" and not rest:
            return api.whoami(ctx)
        if head == "agent-harnesses" and not rest:
            return json_response({"standardEnvVars": [], "harnesses": {}})
        if head in ("models", "spaces") and len(rest) >= 2:
            raise repo_not_found(ctx.caller.authenticated)
        if head != "datasets":
            raise not_found()
        if not rest:
            _allow(method, "GET", "HEAD")
            return await api.list_datasets(ctx)
        if len(rest) < 2:
            raise not_found()
        return await self._repo_route(ctx, f"{rest[0]}/{rest[1]}", rest[2:])

    async def _repo_route(self, ctx: api.Context, repo_id: str, rest: list[str]) -> Response:
        method = ctx.request.method
        action = rest[0] if rest else None
        if action == "paths-info" and len(rest) >= 2:
            _allow(method, "POST")
            revision, extra = _take_revision(rest[1:])
            if extra:
                raise not_found()
            return await api.paths_info(ctx, repo_id, revision)
        _allow(method, "GET", "HEAD")
        if action is None:
            return await api.repo_info(ctx, repo_id, None)
        if action == "tree" and len(rest) >= 2:
            revision, path = _take_revision(rest[1:])
            return await api.repo_tree(ctx, repo_id, revision, "/".join(path))
        if action in ("revision", "commits") and len(rest) >= 2:
            revision, extra = _take_revision(rest[1:])
            if extra:
                raise not_found()
            if action == "revision":
                return await api.repo_info(ctx, repo_id, revision)
            return await api.repo_commits(ctx, repo_id, revision)
        if rest == ["refs"]:
            return await api.repo_refs(ctx, repo_id)
        if rest == ["auth-check"]:
            return await api.auth_check(ctx, repo_id)
        raise not_found()


def _segments(raw_path: bytes) -> list[str]:
    parts = raw_path.strip(b"/").split(b"/") if raw_path.strip(b"/") else []
    try:
        return [unquote_to_bytes(part).decode("utf-8") for part in parts]
    except UnicodeDecodeError:
        raise not_found() from None


def _take_revision(segments: list[str]) -> tuple[str, list[str]]:
    # Clients send `refs%2Fconvert%2Fparquet` (one segment); the bare `refs/convert/parquet` form is
    # accepted too, so that special refs never leak into the file path.
    if len(segments) >= 3 and segments[0] == "refs" and segments[1] in SPECIAL_REF_KINDS:
        return "/".join(segments[:3]), segments[3:]
    return segments[0], segments[1:]


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise HubError(405, "Method not allowed", headers={"Allow": ", ".join(allowed)})


def _log(request: Request, raw_path: bytes, status: int, duration: float, caller: Caller) -> None:
    query = request.url.query
    target = raw_path.decode("latin-1") + (f"?{query}" if query else "")
    client = request.client.host if request.client else "-"
    logger.info(
        '%s "%s %s" %d %.1fms user=%s', client, request.method, target, status, duration * 1000, caller.log_name
    )


def create_app(
    root: Path,
    faults: Faults | None = None,
    *,
    tree_page_size: int = DEFAULT_TREE_PAGE_SIZE,
    list_page_size: int = DEFAULT_LIST_PAGE_SIZE,
) -> Starlette:
    """Build the hub application serving the repos under `<root>/datasets/` with `<root>/localhub.json`.

    `faults` can be changed later through `POST /_localhub/faults` (or `app.state.hub.faults`); the page
    sizes exist so tests can exercise pagination with few entries.
    """
    hub = LocalHub(Path(root), faults, tree_page_size, list_page_size)
    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    app = Starlette(routes=[Route("/{path:path}", hub.handle, methods=methods)])
    app.state.hub = hub
    return app
