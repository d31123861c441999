"""`/first-rows` (split level): the features and the first rows of a split, media saved as asset files.

Steps, all pinned to the commit sha read first: check the config (builder) and the split (info), read the
first FIRST_ROWS_MAX_NUMBER raw rows (`worker.readers`), convert them one by one into JSON cells and asset
files (`worker.cells`), and stop once the response reaches FIRST_ROWS_MAX_BYTES, keeping at least
FIRST_ROWS_MIN_NUMBER rows. (Cutting cells of the minimum rows to fit the budget is not done yet.)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from datasets import Features, get_dataset_config_info, get_dataset_config_names, load_dataset_builder
from datasets.builder import DatasetBuilder

from libcommon.config import CommonConfig
from libcommon.processing_graph import FIRST_ROWS
from libcommon.serialization import dumps
from worker.cells import RowContext, convert_row
from worker.config import AppConfig, FirstRowsConfig
from worker.dtos import JobInfo, JobResult
from worker.errors import (
    ConfigNotFoundError,
    FeaturesError,
    InfoError,
    RowsPostProcessingError,
    SplitNotFoundError,
    StreamingRowsError,
)
from worker.hub import classify_hub_error, get_dataset_revision, hf_path_in_dataset, hub_filesystem, token_of
from worker.job_runners import register
from worker.readers import (
    Rows,
    read_audio_folder_rows,
    read_parquet_rows,
    read_streaming_rows,
    split_data_files,
)


def _load_builder(dataset: str, config: str, revision: str, token: str | bool) -> DatasetBuilder:
    try:
        return load_dataset_builder(dataset, config, revision=revision, token=token)
    except Exception as err:
        error = classify_hub_error(err, default=InfoError)
        if not isinstance(error, InfoError):
            raise error from err
        try:
            known = [str(name) for name in get_dataset_config_names(dataset, revision=revision, token=token)]
        except Exception:
            raise error from err
        if config not in known:
            raise ConfigNotFoundError(cause=err) from err
        raise error from err


def _splits_and_features(
    builder: DatasetBuilder, dataset: str, config: str, revision: str, token: str | bool
) -> tuple[list[str], Features | None]:
    if builder.info.splits:
        return [str(name) for name in builder.info.splits], builder.info.features
    if builder.config.data_files and builder.name != "audiofolder":
        # The packaged builders make one split per key of their resolved data files.
        return [str(name) for name in builder.config.data_files], builder.info.features
    try:
        # Reads the split names and, for folder builders, the features (metadata columns) from the data files.
        info = get_dataset_config_info(dataset, config, revision=revision, token=token)
    except Exception as err:
        raise classify_hub_error(err, default=InfoError) from err
    return [str(name) for name in (info.splits or {})], info.features


def _read_rows(
    builder: DatasetBuilder, features: Features | None, job: JobInfo, common: CommonConfig, limit: int
) -> tuple[Features | None, Rows]:
    dataset, split = job.dataset, str(job.split)
    data_files = split_data_files(builder.config.data_files, split)
    if builder.name == "parquet" and data_files:
        schema_features, rows = read_parquet_rows(hub_filesystem(common), dataset, data_files, limit)
        return features or schema_features, rows
    if builder.name == "audiofolder" and data_files:
        return features, read_audio_folder_rows(hub_filesystem(common), dataset, data_files, features, limit)
    streamed_features, rows = read_streaming_rows(builder, split, limit)
    return features or streamed_features, rows


def features_content(features: Features) -> list[dict[str, Any]]:
    """`[{"feature_idx", "name", "type"}]` with the type as serialised by `Features.to_dict()`."""
    types = features.to_dict()
    return [{"feature_idx": idx, "name": name, "type": types[name]} for idx, name in enumerate(features)]


def row_items(
    head: dict[str, Any], raw_rows: Rows, features: Features, context: RowContext, limits: FirstRowsConfig
) -> list[dict[str, Any]]:
    """Convert rows in order until adding one would bring the response (`head` + rows) to `limits.max_bytes`.

    The first `limits.min_number` rows are always kept. Only kept rows (and the first refused one) have
    their assets written.
    """
    items: list[dict[str, Any]] = []
    total = len(dumps({**head, "rows": []}))
    for row_idx, raw in enumerate(raw_rows[: limits.max_number]):
        row = convert_row(raw, features, replace(context, row_idx=row_idx))
        item = {"row_idx": row_idx, "row": row, "truncated_cells": []}
        size = len(dumps(item)) + (1 if items else 0)  # + the separating comma
        if row_idx >= limits.min_number and total + size > limits.max_bytes:
            break
        items.append(item)
        total += size
    return items


@register(FIRST_ROWS)
def compute_first_rows(job: JobInfo, config: AppConfig) -> JobResult:
    """Features and first rows of the split (`job.config`, `job.split`) of `job.dataset`."""
    if job.config is None or job.split is None:
        raise ValueError("a /first-rows job needs a config and a split")
    dataset, config_name, split = job.dataset, job.config, job.split
    revision = get_dataset_revision(dataset, config.common)
    token = token_of(config.common)
    builder = _load_builder(dataset, config_name, revision, token)
    split_names, known_features = _splits_and_features(builder, dataset, config_name, revision, token)
    if split not in split_names:
        raise SplitNotFoundError()
    try:
        features, raw_rows = _read_rows(builder, known_features, job, config.common, config.first_rows.max_number)
    except Exception as err:
        raise classify_hub_error(err, default=StreamingRowsError) from err
    if features is None:
        if raw_rows:
            raise FeaturesError()
        features = Features({})
    head: dict[str, Any] = {
        "dataset": dataset,
        "config": config_name,
        "split": split,
        "features": features_content(features),
    }
    fs = hub_filesystem(config.common)

    def open_media(url: str) -> bytes | None:
        path = hf_path_in_dataset(url, dataset)
        if path is None:
            return None
        with fs.open(path, "rb") as file:
            data: bytes = file.read()
        return data

    context = RowContext(config.assets, dataset, config_name, split, 0, open_media)
    try:
        rows = row_items(head, raw_rows, features, context, config.first_rows)
    except Exception as err:
        raise classify_hub_error(err, default=RowsPostProcessingError) from err
    return JobResult(content={**head, "rows": rows}, dataset_git_revision=revision)
