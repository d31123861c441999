"""Operations on a dataset that touch both stores: refresh it, or forget it.

Shared by the API (webhook, cache misses) and the admin scripts, so that every entry point does the
same thing. Dataset names must be valid Hub repo ids: anything else raises ValueError before a store is
touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from libcommon.assets import delete_asset_dirs
from libcommon.dataset_names import is_valid_dataset_name
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, ProcessingGraph
from libcommon.storage import CacheStore, Job, JobQueue, Priority

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeletedDataset:
    """What `delete_dataset` removed: cache entries, cancelled jobs, and whether an assets directory."""

    deleted_entries: int
    cancelled_jobs: list[Job]
    deleted_assets: bool = False


def _check_name(dataset: str) -> None:
    if not is_valid_dataset_name(dataset):
        raise ValueError(f"invalid dataset name: {dataset[:200]!r}")


def update_dataset(
    dataset: str,
    cache: CacheStore,
    queue: JobQueue,
    graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH,
    priority: Priority = Priority.NORMAL,
) -> list[Job]:
    """The dataset changed (or is new): mark its cache entries stale and add a job for each root step.

    Stale entries are still served until the new results replace them. Only roots whose input level is
    the dataset can be enqueued (the others need keys that only a parent's result provides). Adding a job
    for a key that already has a pending one is a no-op of the queue (it may raise its priority). Returns
    the pending job of each root step.
    """
    _check_name(dataset)
    cache.mark_dataset_stale(dataset)
    jobs = [
        queue.add(step.job_type, dataset, priority=priority) for step in graph.roots if step.input_type == "dataset"
    ]
    logger.info("dataset update planned", extra={"dataset": dataset, "jobs": len(jobs), "priority": priority.name})
    return jobs


def delete_dataset(
    dataset: str, cache: CacheStore, queue: JobQueue, assets_directory: Path | None = None
) -> DeletedDataset:
    """The dataset was removed: cancel its pending jobs, delete all its cache entries and its asset files.

    Jobs go first, so that a job still waiting cannot recreate the entries after they are deleted (the
    original left jobs untouched and a queued job resurrected the dataset). A job already running is
    cancelled too: its worker's result (and its asset files) are fenced out since the job is no longer
    current. The asset files are deleted when `assets_directory` is given (the original never deleted
    them); a path that would leave that directory raises AssetPathError before anything is deleted there.
    """
    _check_name(dataset)
    cancelled = queue.cancel(dataset=dataset)
    deleted = cache.delete_dataset(dataset)
    deleted_assets = delete_asset_dirs(assets_directory, dataset) if assets_directory is not None else False
    logger.info(
        "dataset deleted",
        extra={
            "dataset": dataset,
            "deleted_entries": deleted,
            "cancelled_jobs": len(cancelled),
            "deleted_assets": deleted_assets,
        },
    )
    return DeletedDataset(deleted_entries=deleted, cancelled_jobs=cancelled, deleted_assets=deleted_assets)
