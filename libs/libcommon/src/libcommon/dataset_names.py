"""Dataset identifiers: namespaces and validation of Hub repo ids."""

from __future__ import annotations

import re
from typing import Final

#: Hub repo id rules (as enforced by huggingface_hub's validate_repo_id): one optional namespace, letters,
#: digits, `-`, `_`, `.`; no `--` or `..`; no leading/trailing `-` or `.`; at most 96 characters per part.
_PART: Final = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_REPO_ID: Final = re.compile(rf"^(?:{_PART}/)?{_PART}$")


def get_namespace(dataset: str) -> str:
    """The user or organization of a dataset: the part before `/`, or the whole name if there is none."""
    return dataset.split("/", 1)[0]


def is_valid_dataset_name(dataset: str) -> bool:
    """True if `dataset` is a syntactically valid Hub repo id (`name` or `namespace/name`)."""
    if not _REPO_ID.match(dataset):
        return False
    return "--" not in dataset and ".." not in dataset
