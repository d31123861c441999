"""Asset files (images, audio): safe paths on disk and their public URLs.

Dataset, config, split and column names come from strangers, so every asset path is built here and
nowhere else. Each name is encoded into one safe path component (no `/`, `\\`, NUL or control characters,
never `.` or `..`, at most 255 bytes), and the joined path is checked with `realpath` to stay inside the
assets directory (which also refuses symlinks that point out of it). The encoding is reversible for names
up to the length limit, so two different names never share a directory.

Layout: `<storage_directory>/<dataset>/--/<config>/<split>/<row_idx>/<column>/<filename>`, where a
namespaced dataset (`user/name`) gives two levels. The URL is `<base_url>/<the same relative path>`, each
component URL-encoded, so that the server decoding the URL finds the file name written on disk.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Final
from urllib.parse import quote

#: Separates the dataset levels from the config level in the layout (an encoded name never equals it
#: at that position, because the dataset part has a fixed number of levels).
DATASET_SEPARATOR: Final = "--"
#: Longest encoded component kept as is; longer ones are shortened and suffixed with a hash.
MAX_COMPONENT_BYTES: Final = 200
_HASH_CHARS: Final = 16
_UNSAFE: Final = frozenset("%/\\") | frozenset(chr(c) for c in range(0x20)) | {"\x7f"}


class AssetPathError(ValueError):
    """An asset path cannot be built safely (empty name, or a result outside the assets directory)."""


def _escape_char(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def encode_component(name: str) -> str:
    """Encode one name into a single safe path component.

    `%`, `/`, `\\`, control characters and lone surrogates are percent-encoded; the names `.` and `..`
    have their dots encoded; a result longer than MAX_COMPONENT_BYTES bytes is cut and suffixed with a
    hash of the full name. Raises AssetPathError for an empty name.
    """
    if not name:
        raise AssetPathError("an asset path component cannot be empty")
    encoded = "".join(
        _escape_char(char) if char in _UNSAFE or 0xD800 <= ord(char) <= 0xDFFF else char for char in name
    )
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    if len(encoded.encode("utf-8")) > MAX_COMPONENT_BYTES:
        digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:_HASH_CHARS]
        head = encoded.encode("utf-8")[: MAX_COMPONENT_BYTES - _HASH_CHARS - 1].decode("utf-8", "ignore")
        # Do not leave half of a %XX escape before the suffix.
        escape = head.rfind("%", len(head) - 2)
        if escape >= 0:
            head = head[:escape]
        encoded = f"{head}~{digest}"
    return encoded


def asset_components(dataset: str, config: str, split: str, row_idx: int, column: str, filename: str) -> list[str]:
    """The encoded path components of an asset, relative to the assets directory."""
    if row_idx < 0:
        raise AssetPathError(f"row_idx must be >= 0, got {row_idx}")
    dataset_parts = [encode_component(part) for part in dataset.split("/")]
    return [
        *dataset_parts,
        DATASET_SEPARATOR,
        encode_component(config),
        encode_component(split),
        str(row_idx),
        encode_component(column),
        encode_component(filename),
    ]


def safe_join(root: Path | str, components: list[str]) -> Path:
    """Join already-encoded components under `root`; raise AssetPathError if the real path leaves `root`.

    Components must be single path segments (no `/`, no NUL, not `.`/`..`, not empty). The check uses
    `os.path.realpath`, so a symlink inside `root` that points outside is refused as well. Used on write
    (worker) and on read (API).
    """
    for component in components:
        if not component or component in (".", "..") or "/" in component or "\x00" in component:
            raise AssetPathError(f"invalid asset path component {component!r}")
    real_root = os.path.realpath(root)
    real_path = os.path.realpath(os.path.join(real_root, *components))
    if os.path.commonpath([real_root, real_path]) != real_root or real_path == real_root:
        raise AssetPathError("the asset path is outside the assets directory")
    return Path(real_path)


def asset_path(
    storage_directory: Path | str, dataset: str, config: str, split: str, row_idx: int, column: str, filename: str
) -> Path:
    """The file path of an asset, checked to be inside `storage_directory` (its parents are not created)."""
    return safe_join(storage_directory, asset_components(dataset, config, split, row_idx, column, filename))


def asset_url(base_url: str, dataset: str, config: str, split: str, row_idx: int, column: str, filename: str) -> str:
    """The public URL of an asset: `base_url` + the relative path, each component URL-encoded."""
    components = asset_components(dataset, config, split, row_idx, column, filename)
    return base_url.rstrip("/") + "/" + "/".join(quote(component, safe="") for component in components)
