"""Asset paths: every name is encoded into one component and the result stays inside the directory."""

from __future__ import annotations

import itertools
import os
import time
from functools import partial
from pathlib import Path

import pytest

from libcommon import assets
from libcommon.assets import (
    STAGING_DIRECTORY,
    AssetPathError,
    asset_components,
    asset_path,
    asset_url,
    delete_asset_dirs,
    delete_old_staging_directories,
    delete_staging_directory,
    encode_component,
    prune_asset_dirs,
    publish_split_dir,
    safe_join,
    staging_directory,
)

NASTY_NAMES = [
    "..",
    ".",
    "../",
    "../../etc/passwd",
    "/etc/passwd",
    "/",
    "//",
    "a/../../b",
    "..\\..\\windows",
    "%2e%2e",
    "%2e%2e%2f",
    "%252e%252e",
    "..%5c",
    "nul\x00byte",
    "\x00",
    "line\nbreak",
    "~",
    "-",
    "--",
    " ",
    "ü/ñ",
    "\ud800",
    "x" * 500,
    "é" * 300,
    "%" * 300,
]


def test_layout_and_url_for_plain_names(tmp_path: Path) -> None:
    path = asset_path(tmp_path, "user/ds", "default", "train", 3, "image", "image.jpg")
    assert path == Path(os.path.realpath(tmp_path)) / "user/ds/--/default/train/3/image/image.jpg"
    url = asset_url("http://localhost/assets", "user/ds", "default", "train", 3, "image", "image.jpg")
    assert url == "http://localhost/assets/user/ds/--/default/train/3/image/image.jpg"
    assert asset_url("assets/", "ds", "c", "s", 0, "col", "f.wav") == "assets/ds/--/c/s/0/col/f.wav"


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("default", "default"),
        ("a b", "a b"),
        ("a/b", "a%2Fb"),
        ("50%", "50%25"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("...", "..."),
        ("a\\b", "a%5Cb"),
        ("nul\x00", "nul%00"),
        ("été", "été"),
        ("%2e%2e", "%252e%252e"),
    ],
)
def test_encode_component(name: str, encoded: str) -> None:
    assert encode_component(name) == encoded


def test_url_encodes_the_on_disk_names() -> None:
    url = asset_url("/assets", "user/ds", "my config", "a/b", 0, "50%", "image.jpg")
    assert url == "/assets/user/ds/--/my%20config/a%252Fb/0/50%2525/image.jpg"


def test_empty_names_and_negative_rows_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AssetPathError):
        asset_path(tmp_path, "ds", "", "train", 0, "col", "image.jpg")
    with pytest.raises(AssetPathError):
        asset_path(tmp_path, "ds", "default", "train", -1, "col", "image.jpg")


