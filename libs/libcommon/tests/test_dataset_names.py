"""Dataset names: namespaces and Hub repo id validation."""

from __future__ import annotations

import pytest

from libcommon.dataset_names import get_namespace, is_valid_dataset_name


@pytest.mark.parametrize(("dataset", "namespace"), [("glue", "glue"), ("allenai/c4", "allenai"), ("a/b", "a")])
def test_namespace(dataset: str, namespace: str) -> None:
    assert get_namespace(dataset) == namespace


@pytest.mark.parametrize("dataset", ["glue", "allenai/c4", "user/my-dataset_v1.0", "A1/b2", "x" * 96 + "/y"])
def test_valid_names(dataset: str) -> None:
    assert is_valid_dataset_name(dataset)


@pytest.mark.parametrize(
    "dataset",
    ["", " ", "../etc", "a/../b", "a/b/c", "/abs", "a/", "-a", "a-", "a--b", "a..b", "a b", "a\x00b", "é", "x" * 97],
)
def test_invalid_names(dataset: str) -> None:
    assert not is_valid_dataset_name(dataset)
