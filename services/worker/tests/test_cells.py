"""Cell conversion: media to asset files and URLs (also nested), plain values to JSON-able values."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import soundfile
from datasets import Audio, ClassLabel, Features, Image, List, Value
from PIL import Image as PILImage

from libcommon.config import AssetsConfig
from libcommon.serialization import dumps, loads
from worker.cells import RowContext, convert_row
from worker.hub import hf_path_in_dataset

BASE = "http://localhost/assets"


def png_bytes(mode: str) -> bytes:
    buffer = io.BytesIO()
    PILImage.new(mode, (4, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def wav_bytes(sampling_rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(800), sampling_rate, format="WAV")
    return buffer.getvalue()


@pytest.fixture
def context(tmp_path: Path) -> RowContext:
    files = {"hf://datasets/user/ds@abc/a.wav": wav_bytes()}
    return RowContext(
        assets=AssetsConfig(base_url=BASE, storage_directory=tmp_path),
        dataset="user/ds",
        config="default",
        split="train",
        row_idx=7,
        open_media=lambda url: files.get(url) if hf_path_in_dataset(url, "user/ds") else None,
    )


def test_images_are_jpeg_or_png_by_mode(context: RowContext, tmp_path: Path) -> None:
    features = Features({"rgb": Image(), "rgba": Image(), "palette": Image(), "none": Image()})
    row = {
        "rgb": {"bytes": png_bytes("RGB"), "path": "x.png"},
        "rgba": {"bytes": png_bytes("RGBA"), "path": None},
        "palette": PILImage.new("P", (2, 2)),
        "none": None,
    }
    assert convert_row(row, features, context) == {
        "rgb": f"{BASE}/user/ds/--/default/train/7/rgb/image.jpg",
        "rgba": f"{BASE}/user/ds/--/default/train/7/rgba/image.png",
        "palette": f"{BASE}/user/ds/--/default/train/7/palette/image.png",
        "none": None,
    }
    with PILImage.open(tmp_path / "user/ds/--/default/train/7/rgba/image.png") as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (4, 3))
    assert sorted(p.name for p in (tmp_path / "user/ds/--/default/train/7").rglob("*") if p.is_file()) == [
        "image.jpg",
        "image.png",
        "image.png",
    ]


def test_nested_media_get_one_file_each(context: RowContext, tmp_path: Path) -> None:
    features = Features({"pics": List(Image()), "pair": {"left": Image(), "label": ClassLabel(names=["a", "b"])}})
    picture = {"bytes": png_bytes("L"), "path": None}
    row = {"pics": [picture, None, picture], "pair": {"left": picture, "label": 1}}
    base = f"{BASE}/user/ds/--/default/train/7"
    assert convert_row(row, features, context) == {
        "pics": [f"{base}/pics/image-0.jpg", None, f"{base}/pics/image-2.jpg"],
        "pair": {"left": f"{base}/pair/image-left.jpg", "label": 1},
    }


def test_audio_from_a_dataset_file_and_from_an_array(context: RowContext, tmp_path: Path) -> None:
    features = Features({"file": Audio(), "array": Audio()})
    row = {
        "file": {"bytes": None, "path": "hf://datasets/user/ds@abc/a.wav"},
        # 96 kHz cannot be encoded as MP3: only the WAV source is given
        "array": {"array": np.zeros(960), "sampling_rate": 96000},
    }
    base = f"{BASE}/user/ds/--/default/train/7"
    assert convert_row(row, features, context) == {
        "file": [
            {"src": f"{base}/file/audio.mp3", "type": "audio/mpeg"},
            {"src": f"{base}/file/audio.wav", "type": "audio/wav"},
        ],
        "array": [{"src": f"{base}/array/audio.wav", "type": "audio/wav"}],
    }
    assert soundfile.info(tmp_path / "user/ds/--/default/train/7/file/audio.mp3").samplerate == 8000
    assert soundfile.info(tmp_path / "user/ds/--/default/train/7/array/audio.wav").samplerate == 96000
    assert not (tmp_path / "user/ds/--/default/train/7/array/audio.mp3").exists()
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize(
    "path",
    [
        "hf://datasets/other/ds@abc/a.wav",
        "hf://datasets/user/ds-evil@abc/a.wav",
        "hf://datasets/user/ds@abc/../../other/ds/a.wav",
        "/etc/passwd",
        "file:///etc/passwd",
        "https://example.com/a.wav",
    ],
)
def test_media_outside_the_dataset_are_not_read(context: RowContext, path: str) -> None:
    with pytest.raises(ValueError, match="not a file of this dataset"):
        convert_row({"audio": {"bytes": None, "path": path}}, Features({"audio": Audio()}), context)


def test_plain_values_become_json(context: RowContext) -> None:
    features = Features(
        {
            "int": Value("int64"),
            "label": ClassLabel(names=["x", "y"]),
            "decimal": Value("string"),
            "duration": Value("float64"),
            "time": Value("timestamp[s]"),
            "binary": Value("binary"),
            "missing": Value("string"),
            "struct": {"a": List(Value("int32"))},
        }
    )
    row = {
        "int": 3,
        "label": 1,
        "decimal": Decimal("1.10"),
        "duration": timedelta(minutes=1),
        "time": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "binary": b"\x00\x01",
        "struct": {"a": [1, 2]},
    }
    assert loads(dumps(convert_row(row, features, context))) == {
        "int": 3,
        "label": 1,
        "decimal": "1.10",
        "duration": 60.0,
        "time": "2024-01-02T03:04:05Z",
        "binary": "AAE=",
        "missing": None,
        "struct": {"a": [1, 2]},
    }
