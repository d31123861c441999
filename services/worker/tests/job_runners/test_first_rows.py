"""`/first-rows` against the local hub: exact rows, asset files on disk, byte budget, error codes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import soundfile
from PIL import Image
from worker_test_helpers import ASSETS_BASE_URL, content_of, run_job, without_token

from libcommon.serialization import dumps
from worker.config import AppConfig, FirstRowsConfig
from worker.truncation import size_in_bytes

WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
INT64 = {"dtype": "int64", "_type": "Value"}
FLOAT64 = {"dtype": "float64", "_type": "Value"}


def tabular_row(i: int) -> dict[str, Any]:
    """Row `i` of the tabular samples."""
    return {"id": i, "value": i * 1.5 + 0.25, "text": f"{WORDS[i % len(WORDS)]} {i}"}


def features(*types: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The `features` list of a response."""
    return [{"feature_idx": idx, "name": name, "type": type_} for idx, (name, type_) in enumerate(types)]


def row_items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `rows` list of a response."""
    return [{"row_idx": idx, "row": row, "truncated_cells": []} for idx, row in enumerate(rows)]


def first_rows(config: AppConfig, dataset: str, split: str = "train", config_name: str = "default") -> Any:
    """Run a /first-rows job that must succeed; return its body."""
    outcome = run_job(config, "/first-rows", dataset, config_name, split)
    assert (outcome.http_status, outcome.error_code) == (200, None), outcome.content
    assert outcome.children == []
    assert outcome.dataset_git_revision is not None and len(outcome.dataset_git_revision) == 40
    return content_of(outcome)


def asset_file(config: AppConfig, url: str) -> Path:
    """The file behind an asset URL."""
    assert url.startswith(ASSETS_BASE_URL + "/")
    return config.assets.storage_directory / url[len(ASSETS_BASE_URL) + 1 :]


def test_csv_rows_are_typed(app_config: AppConfig) -> None:
    body = first_rows(app_config, "samples/csv", "test")
    assert body == {
        "dataset": "samples/csv",
        "config": "default",
        "split": "test",
        "features": features(("id", INT64), ("value", FLOAT64), ("text", {"dtype": "large_string", "_type": "Value"})),
        "rows": row_items([tabular_row(i) for i in range(100, 110)]),
    }
    assert body["rows"][0]["row"] == {"id": 100, "value": 150.25, "text": "epsilon 100"}


def test_parquet_rows_are_read_across_row_groups(app_config: AppConfig) -> None:
    body = first_rows(app_config, "samples/parquet")
    assert body["features"] == features(
        ("id", INT64), ("value", FLOAT64), ("text", {"dtype": "string", "_type": "Value"})
    )
    # 500 rows in row groups of 100: the first 100 rows, nothing more
    assert body["rows"] == row_items([tabular_row(i) for i in range(100)])


def test_max_number_and_byte_budget(app_config: AppConfig) -> None:
    limited = replace(app_config, first_rows=FirstRowsConfig(max_number=5, min_number=2, max_bytes=1_000_000))
    assert first_rows(limited, "samples/parquet")["rows"] == row_items([tabular_row(i) for i in range(5)])

    # Row item sizes (serialised length + 33) of rows 0..8 sum to 1008: row 8 fits only under a 1009 budget.
    assert sum(size_in_bytes(item) for item in row_items([tabular_row(i) for i in range(9)])) == 1008
    for budget, kept in [(1007, 8), (1008, 8), (1009, 9)]:
        tight = replace(app_config, first_rows=FirstRowsConfig(max_number=100, min_number=2, max_bytes=budget))
        assert first_rows(tight, "samples/parquet")["rows"] == row_items([tabular_row(i) for i in range(kept)])


def test_min_rows_over_budget_are_truncated(app_config: AppConfig) -> None:
    tiny = replace(app_config, first_rows=FirstRowsConfig(max_number=100, min_number=3, max_bytes=10))
    assert first_rows(tiny, "samples/parquet")["rows"] == row_items([tabular_row(i) for i in range(3)])

    cut = replace(app_config, first_rows=FirstRowsConfig(max_number=100, min_number=3, max_bytes=10, min_cell_bytes=8))
    assert first_rows(cut, "samples/parquet")["rows"] == [
        {
            "row_idx": i,
            "row": {"id": str(i), "value": str(i * 1.5 + 0.25), "text": f'"{WORDS[i]} {i}"'[:8]},
            "truncated_cells": ["id", "value", "text"],
        }
        for i in range(3)
    ]


def test_response_size_cap(app_config: AppConfig) -> None:
    capped = replace(app_config, first_rows=FirstRowsConfig(max_response_bytes=3000))
    body = first_rows(capped, "samples/parquet")
    kept = len(body["rows"])
    assert 10 < kept < 100
    assert body["rows"] == row_items([tabular_row(i) for i in range(kept)])
    assert (
        len(dumps(body)) <= 3000 < len(dumps({**body, "rows": row_items([tabular_row(i) for i in range(kept + 1)])}))
    )


def test_images_are_saved_as_assets(app_config: AppConfig) -> None:
    body = first_rows(app_config, "samples/images")
    assert body["features"] == features(
        ("image", {"_type": "Image"}), ("label", {"names": ["cat", "dog"], "_type": "ClassLabel"})
    )
    urls = [f"{ASSETS_BASE_URL}/samples/images/--/default/train/{i}/image/image.jpg" for i in range(6)]
    assert body["rows"] == row_items([{"image": url, "label": i // 3} for i, url in enumerate(urls)])
    for url in urls:
        with Image.open(asset_file(app_config, url)) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (32, 32), "RGB")


def asset_digests(config: AppConfig) -> dict[str, str]:
    """SHA-256 of every file under the assets directory, by relative path."""
    root = config.assets.storage_directory
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".staging" not in path.parts
    }


@pytest.mark.parametrize("dataset", ["samples/images", "samples/audio-parquet"])
def test_rerun_gives_identical_content_and_assets(app_config: AppConfig, dataset: str) -> None:
    first = run_job(app_config, "/first-rows", dataset, "default", "train")
    first_digests = asset_digests(app_config)
    second = run_job(app_config, "/first-rows", dataset, "default", "train")
    assert second.content == first.content
    assert asset_digests(app_config) == first_digests
    assert len(first_digests) == {"samples/images": 6, "samples/audio-parquet": 8}[dataset]


@pytest.mark.parametrize(
    ("dataset", "text_column", "text_type", "count"),
    [
        ("samples/audio-parquet", "text", {"dtype": "string", "_type": "Value"}, 4),
        ("samples/audio-folder", "transcription", {"dtype": "large_string", "_type": "Value"}, 3),
    ],
)
def test_audio_is_saved_as_wav_and_mp3(
    app_config: AppConfig, dataset: str, text_column: str, text_type: dict[str, str], count: int
) -> None:
    body = first_rows(app_config, dataset)
    audio_type = {"sampling_rate": 16000, "_type": "Audio"} if dataset.endswith("parquet") else {"_type": "Audio"}
    assert body["features"] == features(("audio", audio_type), (text_column, text_type))
    expected_rows = []
    for i in range(count):
        base = f"{ASSETS_BASE_URL}/{dataset}/--/default/train/{i}/audio/audio"
        sources = [{"src": f"{base}.mp3", "type": "audio/mpeg"}, {"src": f"{base}.wav", "type": "audio/wav"}]
        expected_rows.append({"audio": sources, text_column: f"tone number {i} at {220 * (i + 1)} hertz"})
    assert body["rows"] == row_items(expected_rows)
    for row in body["rows"]:
        mp3, wav = (asset_file(app_config, source["src"]) for source in row["row"]["audio"])
        wav_info = soundfile.info(wav)
        assert (wav_info.format, wav_info.samplerate, wav_info.frames, wav_info.channels) == ("WAV", 16000, 4000, 1)
        mp3_info = soundfile.info(mp3)
        assert (mp3_info.format, mp3_info.samplerate, mp3_info.channels) == ("MP3", 16000, 1)
        assert mp3_info.frames >= 4000


def test_gated_with_the_app_token(app_config: AppConfig) -> None:
    assert first_rows(app_config, "samples/gated")["rows"] == row_items([tabular_row(i) for i in range(10)])


@pytest.mark.parametrize(
    ("dataset", "config_name", "split", "token", "status", "code"),
    [
        ("samples/gated", "default", "train", False, 403, "GatedDatasetError"),
        ("samples/private", "default", "train", False, 404, "DatasetNotFoundError"),
        ("samples/csv", "nope", "train", True, 404, "ConfigNotFoundError"),
        ("samples/csv", "default", "nope", True, 404, "SplitNotFoundError"),
        ("samples/script", "default", "train", True, 501, "DatasetWithScriptNotSupportedError"),
        ("samples/empty", "default", "train", True, 400, "EmptyDatasetError"),
    ],
)
def test_first_rows_errors(
    app_config: AppConfig, dataset: str, config_name: str, split: str, token: bool, status: int, code: str
) -> None:
    config = app_config if token else without_token(app_config)
    outcome = run_job(config, "/first-rows", dataset, config_name, split)
    assert (outcome.http_status, outcome.error_code, outcome.retryable) == (status, code, False)
    assert outcome.stored is (status != 404)
    assert list(content_of(outcome)) == ["error"]
    assert outcome.details is not None and json.loads(outcome.details)["error_code"] == code
    assert not (app_config.assets.storage_directory / dataset).exists()
