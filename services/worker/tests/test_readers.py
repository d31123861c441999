"""`worker.readers` against a local hub serving repos written here: same rows as `datasets`, few bytes.

`datasets` is run in a subprocess (its parquet streaming can abort the interpreter at exit, and it reads
HF_ENDPOINT at import time); the readers run in this process, over HfFileSystem, except the CSV reader,
which needs a `datasets` builder and so runs in the subprocess too.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import huggingface_hub
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Audio, ClassLabel, Features, Image, LargeList, List, Value
from huggingface_hub import HfFileSystem
from huggingface_hub.utils._http import default_client_factory
from PIL import Image as PILImage

from localhub.testing import running_hub
from worker.readers import read_parquet_rows

NAMESPACE = "tests"
TOKEN = "hf_reader_token"
LIMIT = 100
BIG_ROWS = 300_000  # ~63 MB of incompressible text, in 2 row groups of ~31 MB
BIG_ROW_GROUP = 150_000

MIXED_FEATURES = Features(
    {
        "id": Value("int64"),
        "small": Value("int8"),
        "ratio": Value("float32"),
        "flag": Value("bool"),
        "text": Value("string"),
        "tags": List(Value("string")),
        "matrix": List(List(Value("int32"))),
        "vector": List(Value("float32"), length=3),
        "big_list": LargeList(Value("int64")),
        "point": {"x": Value("float64"), "name": Value("string")},
        "events": List({"t": Value("int64"), "kind": Value("string")}),
        "created": Value("timestamp[us, tz=UTC]"),
        "day": Value("date32"),
        "price": Value("decimal128(10, 2)"),
        "blob": Value("binary"),
        "label": ClassLabel(names=["neg", "pos"]),
        "image": Image(),
        "audio": Audio(),
    }
)

# Runs in a fresh interpreter: argv = [tasks JSON, output pickle path]. Ends with os._exit (see above).
STREAMING_SCRIPT = """
import json, os, pickle, sys
from itertools import islice
import datasets
from worker.readers import _plain_csv_paths, read_streaming_rows

def attempt(function):
    try:
        return function()
    except Exception as err:
        return {"error": type(err).__name__, "message": str(err)}

def read_arrow(ds, limit):
    table = next(iter(ds.with_format("arrow").iter(batch_size=limit)))
    features = ds.features or datasets.Features.from_arrow_schema(table.schema)
    return features.to_dict(), table.to_pylist()

def read_direct(builder, split, limit):
    features, rows = read_streaming_rows(builder, split, limit)
    return features.to_dict(), rows

results = {}
for repo, split, limit in json.loads(sys.argv[1]):
    builder = datasets.load_dataset_builder(repo, token=False)
    result = {"data_files": [str(url) for url in builder.config.data_files[split]]}
    if builder.name == "csv":
        result["direct_csv"] = _plain_csv_paths(builder, split) is not None
        result["reader"] = attempt(lambda: read_direct(builder, split, limit))
    ds = datasets.load_dataset(repo, split=split, streaming=True, token=False)
    result["arrow"] = attempt(lambda: read_arrow(ds, limit))
    # without features (CSV), there is nothing to decode and `decode` refuses to run
    undecoded = ds.decode(False) if ds.features else ds
    result["python"] = attempt(lambda: list(islice(undecoded, limit)))
    results[f"{repo}/{split}/{limit}"] = result
with open(sys.argv[2], "wb") as out:
    pickle.dump(results, out)
sys.stdout.flush()
os._exit(0)
"""


def png_bytes(i: int) -> bytes:
    """A tiny PNG (never decoded here: media stay `{"bytes", "path"}` structs)."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (2, 2), (i % 256, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def mixed_row(i: int) -> dict[str, Any]:
    """Row `i` of the mixed-type repo (with nulls in some rows)."""
    return {
        "id": i,
        "small": i % 100 - 50,
        "ratio": i / 4,
        "flag": i % 3 == 0,
        "text": None if i % 7 == 3 else f'row {i}, "quoted" é',
        "tags": [f"t{j}" for j in range(i % 4)],
        "matrix": [[i, i + 1], [], [i * 2]],
        "vector": [i, i + 0.5, -i],
        "big_list": list(range(i % 5)),
        "point": {"x": i * 1.25, "name": f"p{i}"},
        "events": [{"t": i, "kind": "start"}, {"t": i + 10, "kind": "stop"}],
        "created": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(minutes=i),
        "day": datetime.date(2024, 1, 1) + datetime.timedelta(days=i),
        "price": Decimal(f"{i}.{i % 100:02d}"),
        "blob": bytes([i % 256]) * (i % 5),
        "label": i % 2,
        "image": {"bytes": png_bytes(i), "path": f"img{i}.png"},
        "audio": None if i % 5 == 4 else {"bytes": b"RIFF" + bytes(i % 7), "path": f"a{i}.wav"},
    }


