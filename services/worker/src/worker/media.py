"""Media cells written as asset files: images, and files kept as they are (video, PDF, NIfTI, meshes...).

Every asset of a cell lives in the cell's directory (`.../<row_idx>/<column>/`); its file name is the media
kind followed by the value's position inside the cell (`image.jpg` for the cell itself, `image-3.jpg` for
item 3 of a list, `image-left-0.png` for item 0 of the list under key `left`), so nested media never
overwrite each other. Outputs are deterministic (fixed encoder settings, no timestamps): a re-run writes
byte-identical files. Files are written atomically (temporary file + rename).

Images are written as `image.jpg` when JPEG can hold their mode (L, RGB, after converting modes that
browsers do not show), else as `image.png`; a JPEG or PNG source that already has the target format is
copied byte for byte (no decoding). Other media are never decoded: the file is copied under a name whose
extension comes from the value's path, or from its magic bytes, and only from a per-kind allow-list
(never `.html` or `.svg`, which a browser would run), else `.bin`.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
from datasets import BioSequence, BioStructure, Image, Mesh, Nifti, Pdf, Video
from PIL import ExifTags, ImageOps
from PIL import Image as PILImage

from libcommon.assets import asset_path, asset_url
from libcommon.config import AssetsConfig

#: Opens a media file that a value names by path; None if the path may not be read (not in the dataset).
MediaOpener = Callable[[str], IO[bytes] | None]
#: Position of a value inside a cell: dict keys and list indexes.
CellPath = tuple[str | int, ...]

JPEG_QUALITY: Final = 85
#: Modes saved as JPEG, and as PNG; other modes are converted first (see `_CONVERSIONS`).
JPEG_MODES: Final = frozenset({"L", "RGB"})
PNG_MODES: Final = frozenset({"1", "LA", "P", "RGBA", "I;16", "I;16B"})
_CONVERSIONS: Final = {
    "RGBX": "RGB",
    "YCbCr": "RGB",
    "CMYK": "RGB",  # some browsers show CMYK JPEGs with inverted colours
    "LAB": "RGB",
    "HSV": "RGB",
    "La": "LA",
    "PA": "RGBA",
    "RGBa": "RGBA",
    "I": "I;16",
    "I;16L": "I;16",
    "I;16N": "I;16",
}
_EXTENSIONS: Final = {"JPEG": "jpg", "PNG": "png"}
_COPY_CHUNK_BYTES: Final = 1024 * 1024
_SNIFF_BYTES: Final = 16


@dataclass(frozen=True)
class RowContext:
    """Where a row's assets go: the assets config, the key of the row, and how to open files by path."""

    assets: AssetsConfig
    dataset: str
    config: str
    split: str
    row_idx: int
    open_media: MediaOpener


