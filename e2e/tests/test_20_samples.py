"""Every sample repo goes through the real system: webhook → /splits job → /first-rows jobs → API."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx
import pytest
from e2e_harness import Stack, poll_until_ready

from localhub.samples import OTHER_USER_TOKEN, SAMPLE_REPOS, USER_TOKEN, SampleRepo

#: Error codes the workers store for the sample repos that cannot be previewed.
EXPECTED_ERROR_CODES = {
    "samples/script": "DatasetWithScriptNotSupportedError",
    "samples/empty": "EmptyDatasetError",
}


def auth_headers(repo: SampleRepo) -> dict[str, str] | None:
    """A user token with access for gated and private repos, nothing for public ones."""
    return {"Authorization": f"Bearer {USER_TOKEN}"} if (repo.private or repo.gated) else None


def submit(stack: Stack, dataset: str) -> None:
    """Tell the API the dataset was added, as the Hub's webhook does."""
    response = httpx.post(stack.api_url + "/webhook", json={"add": f"datasets/{dataset}"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("repo", SAMPLE_REPOS, ids=lambda repo: repo.id)
def test_sample_repo_splits_and_first_rows(stack: Stack, repo: SampleRepo) -> None:
    submit(stack, repo.id)
    splits = poll_until_ready(stack, "/splits", {"dataset": repo.id}, auth_headers(repo))
    assert "Traceback" not in splits.text
    if repo.expected_configs is None:
        assert splits.status_code >= 400, splits.text
        assert splits.headers["X-Error-Code"] == EXPECTED_ERROR_CODES[repo.id], splits.text
        assert set(splits.json()) == {"error"}
        return
    assert splits.status_code == 200, f"{splits.text}\n{stack.logs()}"
    assert "X-Error-Code" not in splits.headers
    items = splits.json()["splits"]
    configs: dict[str, list[str]] = {}
    for item in items:
        assert set(item) == {"dataset", "config", "split", "num_bytes", "num_examples"}
        assert item["dataset"] == repo.id
        configs.setdefault(item["config"], []).append(item["split"])
    assert {c: sorted(s) for c, s in configs.items()} == {c: sorted(s) for c, s in repo.expected_configs.items()}

    for item in items:
        params = {"dataset": repo.id, "config": item["config"], "split": item["split"]}
        first_rows = poll_until_ready(stack, "/first-rows", params, auth_headers(repo))
        assert first_rows.status_code == 200, f"{params}: {first_rows.text}\n{stack.logs()}"
        body = first_rows.json()
        assert (body["dataset"], body["config"], body["split"]) == (repo.id, item["config"], item["split"])
        names = [feature["name"] for feature in body["features"]]
        assert names, body
        assert [feature["feature_idx"] for feature in body["features"]] == list(range(len(names)))
        assert body["rows"], body
        assert [row["row_idx"] for row in body["rows"]] == list(range(len(body["rows"])))
        for row in body["rows"]:
            assert list(row["row"]) == names
            assert row["truncated_cells"] == []


def asset_path(stack: Stack, url: str) -> Path:
    """The file on disk behind an asset URL."""
    prefix = urlparse(stack.env["ASSETS_BASE_URL"]).path
    path = unquote(urlparse(url).path)
    assert path.startswith(prefix + "/"), url
    return Path(stack.env["ASSETS_STORAGE_DIRECTORY"]) / path[len(prefix) + 1 :]


def first_rows(stack: Stack, dataset: str) -> dict[str, object]:
    """The first-rows body of the dataset's first split (after submitting it)."""
    submit(stack, dataset)
    splits = poll_until_ready(stack, "/splits", {"dataset": dataset})
    assert splits.status_code == 200, splits.text
    item = splits.json()["splits"][0]
    params = {"dataset": dataset, "config": item["config"], "split": item["split"]}
    response = poll_until_ready(stack, "/first-rows", params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_images_are_written_as_asset_files(stack: Stack) -> None:
    body = first_rows(stack, "samples/images")
    rows = body["rows"]
    assert isinstance(rows, list)
    url = rows[0]["row"]["image"]
    path = asset_path(stack, url)
    assert path.name in ("image.jpg", "image.png")
    assert path.stat().st_size > 0


@pytest.mark.parametrize("dataset", ["samples/audio-parquet", "samples/audio-folder"])
def test_audio_is_written_as_mp3_and_wav(stack: Stack, dataset: str) -> None:
    body = first_rows(stack, dataset)
    rows = body["rows"]
    assert isinstance(rows, list)
    sources = rows[0]["row"]["audio"]
    assert [source["type"] for source in sources] == ["audio/mpeg", "audio/wav"]
    for source, name in zip(sources, ["audio.mp3", "audio.wav"], strict=True):
        path = asset_path(stack, source["src"])
        assert path.name == name
        assert path.stat().st_size > 0


def test_gated_dataset_without_token_is_401(stack: Stack) -> None:
    response = httpx.get(stack.api_url + "/splits", params={"dataset": "samples/gated"})
    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "ExternalUnauthenticatedError"


def test_private_dataset_with_a_token_without_access_is_404(stack: Stack) -> None:
    response = httpx.get(
        stack.api_url + "/splits",
        params={"dataset": "samples/private"},
        headers={"Authorization": f"Bearer {OTHER_USER_TOKEN}"},
    )
    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "ExternalAuthenticatedError"


@pytest.mark.parametrize(
    ("path", "params"),
    [("/splits", {}), ("/splits", {"dataset": " "}), ("/first-rows", {"dataset": "samples/csv", "split": "train"})],
)
def test_missing_parameters_are_422(stack: Stack, path: str, params: dict[str, str]) -> None:
    response = httpx.get(stack.api_url + path, params=params)
    assert response.status_code == 422
    assert response.headers["X-Error-Code"] == "MissingRequiredParameter"
