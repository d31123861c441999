"""Reading the first rows of a split, as raw arrow-style values, by the cheapest safe path.

- Parquet data files: pyarrow directly on the Hub file (small fsspec blocks, `pre_buffer=False`, batches
  of the needed size, one column stream at a time): footer + first data pages, whatever the file size and
  the row-group layout, and none of the read-ahead threads that make the `datasets` parquet streaming
  path abort the interpreter at exit. Rows are cast to the features exactly as the `datasets` parquet
  builder does, so they are the values `datasets` streaming gives.
- Plain CSV data files (no features declared, no compression): the first pandas chunk, read with the
  `datasets` CSV builder's own `pd.read_csv` arguments but through small fsspec blocks (the default
  5 MiB read-ahead block alone is bigger than the chunk `datasets` parses).
- Audio folders: `datasets` cannot even encode audio without torchcodec, so the metadata file and the
  audio files are read here through HfFileSystem (only files of the dataset itself).
- Everything else: `datasets` streaming, in arrow format so that media are not decoded by the library.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from typing import Any, Final

import datasets.config
import pandas as pd  # type: ignore[import-untyped]  # the parser of the datasets CSV builder
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from datasets import ClassLabel, Features
from datasets.builder import DatasetBuilder
from datasets.packaged_modules.audiofolder.audiofolder import AudioFolder
from datasets.table import table_cast
from huggingface_hub import HfFileSystem

from worker.hub import DATA_FILE_BLOCK_SIZE, hf_path_in_dataset

Rows = list[dict[str, Any]]
#: pyarrow's own read buffer for parquet column chunks (with pre_buffer=False).
PARQUET_BUFFER_SIZE: Final = 64 * 1024
METADATA_FILENAMES: Final = ("metadata.csv", "metadata.jsonl", "metadata.parquet")
#: Extensions `datasets` opens without compression (and without sniffing magic numbers) in a CSV split.
PLAIN_CSV_EXTENSIONS: Final = frozenset({"csv", "tsv"})


def split_data_files(data_files: Any, split: str) -> list[str]:
    """The resolved data file URLs of one split in a builder config's `data_files` (a split-keyed mapping)."""
    if not data_files:
        return []
    for key, files in data_files.items():
        if str(key) == split:
            return [str(url) for url in files]
    return []


def _own_path(url: str, dataset: str) -> str:
    path = hf_path_in_dataset(url, dataset)
    if path is None:
        raise ValueError(f"the data file {url!r} is not a file of the dataset")
    return path


def read_parquet_rows(
    fs: HfFileSystem,
    dataset: str,
    data_files: Iterable[str],
    limit: int,
    *,
    features: Features | None = None,
) -> tuple[Features | None, Rows]:
    """The first `limit` rows of the split's parquet files (in order), and their features.

    `features` are those `datasets` would cast to (the builder's, e.g. from the README); without them,
    the first file's schema gives them (its `huggingface` metadata when it matches, as in `datasets`).
    Each file is opened only if rows are still missing; at most `limit` rows are ever decoded.
    """
    rows: Rows = []
    for url in data_files:
        if len(rows) >= limit:
            break
        with fs.open(_own_path(url, dataset), "rb", block_size=DATA_FILE_BLOCK_SIZE, cache_type="readahead") as file:
            parquet_file = pq.ParquetFile(file, pre_buffer=False, buffer_size=PARQUET_BUFFER_SIZE)
            if features is None:
                features = Features.from_arrow_schema(parquet_file.schema_arrow)
            rows.extend(_first_parquet_rows(parquet_file, features, limit - len(rows)))
    return features, rows