def _stem_part(part: str | int) -> str:
    if isinstance(part, int):
        return str(part)
    # Keys are kept readable but escaped (`-` separates parts, `~` escapes), so two positions never share
    # a name: at a given depth the parts are either all list indexes or all keys of the same dict.
    return "".join(
        char
        if char.isascii() and (char.isalnum() or char == "_")
        else "".join(f"~{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
        for char in part
    )


def file_stem(kind: str, path: CellPath) -> str:
    """The file name (without extension) of a media value at `path` inside its cell."""
    return kind + "".join(f"-{_stem_part(part)}" for part in path)


def asset(context: RowContext, column: str, filename: str) -> tuple[Path, str]:
    """The file path and the URL of an asset of the row's `column`."""
    key = (context.dataset, context.config, context.split, context.row_idx, column, filename)
    return asset_path(context.assets.storage_directory, *key), asset_url(context.assets.base_url, *key)


@contextmanager
def atomic_target(target: Path) -> Iterator[Path]:
    """A temporary path to write, renamed to `target` if the block succeeds (deleted otherwise)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _media_path(value: Any) -> str | None:
    path = value.get("path") if isinstance(value, dict) else value if isinstance(value, str) else None
    return path if isinstance(path, str) and path else None


@contextmanager
def open_media(value: Any, context: RowContext) -> Iterator[IO[bytes]]:
    """A readable file of a raw media value (`{"bytes", "path"}`, or a bare path string)."""
    if isinstance(value, dict) and value.get("bytes") is not None:
        yield io.BytesIO(bytes(value["bytes"]))
        return
    path = _media_path(value)
    if path is None:
        raise ValueError(f"the media value has neither bytes nor path: {type(value).__name__}")
    file = context.open_media(path)
    if file is None:
        raise ValueError(f"the media file {path!r} is not a file of this dataset")
    with file:
        yield file


def media_bytes(value: Any, context: RowContext) -> bytes:
    """The encoded bytes of a raw media value."""
    with open_media(value, context) as file:
        return file.read()


# -- images -----------------------------------------------------------------------------------------------


def _normalized(image: PILImage.Image) -> PILImage.Image:
    """A float image stretched to 8-bit grey levels (its values may be in any range: 0-1, metres...)."""
    values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return PILImage.fromarray(np.round(scaled).astype(np.uint8), mode="L")


def image_format(mode: str) -> str | None:
    """The format an image of `mode` is saved in as it is: JPEG, PNG, or None if it must be converted."""
    return "JPEG" if mode in JPEG_MODES else "PNG" if mode in PNG_MODES else None


def prepare_image(image: PILImage.Image, mode: str | None = None) -> tuple[PILImage.Image, str]:
    """The image to save and its format: EXIF orientation applied (as `datasets` does), `mode` applied."""
    if image.getexif().get(ExifTags.Base.Orientation) is not None:
        image = ImageOps.exif_transpose(image)
    if mode and image.mode != mode:
        image = image.convert(mode)
    if image.mode == "F":
        image = _normalized(image)
    if image.mode in _CONVERSIONS:
        image = image.convert(_CONVERSIONS[image.mode])
    target = image_format(image.mode)
    if target is None:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        target = image_format(image.mode) or "PNG"
    return image, target


def save_image(value: Any, feature: Image, context: RowContext, column: str, path: CellPath) -> str:
    """Write the image as `image.jpg` or `image.png` (see the module docstring); return its URL."""
    stem = file_stem("image", path)
    data: bytes | None = None
    if isinstance(value, PILImage.Image):
        image = value
    else:
        data = media_bytes(value, context)
        image = PILImage.open(io.BytesIO(data))  # reads the header only
    source_format = image_format(image.mode)
    keeps_mode = feature.mode in (None, image.mode)
    if data is not None and source_format is not None and source_format == image.format and keeps_mode:
        # Already web-ready: copied, not decoded and re-encoded (much faster for big images).
        file_path, url = asset(context, column, f"{stem}.{_EXTENSIONS[source_format]}")
        with atomic_target(file_path) as temporary:
            temporary.write_bytes(data)
        return url
    prepared, target = prepare_image(image, feature.mode)
    file_path, url = asset(context, column, f"{stem}.{_EXTENSIONS[target]}")
    options: dict[str, Any] = {"quality": JPEG_QUALITY} if target == "JPEG" else {}
    if prepared.info.get("icc_profile"):
        options["icc_profile"] = prepared.info["icc_profile"]
    with atomic_target(file_path) as temporary:
        prepared.save(temporary, format=target, **options)
    return url


# -- files kept as they are ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    """How a media kind that is not decoded is saved: file stem, allowed extensions, magic bytes."""

    stem: str
    extensions: tuple[str, ...]
    #: (offset, bytes, extension) checked when the path has no allowed extension.
    magic: tuple[tuple[int, bytes, str], ...] = ()
    default: str = "bin"

    def extension(self, path: str | None, head: bytes) -> str:
        """The file extension: the path's if allowed (longest match first), else from the magic bytes."""
        name = posixpath.basename(path or "").lower()
        for extension in sorted(self.extensions, key=len, reverse=True):
            if name.endswith(f".{extension}"):
                return extension
        for offset, magic, extension in self.magic:
            if head[offset : offset + len(magic)] == magic:
                return extension
        return self.default


def _with_gz(*extensions: str) -> tuple[str, ...]:
    return (*extensions, *(f"{extension}.gz" for extension in extensions))


FILE_KINDS: Final[dict[type, FileKind]] = {
    Video: FileKind(
        "video",
        ("mp4", "m4v", "mov", "webm", "mkv", "ogv", "avi", "mpg", "mpeg", "wmv", "flv", "3gp"),
        magic=((4, b"ftyp", "mp4"), (0, b"\x1aE\xdf\xa3", "webm"), (0, b"OggS", "ogv"), (8, b"AVI ", "avi")),
    ),
    Pdf: FileKind("document", ("pdf",), default="pdf"),
    Nifti: FileKind("nifti", ("nii", "nii.gz"), magic=((0, b"\x1f\x8b", "nii.gz"),), default="nii"),
    Mesh: FileKind("mesh", ("glb", "gltf", "obj", "ply", "stl", "off"), magic=((0, b"glTF", "glb"),)),
    BioSequence: FileKind(
        "sequence", _with_gz("fasta", "fa", "fna", "faa", "fastq", "fq", "gb", "gbk", "genbank", "embl")
    ),
    BioStructure: FileKind("structure", _with_gz("pdb", "cif", "mmcif", "ent")),
}


def save_file(value: Any, kind: FileKind, context: RowContext, column: str, path: CellPath) -> str:
    """Copy the media file as `<kind>.<extension>` (streamed, never decoded); return its URL."""
    with open_media(value, context) as source:
        head = source.read(_SNIFF_BYTES)
        file_path, url = asset(
            context, column, f"{file_stem(kind.stem, path)}.{kind.extension(_media_path(value), head)}"
        )
        with atomic_target(file_path) as temporary, temporary.open("wb") as target:
            target.write(head)
            shutil.copyfileobj(source, target, _COPY_CHUNK_BYTES)
    return url
