"""Sample dataset repos (namespace `samples`) and the users and tokens that go with them.

`generate_samples(root)` writes every repo of SAMPLE_REPOS under `<root>/datasets/samples/` and merges
the sample users, tokens and repo settings into `<root>/localhub.json`. It is idempotent: files get
the same bytes and a fixed mtime, so the commit shas are identical on every run and on every machine
(stale files inside the sample repos are removed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from localhub.accounts import Gated, HubConfig, RepoSettings, Token, User, load_config, save_config
from localhub.samples import _content as content
from localhub.storage import REPO_TYPE_FOLDER

NAMESPACE = "samples"
# Fake tokens, valid only on a local hub whose localhub.json was written by generate_samples.
APP_TOKEN = "hf_app_token_for_datasets_server"  # noqa: S105
USER_TOKEN = "hf_user_token_with_access"  # noqa: S105
OTHER_USER_TOKEN = "hf_user_token_without_access"  # noqa: S105
APP_USER = "datasets-server"
USER = "alice"
OTHER_USER = "bob"

# 2024-01-01T00:00:00Z: every sample file gets this mtime so that the derived shas never change.
SAMPLE_MTIME_NS = 1_704_067_200 * 1_000_000_000

SCRIPT_ERROR = "Dataset scripts are no longer supported"
EMPTY_ERROR = "doesn't contain any data files"


@dataclass(frozen=True)
class SampleRepo:
    """One sample repo and what `datasets` gives for it when read with APP_TOKEN.

    `expected_configs` maps config names (default config first) to split names, in the order
    `datasets` returns them; it is None when `datasets` raises, and then `expected_error` is a
    substring of the error message. `expected_num_examples` gives the row count per config and split.
    """

    id: str
    description: str
    expected_configs: dict[str, list[str]] | None
    expected_num_examples: dict[str, dict[str, int]] | None = None
    expected_error: str | None = None
    private: bool = False
    gated: Gated = False

    @property
    def name(self) -> str:
        """The repo name without the namespace."""
        return self.id.split("/", 1)[1]


def _sample(
    name: str,
    description: str,
    num_examples: dict[str, dict[str, int]],
    *,
    private: bool = False,
    gated: Gated = False,
) -> SampleRepo:
    configs = {config: list(splits) for config, splits in num_examples.items()}
    return SampleRepo(f"{NAMESPACE}/{name}", description, configs, num_examples, private=private, gated=gated)


SAMPLE_REPOS: list[SampleRepo] = [
    _sample("csv", "train.csv + test.csv (id int, value float, text str)", {"default": {"train": 20, "test": 10}}),
    _sample("jsonl", "data/train.jsonl + data/validation.jsonl", {"default": {"train": 20, "validation": 10}}),
    _sample(
        "parquet",
        "data/train-00000-of-00001.parquet (500 rows, 5 row groups) + data/test-00000-of-00001.parquet, no README",
        {"default": {"train": 500, "test": 100}},
    ),
    _sample(
        "two-configs",
        "README `configs:` first (default, train/test) and second (train), CSV, with `dataset_info:`",
        {"first": {"train": 20, "test": 10}, "second": {"train": 15}},
    ),
    _sample("images", "imagefolder: train/cat/*.png, train/dog/*.jpg (ClassLabel cat/dog)", {"default": {"train": 6}}),
    _sample("audio-parquet", "parquet with an Audio column (WAV bytes) and text", {"default": {"train": 4}}),
    _sample(
        "audio-folder", "audiofolder: train/*.wav + train/metadata.csv (transcription)", {"default": {"train": 3}}
    ),
    _sample("gated", "train.csv, gated (auto)", {"default": {"train": 10}}, gated="auto"),
    _sample("private", "train.csv, private", {"default": {"train": 10}}, private=True),
    SampleRepo(f"{NAMESPACE}/script", "script.py loading script", None, None, SCRIPT_ERROR),
    SampleRepo(f"{NAMESPACE}/empty", "README only, no data files", None, None, EMPTY_ERROR),
]


def _card(title: str) -> bytes:
    return content.readme(title, {"license": "cc0-1.0", "tags": ["localhub-sample"]})


def _csv_files() -> dict[str, bytes]:
    return {
        "README.md": _card("CSV sample"),
        "train.csv": content.csv_bytes(content.tabular_rows(20)),
        "test.csv": content.csv_bytes(content.tabular_rows(10, start=100)),
    }


def _jsonl_files() -> dict[str, bytes]:
    return {
        "README.md": _card("JSON Lines sample"),
        "data/train.jsonl": content.jsonl_bytes(content.tabular_rows(20)),
        "data/validation.jsonl": content.jsonl_bytes(content.tabular_rows(10, start=200)),
    }


def _parquet_files() -> dict[str, bytes]:
    return {
        "data/train-00000-of-00001.parquet": content.parquet_bytes(content.tabular_table(500), row_group_size=100),
        "data/test-00000-of-00001.parquet": content.parquet_bytes(content.tabular_table(100, 1000), 100),
    }


def _two_configs_files() -> dict[str, bytes]:
    first_train = content.csv_bytes(content.tabular_rows(20))
    first_test = content.csv_bytes(content.tabular_rows(10, start=100))
    second_train = content.csv_bytes([content.label_row(i) for i in range(15)])
    sizes = {"first/train": 20, "first/test": 10, "second/train": 15}
    card = content.two_configs_card(first_train, first_test, second_train, sizes)
    return {
        "README.md": content.readme("Two configs sample", card),
        "first/train.csv": first_train,
        "first/test.csv": first_test,
        "second/train.csv": second_train,
    }


def _images_files() -> dict[str, bytes]:
    files = {"README.md": _card("Image folder sample")}
    for i in range(3):
        files[f"train/cat/cat_{i}.png"] = content.image_bytes(i, "PNG")
        files[f"train/dog/dog_{i}.jpg"] = content.image_bytes(i + 3, "JPEG")
    return files


def _audio_parquet_files() -> dict[str, bytes]:
    return {"data/train-00000-of-00001.parquet": content.audio_parquet_bytes(4)}


def _audio_folder_files() -> dict[str, bytes]:
    rows = [{"file_name": f"tone_{i}.wav", "transcription": content.transcription(i)} for i in range(3)]
    files = {"README.md": _card("Audio folder sample"), "train/metadata.csv": content.csv_bytes(rows)}
    files.update({f"train/tone_{i}.wav": content.wav_bytes(i) for i in range(3)})
    return files


def _restricted_files(title: str) -> dict[str, bytes]:
    return {"README.md": _card(title), "train.csv": content.csv_bytes(content.tabular_rows(10))}


def _script_files() -> dict[str, bytes]:
    script = (
        '"""A legacy loading script: datasets 4+ refuses to run it."""\n\n'
        "import datasets\n\n\n"
        "class Script(datasets.GeneratorBasedBuilder):\n"
        "    pass\n"
    )
    return {"script.py": script.encode(), "data/train.csv": content.csv_bytes(content.tabular_rows(5))}


def _empty_files() -> dict[str, bytes]:
    return {"README.md": content.readme("Empty sample", body="This repo has no data files.")}


BUILDERS: dict[str, Callable[[], dict[str, bytes]]] = {
    "csv": _csv_files,
    "jsonl": _jsonl_files,
    "parquet": _parquet_files,
    "two-configs": _two_configs_files,
    "images": _images_files,
    "audio-parquet": _audio_parquet_files,
    "audio-folder": _audio_folder_files,
    "gated": lambda: _restricted_files("Gated sample"),
    "private": lambda: _restricted_files("Private sample"),
    "script": _script_files,
    "empty": _empty_files,
}


def sample_config(existing: HubConfig | None = None) -> HubConfig:
    """`existing` (or an empty configuration) with the sample users, tokens and repo settings merged in."""
    base = existing or HubConfig()
    users = dict(base.users)
    users[APP_USER] = User(APP_USER, fullname="Datasets Server (app)", read_all=True)
    users[USER] = User(USER, fullname="Alice", orgs=(NAMESPACE,))
    users[OTHER_USER] = User(OTHER_USER, fullname="Bob")
    tokens = dict(base.tokens)
    tokens[APP_TOKEN] = Token(APP_USER, "read", "datasets-server-app")
    tokens[USER_TOKEN] = Token(USER, "read", "alice-read")
    tokens[OTHER_USER_TOKEN] = Token(OTHER_USER, "read", "bob-read")
    repos = dict(base.repos)
    for sample in SAMPLE_REPOS:
        repos.pop(sample.id, None)
        if sample.private or sample.gated:
            repos[sample.id] = RepoSettings(private=sample.private, gated=sample.gated)
    orgs = tuple(sorted({*base.orgs, NAMESPACE}))
    return replace(base, users=users, tokens=tokens, orgs=orgs, repos=repos)


def _write_repo(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for relative, data in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.is_symlink() or path.read_bytes() != data:
            if path.is_symlink() or path.is_dir():
                _remove(path)
            path.write_bytes(data)
        if path.stat().st_mtime_ns != SAMPLE_MTIME_NS:
            os.utime(path, ns=(SAMPLE_MTIME_NS, SAMPLE_MTIME_NS))
    expected = {directory / relative for relative in files}
    for current, dirs, names in os.walk(directory, topdown=False):
        for name in names:
            path = Path(current) / name
            if path not in expected:
                path.unlink()
        for name in dirs:
            path = Path(current) / name
            if path.is_symlink():
                path.unlink()
            elif not any(path.iterdir()):
                path.rmdir()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def generate_samples(root: Path) -> list[SampleRepo]:
    """Write (or refresh) every sample repo and the configuration file under `root`; return SAMPLE_REPOS."""
    root = Path(root)
    base = root / REPO_TYPE_FOLDER / NAMESPACE
    for sample in SAMPLE_REPOS:
        _write_repo(base / sample.name, BUILDERS[sample.name]())
    save_config(root, sample_config(load_config(root)))
    return list(SAMPLE_REPOS)
