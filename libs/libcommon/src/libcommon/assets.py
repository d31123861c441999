"""Asset files (images, audio): safe paths on disk and their public URLs.

Dataset, config, split and column names come from strangers, so every asset path is built here and
nowhere else. Each name is encoded into one safe path component (no `/`, `\\`, NUL or control characters,
never `.` or `..`, at most 255 bytes), and the joined path is checked with `realpath` to stay inside the
assets directory (which also refuses symlinks that point out of it). The encoding is reversible for names
up to the length limit, so two different names never share a directory.

Layout: `<storage_directory>/<dataset>/--/<config>/<split>/<row_idx>/<column>/<filename>`, where a
namespaced dataset (`user/name`) gives two levels. The URL is `<base_url>/<the same relative path>`, each
component URL-encoded, so that the server decoding the URL finds the file name written on disk.

Lifecycle: a job writes its files under a staging directory (`<storage_directory>/.staging/<name>/`,
same layout), and the worker swaps the split's staged directory into place once the job's result is
accepted, so that the API never serves a half-written split and a rerun leaves exactly the current files.
Directories of datasets, configs and splits that disappear are deleted; deletion refuses any path that
leaves the directory or goes through a symbolic link.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Final
from urllib.parse import quote

#: Separates the dataset levels from the config level in the layout (an encoded name never equals it
#: at that position, because the dataset part has a fixed number of levels).
DATASET_SEPARATOR: Final = "--"
#: Longest encoded component kept as is; longer ones are shortened and suffixed with a hash.
MAX_COMPONENT_BYTES: Final = 200
#: Top-level folder of the job staging directories. No dataset namespace can have this name (Hub repo
#: ids never start with `.`).
STAGING_DIRECTORY: Final = ".staging"
_HASH_CHARS: Final = 16
#: renameat2 flag: exchange the two paths atomically (Linux >= 3.15, glibc >= 2.28).
_RENAME_EXCHANGE: Final = 2
_AT_FDCWD: Final = -100
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


# -- directories of datasets, configs and splits --------------------------------------------------------


def directory_components(dataset: str, config: str | None = None, split: str | None = None) -> list[str]:
    """The encoded components of the assets directory of a dataset, a config or a split."""
    components = [encode_component(part) for part in dataset.split("/")]
    if config is None:
        if split is not None:
            raise AssetPathError("a split directory needs its config")
        return components
    components += [DATASET_SEPARATOR, encode_component(config)]
    return components if split is None else [*components, encode_component(split)]


def _plain_path(root: Path | str, components: list[str]) -> Path:
    """`safe_join`, and no component may be a symbolic link (what is deleted is exactly what is named)."""
    path = safe_join(root, components)
    if str(path) != os.path.join(os.path.realpath(root), *components):
        raise AssetPathError("the asset path goes through a symbolic link")
    return path


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)  # never follows the symbolic links it meets inside the tree


def _remove_empty_parents(path: Path, root: Path) -> None:
    while path != root and path.is_relative_to(root):
        try:
            path.rmdir()
        except OSError:
            return  # not empty (or already gone, or in use): stop there
        path = path.parent


def delete_asset_dirs(
    storage_directory: Path | str, dataset: str, config: str | None = None, split: str | None = None
) -> bool:
    """Delete the assets directory of a dataset (all its configs), a config, or a split.

    True if a directory was deleted. Emptied parent directories (the namespace of a namespaced dataset...)
    are removed too. Raises AssetPathError, and deletes nothing, if the path would leave
    `storage_directory` or go through a symbolic link.
    """
    path = _plain_path(storage_directory, directory_components(dataset, config, split))
    if not os.path.lexists(path):
        return False
    _remove_tree(path)
    _remove_empty_parents(path.parent, Path(os.path.realpath(storage_directory)))
    return True


def prune_asset_dirs(storage_directory: Path | str, dataset: str, keep: Iterable[tuple[str, str]]) -> list[str]:
    """Delete the config and split directories of `dataset` that are not among the `keep` (config, split).

    Returns the deleted directories, relative to the dataset's `--` directory. Same safety as
    `delete_asset_dirs`.
    """
    kept: dict[str, set[str]] = {}
    for config, split in keep:
        kept.setdefault(encode_component(config), set()).add(encode_component(split))
    base = _plain_path(storage_directory, [*directory_components(dataset), DATASET_SEPARATOR])
    if not base.is_dir():
        return []
    deleted: list[str] = []
    for config_dir in sorted(base.iterdir()):
        if config_dir.name not in kept or config_dir.is_symlink() or not config_dir.is_dir():
            _remove_tree(config_dir)
            deleted.append(config_dir.name)
            continue
        for split_dir in sorted(config_dir.iterdir()):
            if split_dir.name not in kept[config_dir.name]:
                _remove_tree(split_dir)
                deleted.append(f"{config_dir.name}/{split_dir.name}")
    _remove_empty_parents(base, Path(os.path.realpath(storage_directory)))
    return deleted


# -- staging ---------------------------------------------------------------------------------------------


def staging_directory(storage_directory: Path | str, name: str) -> Path:
    """The staging directory `name` (e.g. a job id and attempt) under `storage_directory` (not created)."""
    return _plain_path(storage_directory, [STAGING_DIRECTORY, encode_component(name)])


def delete_staging_directory(storage_directory: Path | str, name: str) -> None:
    """Delete the staging directory `name` and everything in it (nothing if it does not exist)."""
    path = staging_directory(storage_directory, name)
    if os.path.lexists(path):
        _remove_tree(path)


def delete_old_staging_directories(storage_directory: Path | str, older_than_seconds: float) -> list[str]:
    """Delete the staging directories not modified for `older_than_seconds` (left by killed workers)."""
    root = Path(os.path.realpath(storage_directory)) / STAGING_DIRECTORY
    if root.is_symlink() or not root.is_dir():
        return []
    limit = time.time() - older_than_seconds
    deleted: list[str] = []
    for entry in root.iterdir():
        try:
            if entry.lstat().st_mtime < limit:
                _remove_tree(entry)
                deleted.append(entry.name)
        except FileNotFoundError:
            continue  # deleted by another worker meanwhile
    return deleted


def _exchange(first: Path, second: Path) -> bool:
    """Atomically exchange two existing paths (Linux renameat2). False if the system cannot do it."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False  # the file system or the kernel does not support the exchange
    raise OSError(code, os.strerror(code), str(second))


def publish_split_dir(
    storage_directory: Path | str, staging: Path | str, dataset: str, config: str, split: str
) -> bool:
    """Make the split's assets directory hold exactly what a job staged for it, or nothing if it staged nothing.

    `staging` is a directory from `staging_directory` (same file system). An existing directory is swapped
    with the staged one in one atomic exchange where the system supports it (otherwise two renames, with a
    moment where the split has no directory), then the previous files are deleted. True if files were
    published.
    """
    components = directory_components(dataset, config, split)
    staged = _plain_path(staging, components)
    if not staged.is_dir():
        delete_asset_dirs(storage_directory, dataset, config, split)
        return False
    target = _plain_path(storage_directory, components)
    for _ in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if not os.path.lexists(target):
                os.rename(staged, target)
                return True
            if _exchange(staged, target):
                _remove_tree(staged)  # now the previous files
                return True
            previous = target.with_name(f"{target.name}.{uuid.uuid4().hex}.old")
            os.rename(target, previous)
            os.rename(staged, target)
            _remove_tree(previous)
            return True
        except FileNotFoundError:
            continue  # a parent was removed by a concurrent deletion of empty directories: recreate it
    raise OSError(errno.ENOENT, "could not publish the assets directory", str(target))