def mixed_table(start: int, stop: int) -> pa.Table:
    """Rows [start, stop) with the features in the schema metadata, plus a dictionary-encoded column."""
    table = pa.Table.from_pylist([mixed_row(i) for i in range(start, stop)], schema=MIXED_FEATURES.arrow_schema)
    categories = pa.array([["red", "green", "blue"][i % 3] for i in range(start, stop)]).dictionary_encode()
    return table.append_column("category", categories)


def big_table() -> pa.Table:
    """`id` + a 200-character random base64 string per row (incompressible), as in the benchmark."""
    data = base64.b64encode(np.random.default_rng(0).bytes(BIG_ROWS * 150))
    offsets = np.arange(0, (BIG_ROWS + 1) * 200, 200, dtype=np.int32)
    text = pa.StringArray.from_buffers(BIG_ROWS, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
    return pa.table({"id": pa.array(np.arange(BIG_ROWS, dtype=np.int64)), "text": text})


def csv_text(start: int, stop: int, blank_at: int) -> str:
    """CSV rows whose types `pandas` infers on the whole first chunk (a blank makes `score` a float)."""
    lines = ["id,score,name,flag,when"]
    for i in range(start, stop):
        score = "" if i == blank_at else str(i * 3)
        lines.append(f'{i},{score},"name {i}, with comma",{"True" if i % 2 else "False"},2024-01-{i % 28 + 1:02d}')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local hub with the repos of this module (and a token owning the private one)."""
    root = tmp_path_factory.mktemp("readers-hub")

    def repo(name: str) -> Path:
        path = root / "datasets" / NAMESPACE / name
        (path / "data").mkdir(parents=True)
        return path

    mixed = repo("mixed")
    pq.write_table(mixed_table(0, 60), mixed / "data/train-00000-of-00002.parquet", row_group_size=16)
    pq.write_table(mixed_table(60, 130), mixed / "data/train-00001-of-00002.parquet", row_group_size=16)
    pq.write_table(mixed_table(1000, 1030), mixed / "data/test-00000-of-00001.parquet", row_group_size=16)
    pq.write_table(big_table(), repo("big") / "data/train.parquet", row_group_size=BIG_ROW_GROUP)
    pq.write_table(mixed_table(0, 20), repo("private") / "data/train.parquet")
    csv = repo("csv")
    (csv / "data/train-00000-of-00002.csv").write_text(csv_text(0, 60, 50))
    # the blank of row 2500 is in the first chunk (10,000 rows) of the file: 60.. are floats too
    (csv / "data/train-00001-of-00002.csv").write_text(csv_text(60, 3000, 2500))
    csv = repo("csv-empty")  # a header, no rows
    (csv / "data/train-00000-of-00002.csv").write_text("id,score,name,flag,when\n")
    (csv / "data/train-00001-of-00002.csv").write_text(csv_text(60, 3000, 2500))
    csv = repo("csv-mismatch")
    (csv / "data/train-00000-of-00002.csv").write_text(csv_text(0, 60, 50))
    (csv / "data/train-00001-of-00002.csv").write_text(csv_text(60, 3000, -1))
    (root / "localhub.json").write_text(
        json.dumps(
            {
                "users": {"reader": {}},
                "tokens": {TOKEN: {"user": "reader"}},
                "repos": {f"{NAMESPACE}/private": {"private": True, "granted": ["reader"]}},
            }
        )
    )
    with running_hub(root) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def streamed(hub: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `datasets` streaming (and the CSV reader, on a `datasets` builder) give, per repo/split/limit."""
    tasks = [
        (f"{NAMESPACE}/mixed", "train", LIMIT),
        (f"{NAMESPACE}/mixed", "train", 500),
        (f"{NAMESPACE}/mixed", "test", 7),
        (f"{NAMESPACE}/csv", "train", LIMIT),
        (f"{NAMESPACE}/csv-mismatch", "train", LIMIT),
        (f"{NAMESPACE}/csv-mismatch", "train", 60),
        (f"{NAMESPACE}/csv-empty", "train", LIMIT),
    ]
    work = tmp_path_factory.mktemp("streaming")
    env = {**os.environ, "HF_ENDPOINT": hub, "HF_HOME": str(work / "hf-home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    output = work / "streamed.pickle"
    process = subprocess.run(
        [sys.executable, "-c", STREAMING_SCRIPT, json.dumps(tasks), str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    with output.open("rb") as file:
        results: dict[str, Any] = pickle.load(file)  # written by the script above
    return results


class ByteCounter:
    """Response body bytes received by huggingface_hub's HTTP client, per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []  # (url path, Range header, body bytes)

    def data_requests(self, filename: str) -> list[tuple[str, str, int]]:
        """The requests for the content of a file (`/resolve/` URLs)."""
        return [r for r in self.requests if "/resolve/" in r[0] and r[0].endswith("/" + filename)]


class _CountedStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, counter: ByteCounter, index: int) -> None:
        self.inner, self.counter, self.index = inner, counter, index

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            path, byte_range, size = self.counter.requests[self.index]
            self.counter.requests[self.index] = (path, byte_range, size + len(chunk))
            yield chunk

    def close(self) -> None:
        self.inner.close()


class _CountingTransport(httpx2.BaseTransport):
    def __init__(self, counter: ByteCounter) -> None:
        self.inner = httpx2.HTTPTransport()
        self.counter = counter

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        self.counter.requests.append((request.url.path, request.headers.get("range", ""), 0))
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _CountedStream(response.stream, self.counter, len(self.counter.requests) - 1)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def counter() -> Iterator[ByteCounter]:
    """Count what the Hub sends to huggingface_hub (all HfFileSystem reads go through its client)."""
    counter = ByteCounter()
    huggingface_hub.set_client_factory(
        lambda: httpx2.Client(transport=_CountingTransport(counter), follow_redirects=True, timeout=None)
    )
    try:
        yield counter
    finally:
        huggingface_hub.set_client_factory(default_client_factory)


def filesystem(endpoint: str, token: str | bool = False) -> HfFileSystem:
    """A fresh filesystem (no listing cached by an earlier test)."""
    return HfFileSystem(endpoint=endpoint, token=token, skip_instance_cache=True)


def own_url(repo: str, path: str) -> str:
    """A data file URL as `datasets` resolves them (the branch instead of the commit sha)."""
    return f"hf://datasets/{NAMESPACE}/{repo}@main/{path}"


@pytest.mark.parametrize(("split", "limit"), [("train", LIMIT), ("train", 500), ("test", 7)])
def test_parquet_rows_equal_datasets_streaming(hub: str, streamed: dict[str, Any], split: str, limit: int) -> None:
    result = streamed[f"{NAMESPACE}/mixed/{split}/{limit}"]
    features, rows = read_parquet_rows(filesystem(hub), f"{NAMESPACE}/mixed", result["data_files"], limit)
    assert features is not None
    expected_features, expected_rows = result["arrow"]
    assert features.to_dict() == expected_features
    assert rows == expected_rows == result["python"]
    # the metadata features are kept (media stay undecoded structs), the dictionary column is decoded
    assert isinstance(features["image"], Image) and isinstance(features["label"], ClassLabel)
    assert features["category"] == Value("string")
    expected_count = {"train": min(limit, 130), "test": 7}[split]
    first = 0 if split == "train" else 1000
    assert [row["id"] for row in rows] == list(range(first, first + expected_count))
    assert rows[0]["image"] == {"bytes": png_bytes(first), "path": f"img{first}.png"}


def test_csv_reader_equals_datasets_streaming(streamed: dict[str, Any]) -> None:
    result = streamed[f"{NAMESPACE}/csv/train/{LIMIT}"]
    assert result["direct_csv"]
    assert result["reader"] == result["arrow"]
    features, rows = result["reader"]
    assert rows == result["python"]
    assert features["score"] == {"dtype": "float64", "_type": "Value"}
    assert [row["id"] for row in rows] == list(range(LIMIT))
    assert rows[50]["score"] is None
    assert rows[60] == {"id": 60, "score": 180.0, "name": "name 60, with comma", "flag": False, "when": "2024-01-05"}


def test_csv_reader_fails_like_datasets_on_chunks_of_other_types(streamed: dict[str, Any]) -> None:
    # `score` is a float in the first file (a blank) and an int in the second one
    result = streamed[f"{NAMESPACE}/csv-mismatch/train/{LIMIT}"]
    assert result["direct_csv"]
    assert result["reader"]["error"] == result["arrow"]["error"] == "ArrowInvalid"
    result = streamed[f"{NAMESPACE}/csv-mismatch/train/60"]
    assert result["reader"] == result["arrow"]
    assert len(result["reader"][1]) == 60


def test_csv_reader_skips_empty_files_like_datasets(streamed: dict[str, Any]) -> None:
    result = streamed[f"{NAMESPACE}/csv-empty/train/{LIMIT}"]
    assert result["reader"] == result["arrow"]
    assert [row["id"] for row in result["reader"][1]] == list(range(60, 60 + LIMIT))


def test_parquet_reads_footer_and_first_pages_only(hub: str, counter: ByteCounter) -> None:
    fs = filesystem(hub)
    path = f"datasets/{NAMESPACE}/big/data/train.parquet"
    size = fs.info(path)["size"]
    with fs.open(path, "rb") as file:
        metadata = pq.ParquetFile(file).metadata
    row_group = metadata.row_group(0)
    row_group_bytes = sum(row_group.column(j).total_compressed_size for j in range(row_group.num_columns))
    counter.requests.clear()

    features, rows = read_parquet_rows(fs, f"{NAMESPACE}/big", [own_url("big", "data/train.parquet")], LIMIT)

    assert features == Features({"id": Value("int64"), "text": Value("string")})
    assert [row["id"] for row in rows] == list(range(LIMIT))
    text = base64.b64encode(np.random.default_rng(0).bytes(LIMIT * 150)).decode()
    assert [row["text"] for row in rows] == [text[i * 200 : (i + 1) * 200] for i in range(LIMIT)]
    data = counter.data_requests("train.parquet")
    read = sum(size for _, _, size in data)
    assert size > 60_000_000 and row_group_bytes > 30_000_000
    assert read < 5_000_000, data
    assert read < row_group_bytes / 6
    footer_reads = [r for r in data if r[1].endswith(f"-{size - 1}")]
    assert len(footer_reads) == 1, data
    assert len(data) <= 8, data


def test_limit_across_files(hub: str, counter: ByteCounter) -> None:
    files = [own_url("mixed", f"data/train-0000{i}-of-00002.parquet") for i in range(2)]
    _, rows = read_parquet_rows(filesystem(hub), f"{NAMESPACE}/mixed", files, LIMIT)
    assert [row["id"] for row in rows] == list(range(LIMIT))  # 60 from the first file, 40 from the second
    assert counter.data_requests("train-00001-of-00002.parquet")

    counter.requests.clear()
    _, rows = read_parquet_rows(filesystem(hub), f"{NAMESPACE}/mixed", files, 10)
    assert [row["id"] for row in rows] == list(range(10))
    assert counter.data_requests("train-00000-of-00002.parquet")
    assert not counter.data_requests("train-00001-of-00002.parquet")  # never opened

    _, rows = read_parquet_rows(filesystem(hub), f"{NAMESPACE}/mixed", files, 0)
    assert rows == []


def test_limit_larger_than_the_split(hub: str) -> None:
    files = [own_url("mixed", "data/test-00000-of-00001.parquet")]
    _, rows = read_parquet_rows(filesystem(hub), f"{NAMESPACE}/mixed", files, 1000)
    assert [row["id"] for row in rows] == list(range(1000, 1030))


def test_given_features_are_cast_to(hub: str) -> None:
    files = [own_url("mixed", "data/test-00000-of-00001.parquet")]
    given = Features({"id": Value("string"), "point": {"name": Value("string"), "x": Value("float32")}})
    features, rows = read_parquet_rows(filesystem(hub), f"{NAMESPACE}/mixed", files, 2, features=given)
    assert features is given
    assert rows == [
        {"id": "1000", "point": {"name": "p1000", "x": 1250.0}},
        {"id": "1001", "point": {"name": "p1001", "x": 1251.25}},
    ]


def test_private_repo_needs_the_token(hub: str) -> None:
    files = [own_url("private", "data/train.parquet")]
    _, rows = read_parquet_rows(filesystem(hub, TOKEN), f"{NAMESPACE}/private", files, 5)
    assert [row["id"] for row in rows] == list(range(5))
    with pytest.raises(FileNotFoundError):
        read_parquet_rows(filesystem(hub), f"{NAMESPACE}/private", files, 5)


def test_files_of_other_datasets_are_refused(hub: str) -> None:
    files = [own_url("mixed", "data/test-00000-of-00001.parquet")]
    with pytest.raises(ValueError, match="not a file of the dataset"):
        read_parquet_rows(filesystem(hub), f"{NAMESPACE}/private", files, 5)
