"""JSON documents describing a repo: `/api/datasets/{id}` info, listing items, commits, refs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import yaml

from localhub.accounts import RepoSettings
from localhub.storage import RepoSnapshot

LISTING_KEYS = (
    "_id",
    "id",
    "author",
    "sha",
    "lastModified",
    "createdAt",
    "private",
    "gated",
    "disabled",
    "downloads",
    "likes",
    "tags",
)
COMMIT_TITLE = "Update dataset files"


def fake_object_id(*parts: str) -> str:
    """A stable 24-hex id shaped like the Hub's MongoDB ids."""
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()[:24]


def card_data(readme: str | None) -> dict[str, Any] | None:
    """The YAML front matter of a README, or None when it has none (or it is not a mapping)."""
    if readme is None:
        return None
    lines = readme.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        return None
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def siblings(snapshot: RepoSnapshot, blobs: bool) -> list[dict[str, Any]]:
    """The `siblings` list; with `blobs`, sizes, blob ids and LFS details as `?blobs=true` gives them."""
    items: list[dict[str, Any]] = []
    for entry in snapshot.files.values():
        item: dict[str, Any] = {"rfilename": entry.path}
        if blobs:
            item["size"] = entry.size
            item["blobId"] = entry.oid
            if entry.lfs_sha256 is not None:
                item["lfs"] = {"sha256": entry.lfs_sha256, "size": entry.size, "pointerSize": 134}
        items.append(item)
    return items


def repo_json(
    snapshot: RepoSnapshot,
    settings: RepoSettings,
    *,
    full: bool,
    blobs: bool = False,
    expand: Iterable[str] = (),
) -> dict[str, Any]:
    """Describe a repo: the listing fields, plus card data and siblings when `full`.

    With `expand`, only the requested fields are returned (with `_id` and `id`), like the Hub.
    """
    card = card_data(snapshot.readme_text())
    tags = card.get("tags") if card else None
    info: dict[str, Any] = {
        "_id": fake_object_id("repo", snapshot.repo_id),
        "id": snapshot.repo_id,
        "author": snapshot.repo_id.split("/", 1)[0],
        "sha": snapshot.sha,
        "lastModified": snapshot.last_modified,
        "createdAt": snapshot.created_at,
        "private": settings.private,
        "gated": settings.gated,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [str(tag) for tag in tags] if isinstance(tags, list) else [],
    }
    requested = list(expand)
    if full or requested:
        info["cardData"] = card
        info["siblings"] = siblings(snapshot, blobs)
        info["usedStorage"] = sum(entry.size for entry in snapshot.files.values())
        info["description"] = None
        info["citation"] = None
        info["paperswithcode_id"] = None
        info["downloadsAllTime"] = 0
        info["trendingScore"] = 0
    if requested:
        return {key: value for key, value in info.items() if key in ("_id", "id") or key in requested}
    if not full:
        return {key: info[key] for key in LISTING_KEYS}
    return info


def commits_json(snapshot: RepoSnapshot) -> list[dict[str, Any]]:
    """The history of the main branch: a single commit."""
    return [
        {
            "id": snapshot.sha,
            "title": COMMIT_TITLE,
            "message": "",
            "authors": [{"user": snapshot.repo_id.split("/", 1)[0], "avatar": None}],
            "date": snapshot.last_modified,
        }
    ]


def last_commit_json(snapshot: RepoSnapshot) -> dict[str, Any]:
    """The `lastCommit` field of expanded tree entries."""
    return {"id": snapshot.sha, "title": COMMIT_TITLE, "date": snapshot.last_modified}


def refs_json(snapshot: RepoSnapshot, include_prs: bool) -> dict[str, Any]:
    """The `/refs` document: one `main` branch, no tags, no converts."""
    refs: dict[str, Any] = {
        "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": snapshot.sha}],
        "converts": [],
        "tags": [],
    }
    if include_prs:
        refs["pullRequests"] = []
    return refs
