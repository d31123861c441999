"""`/resolve`: HEAD headers, Range semantics, revisions, awkward paths, traversal, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from localhub_test_support import WEIRD_REPO

CSV = "/datasets/samples/csv/resolve/main/train.csv"


def _local(hub_root: Path, repo: str, path: str) -> bytes:
    return (hub_root / "datasets" / repo / path).read_bytes()


def _sha(client: httpx.Client, repo: str) -> str:
    sha: str = client.get(f"/api/datasets/{repo}").json()["sha"]
    return sha


def test_head_gives_metadata_without_body(client: httpx.Client, hub_root: Path) -> None:
    data = _local(hub_root, "samples/csv", "train.csv")
    response = client.head(CSV, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["X-Repo-Commit"] == _sha(client, "samples/csv")
    assert response.headers["Accept-Ranges"] == "bytes"
    etag = response.headers["ETag"]
    assert len(etag) == 42 and etag.startswith('"') and etag.endswith('"')
    assert "Content-Encoding" not in response.headers
    assert "Location" not in response.headers


def test_lfs_files_have_a_sha256_etag(client: httpx.Client) -> None:
    response = client.head("/datasets/samples/parquet/resolve/main/data/train-00000-of-00001.parquet")
    assert response.status_code == 200
    assert len(response.headers["ETag"].strip('"')) == 64


def test_get_whole_file(client: httpx.Client, hub_root: Path) -> None:
    response = client.get(CSV, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == _local(hub_root, "samples/csv", "train.csv")
    assert "Content-Encoding" not in response.headers
    assert response.headers["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=2-5", 2, 5),
        ("bytes=10-", 10, None),
        ("bytes=-7", -7, None),
        ("bytes=0-0", 0, 0),
        ("bytes=3-999999", 3, None),
    ],
)
def test_range_gives_206_with_exact_bytes(
    client: httpx.Client, hub_root: Path, range_header: str, start: int, end: int | None
) -> None:
    data = _local(hub_root, "samples/csv", "train.csv")
    expected = data[start : (end + 1 if end is not None else None)] if start >= 0 else data[start:]
    first = start if start >= 0 else len(data) + start
    response = client.get(CSV, headers={"Range": range_header})
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["Content-Length"] == str(len(expected))
    assert response.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    assert response.headers["X-Repo-Commit"] == _sha(client, "samples/csv")


def test_range_across_read_chunks(client: httpx.Client, hub_root: Path) -> None:
    data = _local(hub_root, "tests/big", "blob.bin")
    response = client.get("/datasets/tests/big/resolve/main/blob.bin", headers={"Range": "bytes=1000000-2100000"})
    assert response.status_code == 206
    assert response.content == data[1_000_000:2_100_001]
    whole = client.get("/datasets/tests/big/resolve/main/blob.bin")
    assert whole.content == data


@pytest.mark.parametrize("range_header", ["bytes=342-", "bytes=342-400", "bytes=100000-", "bytes=-0"])
def test_range_past_end_is_416(client: httpx.Client, hub_root: Path, range_header: str) -> None:
    size = len(_local(hub_root, "samples/csv", "train.csv"))
    assert size == 342
    response = client.get(CSV, headers={"Range": range_header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("range_header", ["bytes=abc", "items=0-3", "bytes=0-1,4-5", "bytes=5-2"])
def test_unusable_range_gives_whole_file(client: httpx.Client, hub_root: Path, range_header: str) -> None:
    response = client.get(CSV, headers={"Range": range_header})
    assert response.status_code == 200
    assert response.content == _local(hub_root, "samples/csv", "train.csv")


def test_head_with_range_mirrors_get(client: httpx.Client) -> None:
    response = client.head(CSV, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["Content-Length"] == "10"
    assert response.content == b""


def test_missing_file_is_entry_not_found_with_commit(client: httpx.Client) -> None:
    for method in ("HEAD", "GET"):
        response = client.request(method, "/datasets/samples/csv/resolve/main/csv.py")
        assert response.status_code == 404
        assert response.headers["X-Error-Code"] == "EntryNotFound"
        assert response.headers["X-Error-Message"] == "Entry not found"
        assert response.headers["X-Repo-Commit"] == _sha(client, "samples/csv")
    assert client.get("/datasets/samples/csv/resolve/main/csv.py").json() == {"error": "Entry not found"}
    folder = client.get("/datasets/samples/images/resolve/main/train")
    assert folder.headers["X-Error-Code"] == "EntryNotFound"


def test_revisions(client: httpx.Client) -> None:
    sha = _sha(client, "samples/csv")
    for revision in (sha, "main", "refs%2Fheads%2Fmain", "refs/heads/main"):
        response = client.head(f"/datasets/samples/csv/resolve/{revision}/train.csv")
        assert response.status_code == 200, revision
        assert response.headers["X-Repo-Commit"] == sha
    for revision in ("refs%2Fconvert%2Fparquet", "refs/convert/parquet", "0" * 40, "dev", sha[:7]):
        response = client.head(f"/datasets/samples/csv/resolve/{revision}/train.csv")
        assert response.status_code == 404, revision
        assert response.headers["X-Error-Code"] == "RevisionNotFound"
    # the bare special ref is not mistaken for a file path
    assert (
        client.get("/datasets/samples/csv/resolve/refs/convert/parquet/default/train/0000.parquet").headers[
            "X-Error-Code"
        ]
        == "RevisionNotFound"
    )


def test_awkward_paths(client: httpx.Client, hub_root: Path) -> None:
    encoded = "dir%20with%20space/tr%23ain%20%C3%A9%2B1.csv"
    response = client.get(f"/datasets/{WEIRD_REPO}/resolve/main/{encoded}")
    assert response.status_code == 200
    assert response.content == _local(hub_root, WEIRD_REPO, "dir with space/tr#ain é+1.csv")
    # `+` in a path is a plus sign, not a space
    plus_as_space = client.get(f"/datasets/{WEIRD_REPO}/resolve/main/dir+with+space/tr%23ain%20%C3%A9%2B1.csv")
    assert plus_as_space.headers["X-Error-Code"] == "EntryNotFound"
    percent = client.get(f"/datasets/{WEIRD_REPO}/resolve/main/data/100%25%2Bok.csv")
    assert percent.content == b"a,b\n3,4\n"


@pytest.mark.parametrize(
    "path",
    [
        "/datasets/samples/csv/resolve/main/%2E%2E/gated/train.csv",
        "/datasets/samples/csv/resolve/main/..%2F..%2F..%2Flocalhub.json",
        "/datasets/samples/csv/resolve/main/%2Fetc%2Fpasswd",
        "/datasets/samples/csv/resolve/main/",
    ],
)
def test_no_traversal(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "EntryNotFound"


def test_repeated_slashes_are_collapsed(hub_url: str) -> None:
    # datasets does not strip a trailing slash from HF_ENDPOINT, so requests can start with `//`.
    response = httpx.get(f"{hub_url}//datasets/samples/csv/resolve/main/README.md")
    assert response.status_code == 200


def test_concurrent_ranged_reads(client: httpx.Client, hub_root: Path) -> None:
    data = _local(hub_root, "tests/big", "blob.bin")
    ranges = [(i * 37_000, i * 37_000 + 50_000) for i in range(40)]

    def fetch(bounds: tuple[int, int]) -> bytes:
        start, end = bounds
        response = client.get("/datasets/tests/big/resolve/main/blob.bin", headers={"Range": f"bytes={start}-{end}"})
        assert response.status_code == 206
        return response.content

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, ranges))
    assert results == [data[start : end + 1] for start, end in ranges]


def test_method_not_allowed(client: httpx.Client) -> None:
    response = client.post(CSV)
    assert response.status_code == 405
