"""The sample generator (idempotent, deterministic) and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from localhub.accounts import load_config, save_config
from localhub.samples import (
    APP_TOKEN,
    NAMESPACE,
    OTHER_USER_TOKEN,
    SAMPLE_REPOS,
    USER_TOKEN,
    generate_samples,
)
from localhub.storage import RepoStore
from localhub.testing import bind_free_socket


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _shas(root: Path) -> dict[str, str]:
    store = RepoStore(root)
    return {repo.id: snapshot.sha for repo in SAMPLE_REPOS if (snapshot := store.snapshot(repo.id)) is not None}


def test_generation_is_idempotent_and_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert generate_samples(first) == SAMPLE_REPOS
    shas = _shas(first)
    assert len(shas) == len(SAMPLE_REPOS) == 11
    generate_samples(second)
    assert _files(first) == _files(second)
    assert _shas(second) == shas
    (first / "datasets/samples/csv/train.csv").write_text("changed\n")
    (first / "datasets/samples/csv/stale/file.txt").parent.mkdir()
    (first / "datasets/samples/csv/stale/file.txt").write_text("stale\n")
    (first / "datasets/other/repo").mkdir(parents=True)
    assert _shas(first)["samples/csv"] != shas["samples/csv"]
    generate_samples(first)
    assert _shas(first) == shas
    assert not (first / "datasets/samples/csv/stale").exists()
    assert (first / "datasets/other/repo").is_dir()


def test_sample_layout(tmp_path: Path) -> None:
    generate_samples(tmp_path)
    base = tmp_path / "datasets" / NAMESPACE
    train = pq.ParquetFile(base / "parquet/data/train-00000-of-00001.parquet")
    assert (train.metadata.num_rows, train.metadata.num_row_groups) == (500, 5)
    audio = pq.ParquetFile(base / "audio-parquet/data/train-00000-of-00001.parquet")
    assert b"huggingface" in (audio.schema_arrow.metadata or {})
    assert sorted(p.name for p in (base / "images/train/cat").iterdir()) == ["cat_0.png", "cat_1.png", "cat_2.png"]
    assert (base / "script/script.py").is_file()
    assert [p.name for p in (base / "empty").iterdir()] == ["README.md"]


def test_sample_configuration(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    save_config(tmp_path, config.from_dict({"tokens": {"hf_mine": {"user": "me"}}, "users": {"me": {}}}))
    generate_samples(tmp_path)
    config = load_config(tmp_path)
    users = {token: config.user_for_token(token) for token in (APP_TOKEN, USER_TOKEN, OTHER_USER_TOKEN, "hf_mine")}
    assert {token: user.name for token, user in users.items() if user} == {
        APP_TOKEN: "datasets-server",
        USER_TOKEN: "alice",
        OTHER_USER_TOKEN: "bob",
        "hf_mine": "me",
    }
    for repo in SAMPLE_REPOS:
        settings = config.repo_settings(repo.id)
        assert (settings.private, settings.gated) == (repo.private, repo.gated)
        assert config.can_download(users[APP_TOKEN], repo.id)
        assert config.can_download(users[USER_TOKEN], repo.id)
        assert config.can_download(users[OTHER_USER_TOKEN], repo.id) == (not (repo.private or repo.gated))
        assert config.can_see(None, repo.id) == (not repo.private)
    assert [(r.id, r.private, r.gated) for r in SAMPLE_REPOS if r.private or r.gated] == [
        ("samples/gated", False, "auto"),
        ("samples/private", True, False),
    ]


def test_cli_generate_and_serve(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    generated = subprocess.run(
        [sys.executable, "-m", "localhub", "generate", "--root", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "localhub.json").is_file()
    with bind_free_socket() as sock:
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "localhub", "serve", "--root", str(tmp_path), "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/_localhub/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("localhub serve did not start")
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {APP_TOKEN}"}
        assert httpx.get(f"{url}/api/datasets/samples/private", headers=headers).json()["private"] is True
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    request_lines = [line for line in output.splitlines() if "localhub.access" in line]
    assert len(request_lines) >= 2
    assert any(
        '"GET /api/datasets/samples/private" 200' in line and "user=datasets-server" in line for line in request_lines
    )
    assert APP_TOKEN not in output


def test_cli_rejects_bad_faults(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localhub", "serve", "--root", str(tmp_path), "--error-status", "302"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "error_status" in result.stderr
