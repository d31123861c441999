"""Cell conversion: every feature type of `datasets` 5.x, media to asset files (also nested), determinism."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pytest
import soundfile
from datasets import (
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Audio,
    BioSequence,
    BioStructure,
    ClassLabel,
    Features,
    Image,
    Json,
    LargeList,
    List,
    Mesh,
    Nifti,
    Pdf,
    Sequence,
    Translation,
    TranslationVariableLanguages,
    Value,
    Video,
)
from PIL import Image as PILImage

from libcommon.config import AssetsConfig
from libcommon.serialization import dumps, loads
from worker.cells import RowContext, check_features, convert_row
from worker.errors import UnsupportedFeatureTypeError
from worker.hub import hf_path_in_dataset

BASE = "http://localhost/assets"
CELL = f"{BASE}/user/ds/--/default/train/7"
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4


def png_bytes(mode: str) -> bytes:
    buffer = io.BytesIO()
    PILImage.new(mode, (4, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def encoded_image(mode: str, image_format: str) -> bytes:
    """A 4×3 image of `mode` with a gradient, encoded in `image_format`."""
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    image = PILImage.fromarray(pixels, mode="L").convert(mode)
    if mode in ("LA", "RGBA"):
        image.putalpha(PILImage.fromarray(255 - pixels, mode="L"))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def tone(frames: int, sampling_rate: int, channels: int = 1) -> np.ndarray[Any, Any]:
    """A 440 Hz sine at half scale, frames × channels (or 1-D for one channel)."""
    signal = 0.5 * np.sin(2 * np.pi * 440 * np.arange(frames) / sampling_rate)
    return signal if channels == 1 else np.stack([signal * (c + 1) / channels for c in range(channels)], axis=1)


def encoded_audio(
    data: np.ndarray[Any, Any], sampling_rate: int, audio_format: str, subtype: str | None = None
) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, data, sampling_rate, format=audio_format, subtype=subtype)
    return buffer.getvalue()


FILES = {
    "hf://datasets/user/ds@abc/a.wav": encoded_audio(np.zeros(800), 8000, "WAV"),
    "hf://datasets/user/ds@abc/clips/v0.webm": b"\x1aE\xdf\xa3" + b"webm" * 1000,
}


def make_context(tmp_path: Path) -> RowContext:
    """A row context writing under `tmp_path`, reading FILES (only those of `user/ds`)."""
    return RowContext(
        assets=AssetsConfig(base_url=BASE, storage_directory=tmp_path),
        dataset="user/ds",
        config="default",
        split="train",
        row_idx=7,
        open_media=lambda url: io.BytesIO(FILES[url]) if hf_path_in_dataset(url, "user/ds") and url in FILES else None,
    )


@pytest.fixture
def context(tmp_path: Path) -> RowContext:
    return make_context(tmp_path)


def cell_file(tmp_path: Path, url: str) -> Path:
    assert url.startswith(BASE + "/")
    return tmp_path / url[len(BASE) + 1 :]


def as_json(row: dict[str, Any]) -> Any:
    return loads(dumps(row))


# -- Value dtypes -----------------------------------------------------------------------------------------

VALUES: list[tuple[str, Any, Any]] = [
    ("bool", True, True),
    ("int8", -128, -128),
    ("int16", -32768, -32768),
    ("int32", 2**31 - 1, 2**31 - 1),
    ("int64", -(2**63), -(2**63)),
    ("uint8", 255, 255),
    ("uint16", 65535, 65535),
    ("uint32", 2**32 - 1, 2**32 - 1),
    ("uint64", 2**64 - 1, 2**64 - 1),
    ("float16", 1.5, 1.5),
    ("float32", 0.1, 0.10000000149011612),
    ("float64", -0.25, -0.25),
    ("float64", float("nan"), None),
    ("float64", float("inf"), None),
    ("string", "héllo", "héllo"),
    ("large_string", "x" * 3, "xxx"),
    ("string_view", "v", "v"),
    ("timestamp[s]", datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
    ("timestamp[ms]", 1_704_164_645_123, "2024-01-02T03:04:05.123000"),
    ("timestamp[us, tz=UTC]", datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "2024-01-02T03:04:05.000006Z"),
    ("timestamp[ns]", 1_704_164_645_000_000_001, "2024-01-02T03:04:05.000000001"),
    ("timestamp[ns, tz=UTC]", 1_704_164_645_000_000_001, "2024-01-02T03:04:05.000000001Z"),
    ("timestamp[s, tz=Europe/Paris]", 1_704_164_645, "2024-01-02T04:04:05+01:00"),
    ("timestamp[ms, tz=+05:30]", 1_704_164_645_000, "2024-01-02T08:34:05+05:30"),
    ("date32", 19724, "2024-01-02"),
    ("date64", 86_400_000, "1970-01-02"),
    ("time32[s]", 3723, "01:02:03"),
    ("time32[ms]", 3_723_004, "01:02:03.004000"),
    ("time64[us]", 3_723_000_004, "01:02:03.000004"),
    ("time64[ns]", 3_723_000_004_000, "01:02:03.000004"),
    ("duration[s]", 90, 90.0),
    ("duration[ms]", 1500, 1.5),
    ("duration[us]", 1_000_001, 1.000001),
    ("duration[ns]", 1_500_000_001, 1.500000001),
    ("decimal128(10, 2)", Decimal("1.10"), "1.10"),
    ("decimal256(40, 5)", Decimal("-123456789012345678901234567890.12345"), "-123456789012345678901234567890.12345"),
    ("binary", b"\x00\x01", "AAE="),
    ("large_binary", b"\xff" * 4, "/////w=="),
    ("binary_view", b"abc", "YWJj"),
    ("null", None, None),
]


@pytest.mark.parametrize(("dtype", "raw", "expected"), VALUES)
def test_value_dtypes_as_read_from_arrow(context: RowContext, dtype: str, raw: Any, expected: Any) -> None:
    feature = Value(dtype)
    value = pa.array([raw], type=feature.pa_type).to_pylist()[0]  # what the readers give
    assert as_json(convert_row({"c": value}, Features({"c": feature}), context)) == {"c": expected}


# -- other non-media types --------------------------------------------------------------------------------


def test_structured_types(context: RowContext) -> None:
    features = Features(
        {
            "label": ClassLabel(names=["neg", "pos"]),
            "no_label": ClassLabel(names=["neg", "pos"]),
            "named_label": ClassLabel(names=["neg", "pos"]),
            "json": Json(),
            "json_list": List(Json()),
            "matrix": Array2D(shape=(2, 2), dtype="int32"),
            "cube": Array3D(shape=(1, 2, 1), dtype="float32"),
            "translation": Translation(languages=["en", "fr"]),
            "tvl": TranslationVariableLanguages(languages=["en", "fr"]),
            "tvl_input": TranslationVariableLanguages(languages=["en", "fr"]),
            "legacy_sequence": Sequence({"a": Value("int32"), "b": Value("string")}),
            "list_of_dicts": List({"a": Value("int32")}),
            "large": LargeList(Value("int64")),
            "python_list": [Value("string")],
            "nested": {"x": {"y": List(Value("date32"))}},
            "missing": Value("string"),
        }
    )
    row = {
        "label": 1,
        "no_label": -1,
        "named_label": "neg",
        "json": '{"b": [1, null, "c"], "n": 1.5}',
        "json_list": ['{"a": 0}', "3", "null"],
        "matrix": [[1, 2], [3, 4]],
        "cube": np.array([[[0.5], [1.5]]], dtype=np.float32),
        "translation": {"en": "hi", "fr": "salut"},
        "tvl": {"language": ["en", "fr"], "translation": ["hi", "salut"]},
        "tvl_input": {"fr": ["b", "a"], "en": "hi"},
        "legacy_sequence": {"a": [1, 2], "b": ["x", "y"]},
        "list_of_dicts": [{"a": 1}, {"a": None}],
        "large": (1, 2),
        "python_list": ["s"],
        "nested": {"x": {"y": [pa.scalar(19724, pa.date32()).as_py()]}},
    }
    assert as_json(convert_row(row, features, context)) == {
        "label": 1,
        "no_label": -1,
        "named_label": 0,
        "json": {"b": [1, None, "c"], "n": 1.5},
        "json_list": [{"a": 0}, 3, None],
        "matrix": [[1, 2], [3, 4]],
        "cube": [[[0.5], [1.5]]],
        "translation": {"en": "hi", "fr": "salut"},
        "tvl": {"language": ["en", "fr"], "translation": ["hi", "salut"]},
        "tvl_input": {"language": ["en", "fr", "fr"], "translation": ["hi", "a", "b"]},
        "legacy_sequence": {"a": [1, 2], "b": ["x", "y"]},
        "list_of_dicts": [{"a": 1}, {"a": None}],
        "large": [1, 2],
        "python_list": ["s"],
        "nested": {"x": {"y": ["2024-01-02"]}},
        "missing": None,
    }


@dataclass
class Custom:
    """A feature type this server does not know (as registered with `datasets.features.register_feature`)."""

    _type: str = field(default="Custom", init=False, repr=False)


@pytest.mark.parametrize("feature", [Custom(), List(Custom()), {"a": {"b": [Custom()]}}, LargeList({"x": Custom()})])
def test_unknown_feature_types_are_a_stable_error(context: RowContext, feature: Any) -> None:
    with pytest.raises(UnsupportedFeatureTypeError) as info:
        check_features(Features({"ok": Value("int8"), "col": feature}))
    assert (info.value.code, int(info.value.status)) == ("UnsupportedFeatureTypeError", 501)
    assert info.value.as_content() == {
        "error": "The column 'col' has a feature type that this server cannot show: Custom."
    }
    with pytest.raises(UnsupportedFeatureTypeError):
        convert_row({"col": 1}, Features({"col": Custom()}), context)


def test_every_feature_type_of_datasets_is_supported() -> None:
    import datasets.features.features as definitions

    one_of_each = [
        Value("int8"),
        ClassLabel(names=["a"]),
        Json(),
        Translation(languages=["en"]),
        TranslationVariableLanguages(),
        List(Value("int8")),
        LargeList(Value("int8")),
        Array2D(shape=(1, 1), dtype="int8"),
        Array3D(shape=(1, 1, 1), dtype="int8"),
        Array4D(shape=(1, 1, 1, 1), dtype="int8"),
        Array5D(shape=(1, 1, 1, 1, 1), dtype="int8"),
        Image(),
        Audio(),
        Video(),
        Pdf(),
        Nifti(),
        Mesh(),
        BioSequence(),
        BioStructure(),
    ]
    # A new type in a later `datasets` must be added to the conversion (and to this list).
    assert {feature._type for feature in one_of_each} == set(definitions._FEATURE_TYPES)
    check_features(Features({f"c{index}": feature for index, feature in enumerate(one_of_each)}))


# -- images -----------------------------------------------------------------------------------------------

#: (mode, file extension, mode of the saved file)
IMAGE_MODES = [
    ("1", "png", "1"),
    ("L", "jpg", "L"),
    ("LA", "png", "LA"),
    ("La", "png", "LA"),
    ("P", "png", "P"),
    ("PA", "png", "RGBA"),
    ("RGB", "jpg", "RGB"),
    ("RGBA", "png", "RGBA"),
    ("RGBa", "png", "RGBA"),
    ("RGBX", "jpg", "RGB"),
    ("CMYK", "jpg", "RGB"),
    ("YCbCr", "jpg", "RGB"),
    ("HSV", "jpg", "RGB"),
    ("LAB", "jpg", "RGB"),
    ("I;16", "png", "I;16"),
    ("I;16B", "png", "I;16"),
    ("I", "png", "I;16"),
    ("F", "jpg", "L"),
]


@pytest.mark.parametrize(("mode", "extension", "saved_mode"), IMAGE_MODES)
def test_images_of_every_mode(context: RowContext, tmp_path: Path, mode: str, extension: str, saved_mode: str) -> None:
    url = convert_row({"img": PILImage.new(mode, (4, 3))}, Features({"img": Image()}), context)["img"]
    assert url == f"{CELL}/img/image.{extension}"
    with PILImage.open(cell_file(tmp_path, url)) as image:
        assert (image.format, image.size, image.mode) == ({"jpg": "JPEG", "png": "PNG"}[extension], (4, 3), saved_mode)


@pytest.mark.parametrize(
    ("mode", "source_format", "extension", "copied"),
    [
        ("RGB", "JPEG", "jpg", True),
        ("L", "JPEG", "jpg", True),
        ("CMYK", "JPEG", "jpg", False),
        ("RGB", "PNG", "jpg", False),
        ("RGBA", "PNG", "png", True),
        ("P", "PNG", "png", True),
        ("RGB", "TIFF", "jpg", False),
        ("F", "TIFF", "jpg", False),
        ("RGBA", "WEBP", "png", False),
        ("P", "GIF", "png", False),
    ],
)
def test_encoded_images_are_copied_when_web_ready(
    context: RowContext, tmp_path: Path, mode: str, source_format: str, extension: str, copied: bool
) -> None:
    data = encoded_image(mode, source_format)
    url = convert_row({"img": {"bytes": data, "path": "x"}}, Features({"img": Image()}), context)["img"]
    assert url == f"{CELL}/img/image.{extension}"
    assert (cell_file(tmp_path, url).read_bytes() == data) is copied
    with PILImage.open(cell_file(tmp_path, url)) as image:
        assert image.size == (4, 3)


def test_image_feature_mode_and_exif_orientation(context: RowContext, tmp_path: Path) -> None:
    rotated = PILImage.new("RGB", (4, 3))
    exif = rotated.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    rotated.save(buffer, format="PNG", exif=exif)
    row = {"rotated": {"bytes": buffer.getvalue(), "path": None}, "forced": {"bytes": png_bytes("RGBA"), "path": None}}
    urls = convert_row(row, Features({"rotated": Image(), "forced": Image(mode="RGB")}), context)
    assert urls == {"rotated": f"{CELL}/rotated/image.jpg", "forced": f"{CELL}/forced/image.jpg"}
    with PILImage.open(cell_file(tmp_path, urls["rotated"])) as image:
        assert (image.size, image.mode) == ((3, 4), "RGB")
    with PILImage.open(cell_file(tmp_path, urls["forced"])) as image:
        assert (image.size, image.mode) == ((4, 3), "RGB")


def test_nested_media_get_one_file_each(context: RowContext, tmp_path: Path) -> None:
    features = Features(
        {
            "pics": List(Image()),
            "pair": {"left": Image(), "a-b é": List(Image()), "label": ClassLabel(names=["a", "b"])},
            "legacy": Sequence({"img": Image(), "n": Value("int8")}),
            "sounds": LargeList(Audio()),
        }
    )
    picture = {"bytes": png_bytes("L"), "path": None}
    row = {
        "pics": [picture, None, picture],
        "pair": {"left": picture, "a-b é": [picture], "label": 1},
        "legacy": {"img": [picture, picture], "n": [1, 2]},
        "sounds": [{"bytes": None, "path": "hf://datasets/user/ds@abc/a.wav"}],
    }
    assert convert_row(row, features, context) == {
        "pics": [f"{CELL}/pics/image-0.jpg", None, f"{CELL}/pics/image-2.jpg"],
        "pair": {
            "left": f"{CELL}/pair/image-left.jpg",
            "a-b é": [f"{CELL}/pair/image-a~2Db~20~C3~A9-0.jpg"],
            "label": 1,
        },
        "legacy": {"img": [f"{CELL}/legacy/image-img-0.jpg", f"{CELL}/legacy/image-img-1.jpg"], "n": [1, 2]},
        "sounds": [
            [
                {"src": f"{CELL}/sounds/audio-0.mp3", "type": "audio/mpeg"},
                {"src": f"{CELL}/sounds/audio-0.wav", "type": "audio/wav"},
            ]
        ],
    }
    files = sorted(str(p.relative_to(tmp_path / "user/ds/--/default/train/7")) for p in tmp_path.rglob("*.*"))
    assert files == [
        "legacy/image-img-0.jpg",
        "legacy/image-img-1.jpg",
        "pair/image-a~2Db~20~C3~A9-0.jpg",
        "pair/image-left.jpg",
        "pics/image-0.jpg",
        "pics/image-2.jpg",
        "sounds/audio-0.mp3",
        "sounds/audio-0.wav",
    ]


# -- audio ------------------------------------------------------------------------------------------------


class AudioCase(NamedTuple):
    """An audio value and what its WAV and MP3 files must be."""

    make_value: Callable[[], dict[str, Any]]
    wav_rate: int
    channels: int
    mp3_rate: int
    mp3_channels: int
    frames: int
    #: Peak of the first MP3 channel (the tones are at half scale).
    mp3_peak: float = 0.5


AUDIO_CASES = {
    "wav mono float 16k": AudioCase(
        lambda: {"bytes": encoded_audio(tone(4000, 16000), 16000, "WAV", "FLOAT")}, 16000, 1, 16000, 1, 4000
    ),
    "flac stereo 44.1k": AudioCase(
        lambda: {"bytes": encoded_audio(tone(4410, 44100, 2), 44100, "FLAC")}, 44100, 2, 44100, 2, 4410, 0.25
    ),
    "ogg vorbis 24k": AudioCase(
        lambda: {"bytes": encoded_audio(tone(2400, 24000), 24000, "OGG", "VORBIS")}, 24000, 1, 24000, 1, 2400
    ),
    "int16 array stereo": AudioCase(
        lambda: {"array": (tone(2205, 22050, 2) * 32767).astype(np.int16), "sampling_rate": 22050},
        22050,
        2,
        22050,
        2,
        2205,
        0.25,
    ),
    "int32 array channels first": AudioCase(
        lambda: {"array": (tone(800, 8000, 2).T * 2**31).astype(np.int32), "sampling_rate": 8000},
        8000,
        2,
        8000,
        2,
        800,
        0.25,
    ),
    "uint8 array": AudioCase(
        lambda: {"array": np.round(tone(1600, 16000) * 127.5 + 127.5).astype(np.uint8), "sampling_rate": 16000},
        16000,
        1,
        16000,
        1,
        1600,
    ),
    "96 kHz resampled to 48": AudioCase(
        lambda: {"array": tone(9600, 96000), "sampling_rate": 96000}, 96000, 1, 48000, 1, 9600
    ),
    "5 kHz resampled to 8": AudioCase(
        lambda: {"array": tone(500, 5000), "sampling_rate": 5000}, 5000, 1, 8000, 1, 500
    ),
    "6 channels averaged": AudioCase(
        lambda: {"array": tone(1600, 16000, 6), "sampling_rate": 16000}, 16000, 6, 16000, 1, 1600, 0.5 * 3.5 / 6
    ),
}


@pytest.mark.parametrize("case", list(AUDIO_CASES))
def test_audio_as_mp3_and_wav(context: RowContext, tmp_path: Path, case: str) -> None:
    expected = AUDIO_CASES[case]
    cell = convert_row({"a": expected.make_value()}, Features({"a": Audio()}), context)["a"]
    assert cell == [
        {"src": f"{CELL}/a/audio.mp3", "type": "audio/mpeg"},
        {"src": f"{CELL}/a/audio.wav", "type": "audio/wav"},
    ]
    wav = soundfile.info(cell_file(tmp_path, cell[1]["src"]))
    assert (wav.format, wav.subtype, wav.samplerate, wav.channels, wav.frames) == (
        "WAV",
        "PCM_16",
        expected.wav_rate,
        expected.channels,
        expected.frames,
    )
    mp3 = soundfile.info(cell_file(tmp_path, cell[0]["src"]))
    assert (mp3.format, mp3.samplerate, mp3.channels) == ("MP3", expected.mp3_rate, expected.mp3_channels)
    assert mp3.duration == pytest.approx(expected.frames / expected.wav_rate, abs=0.01)
    decoded, _ = soundfile.read(cell_file(tmp_path, cell[0]["src"]), always_2d=True)
    assert np.abs(decoded[:, 0]).max() == pytest.approx(expected.mp3_peak, abs=0.05)


def test_mp3_and_pcm16_wav_sources_are_copied(context: RowContext, tmp_path: Path) -> None:
    mp3 = encoded_audio(tone(1600, 16000), 16000, "MP3")
    wav = encoded_audio(tone(1600, 16000), 16000, "WAV", "PCM_16")
    cells = convert_row({"m": {"bytes": mp3}, "w": {"bytes": wav}}, Features({"m": Audio(), "w": Audio()}), context)
    assert cell_file(tmp_path, cells["m"][0]["src"]).read_bytes() == mp3
    assert cell_file(tmp_path, cells["w"][1]["src"]).read_bytes() == wav
    assert soundfile.info(cell_file(tmp_path, cells["m"][1]["src"])).frames == soundfile.info(io.BytesIO(mp3)).frames


def test_invalid_audio_fails(context: RowContext) -> None:
    with pytest.raises(ValueError, match="sampling rate"):
        convert_row({"a": {"array": [0.0], "sampling_rate": 0}}, Features({"a": Audio()}), context)
    with pytest.raises(soundfile.LibsndfileError):
        convert_row({"a": {"bytes": b"not audio", "path": "a.m4a"}}, Features({"a": Audio()}), context)


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


# -- files kept as they are -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "value", "filename"),
    [
        (Video(), {"bytes": MP4_HEAD, "path": "clip.MP4"}, "video.mp4"),
        (Video(), {"bytes": MP4_HEAD, "path": None}, "video.mp4"),
        (Video(), {"bytes": None, "path": "hf://datasets/user/ds@abc/clips/v0.webm"}, "video.webm"),
        (Video(), "hf://datasets/user/ds@abc/clips/v0.webm", "video.webm"),
        (Video(), {"bytes": b"<html><script>alert(1)</script>", "path": "x.html"}, "video.bin"),
        (Pdf(), {"bytes": b"%PDF-1.4 ...", "path": "doc.pdf"}, "document.pdf"),
        (Pdf(), {"bytes": b"%PDF-1.4 ...", "path": "doc.svg"}, "document.pdf"),
        (Nifti(), {"bytes": b"\x1f\x8b\x08\x00nifti", "path": None}, "nifti.nii.gz"),
        (Nifti(), {"bytes": b"\x00" * 400, "path": "brain.nii"}, "nifti.nii"),
        (Mesh(), {"bytes": b"glTF\x02\x00\x00\x00", "path": None}, "mesh.glb"),
        (Mesh(), {"bytes": b"v 0 0 0", "path": "a/b/model.obj"}, "mesh.obj"),
        (BioSequence(), {"bytes": b"\x1f\x8b...", "path": "reads.fasta.gz"}, "sequence.fasta.gz"),
        (BioStructure(), {"bytes": b"ATOM ...", "path": "1abc.pdb"}, "structure.pdb"),
    ],
)
def test_files_are_copied_as_they_are(
    context: RowContext, tmp_path: Path, feature: Any, value: Any, filename: str
) -> None:
    url = convert_row({"f": value}, Features({"f": feature}), context)["f"]
    assert url == f"{CELL}/f/{filename}"
    expected = FILES[value if isinstance(value, str) else value["path"]] if value_is_remote(value) else value["bytes"]
    assert cell_file(tmp_path, url).read_bytes() == expected


def value_is_remote(value: Any) -> bool:
    return isinstance(value, str) or value["bytes"] is None


def test_nested_videos(context: RowContext, tmp_path: Path) -> None:
    row = {"clips": {"intro": [{"bytes": MP4_HEAD, "path": "a.mov"}, {"bytes": MP4_HEAD, "path": "b.mp4"}]}}
    cell = convert_row(row, Features({"clips": {"intro": List(Video())}}), context)["clips"]
    assert cell == {"intro": [f"{CELL}/clips/video-intro-0.mov", f"{CELL}/clips/video-intro-1.mp4"]}


# -- determinism ------------------------------------------------------------------------------------------


def test_rerun_writes_identical_files(tmp_path: Path) -> None:
    features = Features(
        {
            "jpeg": Image(),
            "png": Image(),
            "audio": Audio(),
            "resampled": Audio(),
            "video": Video(),
            "pics": List(Image()),
        }
    )
    noise = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    row = {
        "jpeg": PILImage.fromarray(noise),
        "png": {"bytes": encoded_image("RGBA", "TIFF"), "path": None},
        "audio": {"bytes": encoded_audio(tone(4000, 16000), 16000, "FLAC")},
        "resampled": {"array": tone(9000, 90000, 2), "sampling_rate": 90000},
        "video": {"bytes": MP4_HEAD, "path": "v.mp4"},
        "pics": [PILImage.fromarray(noise[:, :, 0]), PILImage.new("P", (3, 3))],
    }

    def digests(root: Path) -> dict[str, str]:
        return {
            str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }

    first = convert_row(row, features, make_context(tmp_path / "one"))
    again = convert_row(row, features, make_context(tmp_path / "one"))
    other = convert_row(row, features, make_context(tmp_path / "two"))
    assert dumps(first) == dumps(again) == dumps(other)
    assert len(digests(tmp_path / "one")) == 9
    assert digests(tmp_path / "one") == digests(tmp_path / "two")
    assert not list(tmp_path.rglob("*.tmp"))
