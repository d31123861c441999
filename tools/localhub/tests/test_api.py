"""The JSON API: repo info, tree (with pagination), paths-info, refs, commits, dataset listing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
from huggingface_hub.hf_api import RepoFile, RepoFolder
from localhub_test_support import WEIRD_REPO

from localhub.metadata import LISTING_KEYS
from localhub.samples import APP_TOKEN, OTHER_USER_TOKEN, SAMPLE_REPOS, USER_TOKEN, generate_samples
from localhub.testing import running_hub

IMAGE_FILES = [
    "README.md",
    "train/cat/cat_0.png",
    "train/cat/cat_1.png",
    "train/cat/cat_2.png",
    "train/dog/dog_0.jpg",
    "train/dog/dog_1.jpg",
    "train/dog/dog_2.jpg",
]
PUBLIC_IDS = sorted([r.id for r in SAMPLE_REPOS if not r.private] + ["tests/big", WEIRD_REPO])
ALL_IDS = sorted([r.id for r in SAMPLE_REPOS] + ["tests/big", WEIRD_REPO])


@pytest.fixture
def api(hub_url: str) -> HfApi:
    return HfApi(endpoint=hub_url, token=APP_TOKEN)


@pytest.fixture(scope="module")
def paged_hub(hub_root: Path) -> Iterator[str]:
    """A second server on the same root with tiny pages."""
    with running_hub(hub_root, tree_page_size=2, list_page_size=3) as url:
        yield url


def test_repo_info(client: httpx.Client, api: HfApi) -> None:
    body = client.get("/api/datasets/samples/two-configs").json()
    assert body["id"] == "samples/two-configs"
    assert body["author"] == "samples"
    assert len(body["sha"]) == 40
    assert (body["private"], body["gated"], body["disabled"]) == (False, False, False)
    assert body["lastModified"] == body["createdAt"] == "2024-01-01T00:00:00.000Z"
    assert [c["config_name"] for c in body["cardData"]["configs"]] == ["first", "second"]
    assert body["tags"] == ["localhub-sample"]
    assert [s["rfilename"] for s in body["siblings"]] == [
        "README.md",
        "first/test.csv",
        "first/train.csv",
        "second/train.csv",
    ]
    info = api.dataset_info("samples/gated", files_metadata=True)
    assert (info.id, info.gated, info.private) == ("samples/gated", "auto", False)
    assert info.siblings is not None
    assert {s.rfilename: s.size for s in info.siblings} == {"README.md": 126, "train.csv": 164}
    parquet = api.dataset_info("samples/parquet", files_metadata=True)
    assert parquet.siblings is not None
    assert all(s.lfs is not None and len(s.lfs.sha256) == 64 for s in parquet.siblings)
    assert parquet.card_data is None or not parquet.card_data.to_dict()  # type: ignore[no-untyped-call]


def test_repo_info_expand(client: httpx.Client) -> None:
    body = client.get("/api/datasets/samples/csv", params=[("expand", "sha"), ("expand", "gated")]).json()
    assert set(body) == {"_id", "id", "sha", "gated"}


def test_repo_info_revisions(client: httpx.Client, api: HfApi) -> None:
    sha = client.get("/api/datasets/samples/csv").json()["sha"]
    assert client.get(f"/api/datasets/samples/csv/revision/{sha}").json()["sha"] == sha
    assert client.get("/api/datasets/samples/csv/revision/main").json()["sha"] == sha
    response = client.get("/api/datasets/samples/csv/revision/refs%2Fconvert%2Fparquet")
    assert (response.status_code, response.headers["X-Error-Code"]) == (404, "RevisionNotFound")
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info("samples/csv", revision="refs/convert/parquet")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("samples/missing")


def test_tree(client: httpx.Client, api: HfApi) -> None:
    root = client.get("/api/datasets/samples/images/tree/main").json()
    assert [(e["type"], e["path"]) for e in root] == [("directory", "train"), ("file", "README.md")]
    assert set(root[0]) == {"type", "oid", "size", "path"}
    recursive = client.get("/api/datasets/samples/images/tree/main", params={"recursive": "true"}).json()
    assert [e["path"] for e in recursive] == [
        "train",
        "train/cat",
        *IMAGE_FILES[1:4],
        "train/dog",
        *IMAGE_FILES[4:],
        "README.md",
    ]
    png = next(e for e in recursive if e["path"] == "train/cat/cat_0.png")
    assert png["lfs"]["size"] == png["size"] and len(png["lfs"]["oid"]) == 64
    sub = client.get("/api/datasets/samples/images/tree/main/train%2Fcat", params={"recursive": "false"}).json()
    assert [e["path"] for e in sub] == IMAGE_FILES[1:4]
    expanded = client.get("/api/datasets/samples/images/tree/main/train/dog", params={"expand": "true"}).json()
    assert all(e["lastCommit"]["id"] == client.get("/api/datasets/samples/images").json()["sha"] for e in expanded)
    for missing in ("data", "README.md", "train%2Fbird"):
        response = client.get(f"/api/datasets/samples/images/tree/main/{missing}")
        assert (response.status_code, response.headers["X-Error-Code"]) == (404, "EntryNotFound")
    assert sorted(api.list_repo_files("samples/images", repo_type="dataset")) == IMAGE_FILES
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree("samples/images", "nope", repo_type="dataset"))


def test_tree_pagination(paged_hub: str, hub_root: Path) -> None:
    api = HfApi(endpoint=paged_hub, token=False)
    assert sorted(api.list_repo_files("samples/images", repo_type="dataset")) == IMAGE_FILES
    first = httpx.get(f"{paged_hub}/api/datasets/samples/images/tree/main", params={"recursive": "true"})
    assert [e["path"] for e in first.json()] == ["train", "train/cat"]
    assert first.links["next"]["url"].startswith(
        f"{paged_hub}/api/datasets/samples/images/tree/main?recursive=true&cursor="
    )
    paths: list[str] = []
    url: str | None = first.links["next"]["url"]
    while url:
        page = httpx.get(url)
        paths += [e["path"] for e in page.json()]
        url = page.links.get("next", {}).get("url")
    assert paths == [*IMAGE_FILES[1:4], "train/dog", *IMAGE_FILES[4:], "README.md"]
    # the next link is built from the Host the client used
    proxied = httpx.get(
        f"{paged_hub}/api/datasets/samples/images/tree/main?recursive=true", headers={"Host": "hub.example:8080"}
    )
    next_url = proxied.links["next"]["url"]
    assert next_url.startswith("http://hub.example:8080/api/datasets/samples/images/tree/main?recursive=true&cursor=")
    # awkward folder names keep their encoding in the next link
    weird = httpx.get(f"{paged_hub}/api/datasets/{WEIRD_REPO}/tree/main", params={"recursive": "true"})
    assert "/api/datasets/tests/weird/tree/main?recursive=true&cursor=" in weird.links["next"]["url"]
    assert sorted(api.list_repo_files(WEIRD_REPO, repo_type="dataset")) == [
        "README.md",
        "data/100%+ok.csv",
        "dir with space/tr#ain é+1.csv",
    ]


def test_limit_and_bad_cursor(client: httpx.Client) -> None:
    response = client.get("/api/datasets/samples/images/tree/main", params={"recursive": "true", "limit": "4"})
    assert len(response.json()) == 4
    following = httpx.get(response.links["next"]["url"]).json()
    assert [e["path"] for e in following] == IMAGE_FILES[3:4] + ["train/dog"] + IMAGE_FILES[4:6]
    bad = client.get("/api/datasets/samples/images/tree/main", params={"cursor": "!!"})
    assert bad.status_code == 400


def test_paths_info(api: HfApi, client: httpx.Client) -> None:
    infos = api.get_paths_info("samples/images", ["README.md", "train/cat", "missing.txt"], repo_type="dataset")
    assert [type(i) for i in infos] == [RepoFile, RepoFolder]
    assert [i.path for i in infos] == ["README.md", "train/cat"]
    weird = api.get_paths_info(WEIRD_REPO, ["dir with space/tr#ain é+1.csv", "data/100%+ok.csv"], repo_type="dataset")
    assert [(i.path, getattr(i, "size", None)) for i in weird] == [
        ("dir with space/tr#ain é+1.csv", 8),
        ("data/100%+ok.csv", 8),
    ]
    as_json = client.post("/api/datasets/samples/csv/paths-info/main", json={"paths": ["train.csv"], "expand": True})
    assert [(e["path"], e["size"], "lastCommit" in e) for e in as_json.json()] == [("train.csv", 342, True)]
    wrong_revision = client.post("/api/datasets/samples/csv/paths-info/v2", data={"paths": "train.csv"})
    assert wrong_revision.headers["X-Error-Code"] == "RevisionNotFound"


def test_refs_and_commits(api: HfApi, client: httpx.Client) -> None:
    sha = client.get("/api/datasets/samples/csv").json()["sha"]
    refs = api.list_repo_refs("samples/csv", repo_type="dataset", include_pull_requests=True)
    assert [(b.name, b.ref, b.target_commit) for b in refs.branches] == [("main", "refs/heads/main", sha)]
    assert (refs.converts, refs.tags, refs.pull_requests) == ([], [], [])
    commits = api.list_repo_commits("samples/csv", repo_type="dataset")
    assert [(c.commit_id, c.authors) for c in commits] == [(sha, ["samples"])]
    assert client.get("/api/datasets/samples/csv/commits/nope").headers["X-Error-Code"] == "RevisionNotFound"


def test_sha_follows_file_changes(tmp_path: Path) -> None:
    generate_samples(tmp_path)
    with running_hub(tmp_path) as url, httpx.Client(base_url=url) as http:
        first = http.get("/api/datasets/samples/csv").json()["sha"]
        assert http.get("/api/datasets/samples/csv").json()["sha"] == first
        time.sleep(0.01)
        (tmp_path / "datasets/samples/csv/extra.csv").write_text("a\n1\n")
        second = http.get("/api/datasets/samples/csv").json()["sha"]
        assert second != first
        assert http.head(f"/datasets/samples/csv/resolve/{second}/extra.csv").status_code == 200
        old = http.head(f"/datasets/samples/csv/resolve/{first}/train.csv")
        assert (old.status_code, old.headers["X-Error-Code"]) == (404, "RevisionNotFound")
        generate_samples(tmp_path)
        assert http.get("/api/datasets/samples/csv").json()["sha"] == first


def _ids(url: str, token: str | bool, **kwargs: object) -> list[str]:
    return [d.id for d in HfApi(endpoint=url, token=token).list_datasets(**kwargs)]  # type: ignore[arg-type]


def test_list_datasets_visibility(hub_url: str) -> None:
    assert _ids(hub_url, False) == PUBLIC_IDS
    assert _ids(hub_url, OTHER_USER_TOKEN) == PUBLIC_IDS
    assert _ids(hub_url, USER_TOKEN) == ALL_IDS
    assert _ids(hub_url, APP_TOKEN) == ALL_IDS


def test_list_datasets_pagination_and_filters(paged_hub: str) -> None:
    assert _ids(paged_hub, APP_TOKEN) == ALL_IDS
    assert _ids(paged_hub, False, limit=2) == PUBLIC_IDS[:2]
    assert _ids(paged_hub, False, author="tests") == ["tests/big", WEIRD_REPO]
    assert _ids(paged_hub, False, search="audio") == ["samples/audio-folder", "samples/audio-parquet"]
    assert _ids(paged_hub, False, gated=True) == ["samples/gated"]
    assert _ids(paged_hub, False, filter="localhub-sample") == [
        "samples/audio-folder",
        "samples/csv",
        "samples/gated",
        "samples/images",
        "samples/jsonl",
        "samples/two-configs",
    ]
    assert _ids(paged_hub, False, sort="id", limit=2) == PUBLIC_IDS[::-1][:2]
    ascending = httpx.get(f"{paged_hub}/api/datasets", params={"sort": "id", "direction": "1", "limit": "2"})
    assert [d["id"] for d in ascending.json()] == PUBLIC_IDS[:2]
    first_page = httpx.get(f"{paged_hub}/api/datasets")
    assert len(first_page.json()) == 3
    assert first_page.links["next"]["url"].startswith(f"{paged_hub}/api/datasets?cursor=")
    item = first_page.json()[0]
    assert set(item) == set(LISTING_KEYS)
    assert list(LISTING_KEYS) == [
        "_id",
        "id",
        "author",
        "sha",
        "lastModified",
        "createdAt",
        "private",
        "gated",
        "disabled",
        "downloads",
        "likes",
        "tags",
    ]
    full = next(iter(HfApi(endpoint=paged_hub, token=False).list_datasets(full=True, search="csv")))
    assert full.siblings is not None and [s.rfilename for s in full.siblings] == ["README.md", "test.csv", "train.csv"]
    expanded = httpx.get(f"{paged_hub}/api/datasets", params={"expand": "sha", "search": "csv"}).json()
    assert set(expanded[0]) == {"_id", "id", "sha"}


def _app() -> dict[str, str]:
    return {"Authorization": f"Bearer {APP_TOKEN}"}


def test_misc_routes(client: httpx.Client) -> None:
    assert client.get("/api/agent-harnesses").json() == {"standardEnvVars": [], "harnesses": {}}
    assert client.get("/nothing/here").status_code == 404
    models = client.get("/api/models/samples/csv", headers=_app())
    assert (models.status_code, models.headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert client.get("/_localhub/health").json() == {"status": "ok"}
