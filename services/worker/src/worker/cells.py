"""Turning raw row values into JSON cells, driven by the features; media become asset files and their URLs.

Rows arrive as arrow `to_pylist()` values (media not decoded: `{"bytes", "path"}` structs), whatever the
reader; decoded values (PIL images, audio arrays, numpy arrays) are accepted too. The conversion recurses
through dicts and lists, so media nested in a cell become assets too (`worker.media`, `worker.audio`).

| Feature | JSON cell |
|---|---|
| `Value` bool, ints, floats, strings | as is (NaN and infinities become null when serialised) |
| `Value` timestamp[unit(, tz)] | ISO 8601 string, `Z` for UTC, nanoseconds kept: `"2024-01-02T03:04:05.000000001Z"` |
| `Value` date32/date64, time32/time64 | `"2024-01-02"`, `"03:04:05.123456"` |
| `Value` duration[unit] | seconds as a float |
| `Value` decimal128/256 | string (`"1.10"`: no precision lost) |
| `Value` binary, large_binary, binary_view | bytes, serialised as base64 by `libcommon.serialization.dumps` |
| `Value` null | null |
| `ClassLabel` | the integer index (-1 for "no label") |
| `Json` | the parsed JSON value |
| `Array2D`..`Array5D`, `Translation` | nested lists, dict of strings |
| `TranslationVariableLanguages` | `{"language": [...], "translation": [...]}` |
| dict, `List`, `LargeList`, `Sequence`, list | recursively converted (a `Sequence` of dict is a dict of lists) |
| `Image` | URL of `image.jpg` / `image.png` |
| `Audio` | `[{"src": mp3 URL, "type": "audio/mpeg"}, {"src": wav URL, "type": "audio/wav"}]` |
| `Video`, `Pdf`, `Nifti`, `Mesh`, `BioSequence`, `BioStructure` | URL of the file, copied as it is |

Any other feature type raises UnsupportedFeatureTypeError (checked on the whole features up front by
`check_features`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
from datasets import (
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Audio,
    ClassLabel,
    Features,
    Image,
    Json,
    LargeList,
    List,
    Translation,
    TranslationVariableLanguages,
    Value,
)

from worker.audio import save_audio
from worker.errors import UnsupportedFeatureTypeError
from worker.media import FILE_KINDS, CellPath, MediaOpener, RowContext, save_file, save_image

__all__ = [
    "CellPath",
    "MediaOpener",
    "RowContext",
    "check_features",
    "convert_cell",
    "convert_row",
    "to_json_value",
]

_LEAF_TYPES: tuple[type, ...] = (
    Value,
    ClassLabel,
    Json,
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Translation,
    TranslationVariableLanguages,
    Image,
    Audio,
    *FILE_KINDS,
)


def _feature_type_name(feature: Any) -> str:
    return str(getattr(feature, "_type", type(feature).__name__))


def _unsupported(feature: Any, column: str) -> UnsupportedFeatureTypeError:
    return UnsupportedFeatureTypeError(
        f"The column {column!r} has a feature type that this server cannot show: {_feature_type_name(feature)}."
    )


def _item_feature(feature: Any) -> Any:
    """The feature of the items of a list feature, or None if `feature` is not a list feature."""
    if isinstance(feature, List | LargeList):
        return feature.feature
    if isinstance(feature, list | tuple) and len(feature) == 1:
        return feature[0]
    return None


def check_features(features: Features) -> None:
    """Raise UnsupportedFeatureTypeError if a column has (or nests) a feature type that cannot be converted."""

    def check(feature: Any, column: str) -> None:
        if isinstance(feature, dict):
            for sub_feature in feature.values():
                check(sub_feature, column)
        elif (item := _item_feature(feature)) is not None:
            check(item, column)
        elif not isinstance(feature, _LEAF_TYPES):
            raise _unsupported(feature, column)

    for name, feature in features.items():
        check(feature, name)


def convert_row(row: Mapping[str, Any], features: Features, context: RowContext) -> dict[str, Any]:
    """The JSON row: one cell per feature, in feature order (a missing value is null)."""
    return {
        name: convert_cell(row.get(name), feature, context, column=name, path=()) for name, feature in features.items()
    }


def convert_cell(value: Any, feature: Any, context: RowContext, column: str, path: CellPath) -> Any:
    """Convert the value at `path` inside the cell of `column`, according to its feature (see the table)."""
    if value is None:
        return None
    if isinstance(feature, Image):
        return save_image(value, feature, context, column, path)
    if isinstance(feature, Audio):
        return save_audio(value, context, column, path)
    if type(feature) in FILE_KINDS:
        return save_file(value, FILE_KINDS[type(feature)], context, column, path)
    if isinstance(feature, dict):
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a dict for a dict feature, got {type(value).__name__}")
        return {
            key: convert_cell(value.get(key), sub_feature, context, column, (*path, key))
            for key, sub_feature in feature.items()
        }
    item_feature = _item_feature(feature)
    if item_feature is not None:
        return _convert_list(value, item_feature, context, column, path)
    if isinstance(feature, Json):
        return _json_value(value)
    if isinstance(feature, ClassLabel):
        return feature.str2int(value) if isinstance(value, str) else to_json_value(value)
    if isinstance(feature, TranslationVariableLanguages):
        if isinstance(value, Mapping) and set(value) != {"language", "translation"}:
            value = feature.encode_example(dict(value))  # the input form: {language: text(s)}
        return to_json_value(value)
    if isinstance(feature, _LEAF_TYPES):
        return to_json_value(value)
    raise _unsupported(feature, column)


def _convert_list(value: Any, item_feature: Any, context: RowContext, column: str, path: CellPath) -> Any:
    if isinstance(value, np.ndarray):
        value = list(value)
    if isinstance(value, Mapping) and isinstance(item_feature, dict):
        # A list of dicts given column-wise (the legacy `Sequence` form): a dict of lists.
        return {
            key: [
                convert_cell(item, sub_feature, context, column, (*path, key, index))
                for index, item in enumerate(value.get(key) or [])
            ]
            for key, sub_feature in item_feature.items()
        }
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list for a list feature, got {type(value).__name__}")
    return [convert_cell(item, item_feature, context, column, (*path, index)) for index, item in enumerate(value)]


def _json_value(value: Any) -> Any:
    """A `Json` value: arrow stores it as JSON text, decoded objects are plain values already."""
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value  # not valid JSON (or numbers beyond 64 bits): the text itself
    return to_json_value(value)


def _iso_datetime(value: datetime.datetime) -> str:
    # isoformat keeps the nanoseconds of a pandas.Timestamp (what arrow gives for timestamp[ns]).
    text = value.isoformat()
    offset = value.utcoffset()
    if offset is not None and offset == datetime.timedelta(0):
        text = text.removesuffix("+00:00") + "Z"
    return text


def to_json_value(value: Any) -> Any:
    """A plain value made serialisable by libcommon.serialization (see the table of the module docstring)."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return _iso_datetime(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    if isinstance(value, np.ndarray | np.generic):
        return to_json_value(value.tolist())
    raise TypeError(f"cannot convert a value of type {type(value).__name__} to JSON")
