"""`datasets` 5.2 against the local hub: config and split names, builder info and streamed rows.

The checks run in two subprocesses started in parallel (HF_ENDPOINT must be set before import): one
reads every sample repo with APP_TOKEN, the other collects the expected failures. Failures are kept
apart because clients cache what they learned with a token (a private repo's sha, for instance).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from localhub.samples import (
    APP_TOKEN,
    EMPTY_ERROR,
    OTHER_USER_TOKEN,
    SAMPLE_REPOS,
    SCRIPT_ERROR,
    USER_TOKEN,
    SampleRepo,
)
from localhub.samples._content import label_row, tabular_row, transcription

PROBE = Path(__file__).with_name("datasets_probe.py")

#: First id of each tabular split (see localhub.samples).
TABULAR_STARTS = {
    "samples/csv": {"default/train": 0, "default/test": 100},
    "samples/jsonl": {"default/train": 0, "default/validation": 200},
    "samples/parquet": {"default/train": 0, "default/test": 1000},
    "samples/two-configs": {"first/train": 0, "first/test": 100},
    "samples/gated": {"default/train": 0},
    "samples/private": {"default/train": 0},
}
TABULAR_FEATURES = {"id": "Value('int64')", "value": "Value('float64')", "text": "Value('string')"}

ERROR_TASKS: list[tuple[str, str | None]] = [
    ("samples/gated", None),
    ("samples/gated", OTHER_USER_TOKEN),
    ("samples/private", None),
    ("samples/private", OTHER_USER_TOKEN),
    ("samples/does-not-exist", None),
    ("samples/does-not-exist", OTHER_USER_TOKEN),
    ("samples/script", APP_TOKEN),
    ("samples/empty", APP_TOKEN),
]
USER_TASKS = [("samples/gated", USER_TOKEN), ("samples/private", USER_TOKEN)]


def _run_probe(endpoint: str, hf_home: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = dict(os.environ, HF_ENDPOINT=endpoint, HF_HOME=hf_home)
    command = [sys.executable, str(PROBE), json.dumps(tasks)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    reports: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return reports


@pytest.fixture(scope="module")
def reports(hub_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Every probe report, keyed by (repo, token)."""
    ok_tasks = [
        {
            "repo": repo.id,
            "token": APP_TOKEN,
            "decode": repo.name != "audio-parquet",
            "stream": repo.name != "audio-folder",
        }
        for repo in SAMPLE_REPOS
        if repo.expected_configs is not None
    ]
    error_tasks: list[dict[str, Any]] = [{"repo": repo, "token": token} for repo, token in ERROR_TASKS]
    error_tasks += [{"repo": repo, "token": token, "stream": False} for repo, token in USER_TASKS]
    homes = [str(tmp_path_factory.mktemp("hf-home-ok")), str(tmp_path_factory.mktemp("hf-home-errors"))]
    with ThreadPoolExecutor(2) as pool:
        results = pool.map(_run_probe, [hub_url] * 2, homes, [ok_tasks, error_tasks])
        return {(report["repo"], report["token"]): report for batch in results for report in batch}


def _expected_first_rows(repo: SampleRepo, key: str) -> list[dict[str, Any]]:
    if key in TABULAR_STARTS.get(repo.id, {}):
        start = TABULAR_STARTS[repo.id][key]
        return [tabular_row(start + i) for i in range(3)]
    if key == "second/train":
        return [label_row(i) for i in range(3)]
    if repo.name == "images":
        return [{"image": {"image": [32, 32], "mode": "RGB"}, "label": 0} for _ in range(3)]
    if repo.name == "audio-parquet":
        return [
            {
                "audio": {"bytes": 8044, "path": f"tone_{i}.wav", "frames": 4000, "rate": 16000},
                "text": transcription(i),
            }
            for i in range(3)
        ]
    raise AssertionError(f"no expected rows for {repo.id} {key}")


