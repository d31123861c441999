"""Asset paths: every name is encoded into one component and the result stays inside the directory."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from libcommon.assets import (
    AssetPathError,
    asset_components,
    asset_path,
    asset_url,
    encode_component,
    safe_join,
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
