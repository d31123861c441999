"""Bytes and time of the worker's first-rows read, against the physical floor measured in the same run.

    uv run python bench/first_rows_bytes.py [--workdir DIR] [--size-mb 420] [--repeat 3] [--datasets-baseline]

Files (generated once, cached in the workdir): parquet with 1, 4 and 20 row groups, and a CSV of half the
rows; every row is `id` int64 + a 200-character random base64 string (incompressible). The local hub serves
them. Each measurement runs in its own process forked from a forkserver that imported the libraries (as
the worker runs its jobs), counts the response bytes received by huggingface_hub's HTTP client, and times
only the read, after an untimed warm-up (resolving the dataset, one call of the same read): bench/README.md.
Exits with 1 if a file misses a target: bytes <= 1.2 x floor, time <= 2 x floor.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from libcommon.config import AssetsConfig, CommonConfig
from localhub.testing import running_hub
from worker.environment import configure_hub_environment

NAMESPACE: Final = "bench"
LIMIT: Final = 100  # FIRST_ROWS_MAX_NUMBER's default
BLOCK_SIZE: Final = 256 * 1024
BUFFER_SIZE: Final = 64 * 1024
ROWS_PER_MB: Final = 2_000_000 / 420  # 2M rows make the 420 MB files of hub-api.md section 7
CHUNK_ROWS: Final = 100_000
BYTES_TARGET: Final = 1.2
TIME_TARGET: Final = 2.0
CHILD_TIMEOUT: Final = 600.0
PRELOAD: Final = ["datasets", "huggingface_hub", "pyarrow.parquet", "pandas", "worker.readers"]


@dataclass(frozen=True)
class BenchFile:
    """One repo of the benchmark hub, `bench/<name>`, with one data file (row_groups 0: CSV)."""

    name: str
    row_groups: int

    @property
    def dataset(self) -> str:
        """The repo id."""
        return f"{NAMESPACE}/{self.name}"

    @property
    def filename(self) -> str:
        """The data file, relative to the repo."""
        return "data/train.csv" if self.row_groups == 0 else "data/train.parquet"


FILES: Final = [BenchFile("parquet-rg1", 1), BenchFile("parquet-rg4", 4), BenchFile("parquet-rg20", 20)]
CSV_FILE: Final = BenchFile("csv", 0)


@dataclass(frozen=True)
class Task:
    """What one measuring process does; `kind` is a key of MEASURES."""

    kind: str
    file: BenchFile
    endpoint: str
    revision: str
    assets: str


@dataclass(frozen=True)
class Measure:
    """Response bytes and requests received during the timed part, its duration, the rows it gave."""

    bytes: int
    requests: int
    seconds: float
    rows: int


# --- data -------------------------------------------------------------------------------------------------


def _chunks(total: int) -> Iterator[tuple[int, bytes]]:
    """(first row, 200 base64 characters per row) by chunks; chunk i always gets the same bytes."""
    for index, start in enumerate(range(0, total, CHUNK_ROWS)):
        rows = min(CHUNK_ROWS, total - start)
        yield start, base64.b64encode(np.random.default_rng([20240101, index]).bytes(rows * 150))


def _table(total: int) -> pa.Table:
    texts = []
    for _, data in _chunks(total):
        offsets = np.arange(0, len(data) + 1, 200, dtype=np.int32)
        texts.append(
            pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
        )
    return pa.table({"id": pa.array(np.arange(total, dtype=np.int64)), "text": pa.chunked_array(texts)})


def path_of(root: Path, file: BenchFile) -> Path:
    """Where the local hub rooted at `root` finds the data file."""
    return root / "datasets" / NAMESPACE / file.name / file.filename


def generate(root: Path, size_mb: int) -> None:
    """Write the missing files under `root`; a file is complete once it has its name (temporary + rename)."""
    total = max(1000, round(size_mb * ROWS_PER_MB / 1000) * 1000)
    table: pa.Table | None = None
    for file in [*FILES, CSV_FILE]:
        target = path_of(root, file)
        if target.exists():
            continue
        print(f"generating {target} ...", flush=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".tmp")
        if file.row_groups:
            table = _table(total) if table is None else table
            pq.write_table(table, temporary, row_group_size=-(-total // file.row_groups))
        else:
            with temporary.open("wb") as out:
                out.write(b"id,text\n")
                for start, data in _chunks(total // 2):
                    rows = range(len(data) // 200)
                    out.write(b"".join(b"%d,%s\n" % (start + i, data[i * 200 : i * 200 + 200]) for i in rows))
        temporary.rename(target)


# --- measuring processes (forked from the forkserver) ------------------------------------------------------


class _Counter:
    bytes = 0
    requests = 0


def _install_counting_client() -> None:
    """Make huggingface_hub (hence HfFileSystem and datasets) count the response body bytes it receives."""
    import httpx2
    import huggingface_hub

    class CountedStream(httpx2.SyncByteStream):
        def __init__(self, inner: httpx2.SyncByteStream) -> None:
            self.inner = inner

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.inner:
                _Counter.bytes += len(chunk)
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class CountingTransport(httpx2.HTTPTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            response = super().handle_request(request)
            _Counter.requests += 1
            assert isinstance(response.stream, httpx2.SyncByteStream)
            response.stream = CountedStream(response.stream)
            return response

    huggingface_hub.set_client_factory(
        lambda: httpx2.Client(transport=CountingTransport(), follow_redirects=True, timeout=None)
    )


def _timed(function: Callable[[], int], warm_up: bool = True, exact: bool = True) -> Measure:
    """Measure one call; after an untimed first call if `warm_up` (receiving the same bytes if `exact`)."""
    _Counter.bytes = _Counter.requests = 0
    if warm_up:
        function()
        first, _Counter.bytes, _Counter.requests = _Counter.bytes, 0, 0
    started = time.perf_counter()
    rows = function()
    measured = Measure(_Counter.bytes, _Counter.requests, time.perf_counter() - started, rows)
    if warm_up and exact and measured.bytes != first:
        raise RuntimeError(f"the timed call received {measured.bytes} bytes, the first one {first}")
    return measured


def _measure_floor(task: Task) -> Measure:
    """floor (parquet): pyarrow with one thread; floor-mt: pyarrow with its default threads.
    floor (CSV): a plain buffered read of the lines of the first chunk of the `datasets` CSV builder: it infers
    the column types on that chunk, so a reader whose rows are identical to `datasets`' cannot read less;
    floor-lines (CSV): the first 100 lines, the physical minimum of a reader that would infer on 100 rows."""
    from datasets.packaged_modules.csv.csv import CsvConfig
    from huggingface_hub import HfFileSystem

    fs = HfFileSystem(endpoint=task.endpoint, token=False)
    path = f"datasets/{task.file.dataset}@{task.revision}/{task.file.filename}"
    fs.info(path)  # the worker's warm-up (building the dataset) resolved the files too

    def parquet() -> int:
        with fs.open(path, "rb", block_size=BLOCK_SIZE) as file:
            parquet_file = pq.ParquetFile(file, pre_buffer=False, buffer_size=BUFFER_SIZE)
            batches = parquet_file.iter_batches(batch_size=LIMIT, use_threads=task.kind == "floor-mt")
            rows = next(batches).num_rows
            batches.close()
        return int(rows)

    def csv() -> int:
        lines = 1 + (LIMIT if task.kind == "floor-lines" else CsvConfig.chunksize)  # with the header line
        with fs.open(path, "rb", block_size=BLOCK_SIZE) as file:
            while lines > 0:
                lines -= file.read(BUFFER_SIZE).count(b"\n")
        return LIMIT

    # With threads, the column streams race through the one read-ahead block: bytes vary from call to call.
    return _timed(csv if task.file.row_groups == 0 else parquet, exact=task.kind != "floor-mt")


def _measure_read(task: Task) -> Measure:
    """The read step of the first-rows job, dispatched as `job_runners.first_rows._read_rows` does."""
    from datasets import load_dataset_builder

    from worker.hub import get_dataset_revision, hub_filesystem, token_of
    from worker.readers import read_parquet_rows, read_streaming_rows, split_data_files

    common = CommonConfig(hf_endpoint=task.endpoint)
    revision = get_dataset_revision(task.file.dataset, common)
    builder = load_dataset_builder(task.file.dataset, "default", revision=revision, token=token_of(common))

    def read() -> int:
        if builder.name == "parquet":
            files = split_data_files(builder.config.data_files, "train")
            return len(read_parquet_rows(hub_filesystem(common), task.file.dataset, files, LIMIT)[1])
        return len(read_streaming_rows(builder, "train", LIMIT)[1])

    return _timed(read)


def _measure_job(task: Task) -> Measure:
    """The whole first-rows job: revision, builder, split check, read, cells, response."""
    from libcommon.processing_graph import FIRST_ROWS
    from worker.config import AppConfig
    from worker.dtos import JobInfo
    from worker.job_runners import get_runner

    runner = get_runner(FIRST_ROWS)
    config = AppConfig(
        common=CommonConfig(hf_endpoint=task.endpoint), assets=AssetsConfig(storage_directory=Path(task.assets))
    )
    job = JobInfo("bench", FIRST_ROWS, task.file.dataset, "default", "train")
    return _timed(lambda: len(runner(job, config).content["rows"]), warm_up=False)


def _measure_datasets(task: Task) -> Measure:
    """Plain `datasets` streaming of the first rows (what a worker without its own readers reads)."""
    from datasets import load_dataset

    dataset = load_dataset(task.file.dataset, split="train", streaming=True, token=False)
    return _timed(lambda: len(next(iter(dataset.with_format("arrow").iter(batch_size=LIMIT)))), warm_up=False)


MEASURES: Final[dict[str, Callable[[Task], Measure]]] = {
    "floor": _measure_floor,
    "floor-mt": _measure_floor,
    "floor-lines": _measure_floor,
    "read": _measure_read,
    "job": _measure_job,
    "datasets": _measure_datasets,
}


def run_child(connection: Connection, task: Task) -> None:
    """Entry point of a measuring process: send back a Measure (or an error message), then exit at once."""
    import pandas as pd  # type: ignore[import-untyped]
    import tqdm  # type: ignore[import-untyped]

    # tqdm (imported by datasets) would create a named semaphore, which os._exit below would leak.
    tqdm.tqdm.set_lock(threading.RLock())
    try:
        _install_counting_client()
        # First use of Arrow's parquet reader and of pandas' conversion, outside of the timed part.
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(pd.DataFrame({"a": [1], "b": ["x"]})), sink)
        pq.ParquetFile(pa.BufferReader(sink.getvalue())).read().to_pylist()
        result: Measure | str = MEASURES[task.kind](task)
    except Exception as err:
        result = f"{type(err).__name__}: {err}"
    connection.send(result)
    connection.close()
    sys.stdout.flush()
    # Skip interpreter finalisation: Arrow threads left by `datasets` parquet streaming can abort it.
    os._exit(0)


def measure(context: Any, task: Task) -> Measure:
    """Run `task` in a fresh process forked from the forkserver; raise RuntimeError if it fails."""
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=run_child, args=(sender, task))
    process.start()
    sender.close()
    try:
        if not receiver.poll(CHILD_TIMEOUT):
            raise RuntimeError(f"{task.kind} {task.file.name}: no answer within {CHILD_TIMEOUT} s")
        result = receiver.recv()
    except EOFError:
        raise RuntimeError(f"{task.kind} {task.file.name}: the process died") from None
    finally:
        receiver.close()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
    if not isinstance(result, Measure):
        raise RuntimeError(f"{task.kind} {task.file.name}: {result}")
    return result


# --- report ------------------------------------------------------------------------------------------------


def _median(measures: list[Measure]) -> Measure:
    return Measure(
        bytes=int(statistics.median(m.bytes for m in measures)),
        requests=int(statistics.median(m.requests for m in measures)),
        seconds=statistics.median(m.seconds for m in measures),
        rows=min(m.rows for m in measures),
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f}MB"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}ms"


def report(root: Path, results: dict[str, dict[str, Measure]]) -> bool:
    """Print the table; return True if every file meets both targets."""
    header = (
        f"{'file':<13}{'size':>10}{'worker':>10}{'floor':>10}{'ratio':>7}{'worker t':>10}{'floor t':>10}"
        f"{'ratio':>7}{'reqs':>6}{'job':>10}{'job t':>8}{'alt floor':>18}{'datasets':>10}  result"
    )
    print(header)
    print("-" * len(header))
    success = True
    for file in [*FILES, CSV_FILE]:
        measures = results[file.name]
        worker, floor, job = measures["read"], measures["floor"], measures["job"]
        alternative = measures["floor-lines" if file.row_groups == 0 else "floor-mt"]
        baseline = _mb(measures["datasets"].bytes) if "datasets" in measures else "-"
        size = path_of(root, file).stat().st_size
        bytes_ratio, time_ratio = worker.bytes / floor.bytes, worker.seconds / floor.seconds
        misses = [name for name, ratio, target in [("bytes", bytes_ratio, BYTES_TARGET)] if ratio > target]
        misses += ["time"] if time_ratio > TIME_TARGET else []
        misses += [] if {worker.rows, floor.rows, job.rows} == {LIMIT} else [f"rows {worker.rows}/{job.rows}"]
        success = success and not misses
        print(
            f"{file.name:<13}{_mb(size):>10}{_mb(worker.bytes):>10}{_mb(floor.bytes):>10}{bytes_ratio:>7.2f}"
            f"{_ms(worker.seconds):>10}{_ms(floor.seconds):>10}{time_ratio:>7.2f}"
            f"{f'{worker.requests}/{floor.requests}':>6}{_mb(job.bytes):>10}{_ms(job.seconds):>8}"
            f"{f'{_mb(alternative.bytes)} {_ms(alternative.seconds)}':>18}{baseline:>10}"
            f"  {'MISS ' + ', '.join(misses) if misses else 'ok'}"
        )
    print(
        "\nworker: the job's read step; floor: pyarrow with one thread (parquet), a buffered read of the lines"
        " of `datasets`' first CSV chunk, on which it infers the types, i.e. the least a reader with identical"
        " rows reads (CSV);\nratio: worker / floor; reqs: HTTP requests, worker/floor; job: the whole first-rows"
        " job (informative);\nalt floor: pyarrow with its default threads (parquet), the first 100 lines (CSV:"
        " the physical minimum, reachable only by inferring types on 100 rows, which changes the output);"
        " datasets: plain `datasets` streaming (--datasets-baseline)"
    )
    return success


def print_environment(args: argparse.Namespace) -> None:
    """The context the numbers were measured in."""
    from importlib.metadata import version

    packages = ", ".join(f"{name} {version(name)}" for name in ("datasets", "huggingface_hub", "pyarrow", "pandas"))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nPython {platform.python_version()}, {os.cpu_count()} CPUs, load {load}; {packages}")
    print(
        f"first {LIMIT} rows, median of {args.repeat} interleaved runs, fsspec block {BLOCK_SIZE // 1024} KiB;"
        f" targets: bytes <= {BYTES_TARGET} x floor, time <= {TIME_TARGET} x floor\n"
    )


def main() -> int:
    """Generate (or reuse) the files, serve them, measure, print the table; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "first-rows-bench")
    parser.add_argument("--size-mb", type=int, default=420, help="size of the parquet files (CSV: about half)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per file and kind (median)")
    parser.add_argument("--datasets-baseline", action="store_true", help="also measure plain datasets streaming")
    args = parser.parse_args()
    root = args.workdir / f"hub-{args.size_mb}mb"
    generate(root, args.size_mb)
    home = Path(tempfile.mkdtemp(prefix="hf-home-", dir=args.workdir))
    assets = Path(tempfile.mkdtemp(prefix="assets-", dir=args.workdir))
    try:
        with running_hub(root) as endpoint:
            os.environ["HF_HOME"] = str(home)
            configure_hub_environment(CommonConfig(hf_endpoint=endpoint))  # before the forkserver starts
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            import huggingface_hub

            api = huggingface_hub.HfApi(endpoint=endpoint, token=False)
            results: dict[str, dict[str, Measure]] = {}
            for file in [*FILES, CSV_FILE]:
                task = Task("floor", file, endpoint, str(api.dataset_info(file.dataset).sha), str(assets))
                kinds = ["floor", "read", "job", "floor-lines" if file.row_groups == 0 else "floor-mt"]
                runs: dict[str, list[Measure]] = {kind: [] for kind in kinds}
                for round_index in range(args.repeat):
                    for kind in kinds if round_index % 2 == 0 else kinds[::-1]:  # interleaved, order alternating
                        runs[kind].append(measure(context, replace(task, kind=kind)))
                results[file.name] = {kind: _median(measures) for kind, measures in runs.items()}
                if args.datasets_baseline:
                    results[file.name]["datasets"] = measure(context, replace(task, kind="datasets"))
        print_environment(args)
        return 0 if report(root, results) else 1
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(assets, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
