"""GET /assets/...: files of the assets directory, and nothing outside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_fakes import make_config
from starlette.testclient import TestClient

from api.app import create_app_with
from libcommon.storage import CacheStore, JobQueue


@pytest.fixture
def assets_client(tmp_path: Path, cache: CacheStore, queue: JobQueue) -> TestClient:
    assets = tmp_path / "assets"
    image = assets / "user" / "ds" / "--" / "default" / "train" / "0" / "image"
    image.mkdir(parents=True)
    (image / "image.jpg").write_bytes(b"\xff\xd8jpeg bytes")
    (tmp_path / "secret.txt").write_text("outside")
    (assets / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return TestClient(create_app_with(make_config(None, assets_directory=assets), cache, queue))


def test_asset_file_is_served(assets_client: TestClient) -> None:
    response = assets_client.get("/assets/user/ds/--/default/train/0/image/image.jpg")
    assert response.status_code == 200
    assert response.content == b"\xff\xd8jpeg bytes"
    assert response.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/user/ds/--/default/train/0/image/missing.jpg",
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/user/../../secret.txt",
        "/assets/escape.txt",
    ],
)
def test_nothing_outside_the_assets_directory_is_served(assets_client: TestClient, path: str) -> None:
    response = assets_client.get(path)
    assert response.status_code == 404
    assert b"outside" not in response.content


def test_missing_assets_directory_is_created(tmp_path: Path, cache: CacheStore, queue: JobQueue) -> None:
    directory = tmp_path / "new" / "assets"
    client = TestClient(create_app_with(make_config(None, assets_directory=directory), cache, queue))
    assert directory.is_dir()
    assert client.get("/assets/anything.jpg").status_code == 404