@pytest.mark.parametrize("repo", [r for r in SAMPLE_REPOS if r.expected_configs is not None], ids=lambda r: r.id)
def test_sample_repo_reads_as_expected(
    reports: dict[tuple[str, str | None], dict[str, Any]], repo: SampleRepo
) -> None:
    report = reports[(repo.id, APP_TOKEN)]
    assert "error" not in report, report
    assert repo.expected_configs is not None and repo.expected_num_examples is not None
    assert report["configs"] == list(repo.expected_configs)
    assert report["default"] == next(iter(repo.expected_configs))
    assert report["splits"] == repo.expected_configs
    if repo.name == "two-configs":
        assert report["info"] == repo.expected_num_examples
    else:
        assert report["info"] == {config: {} for config in repo.expected_configs}
    if repo.name == "audio-folder":
        assert report["rows"] == {}  # not streamable without torchcodec: see test_hf_clients.py
        return
    expected_keys = [f"{c}/{s}" for c, splits in repo.expected_configs.items() for s in splits]
    assert list(report["rows"]) == expected_keys
    for key in expected_keys:
        assert report["rows"][key] == _expected_first_rows(repo, key), key
    num_rows = {f"{c}/{s}": n for c, splits in repo.expected_num_examples.items() for s, n in splits.items()}
    assert report["num_rows"] == num_rows


def test_features(reports: dict[tuple[str, str | None], dict[str, Any]]) -> None:
    assert reports[("samples/parquet", APP_TOKEN)]["features"]["default/train"] == TABULAR_FEATURES
    assert reports[("samples/jsonl", APP_TOKEN)]["features"]["default/train"] == TABULAR_FEATURES
    assert reports[("samples/two-configs", APP_TOKEN)]["features"] == {
        "first/train": TABULAR_FEATURES,
        "first/test": TABULAR_FEATURES,
        "second/train": {"id": "Value('int64')", "label": "Value('string')"},
    }
    assert reports[("samples/csv", APP_TOKEN)]["features"]["default/train"] == {}  # CSV: unknown until read
    assert reports[("samples/images", APP_TOKEN)]["features"]["default/train"] == {
        "image": "Image(mode=None, decode=True)",
        "label": "ClassLabel(names=['cat', 'dog'])",
    }
    assert reports[("samples/audio-parquet", APP_TOKEN)]["features"]["default/train"] == {
        "audio": "Audio(sampling_rate=16000, decode=False, num_channels=None, stream_index=None)",
        "text": "Value('string')",
    }


@pytest.mark.parametrize(
    ("repo", "token", "error_type", "message"),
    [
        ("samples/gated", None, "DatasetNotFoundError", "is a gated dataset on the Hub. You must be authenticated"),
        (
            "samples/gated",
            OTHER_USER_TOKEN,
            "DatasetNotFoundError",
            "is a gated dataset on the Hub. Visit the dataset",
        ),
        ("samples/private", None, "DatasetNotFoundError", "doesn't exist on the Hub or cannot be accessed"),
        (
            "samples/private",
            OTHER_USER_TOKEN,
            "DatasetNotFoundError",
            "doesn't exist on the Hub or cannot be accessed",
        ),
        ("samples/does-not-exist", None, "DatasetNotFoundError", "doesn't exist on the Hub or cannot be accessed"),
        ("samples/does-not-exist", OTHER_USER_TOKEN, "DatasetNotFoundError", "doesn't exist on the Hub"),
        ("samples/script", APP_TOKEN, "RuntimeError", f"{SCRIPT_ERROR}, but found script.py"),
        ("samples/empty", APP_TOKEN, "EmptyDatasetError", EMPTY_ERROR),
    ],
)
def test_expected_failures(
    reports: dict[tuple[str, str | None], dict[str, Any]], repo: str, token: str | None, error_type: str, message: str
) -> None:
    error = reports[(repo, token)]["error"]
    assert error["type"] == error_type
    assert message in error["message"]


def test_error_samples_declare_their_error() -> None:
    errors = {repo.id: repo.expected_error for repo in SAMPLE_REPOS if repo.expected_configs is None}
    assert errors == {"samples/script": SCRIPT_ERROR, "samples/empty": EMPTY_ERROR}


@pytest.mark.parametrize("repo", ["samples/gated", "samples/private"])
def test_user_with_access_reads_restricted_repos(
    reports: dict[tuple[str, str | None], dict[str, Any]], repo: str
) -> None:
    report = reports[(repo, USER_TOKEN)]
    assert report["configs"] == ["default"]
    assert report["splits"] == {"default": ["train"]}
