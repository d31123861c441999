"""Turning raw row values into JSON cells: images and audio become asset files and their URLs.

Rows arrive as arrow `to_pylist()` values (media not decoded: `{"bytes", "path"}` structs), whatever the
reader, and the features drive the conversion, recursively (an image inside a list is an asset too).
Images are decoded with Pillow, audio with soundfile (no torch). Files are written atomically (temporary
file + rename), so the API never serves a half-written asset.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from datasets import Audio, Features, Image, LargeList, List
from PIL import Image as PILImage

from libcommon.assets import asset_path, asset_url
from libcommon.config import AssetsConfig

#: Reads the bytes of a media value that has only a path; None if the path may not be read.
MediaOpener = Callable[[str], bytes | None]
#: Position of a value inside a cell: dict keys and list indexes.
CellPath = tuple[str | int, ...]


@dataclass(frozen=True)
class RowContext:
    """Where a row's assets go: the assets config and the key of the row."""

    assets: AssetsConfig
    dataset: str
    config: str
    split: str
    row_idx: int
    open_media: MediaOpener


def convert_row(row: dict[str, Any], features: Features, context: RowContext) -> dict[str, Any]:
    """The JSON row: one cell per feature, in feature order (a missing value is null)."""
    return {
        name: convert_cell(row.get(name), feature, context, column=name, path=()) for name, feature in features.items()
    }


def convert_cell(value: Any, feature: Any, context: RowContext, column: str, path: CellPath) -> Any:
    """Convert one value according to its feature type (see the module docstring)."""
    if value is None:
        return None
    if isinstance(feature, Image):
        return save_image(value, context, column, path)
    if isinstance(feature, Audio):
        return save_audio(value, context, column, path)
    if isinstance(feature, dict) and isinstance(value, dict):
        return {
            key: convert_cell(value.get(key), sub_feature, context, column, (*path, key))
            for key, sub_feature in feature.items()
        }
    if isinstance(feature, List | LargeList | list) and isinstance(value, list):
        item_feature = feature[0] if isinstance(feature, list) else feature.feature
        return [convert_cell(item, item_feature, context, column, (*path, i)) for i, item in enumerate(value)]
    return to_json_value(value)


def to_json_value(value: Any) -> Any:
    """Make a plain value serialisable by libcommon.serialization (which handles bytes, dates, numpy)."""
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _file_stem(kind: str, path: CellPath) -> str:
    return kind + "".join(f"-{part}" for part in path)


def media_bytes(value: Any, context: RowContext) -> bytes:
    """The encoded bytes of a raw media value (`{"bytes", "path"}`, or a bare path string)."""
    if isinstance(value, dict) and value.get("bytes") is not None:
        return bytes(value["bytes"])
    path = value.get("path") if isinstance(value, dict) else value if isinstance(value, str) else None
    if not path:
        raise ValueError(f"the media value has neither bytes nor path: {type(value).__name__}")
    data = context.open_media(path)
    if data is None:
        raise ValueError(f"the media file {path!r} is not a file of this dataset")
    return data


@contextmanager
def _atomic_target(target: Path) -> Iterator[Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _asset(context: RowContext, column: str, filename: str) -> tuple[Path, str]:
    key = (context.dataset, context.config, context.split, context.row_idx, column, filename)
    return asset_path(context.assets.storage_directory, *key), asset_url(context.assets.base_url, *key)


def save_image(value: Any, context: RowContext, column: str, path: CellPath) -> str:
    """Write the image as `image.jpg` (or `image.png` when JPEG cannot hold its mode); return its URL."""
    if isinstance(value, PILImage.Image):
        image = value
    else:
        image = PILImage.open(io.BytesIO(media_bytes(value, context)))
        image.load()
    stem = _file_stem("image", path)
    attempts: list[tuple[str, str, Callable[[], PILImage.Image]]] = [
        ("jpg", "JPEG", lambda: image),
        ("png", "PNG", lambda: image),
        ("jpg", "JPEG", lambda: image.convert("RGB")),
    ]
    last_error: Exception | None = None
    for extension, image_format, prepare in attempts:
        file_path, url = _asset(context, column, f"{stem}.{extension}")
        try:
            with _atomic_target(file_path) as temporary:
                prepare().save(temporary, format=image_format)
        except (OSError, ValueError, KeyError) as err:
            last_error = err
            continue
        return url
    raise ValueError(f"cannot save the image (mode {image.mode})") from last_error


def _read_audio(value: Any, context: RowContext) -> tuple[np.ndarray[Any, Any], int]:
    if isinstance(value, dict) and value.get("array") is not None and value.get("sampling_rate"):
        return np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"])
    data, sampling_rate = soundfile.read(io.BytesIO(media_bytes(value, context)), dtype="float32")
    return data, int(sampling_rate)


def save_audio(value: Any, context: RowContext, column: str, path: CellPath) -> list[dict[str, str]]:
    """Write `audio.wav` and `audio.mp3`; return their sources, MP3 first.

    The MP3 source is left out when the signal cannot be encoded as MP3 (sampling rate outside 8-48 kHz,
    more than two channels): the WAV file always exists.
    """
    array, sampling_rate = _read_audio(value, context)
    stem = _file_stem("audio", path)
    wav_path, wav_url = _asset(context, column, f"{stem}.wav")
    with _atomic_target(wav_path) as temporary:
        soundfile.write(temporary, array, sampling_rate, format="WAV", subtype="PCM_16")
    sources = [{"src": wav_url, "type": "audio/wav"}]
    mp3_path, mp3_url = _asset(context, column, f"{stem}.mp3")
    try:
        with _atomic_target(mp3_path) as temporary:
            soundfile.write(temporary, array, sampling_rate, format="MP3")
    except (soundfile.LibsndfileError, RuntimeError, ValueError):
        return sources
    return [{"src": mp3_url, "type": "audio/mpeg"}, *sources]
