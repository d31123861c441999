"""Storage: the cache and queue contracts, their engines, and the factory that picks one by URL."""

from libcommon.storage.cache import CacheStore, InvalidCursor, InvalidLimit
from libcommon.storage.factory import open_cache, open_queue
from libcommon.storage.queue import JobQueue
from libcommon.storage.records import (
    PENDING_STATUSES,
    CacheCount,
    CacheEntry,
    CacheReport,
    CacheReportsPage,
    Job,
    JobStatus,
    Priority,
)

__all__ = [
    "PENDING_STATUSES",
    "CacheCount",
    "CacheEntry",
    "CacheReport",
    "CacheReportsPage",
    "CacheStore",
    "InvalidCursor",
    "InvalidLimit",
    "Job",
    "JobQueue",
    "JobStatus",
    "Priority",
    "open_cache",
    "open_queue",
]
