"""`/splits` (dataset level): the configs and splits of a dataset, with their size when the card gives it.

Only the documented Hub API is used, through huggingface_hub and datasets: the commit sha from
`dataset_info`, then `get_dataset_config_names`, `load_dataset_builder` (README `dataset_info` sizes) and
`get_dataset_split_names`, all pinned to that sha so that the whole job reads one revision.
"""

from __future__ import annotations

from typing import Any

from datasets import get_dataset_config_names, get_dataset_split_names, load_dataset_builder

from libcommon.processing_graph import SPLITS
from worker.config import AppConfig
from worker.dtos import JobInfo, JobResult, Key
from worker.errors import SplitsNamesError
from worker.hub import classify_hub_error, get_dataset_revision, token_of
from worker.job_runners import register


def _config_splits(dataset: str, config: str, revision: str, token: str | bool) -> list[dict[str, Any]]:
    builder = load_dataset_builder(dataset, config, revision=revision, token=token)
    if builder.info.splits:
        return [
            {
                "dataset": dataset,
                "config": config,
                "split": str(name),
                "num_bytes": split_info.num_bytes,
                "num_examples": split_info.num_examples,
            }
            for name, split_info in builder.info.splits.items()
        ]
    # No split metadata in the card: the split names come from the data files, sizes are unknown.
    names = get_dataset_split_names(dataset, config, revision=revision, token=token)
    return [
        {"dataset": dataset, "config": config, "split": str(name), "num_bytes": None, "num_examples": None}
        for name in names
    ]


@register(SPLITS)
def compute_splits(job: JobInfo, config: AppConfig) -> JobResult:
    """List the configs and splits of `job.dataset`; the children are one `/first-rows` job per split."""
    revision = get_dataset_revision(job.dataset, config.common)
    token = token_of(config.common)
    try:
        config_names = get_dataset_config_names(job.dataset, revision=revision, token=token)
        splits = [
            item
            for config_name in config_names
            for item in _config_splits(job.dataset, str(config_name), revision, token)
        ]
    except Exception as err:
        raise classify_hub_error(err, default=SplitsNamesError) from err
    children: list[Key] = [(item["config"], item["split"]) for item in splits]
    return JobResult(content={"splits": splits}, children=children, dataset_git_revision=revision)
