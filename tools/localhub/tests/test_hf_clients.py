"""huggingface_hub clients in-process: HfFileSystem ranged reads, downloads, the audio folder."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import soundfile
from huggingface_hub import HfFileSystem, hf_hub_download, snapshot_download
from localhub_test_support import BIG_REPO, WEIRD_FILES, WEIRD_REPO

from localhub.samples import APP_TOKEN, SAMPLE_REPOS
from localhub.samples._content import SAMPLING_RATE, transcription


def _fs(hub_url: str, token: str | bool = APP_TOKEN) -> HfFileSystem:
    return HfFileSystem(endpoint=hub_url, token=token, skip_instance_cache=True)


def test_audio_folder_files_can_be_listed_and_read(hub_url: str) -> None:
    fs = _fs(hub_url)
    names = sorted(str(path).rsplit("/", 1)[1] for path in fs.ls("datasets/samples/audio-folder/train", detail=False))
    assert names == ["metadata.csv", "tone_0.wav", "tone_1.wav", "tone_2.wav"]
    metadata = list(csv.DictReader(io.StringIO(fs.read_text("datasets/samples/audio-folder/train/metadata.csv"))))
    assert metadata == [{"file_name": f"tone_{i}.wav", "transcription": transcription(i)} for i in range(3)]
    data, rate = soundfile.read(io.BytesIO(fs.read_bytes("datasets/samples/audio-folder/train/tone_1.wav")))
    assert (data.shape, rate) == ((4000,), SAMPLING_RATE)


def test_seek_and_read_get_the_right_bytes(hub_url: str, hub_root: Path) -> None:
    data = (hub_root / "datasets" / BIG_REPO / "blob.bin").read_bytes()
    fs = _fs(hub_url, False)
    with fs.open(f"datasets/{BIG_REPO}/blob.bin", block_size=64 * 1024) as handle:
        handle.seek(20)
        assert handle.read(10) == data[20:30]
        handle.seek(2_000_000)
        assert handle.read(300_000) == data[2_000_000:2_300_000]
        handle.seek(len(data) - 5)
        assert handle.read(100) == data[-5:]
    assert fs.info(f"datasets/{BIG_REPO}/blob.bin")["size"] == len(data)


def test_glob_and_awkward_paths(hub_url: str) -> None:
    fs = _fs(hub_url, False)
    assert fs.glob(f"datasets/{WEIRD_REPO}/**/*.csv") == [
        f"datasets/{WEIRD_REPO}/data/100%+ok.csv",
        f"datasets/{WEIRD_REPO}/dir with space/tr#ain é+1.csv",
    ]
    for path, data in WEIRD_FILES.items():
        assert fs.read_bytes(f"datasets/{WEIRD_REPO}/{path}") == data


def test_downloads(hub_url: str, tmp_path: Path) -> None:
    path = "dir with space/tr#ain é+1.csv"
    local = hf_hub_download(WEIRD_REPO, path, repo_type="dataset", endpoint=hub_url, cache_dir=tmp_path / "c")
    assert Path(local).read_bytes() == WEIRD_FILES[path]
    folder = snapshot_download("samples/csv", repo_type="dataset", endpoint=hub_url, local_dir=tmp_path / "csv")
    assert sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith(".")) == [
        "README.md",
        "test.csv",
        "train.csv",
    ]


def test_every_sample_repo_is_listed_by_hffilesystem(hub_url: str) -> None:
    fs = _fs(hub_url)
    for repo in SAMPLE_REPOS:
        assert fs.ls(f"datasets/{repo.id}", detail=False), repo.id
