"""Reading the first rows of a split, as raw arrow-style values, by the cheapest safe path.

- Parquet data files: pyarrow directly on the Hub file (small fsspec blocks, `pre_buffer=False`, batches
  of the needed size): footer + first pages, whatever the file size, and none of the read-ahead threads
  that make the `datasets` parquet streaming path abort the interpreter at exit.
- Audio folders: `datasets` cannot even encode audio without torchcodec, so the metadata file and the
  audio files are read here through HfFileSystem (only files of the dataset itself).
- Everything else: `datasets` streaming, in arrow format so that media are not decoded by the library.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from datasets import ClassLabel, Features
from datasets.builder import DatasetBuilder
from datasets.packaged_modules.audiofolder.audiofolder import AudioFolder
from huggingface_hub import HfFileSystem

from worker.hub import DATA_FILE_BLOCK_SIZE, hf_path_in_dataset

Rows = list[dict[str, Any]]
#: pyarrow's own read buffer for parquet column chunks (with pre_buffer=False).
PARQUET_BUFFER_SIZE: Final = 64 * 1024
METADATA_FILENAMES: Final = ("metadata.csv", "metadata.jsonl", "metadata.parquet")


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
    fs: HfFileSystem, dataset: str, data_files: Iterable[str], limit: int
) -> tuple[Features | None, Rows]:
    """The first `limit` rows of the split's parquet files, and the features of the first file's schema."""
    features: Features | None = None
    rows: Rows = []
    for url in data_files:
        with fs.open(_own_path(url, dataset), "rb", block_size=DATA_FILE_BLOCK_SIZE) as file:
            parquet_file = pq.ParquetFile(file, pre_buffer=False, buffer_size=PARQUET_BUFFER_SIZE)
            if features is None:
                features = Features.from_arrow_schema(parquet_file.schema_arrow)
            if len(rows) < limit and parquet_file.metadata.num_rows > 0:
                batches = parquet_file.iter_batches(batch_size=limit - len(rows), use_threads=False)
                for batch in batches:
                    rows.extend(batch.to_pylist())
                    if len(rows) >= limit:
                        break
                batches.close()
        if len(rows) >= limit:
            break
    return features, rows[:limit]


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


def read_streaming_rows(builder: DatasetBuilder, split: str, limit: int) -> tuple[Features | None, Rows]:
    """The first `limit` rows with `datasets` streaming (arrow format: media stay undecoded).

    `builder.as_streaming_dataset` is what `load_dataset(..., streaming=True)` does after resolving the
    builder; reusing the job's builder saves resolving the dataset (a dozen Hub requests) again.
    """
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
