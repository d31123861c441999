"""The MongoDB engine of the cache contract: one `cacheEntries` collection, plain pymongo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from libcommon.clock import as_utc
from libcommon.storage.cache import CacheStore, InvalidCursor, InvalidLimit
from libcommon.storage.mongo_common import (
    Document,
    IndexSpec,
    create_indexes,
    now_ms,
    optional_bytes,
    parse_object_id,
    ping,
)
from libcommon.storage.records import CacheCount, CacheEntry, CacheReport, CacheReportsPage

CACHE_COLLECTION: Final = "cacheEntries"

#: One index per query shape. `config`/`split` are always written (None → null), so the unique key tells
#: a dataset-level entry (null, null) from a config-level or split-level one.
CACHE_INDEXES: Final = (
    IndexSpec("cache_key_unique", ("kind", "dataset", "config", "split"), unique=True),
    IndexSpec("cache_dataset_kind_status", ("dataset", "kind", "http_status")),
    IndexSpec("cache_kind_status_dataset", ("kind", "http_status", "dataset")),
    IndexSpec("cache_kind_id", ("kind", "_id")),
)

_REPORT_PROJECTION: Final = {"content": False, "details": False}


def _key(kind: str, dataset: str, config: str | None, split: str | None) -> Document:
    return {"kind": kind, "dataset": dataset, "config": config, "split": split}


def _sort_key(key: tuple[str | None, str | None]) -> tuple[bool, str, bool, str]:
    # None sorts first, as NULL does in SQL and null does in MongoDB.
    config, split = key
    return (config is not None, config or "", split is not None, split or "")


def _to_entry(doc: Document) -> CacheEntry:
    return CacheEntry(
        kind=doc["kind"],
        dataset=doc["dataset"],
        config=doc["config"],
        split=doc["split"],
        http_status=int(doc["http_status"]),
        error_code=doc.get("error_code"),
        content=bytes(doc["content"]),
        details=optional_bytes(doc.get("details")),
        job_runner_version=doc.get("job_runner_version"),
        dataset_git_revision=doc.get("dataset_git_revision"),
        updated_at=as_utc(doc["updated_at"]),
        stale=bool(doc.get("stale", False)),
    )


def _to_report(doc: Document) -> CacheReport:
    return CacheReport(
        kind=doc["kind"],
        dataset=doc["dataset"],
        config=doc["config"],
        split=doc["split"],
        http_status=int(doc["http_status"]),
        error_code=doc.get("error_code"),
        job_runner_version=doc.get("job_runner_version"),
        dataset_git_revision=doc.get("dataset_git_revision"),
        updated_at=as_utc(doc["updated_at"]),
        stale=bool(doc.get("stale", False)),
    )


class MongoCacheStore(CacheStore):
    """Cache entries in MongoDB. `content` and `details` are stored as BSON binary, sent as they are."""

    def __init__(self, client: MongoClient[Any], database: str) -> None:
        self._client = client
        self._entries: Collection[Document] = client[database][CACHE_COLLECTION]
        create_indexes(self._entries, CACHE_INDEXES)

    def upsert(
        self,
        kind: str,
        dataset: str,
        config: str | None = None,
        split: str | None = None,
        *,
        content: bytes,
        http_status: int,
        error_code: str | None = None,
        details: bytes | None = None,
        job_runner_version: int | None = None,
        dataset_git_revision: str | None = None,
    ) -> None:
        """Create or replace the entry for the key. Sets every field, `stale=False`, `updated_at=now`."""
        key = _key(kind, dataset, config, split)
        fields = {
            "http_status": int(http_status),
            "error_code": error_code,
            "content": bytes(content),
            "details": None if details is None else bytes(details),
            "job_runner_version": job_runner_version,
            "dataset_git_revision": dataset_git_revision,
            "stale": False,
            "updated_at": now_ms(),
        }
        try:
            self._entries.update_one(key, {"$set": fields}, upsert=True)
        except DuplicateKeyError:
            # Two concurrent upserts of a new key: one inserted, ours lost the race; it now exists.
            self._entries.update_one(key, {"$set": fields}, upsert=True)

    def get(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> CacheEntry | None:
        """The entry for the exact key, or None."""
        doc = self._entries.find_one(_key(kind, dataset, config, split))
        return None if doc is None else _to_entry(doc)

    def delete(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> bool:
        """Delete the entry for the exact key. True if one was deleted."""
        return self._entries.delete_one(_key(kind, dataset, config, split)).deleted_count > 0

    def delete_dataset(self, dataset: str) -> int:
        """Delete every entry of the dataset, all kinds. Returns the number deleted."""
        return self._entries.delete_many({"dataset": dataset}).deleted_count

    def mark_dataset_stale(self, dataset: str, kind: str | None = None) -> int:
        """Set `stale=True` on every entry of the dataset (of one kind if given). Returns the number marked."""
        query: Document = {"dataset": dataset}
        if kind is not None:
            query["kind"] = kind
        return self._entries.update_many(query, {"$set": {"stale": True}}).matched_count

    def list_keys(self, kind: str, dataset: str) -> list[tuple[str | None, str | None]]:
        """The (config, split) keys of the dataset's entries of one kind, sorted."""
        cursor = self._entries.find({"kind": kind, "dataset": dataset}, {"_id": False, "config": True, "split": True})
        return sorted(((doc.get("config"), doc.get("split")) for doc in cursor), key=_sort_key)

    def _datasets(self, match: Document) -> set[str]:
        # A $group (not `distinct`) so that the answer is a cursor, not one document capped at 16 MB.
        pipeline: list[Document] = [{"$match": match}, {"$group": {"_id": "$dataset"}}]
        return {doc["_id"] for doc in self._entries.aggregate(pipeline)}

    def list_valid_datasets(self, kinds: Sequence[str]) -> list[str]:
        """Sorted names of the datasets that have at least one 200 entry of **every** kind in `kinds`."""
        unique_kinds = list(dict.fromkeys(kinds))
        if not unique_kinds:
            return []
        # One indexed scan per kind (on (kind, http_status, dataset)), intersected here.
        valid = self._datasets({"kind": unique_kinds[0], "http_status": 200})
        for kind in unique_kinds[1:]:
            if not valid:
                break
            valid &= self._datasets({"kind": kind, "http_status": 200})
        return sorted(valid)

    def is_dataset_valid(self, dataset: str, kinds: Sequence[str]) -> bool:
        """True if the dataset has at least one 200 entry of every kind in `kinds`."""
        wanted = set(kinds)
        if not wanted:
            return False
        pipeline: list[Document] = [
            {"$match": {"dataset": dataset, "kind": {"$in": sorted(wanted)}, "http_status": 200}},
            {"$group": {"_id": "$kind"}},
        ]
        return {doc["_id"] for doc in self._entries.aggregate(pipeline)} == wanted

    def list_datasets_with_errors(self, kinds: Sequence[str]) -> list[str]:
        """Sorted names of the datasets that have at least one non-200 entry of one of `kinds`."""
        if not kinds:
            return []
        return sorted(self._datasets({"kind": {"$in": list(dict.fromkeys(kinds))}, "http_status": {"$ne": 200}}))

    def count_by_status_and_error_code(self) -> list[CacheCount]:
        """Entry counts grouped by (kind, http_status, error_code), sorted by those three fields."""
        pipeline: list[Document] = [
            {
                "$group": {
                    "_id": {"kind": "$kind", "http_status": "$http_status", "error_code": "$error_code"},
                    "count": {"$sum": 1},
                }
            }
        ]
        counts = [
            CacheCount(
                kind=doc["_id"]["kind"],
                http_status=int(doc["_id"]["http_status"]),
                error_code=doc["_id"].get("error_code"),
                count=int(doc["count"]),
            )
            for doc in self._entries.aggregate(pipeline)
        ]
        return sorted(counts, key=lambda c: (c.kind, c.http_status, c.error_code is not None, c.error_code or ""))

    def get_reports(self, kind: str, cursor: str = "", limit: int = 100) -> CacheReportsPage:
        """One page of the entries of a kind, in insertion order (`_id` order), without content.

        The cursor is the string form of the last `_id` of the previous page.
        """
        query: Document = {"kind": kind}
        if cursor:
            after = parse_object_id(cursor)
            if after is None:
                raise InvalidCursor(f"invalid cursor: {cursor!r}")
            query["_id"] = {"$gt": after}
        if limit <= 0:
            raise InvalidLimit(f"invalid limit: {limit!r}")
        docs = list(self._entries.find(query, _REPORT_PROJECTION).sort("_id", ASCENDING).limit(limit))
        next_cursor = str(docs[-1]["_id"]) if len(docs) == limit else ""
        return CacheReportsPage(cache_reports=[_to_report(doc) for doc in docs], next_cursor=next_cursor)

    def is_available(self) -> bool:
        """True if the server answers a ping now."""
        return ping(self._client)

    def close(self) -> None:
        """Close the client (this store owns it)."""
        self._client.close()
