"""Open the cache or the queue from a URL: `mongodb://`/`mongodb+srv://` → MongoDB, `sqlite:///path` → SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from libcommon.storage.cache import CacheStore
from libcommon.storage.queue import JobQueue

#: How long a MongoDB operation waits for a reachable server before failing (instead of pymongo's 30 s).
MONGO_SERVER_SELECTION_TIMEOUT_MS: Final = 5_000


def sqlite_path(url: str) -> Path:
    """The file path of a `sqlite:///absolute/path.db` URL."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    return Path(url[len("sqlite://") :])


def _is_mongo(url: str) -> bool:
    return url.startswith(("mongodb://", "mongodb+srv://"))


def open_cache(url: str, database: str) -> CacheStore:
    """Open the cache store for `url`. `database` names the MongoDB database (unused by SQLite)."""
    if url.startswith("sqlite:///"):
        from libcommon.storage.sqlite_cache import SqliteCacheStore

        return SqliteCacheStore(sqlite_path(url))
    if _is_mongo(url):
        from pymongo import MongoClient

        from libcommon.storage.mongo_cache import MongoCacheStore

        client: MongoClient[dict[str, object]] = MongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=MONGO_SERVER_SELECTION_TIMEOUT_MS
        )
        return MongoCacheStore(client, database)
    raise ValueError(f"unsupported cache URL scheme: {url!r}")


def open_queue(url: str, database: str, max_jobs_per_namespace: int) -> JobQueue:
    """Open the job queue for `url`. `database` names the MongoDB database (unused by SQLite)."""
    if url.startswith("sqlite:///"):
        from libcommon.storage.sqlite_queue import SqliteJobQueue

        return SqliteJobQueue(sqlite_path(url), max_jobs_per_namespace=max_jobs_per_namespace)
    if _is_mongo(url):
        from pymongo import MongoClient

        from libcommon.storage.mongo_queue import MongoJobQueue

        client: MongoClient[dict[str, object]] = MongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=MONGO_SERVER_SELECTION_TIMEOUT_MS
        )
        return MongoJobQueue(client, database, max_jobs_per_namespace=max_jobs_per_namespace)
    raise ValueError(f"unsupported queue URL scheme: {url!r}")