def _first_parquet_rows(parquet_file: pq.ParquetFile, features: Features, limit: int) -> Rows:
    if parquet_file.metadata.num_rows == 0:
        return []
    # Selecting columns only when needed: names with dots would be taken as nested paths.
    names = list(features)
    columns = None if set(names) == set(parquet_file.schema_arrow.names) else names
    # One thread: with several, the column streams interleave their reads through the file's single
    # read-ahead block and refetch each other's bytes (about 50 % more transferred).
    batches = parquet_file.iter_batches(batch_size=limit, columns=columns, use_threads=False)
    rows: Rows = []
    try:
        for batch in batches:
            # The cast of the datasets parquet builder (`_cast_table`): dictionary columns decoded, nested
            # keys reordered, values converted to the declared features.
            rows.extend(table_cast(pa.Table.from_batches([batch]), features.arrow_schema).to_pylist())
            if len(rows) >= limit:
                break
    finally:
        batches.close()
    return rows[:limit]


def _plain_csv_paths(builder: DatasetBuilder, split: str) -> list[str] | None:
    """The split's HfFileSystem paths when `datasets` would read them as plain CSV text, else None.

    That is: the CSV builder with no features (none declared, none in the README: nothing to cast to),
    no explicit compression, and only `.csv`/`.tsv` files of the dataset itself.
    """
    if builder.name != "csv" or builder.config.features is not None or builder.info.features is not None:
        return None
    if builder.config.pd_read_csv_kwargs.get("compression", "infer") != "infer":
        return None
    urls = split_data_files(builder.config.data_files, split)
    paths = [hf_path_in_dataset(url, str(builder.repo_id)) if builder.repo_id else None for url in urls]
    if not urls or any(path is None or _extension(path) not in PLAIN_CSV_EXTENSIONS for path in paths):
        return None
    return [str(path) for path in paths]


def _extension(path: str) -> str:
    # As `datasets.utils.file_utils._get_path_extension`: "train.csv-00000-of-00002" has the extension "csv".
    extension = path.split(".")[-1]
    for symbol in "?-_":
        extension = extension.split(symbol)[0]
    return extension


def read_csv_rows(
    fs: HfFileSystem, builder: DatasetBuilder, paths: list[str], limit: int
) -> tuple[Features | None, Rows]:
    """The first `limit` rows of plain CSV files, as the `datasets` CSV builder streams them.

    Same parser, same arguments (`pd_read_csv_kwargs`, chunks of `chunksize` rows), same conversion
    (`pa.Table.from_pandas`), so the types are inferred on the same first chunk as in `datasets`; only the
    file is read through small blocks. The features are those of the first non-empty chunk, as in
    streaming; a later chunk (next file) with other types raises ArrowInvalid, as `datasets` does.
    """
    kwargs = {**builder.config.pd_read_csv_kwargs, "compression": None}
    features: Features | None = None
    schema: pa.Schema | None = None
    rows: Rows = []
    for path in paths:
        if len(rows) >= limit:
            break
        with (
            fs.open(path, "rb", block_size=DATA_FILE_BLOCK_SIZE, cache_type="readahead") as file,
            pd.read_csv(file, iterator=True, dtype=None, **kwargs) as reader,
        ):
            for frame in reader:
                if len(frame) == 0:
                    continue  # gives no batch in datasets: neither rows nor types
                table = pa.Table.from_pandas(frame)
                if schema is None:
                    schema, features = table.schema, Features.from_arrow_schema(table.schema)
                elif not table.schema.equals(schema, check_metadata=False):
                    # datasets cannot join them into its first batch either (and fails the same way).
                    raise pa.ArrowInvalid(f"the CSV chunks have different types: {schema} vs {table.schema}")
                rows.extend(table.slice(0, limit - len(rows)).to_pylist())
                if len(rows) >= limit:
                    break
    return features, rows


def _read_metadata(fs: HfFileSystem, path: str, limit: int) -> Rows:
    with fs.open(path, "rb", block_size=DATA_FILE_BLOCK_SIZE) as file:
        if path.endswith(".parquet"):
            parquet_file = pq.ParquetFile(file, pre_buffer=False, buffer_size=PARQUET_BUFFER_SIZE)
            batches = parquet_file.iter_batches(batch_size=limit, use_threads=False)
            first: Rows = next(batches, pa.RecordBatch.from_pylist([])).to_pylist()
            return first[:limit]
        if path.endswith(".jsonl"):
            records: Rows = []
            for line in file:
                if line.strip():
                    records.append(json.loads(line))
                if len(records) >= limit:
                    break
            return records
        reader = pa_csv.open_csv(file, read_options=pa_csv.ReadOptions(use_threads=False))
        rows: Rows = []
        for batch in reader:
            rows.extend(batch.to_pylist())
            if len(rows) >= limit:
                break
        return rows[:limit]


