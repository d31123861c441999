"""`/first-rows` (split level): the features and the first rows of a split, media saved as asset files.

Steps, all pinned to the commit sha read first: check the config (builder) and the split (info), read the
first FIRST_ROWS_MAX_NUMBER raw rows (`worker.readers`), convert them one by one into JSON cells and asset
files (`worker.cells`) while choosing the rows by the byte budget (`worker.truncation`, anchor-2022 §5.5),
then bring the whole response under FIRST_ROWS_MAX_RESPONSE_BYTES.

Memory: each raw row (with its media bytes) is released as soon as it is converted, and the rows after the
first one refused by the budget are never converted (nor their assets written).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import IO, Any

from datasets import Features, get_dataset_config_info, get_dataset_config_names, load_dataset_builder
from datasets.builder import DatasetBuilder

from libcommon.config import CommonConfig
from libcommon.processing_graph import FIRST_ROWS
from worker.cells import RowContext, check_features, convert_row
from worker.config import AppConfig
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
from worker.truncation import create_truncated_row_items, fit_response


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
        # Declared features (README) are passed so that the rows are cast to them, as `datasets` does.
        return read_parquet_rows(hub_filesystem(common), dataset, data_files, limit, features=features)
    if builder.name == "audiofolder" and data_files:
        return features, read_audio_folder_rows(hub_filesystem(common), dataset, data_files, features, limit)
    streamed_features, rows = read_streaming_rows(builder, split, limit, fs=hub_filesystem(common))
    return features or streamed_features, rows


def features_content(features: Features) -> list[dict[str, Any]]:
    """`[{"feature_idx", "name", "type"}]` with the type as serialised by `Features.to_dict()`."""
    types = features.to_dict()
    return [{"feature_idx": idx, "name": name, "type": types[name]} for idx, name in enumerate(features)]


def _drain(rows: Rows) -> Iterator[dict[str, Any]]:
    """Yield the rows in order, removing each from the list.

    A raw row (media bytes included) is then freed as soon as it is converted, not with the whole list.
    """
    rows.reverse()
    while rows:
        yield rows.pop()


def converted_rows(
    raw_rows: Iterable[Mapping[str, Any]], features: Features, context: RowContext
) -> Iterator[dict[str, Any]]:
    """Convert the rows lazily, one at a time, each with its `row_idx` (a list is emptied meanwhile)."""
    rows = _drain(raw_rows) if isinstance(raw_rows, list) else iter(raw_rows)
    for row_idx, raw in enumerate(rows):
        yield convert_row(raw, features, replace(context, row_idx=row_idx))


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
    check_features(features)
    head: dict[str, Any] = {
        "dataset": dataset,
        "config": config_name,
        "split": split,
        "features": features_content(features),
    }
    fs = hub_filesystem(config.common)

    def open_media(url: str) -> IO[bytes] | None:
        path = hf_path_in_dataset(url, dataset)
        if path is None:
            return None
        file: IO[bytes] = fs.open(path, "rb")
        return file

    context = RowContext(config.assets, dataset, config_name, split, 0, open_media)
    try:
        items = create_truncated_row_items(converted_rows(raw_rows, features, context), config.first_rows)
    except Exception as err:
        raise classify_hub_error(err, default=RowsPostProcessingError) from err
    return JobResult(content=fit_response(head, items, config.first_rows), dataset_git_revision=revision)
