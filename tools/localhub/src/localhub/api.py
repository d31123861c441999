"""The JSON API routes: repo info, tree, paths-info, refs, commits, auth-check, whoami, dataset listing."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from localhub.accounts import HubConfig
from localhub.auth import Caller, can_list, check_content_access, check_metadata_access
from localhub.errors import HubError, entry_not_found, json_response, revision_not_found
from localhub.metadata import (
    commits_json,
    fake_object_id,
    last_commit_json,
    refs_json,
    repo_json,
)
from localhub.storage import RepoSnapshot, RepoStore

TRUE_VALUES = frozenset({"1", "true", "True", "yes"})
EXPANDED_TREE_PAGE_SIZE = 50
_URL_SAFE = "/%:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Context:
    """Everything a route needs about the current request."""

    request: Request
    raw_path: bytes
    config: HubConfig
    caller: Caller
    store: RepoStore
    tree_page_size: int
    list_page_size: int

    def query(self, name: str) -> str | None:
        """The last value of a query parameter."""
        return self.request.query_params.get(name)

    def flag(self, name: str) -> bool:
        """A boolean query parameter (`true`/`1`)."""
        return self.query(name) in TRUE_VALUES


async def snapshot_of(ctx: Context, repo_id: str) -> RepoSnapshot | None:
    """Take a snapshot in a worker thread so a big repo walk does not stall the event loop."""
    return await anyio.to_thread.run_sync(ctx.store.snapshot, repo_id)


async def readable_snapshot(
    ctx: Context, repo_id: str, revision: str | None = None, *, content: bool = False
) -> RepoSnapshot:
    """The snapshot of a repo the caller may read (and download from, when `content`), at `revision`."""
    snapshot = await snapshot_of(ctx, repo_id)
    check = check_content_access if content else check_metadata_access
    check(ctx.config, ctx.caller, repo_id, snapshot is not None)
    assert snapshot is not None  # guaranteed by the access check
    if revision is not None and not snapshot.has_revision(revision):
        raise revision_not_found(revision)
    return snapshot


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise HubError(400, "Invalid cursor") from None
    if not isinstance(offset, int) or offset < 0:
        raise HubError(400, "Invalid cursor")
    return offset


def _page_size(ctx: Context, default: int) -> int:
    limit = ctx.query("limit")
    if limit is None:
        return default
    try:
        value = int(limit)
    except ValueError:
        raise HubError(400, "Invalid limit") from None
    if value <= 0:
        raise HubError(400, "Invalid limit")
    return min(value, default)


def paginated(ctx: Context, items: Sequence[Any], page_size: int, headers: dict[str, str] | None = None) -> Response:
    """Answer one page of `items`, with a `Link: <next>; rel="next"` built from the request Host."""
    offset = _decode_cursor(ctx.query("cursor"))
    page = list(items[offset : offset + page_size])
    headers = dict(headers or {})
    if offset + page_size < len(items):
        params = [(k, v) for k, v in parse_qsl(ctx.request.url.query, keep_blank_values=True) if k != "cursor"]
        params.append(("cursor", _encode_cursor(offset + page_size)))
        host = ctx.request.headers.get("host") or f"{ctx.request.url.hostname}:{ctx.request.url.port}"
        path = quote_from_bytes(ctx.raw_path, safe=_URL_SAFE)
        headers["Link"] = f'<{ctx.request.url.scheme}://{host}{path}?{urlencode(params)}>; rel="next"'
    return json_response(page, headers=headers)


async def repo_info(ctx: Context, repo_id: str, revision: str | None) -> Response:
    """`GET /api/datasets/{id}[/revision/{rev}]` (gated repos stay readable)."""
    snapshot = await readable_snapshot(ctx, repo_id, revision)
    settings = ctx.config.repo_settings(repo_id)
    expand = ctx.request.query_params.getlist("expand") + ctx.request.query_params.getlist("expand[]")
    return json_response(repo_json(snapshot, settings, full=True, blobs=ctx.flag("blobs"), expand=expand))


async def repo_tree(ctx: Context, repo_id: str, revision: str, path: str) -> Response:
    """`GET /api/datasets/{id}/tree/{rev}[/{path}]`: 404 EntryNotFound for a missing folder."""
    snapshot = await readable_snapshot(ctx, repo_id, revision)
    entries = snapshot.tree(path.strip("/"), recursive=ctx.flag("recursive"))
    if entries is None:
        raise entry_not_found(snapshot.sha)
    expand = ctx.flag("expand")
    if expand:
        for entry in entries:
            entry["lastCommit"] = last_commit_json(snapshot)
    default_size = min(ctx.tree_page_size, EXPANDED_TREE_PAGE_SIZE) if expand else ctx.tree_page_size
    return paginated(ctx, entries, _page_size(ctx, default_size), {"X-Repo-Commit": snapshot.sha})


async def paths_info(ctx: Context, repo_id: str, revision: str) -> Response:
    """`POST /api/datasets/{id}/paths-info/{rev}`: form (or JSON) `paths`; missing paths are skipped."""
    snapshot = await readable_snapshot(ctx, repo_id, revision)
    body = await ctx.request.body()
    if ctx.request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
            paths = [str(p) for p in data.get("paths", [])]
            expand = bool(data.get("expand", False))
        except (ValueError, AttributeError, TypeError):
            raise HubError(400, "Invalid JSON body") from None
    else:
        # A form body: `+` means a space here, unlike in URL paths.
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        paths = [value for key, value in fields if key == "paths"]
        expand = any(key == "expand" and value in TRUE_VALUES for key, value in fields)
    items = []
    for path in dict.fromkeys(p.strip("/") for p in paths):
        item = snapshot.entry_json(path)
        if item is not None:
            if expand:
                item["lastCommit"] = last_commit_json(snapshot)
            items.append(item)
    return json_response(items)


async def repo_refs(ctx: Context, repo_id: str) -> Response:
    """`GET /api/datasets/{id}/refs`."""
    snapshot = await readable_snapshot(ctx, repo_id)
    return json_response(refs_json(snapshot, include_prs=ctx.flag("include_prs")))


async def repo_commits(ctx: Context, repo_id: str, revision: str) -> Response:
    """`GET /api/datasets/{id}/commits/{rev}`."""
    snapshot = await readable_snapshot(ctx, repo_id, revision)
    return paginated(ctx, commits_json(snapshot), _page_size(ctx, ctx.list_page_size))


async def auth_check(ctx: Context, repo_id: str) -> Response:
    """`GET /api/datasets/{id}/auth-check`: 200 when the caller may read the files.

    Otherwise: missing or hidden private repo 401 (anonymous) / 404, gated repo 401 (anonymous) / 403.
    """
    snapshot = await snapshot_of(ctx, repo_id)
    check_content_access(ctx.config, ctx.caller, repo_id, snapshot is not None)
    return json_response({"ok": True})


def whoami(ctx: Context) -> Response:
    """`GET /api/whoami-v2`: the token owner, their organisations and the token role; 401 when anonymous."""
    user, token = ctx.caller.user, ctx.caller.token
    if user is None or token is None:
        raise HubError(401, "Invalid username or password.")
    return json_response(
        {
            "type": "user",
            "id": fake_object_id("user", user.name),
            "name": user.name,
            "fullname": user.fullname or user.name,
            "email": None,
            "emailVerified": False,
            "isPro": False,
            "canPay": False,
            "orgs": [
                {"type": "org", "id": fake_object_id("org", org), "name": org, "fullname": org, "roleInOrg": "read"}
                for org in user.orgs
            ],
            "auth": {"type": "access_token", "accessToken": {"displayName": token.name, "role": token.role}},
        }
    )


_SORT_KEYS = {"lastModified", "createdAt", "downloads", "likes", "trendingScore", "id"}


async def list_datasets(ctx: Context) -> Response:
    """`GET /api/datasets`: author/search/filter/gated/sort/direction/limit/full/expand, cursor pagination.

    Without `sort`, repos come in id order. Private repos are listed only for callers who may read them.
    """
    params = ctx.request.query_params
    author, searches, filters = params.get("author"), params.getlist("search"), params.getlist("filter")
    gated_filter = params.get("gated")
    expand = params.getlist("expand") + params.getlist("expand[]")
    full = ctx.flag("full")

    def collect() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        rows = []
        for repo_id in ctx.store.repo_ids():
            if author and repo_id.split("/", 1)[0] != author:
                continue
            if any(s.lower() not in repo_id.lower() for s in searches) or not can_list(
                ctx.config, ctx.caller, repo_id
            ):
                continue
            snapshot = ctx.store.snapshot(repo_id)
            if snapshot is None:
                continue
            settings = ctx.config.repo_settings(repo_id)
            if gated_filter is not None and bool(settings.gated) != (gated_filter in TRUE_VALUES):
                continue
            base = repo_json(snapshot, settings, full=True)
            if all(f in base["tags"] for f in filters):
                rows.append((base, repo_json(snapshot, settings, full=full, expand=expand)))
        return rows

    rows = await anyio.to_thread.run_sync(collect)
    sort = params.get("sort")
    if sort in _SORT_KEYS:
        # Like the Hub, an explicit sort is descending unless `direction=1` asks otherwise.
        descending = params.get("direction", "-1") == "-1"
        rows.sort(key=lambda row: row[0][sort], reverse=descending)
    items = [item for _, item in rows]
    return paginated(ctx, items, _page_size(ctx, ctx.list_page_size))