def _file_column(key: str) -> str | None:
    if key == "file_name":
        return str(AudioFolder.BASE_COLUMN_NAME)
    if key.endswith("_file_name"):
        return key[: -len("_file_name")]
    return None


def _join_relative(directory: str, name: Any) -> str | None:
    """`directory/name` for a plain relative `name`; None for absolute paths, URLs or `..` escapes."""
    if not isinstance(name, str) or "://" in name or name.startswith("/") or "\\" in name:
        return None
    normalized = posixpath.normpath(name)
    if normalized == ".." or normalized.startswith("../"):
        return None
    return posixpath.join(directory, normalized)


def read_audio_folder_rows(
    fs: HfFileSystem, dataset: str, data_files: list[str], features: Features | None, limit: int
) -> Rows:
    """The first `limit` rows of an audio folder split, with `{"bytes": None, "path": hf-url}` audio values.

    With metadata files, one row per metadata record (`file_name` / `<column>_file_name` keys become the
    audio columns, relative to the metadata file's folder); otherwise one row per audio file, plus the
    class label of its folder when the features have one.
    """
    metadata_urls = [url for url in data_files if posixpath.basename(url) in METADATA_FILENAMES]
    rows: Rows = []
    if metadata_urls:
        for url in metadata_urls:
            directory = posixpath.dirname(url)
            for record in _read_metadata(fs, _own_path(url, dataset), limit - len(rows)):
                row: dict[str, Any] = {}
                for key, value in record.items():
                    column = _file_column(key)
                    if column is None:
                        row[key] = value
                    else:
                        audio_url = _join_relative(directory, value)
                        row[column] = None if audio_url is None else {"bytes": None, "path": audio_url}
                rows.append(row)
            if len(rows) >= limit:
                break
        return rows[:limit]
    extensions = {extension.lower() for extension in AudioFolder.EXTENSIONS}
    label_feature = features.get("label") if features is not None else None
    for url in data_files:
        if posixpath.splitext(url)[1].lower() not in extensions:
            continue
        row = {AudioFolder.BASE_COLUMN_NAME: {"bytes": None, "path": url}}
        if isinstance(label_feature, ClassLabel):
            row["label"] = label_feature.str2int(posixpath.basename(posixpath.dirname(url)))
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def read_streaming_rows(
    builder: DatasetBuilder, split: str, limit: int, *, fs: HfFileSystem | None = None
) -> tuple[Features | None, Rows]:
    """The first `limit` rows with `datasets` streaming (arrow format: media stay undecoded).

    `builder.as_streaming_dataset` is what `load_dataset(..., streaming=True)` does after resolving the
    builder; reusing the job's builder saves resolving the dataset (a dozen Hub requests) again. Plain CSV
    splits take `read_csv_rows` instead (same rows, a fraction of the bytes), through `fs` or, by
    default, a filesystem with the builder's own endpoint and token.
    """
    csv_paths = _plain_csv_paths(builder, split)
    if csv_paths is not None:
        if fs is None:
            fs = HfFileSystem(endpoint=datasets.config.HF_ENDPOINT, token=builder.token)
        return read_csv_rows(fs, builder, csv_paths, limit)
    iterable = builder.as_streaming_dataset(split=split)
    features: Features | None = iterable.features
    rows: Rows = []
    for table in iterable.with_format("arrow").iter(batch_size=limit):
        if features is None:
            features = Features.from_arrow_schema(table.schema)
        rows.extend(table.to_pylist())
        if len(rows) >= limit:
            break
    return features, rows[:limit]
