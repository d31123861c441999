"""Dataset repositories read from `<root>/datasets/<namespace>/<name>/`, one snapshot per request.

There is no git history: a repo has one branch, `main`, whose commit sha is a fake but stable 40-hex
digest of the repo id and of every file's (path, size, mtime). It changes as soon as a file is added,
removed or rewritten. File ids are derived the same way, so nothing is ever hashed from file content
(listing a repo of big files stays cheap).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_TYPE_FOLDER = "datasets"
MAIN_BRANCH = "main"
MAIN_REFS = frozenset({MAIN_BRANCH, f"refs/heads/{MAIN_BRANCH}"})

# The Hub stores these in LFS; the flag only changes the shape of tree entries and the ETag.
LFS_SUFFIXES = frozenset(
    {".parquet", ".arrow", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".wav", ".mp3", ".flac", ".ogg", ".mp4", ".zip"}
    | {".gz", ".tar", ".bin", ".npy", ".pdf"}
)
LFS_MIN_SIZE = 10 * 1024 * 1024

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def is_valid_repo_id(repo_id: str) -> bool:
    """Tell whether `repo_id` is a well-formed `namespace/name` (no traversal, Hub character set)."""
    parts = repo_id.split("/")
    return len(parts) == 2 and all(_SEGMENT.match(part) and ".." not in part for part in parts)


def _digest(*parts: object) -> hashlib._Hash:
    digest = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        digest.update(str(part).encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest


def iso_date(timestamp_ns: int) -> str:
    """Format a nanosecond timestamp as the Hub does (`2024-01-01T00:00:00.000Z`)."""
    moment = datetime.fromtimestamp(timestamp_ns / 1e9, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class FileEntry:
    """One file of a repo snapshot."""

    path: str
    size: int
    mtime_ns: int
    oid: str
    lfs_sha256: str | None

    @property
    def etag(self) -> str:
        """The ETag the Hub sends for this file: the LFS sha256, or the git blob id."""
        return self.lfs_sha256 or self.oid

    def to_json(self) -> dict[str, Any]:
        """The tree / paths-info entry of this file."""
        item: dict[str, Any] = {"type": "file", "oid": self.oid, "size": self.size, "path": self.path}
        if self.lfs_sha256 is not None:
            item["lfs"] = {"oid": self.lfs_sha256, "size": self.size, "pointerSize": 134}
        return item


@dataclass(frozen=True)
class RepoSnapshot:
    """The files of one repo as they are on disk now, with the derived commit sha."""

    repo_id: str
    directory: Path
    sha: str
    files: Mapping[str, FileEntry]
    folders: Mapping[str, str]
    children: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
    created_ns: int
    modified_ns: int

    @property
    def last_modified(self) -> str:
        """ISO date of the most recent file change."""
        return iso_date(self.modified_ns)

    @property
    def created_at(self) -> str:
        """ISO date of the oldest file."""
        return iso_date(self.created_ns)

    def has_revision(self, revision: str) -> bool:
        """Tell whether `revision` designates the only commit (main branch or its sha)."""
        return revision in MAIN_REFS or revision == self.sha

    def local_path(self, entry: FileEntry) -> Path:
        """Where the bytes of `entry` are on disk."""
        return self.directory / entry.path

    def folder_json(self, path: str) -> dict[str, Any]:
        """The tree entry of a folder."""
        return {"type": "directory", "oid": self.folders[path], "size": 0, "path": path}

    def entry_json(self, path: str) -> dict[str, Any] | None:
        """The tree entry of a file or folder, or None when `path` does not exist."""
        if path in self.files:
            return self.files[path].to_json()
        if path in self.folders:
            return self.folder_json(path)
        return None

    def tree(self, path: str, recursive: bool) -> list[dict[str, Any]] | None:
        """List a folder ("" is the root) like the Hub; None when it is not an existing folder.

        Folders come before files at each level; a recursive listing includes the folders too.
        """
        if path and path not in self.folders:
            return None

        def walk(folder: str) -> Iterator[dict[str, Any]]:
            sub_folders, file_paths = self.children.get(folder, ((), ()))
            for sub_folder in sub_folders:
                yield self.folder_json(sub_folder)
                if recursive:
                    yield from walk(sub_folder)
            for file_path in file_paths:
                yield self.files[file_path].to_json()

        return list(walk(path))

    def readme_text(self) -> str | None:
        """The README.md content, if any (used for `cardData`)."""
        entry = self.files.get("README.md")
        if entry is None:
            return None
        try:
            return self.local_path(entry).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


class RepoStore:
    """Find repos under a root folder and take snapshots of them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root / REPO_TYPE_FOLDER

    def repo_ids(self) -> list[str]:
        """Every `namespace/name` that has a folder, sorted."""
        if not self.base.is_dir():
            return []
        ids: list[str] = []
        for namespace in self.base.iterdir():
            if namespace.is_dir() and not namespace.is_symlink():
                ids.extend(
                    f"{namespace.name}/{repo.name}"
                    for repo in namespace.iterdir()
                    if repo.is_dir() and not repo.is_symlink()
                )
        return sorted(repo_id for repo_id in ids if is_valid_repo_id(repo_id))

    def snapshot(self, repo_id: str) -> RepoSnapshot | None:
        """Walk the repo folder now; None when the repo does not exist."""
        if not is_valid_repo_id(repo_id):
            return None
        directory = self.base / repo_id
        if directory.is_symlink() or not directory.is_dir():
            return None
        files: dict[str, FileEntry] = {}
        for entry_path, stat in _walk(directory, ""):
            files[entry_path] = _file_entry(repo_id, entry_path, stat.st_size, stat.st_mtime_ns)
        commit = _digest("commit", repo_id)
        folder_digests: dict[str, hashlib._Hash] = {}
        sub_folders: dict[str, set[str]] = {"": set()}
        folder_files: dict[str, list[str]] = {"": []}
        for entry in sorted_entries(files):
            commit.update(f"{entry.path}:{entry.size}:{entry.mtime_ns}\0".encode("utf-8", "surrogateescape"))
            parent = ""
            for folder in _ancestors(entry.path):
                folder_digests.setdefault(folder, _digest("tree", folder)).update(entry.oid.encode())
                sub_folders.setdefault(parent, set()).add(folder)
                sub_folders.setdefault(folder, set())
                parent = folder
            folder_files.setdefault(parent, []).append(entry.path)
        children = {
            folder: (tuple(sorted(subs)), tuple(folder_files.get(folder, []))) for folder, subs in sub_folders.items()
        }
        mtimes = [e.mtime_ns for e in files.values()] or [directory.stat().st_mtime_ns]
        return RepoSnapshot(
            repo_id=repo_id,
            directory=directory,
            sha=commit.hexdigest(),
            files=dict(sorted(files.items())),
            folders={folder: digest.hexdigest() for folder, digest in folder_digests.items()},
            children=children,
            created_ns=min(mtimes),
            modified_ns=max(mtimes),
        )


def sorted_entries(files: Mapping[str, FileEntry]) -> list[FileEntry]:
    """Entries sorted by path (the order the commit digest uses)."""
    return [files[path] for path in sorted(files)]


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _file_entry(repo_id: str, path: str, size: int, mtime_ns: int) -> FileEntry:
    oid = _digest("blob", repo_id, path, size, mtime_ns).hexdigest()
    is_lfs = size >= LFS_MIN_SIZE or os.path.splitext(path)[1].lower() in LFS_SUFFIXES
    lfs = hashlib.sha256(f"lfs\0{oid}".encode(), usedforsecurity=False).hexdigest() if is_lfs else None
    return FileEntry(path=path, size=size, mtime_ns=mtime_ns, oid=oid, lfs_sha256=lfs)


def _walk(directory: Path, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
    # Symlinks are skipped so that nothing outside the repo folder can ever be served, and names that
    # are not valid UTF-8 are skipped because they cannot be expressed in URLs or JSON.
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_symlink() or entry.name == ".git" or not _is_utf8(entry.name):
                continue
            path = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), f"{path}/")
            elif entry.is_file(follow_symlinks=False):
                yield path, entry.stat(follow_symlinks=False)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
