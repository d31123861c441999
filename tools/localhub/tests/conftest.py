"""Shared fixtures: one generated hub root and one running server per test session.

The Hugging Face environment is set here, at import time, because `huggingface_hub` reads it when it
is first imported. HF_ENDPOINT is left alone: in-process tests pass `endpoint=` explicitly, and the
`datasets` checks run in a subprocess with HF_ENDPOINT set (see datasets_probe.py).
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

_HF_HOME = tempfile.mkdtemp(prefix="localhub-tests-hf-home-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_TOKEN", None)

sys.path.insert(0, str(Path(__file__).parent))

from localhub_test_support import BIG_REPO, BIG_SIZE, WEIRD_FILES, WEIRD_REPO  # noqa: E402

from localhub.samples import generate_samples  # noqa: E402
from localhub.testing import running_hub  # noqa: E402


@pytest.fixture(scope="session")
def hub_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the sample repos, their localhub.json, WEIRD_REPO and BIG_REPO."""
    root = tmp_path_factory.mktemp("hub")
    generate_samples(root)
    files = {(WEIRD_REPO, path): data for path, data in WEIRD_FILES.items()}
    files[(BIG_REPO, "blob.bin")] = random.Random(0).randbytes(BIG_SIZE)
    for (repo, relative), data in files.items():
        path = root / "datasets" / repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture(scope="session")
def hub_url(hub_root: Path) -> Iterator[str]:
    """The endpoint of a server on `hub_root` (default page sizes, no faults)."""
    with running_hub(hub_root) as url:
        yield url


@pytest.fixture
def client(hub_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client on the session server."""
    with httpx.Client(base_url=hub_url, timeout=30) as http:
        yield http
