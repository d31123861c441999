"""Auth emulation: the auth-check and whoami matrices, gated/private rules, invalid tokens, logging."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from localhub.samples import APP_TOKEN, OTHER_USER_TOKEN, USER_TOKEN, generate_samples
from localhub.testing import running_hub

INVALID = "Invalid credentials in Authorization header"
BAD_TOKEN = "hf_not_a_known_token"


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


# (repo, token) -> (status, X-Error-Code) of /auth-check and /resolve
ACCESS_MATRIX = [
    ("samples/csv", None, 200, None),
    ("samples/csv", OTHER_USER_TOKEN, 200, None),
    ("samples/gated", None, 401, "GatedRepo"),
    ("samples/gated", OTHER_USER_TOKEN, 403, "GatedRepo"),
    ("samples/gated", USER_TOKEN, 200, None),
    ("samples/gated", APP_TOKEN, 200, None),
    ("samples/private", None, 401, "RepoNotFound"),
    ("samples/private", OTHER_USER_TOKEN, 404, "RepoNotFound"),
    ("samples/private", USER_TOKEN, 200, None),
    ("samples/private", APP_TOKEN, 200, None),
    ("samples/missing", None, 401, "RepoNotFound"),
    ("samples/missing", APP_TOKEN, 404, "RepoNotFound"),
]


@pytest.mark.parametrize(("repo", "token", "status", "code"), ACCESS_MATRIX)
def test_auth_check_and_resolve(
    client: httpx.Client, repo: str, token: str | None, status: int, code: str | None
) -> None:
    for path in (f"/api/datasets/{repo}/auth-check", f"/datasets/{repo}/resolve/main/train.csv"):
        response = client.get(path, headers=_bearer(token))
        assert response.status_code == status, path
        assert response.headers.get("X-Error-Code") == code, path
        if code is not None:
            assert response.json()["error"] == response.headers["X-Error-Message"]


@pytest.mark.parametrize(
    ("repo", "token", "status"),
    [
        ("samples/gated", None, 200),  # gated metadata and tree are public
        ("samples/gated", OTHER_USER_TOKEN, 200),
        ("samples/private", None, 401),
        ("samples/private", OTHER_USER_TOKEN, 404),
        ("samples/private", USER_TOKEN, 200),
    ],
)
def test_metadata_access(client: httpx.Client, repo: str, token: str | None, status: int) -> None:
    for path in (f"/api/datasets/{repo}", f"/api/datasets/{repo}/tree/main", f"/api/datasets/{repo}/refs"):
        response = client.get(path, headers=_bearer(token))
        assert response.status_code == status, path
        if status != 200:
            assert response.headers["X-Error-Code"] == "RepoNotFound"


@pytest.mark.parametrize(
    ("cookie", "status", "code"),
    [
        (f"token={USER_TOKEN}", 200, None),
        (f"token={OTHER_USER_TOKEN}", 403, "GatedRepo"),
        ("token=bad", 401, "GatedRepo"),
    ],
)
def test_auth_check_with_a_cookie(client: httpx.Client, cookie: str, status: int, code: str | None) -> None:
    response = client.get("/api/datasets/samples/gated/auth-check", headers={"Cookie": f"session=x; {cookie}"})
    assert (response.status_code, response.headers.get("X-Error-Code")) == (status, code)


@pytest.mark.parametrize("authorization", [f"Bearer {BAD_TOKEN}", "Bearer", f"Basic {USER_TOKEN}"])
def test_invalid_credentials_are_rejected_everywhere(client: httpx.Client, authorization: str) -> None:
    for path in ("/api/datasets/samples/csv", "/datasets/samples/csv/resolve/main/train.csv", "/api/whoami-v2"):
        response = client.get(path, headers={"Authorization": authorization})
        assert response.status_code == 401
        assert response.headers["X-Error-Message"] == INVALID
        assert "X-Error-Code" not in response.headers
    with pytest.raises(HfHubHTTPError) as info:
        HfApi(endpoint=str(client.base_url), token=BAD_TOKEN).dataset_info("samples/csv")
    assert info.value.response is not None and info.value.response.status_code == 401


def test_whoami(client: httpx.Client, hub_url: str) -> None:
    body = client.get("/api/whoami-v2", headers=_bearer(USER_TOKEN)).json()
    assert (body["type"], body["name"]) == ("user", "alice")
    assert [org["name"] for org in body["orgs"]] == ["samples"]
    assert body["auth"]["accessToken"]["role"] == "read"
    assert client.get("/api/whoami-v2", headers=_bearer(OTHER_USER_TOKEN)).json()["orgs"] == []
    assert client.get("/api/whoami-v2", headers={"Cookie": f"token={APP_TOKEN}"}).json()["name"] == "datasets-server"
    anonymous = client.get("/api/whoami-v2")
    assert anonymous.status_code == 401
    assert HfApi(endpoint=hub_url).whoami(token=USER_TOKEN)["name"] == "alice"


def test_hub_client_exceptions(hub_url: str, tmp_path: Path) -> None:
    def download(repo: str, token: str | bool) -> str:
        return hf_hub_download(
            repo, "train.csv", repo_type="dataset", endpoint=hub_url, token=token, cache_dir=tmp_path / str(token)
        )

    with pytest.raises(GatedRepoError):
        download("samples/gated", False)
    with pytest.raises(GatedRepoError):
        download("samples/gated", OTHER_USER_TOKEN)
    with pytest.raises(RepositoryNotFoundError):
        download("samples/private", False)
    with pytest.raises(RepositoryNotFoundError):
        download("samples/private", OTHER_USER_TOKEN)
    for repo in ("samples/gated", "samples/private"):
        assert Path(download(repo, APP_TOKEN)).read_text().startswith("id,value,text\n")
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub_url, token=False).dataset_info("samples/private")
    assert HfApi(endpoint=hub_url, token=False).dataset_info("samples/gated").gated == "auto"


def test_configuration_edits_apply_at_once(tmp_path: Path) -> None:
    generate_samples(tmp_path)
    config_file = tmp_path / "localhub.json"
    with running_hub(tmp_path) as url, httpx.Client(base_url=url) as http:
        check = "/api/datasets/samples/gated/auth-check"
        assert http.get(check, headers=_bearer(OTHER_USER_TOKEN)).status_code == 403
        config = json.loads(config_file.read_text())
        config["repos"]["samples/gated"]["granted"] = ["bob"]
        config["tokens"]["hf_carol"] = {"user": "carol"}
        config["users"]["carol"] = {"orgs": ["friends"]}
        config["repos"]["samples/private"]["granted"] = ["friends"]
        config_file.write_text(json.dumps(config))
        assert http.get(check, headers=_bearer(OTHER_USER_TOKEN)).status_code == 200
        assert http.get("/api/datasets/samples/private", headers=_bearer("hf_carol")).status_code == 200
        config_file.write_text("{ not json")  # a broken edit keeps the last good configuration
        assert http.get(check, headers=_bearer(OTHER_USER_TOKEN)).status_code == 200
        config_file.unlink()  # no file: everything public, no token known
        assert http.get("/api/datasets/samples/private").status_code == 200
        assert http.get(check, headers=_bearer(APP_TOKEN)).status_code == 401


def test_tokens_never_reach_the_logs(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="localhub.access"):
        for token in (APP_TOKEN, USER_TOKEN, BAD_TOKEN):
            client.get("/api/datasets/samples/private", headers=_bearer(token))
            client.get("/api/datasets/samples/private", headers={"Cookie": f"token={token}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "localhub.access"]
    assert len(lines) == 6
    assert 'GET /api/datasets/samples/private" 200' in lines[0] and lines[0].endswith("user=datasets-server")
    assert lines[2].endswith("user=alice") and " 401 " in lines[4] and lines[4].endswith("user=-")
    for token in (APP_TOKEN, USER_TOKEN, BAD_TOKEN):
        assert token not in caplog.text