def test_nasty_names_stay_inside_and_are_single_components(tmp_path: Path) -> None:
    root = Path(os.path.realpath(tmp_path))
    for dataset, name in itertools.product(["ds", "user/ds", "../ds", "/abs"], NASTY_NAMES):
        try:
            components = asset_components(dataset, name, name, 0, name, "image.jpg")
        except AssetPathError:
            continue
        for component in components:
            assert component not in ("", ".", "..")
            assert "/" not in component and "\x00" not in component and "\\" not in component
            assert len(component.encode("utf-8")) <= 255
        path = asset_path(tmp_path, dataset, name, name, 0, name, "image.jpg")
        assert os.path.commonpath([root, path]) == str(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        assert Path(os.path.realpath(path)).is_relative_to(root)


def test_distinct_names_give_distinct_components() -> None:
    names = sorted({*NASTY_NAMES, "a%2Fb", "a/b", "%2E%2E", "%2E", "x" * 499, "x" * 501})
    encoded = [encode_component(name) for name in names]
    assert len(set(encoded)) == len(names)


def test_long_names_are_shortened_with_a_hash() -> None:
    first = encode_component("x" * 300 + "a")
    second = encode_component("x" * 300 + "b")
    assert first != second
    assert len(first.encode("utf-8")) <= 200
    assert first.startswith("x" * 100)
    # a cut never leaves a broken escape before the hash
    cut = encode_component("%" * 300)
    assert cut.split("~")[0].endswith("%25")


def test_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    outside = tmp_path / "outside"
    (root / "ds" / "--").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("sentinel")
    os.symlink(outside, root / "ds" / "--" / "default")
    with pytest.raises(AssetPathError):
        asset_path(root, "ds", "default", "train", 0, "image", "image.jpg")
    with pytest.raises(AssetPathError):
        safe_join(root, ["ds", "--", "default", "secret"])


def test_symlinked_root_is_allowed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(real, link)
    assert asset_path(link, "ds", "c", "s", 0, "col", "f.jpg") == real / "ds/--/c/s/0/col/f.jpg"


@pytest.mark.parametrize(
    "components",
    [[".."], ["ds", ".."], ["a/b"], [""], ["/etc"], ["a\x00"], ["."], []],
)
def test_safe_join_refuses_bad_components(tmp_path: Path, components: list[str]) -> None:
    with pytest.raises(AssetPathError):
        safe_join(tmp_path, components)


# -- deleting directories ----------------------------------------------------------------------------------


def put(root: Path, relative: str, content: str = "x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def files_under(root: Path) -> list[str]:
    found = []
    for directory, dirs, names in os.walk(root):
        found += [os.path.relpath(os.path.join(directory, name), root) for name in names]
        found += [
            os.path.relpath(os.path.join(directory, d), root) + "@"
            for d in dirs
            if os.path.islink(os.path.join(directory, d))
        ]
    return sorted(found)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """`tmp_path/assets` with two datasets, and a sentinel file next to it (outside)."""
    root = tmp_path / "assets"
    for relative in (
        "user/ds/--/c1/train/0/image/image.jpg",
        "user/ds/--/c1/test/0/image/image.jpg",
        "user/ds/--/c2/train/0/image/image.jpg",
        "user/other/--/c1/train/0/image/image.jpg",
        "plain/--/c1/train/0/audio/audio.wav",
    ):
        put(root, relative)
    put(tmp_path, "sentinel/secret.txt", "sentinel")
    return root


def test_delete_a_split_a_config_a_dataset(tree: Path) -> None:
    assert delete_asset_dirs(tree, "user/ds", "c1", "test") is True
    assert delete_asset_dirs(tree, "user/ds", "c1", "test") is False  # already gone
    assert not (tree / "user/ds/--/c1/test").exists()
    assert delete_asset_dirs(tree, "user/ds", "c2") is True
    assert files_under(tree) == [
        "plain/--/c1/train/0/audio/audio.wav",
        "user/ds/--/c1/train/0/image/image.jpg",
        "user/other/--/c1/train/0/image/image.jpg",
    ]
    assert delete_asset_dirs(tree, "user/ds") is True
    assert delete_asset_dirs(tree, "plain") is True
    assert files_under(tree) == ["user/other/--/c1/train/0/image/image.jpg"]
    assert sorted(os.listdir(tree)) == ["user"]  # emptied parents are removed, up to the root
    assert delete_asset_dirs(tree, "user/other") is True
    assert os.listdir(tree) == []
    assert delete_asset_dirs(tree, "nothing-here") is False
    with pytest.raises(AssetPathError):
        delete_asset_dirs(tree, "user/ds", None, "train")


def test_nasty_names_never_delete_anything_outside(tree: Path, tmp_path: Path) -> None:
    before = files_under(tree)
    datasets = ["user/ds", "..", "../..", "/", "user/..", "../sentinel", "sentinel", "user/../../sentinel"]
    for dataset, name in itertools.product(datasets, NASTY_NAMES):
        for call in (
            partial(delete_asset_dirs, tree, dataset, name),
            partial(delete_asset_dirs, tree, dataset, name, name),
            partial(delete_asset_dirs, tree, name),
            partial(prune_asset_dirs, tree, name, [("c1", "train")]),
        ):
            try:
                call()
            except AssetPathError:
                continue
    assert (tmp_path / "sentinel/secret.txt").read_text() == "sentinel"
    assert files_under(tree) == before


def test_a_symlink_out_of_the_directory_is_not_followed(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "sentinel"
    os.symlink(outside, tree / "user" / "evil")  # a dataset directory that is a link out
    with pytest.raises(AssetPathError):
        delete_asset_dirs(tree, "user/evil")
    os.symlink(tree / "user" / "ds", tree / "user" / "alias")  # a link to another dataset, inside
    with pytest.raises(AssetPathError):
        delete_asset_dirs(tree, "user/alias", "c1")
    assert (tree / "user/ds/--/c1/train/0/image/image.jpg").exists()
    # a link inside a deleted tree is removed, not followed
    os.symlink(outside, tree / "user/other/--/c1/train/0/image/link")
    os.symlink(outside / "secret.txt", tree / "user/other/--/c1/train/0/image/file-link")
    assert delete_asset_dirs(tree, "user/other") is True
    assert (outside / "secret.txt").read_text() == "sentinel"


def test_prune_keeps_only_the_listed_splits(tree: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "sentinel", tree / "user/ds/--/linked-config")
    put(tree, "user/ds/--/stray-file")
    deleted = prune_asset_dirs(tree, "user/ds", [("c1", "train"), ("c3", "new")])
    assert deleted == ["c1/test", "c2", "linked-config", "stray-file"]
    assert files_under(tree) == [
        "plain/--/c1/train/0/audio/audio.wav",
        "user/ds/--/c1/train/0/image/image.jpg",
        "user/other/--/c1/train/0/image/image.jpg",
    ]
    assert (tmp_path / "sentinel/secret.txt").read_text() == "sentinel"
    assert prune_asset_dirs(tree, "user/ds", []) == ["c1"]
    assert not (tree / "user/ds").exists()
    assert prune_asset_dirs(tree, "never/seen", []) == []


def test_names_are_encoded_the_same_way_as_asset_paths(tmp_path: Path) -> None:
    path = asset_path(tmp_path, "ds", "a/b", "..", 0, "col", "f.jpg")
    path.parent.mkdir(parents=True)
    path.write_text("x")
    assert prune_asset_dirs(tmp_path, "ds", [("a/b", "..")]) == []
    assert delete_asset_dirs(tmp_path, "ds", "a/b", "..") is True
    assert not path.exists()


# -- staging and publishing --------------------------------------------------------------------------------


def test_publish_swaps_the_staged_directory_in(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    put(root, "ds/--/c/s/0/col/old.jpg")
    put(root, "ds/--/c/s/9/col/stale.jpg")
    staging = staging_directory(root, "job-1")
    assert staging == root / STAGING_DIRECTORY / "job-1"
    put(staging, "ds/--/c/s/0/col/new.jpg")
    put(staging, "ds/--/c/other/0/col/ignored.jpg")  # only the job's split is published
    assert publish_split_dir(root, staging, "ds", "c", "s") is True
    assert files_under(root / "ds") == ["--/c/s/0/col/new.jpg"]
    delete_staging_directory(root, "job-1")
    assert os.listdir(root / STAGING_DIRECTORY) == []
    # a first publication (no previous directory)
    put(staging, "ns/new/--/c/s/0/col/a.jpg")
    assert publish_split_dir(root, staging, "ns/new", "c", "s") is True
    assert (root / "ns/new/--/c/s/0/col/a.jpg").exists()


def test_publish_without_atomic_exchange_falls_back_to_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets, "_exchange", lambda first, second: False)
    root = tmp_path / "assets"
    put(root, "ds/--/c/s/0/col/old.jpg")
    staging = staging_directory(root, "job-2")
    put(staging, "ds/--/c/s/0/col/new.jpg")
    assert publish_split_dir(root, staging, "ds", "c", "s") is True
    assert files_under(root / "ds") == ["--/c/s/0/col/new.jpg"]


def test_publishing_nothing_deletes_the_previous_files(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    put(root, "ds/--/c/s/0/col/old.jpg")
    put(root, "ds/--/c/t/0/col/kept.jpg")
    assert publish_split_dir(root, staging_directory(root, "job-3"), "ds", "c", "s") is False
    assert files_under(root / "ds") == ["--/c/t/0/col/kept.jpg"]


def test_old_staging_directories_are_deleted(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    put(staging_directory(root, "dead-job"), "ds/--/c/s/0/col/a.jpg")
    put(staging_directory(root, "live-job"), "ds/--/c/s/0/col/a.jpg")
    old = time.time() - 3600
    os.utime(staging_directory(root, "dead-job"), (old, old))
    assert delete_old_staging_directories(root, 600) == ["dead-job"]
    assert os.listdir(root / STAGING_DIRECTORY) == ["live-job"]
    assert delete_old_staging_directories(tmp_path / "missing", 600) == []
