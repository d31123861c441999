"""The cache contract: precomputed responses keyed by (kind, dataset, config, split).

`config` and `split` are None for dataset-level kinds (and `split` is None for config-level kinds).
Engines: `libcommon.storage.sqlite_cache.SqliteCacheStore` and `libcommon.storage.mongo_cache.MongoCacheStore`.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from libcommon.storage.records import CacheCount, CacheEntry, CacheReportsPage


class InvalidCursor(ValueError):
    """The cursor of a report page is not one this store produced."""


class InvalidLimit(ValueError):
    """The page size of a report is not a strictly positive integer."""


class CacheStore(ABC):
    """Repository of cache entries."""

    @abstractmethod
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

    @abstractmethod
    def get(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> CacheEntry | None:
        """The entry for the exact key, or None."""

    @abstractmethod
    def delete(self, kind: str, dataset: str, config: str | None = None, split: str | None = None) -> bool:
        """Delete the entry for the exact key. True if one was deleted."""

    @abstractmethod
    def delete_dataset(self, dataset: str) -> int:
        """Delete every entry of the dataset, all kinds. Returns the number deleted."""

    @abstractmethod
    def mark_dataset_stale(self, dataset: str, kind: str | None = None) -> int:
        """Set `stale=True` on every entry of the dataset (of one kind if given).

        Returns the number of matching entries, including those that were already stale.

        Stale entries are still served; the flag tells operators and the backfill that a refresh is due.
        """

    @abstractmethod
    def list_keys(self, kind: str, dataset: str) -> list[tuple[str | None, str | None]]:
        """The (config, split) keys of the dataset's entries of one kind, sorted."""

    @abstractmethod
    def list_valid_datasets(self, kinds: Sequence[str]) -> list[str]:
        """Sorted names of the datasets that have at least one 200 entry of **every** kind in `kinds`.

        Stale entries count. With kinds = ["/splits", "/first-rows"] this is the seeds' `/valid` definition.
        An empty `kinds` gives [] (and `is_dataset_valid` gives False).
        """

    @abstractmethod
    def is_dataset_valid(self, dataset: str, kinds: Sequence[str]) -> bool:
        """True if the dataset has at least one 200 entry of every kind in `kinds`."""

    @abstractmethod
    def list_datasets_with_errors(self, kinds: Sequence[str]) -> list[str]:
        """Sorted names of the datasets that have at least one non-200 entry of one of `kinds`."""

    @abstractmethod
    def count_by_status_and_error_code(self) -> list[CacheCount]:
        """Entry counts grouped by (kind, http_status, error_code), sorted by those three fields."""

    @abstractmethod
    def get_reports(self, kind: str, cursor: str = "", limit: int = 100) -> CacheReportsPage:
        """One page of the entries of a kind, in insertion order, without content.

        `cursor` is "" for the first page, otherwise a `next_cursor` returned earlier by this store
        (anything else raises InvalidCursor). `limit <= 0` raises InvalidLimit. `next_cursor` is set when
        the page is full (a final empty page is possible) and "" otherwise.
        """

    @abstractmethod
    def is_available(self) -> bool:
        """True if the store can be reached now (used by health checks)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
