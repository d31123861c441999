"""Configuration: scoped names, legacy aliases, defaults, normalisation and errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from libcommon.config import (
    AssetsConfig,
    CacheConfig,
    CommonConfig,
    QueueConfig,
    exit_on_config_error,
)
from libcommon.env import ConfigError

ALL_VARIABLES = [
    "ASSETS_BASE_URL",
    "ASSETS_STORAGE_DIRECTORY",
    "ASSETS_DIRECTORY",
    "COMMON_HF_ENDPOINT",
    "HF_ENDPOINT",
    "COMMON_HF_TOKEN",
    "HF_TOKEN",
    "COMMON_LOG_LEVEL",
    "LOG_LEVEL",
    "CACHE_MONGO_DATABASE",
    "MONGO_CACHE_DATABASE",
    "CACHE_MONGO_URL",
    "MONGO_URL",
    "QUEUE_MAX_JOBS_PER_NAMESPACE",
    "QUEUE_MONGO_DATABASE",
    "MONGO_QUEUE_DATABASE",
    "QUEUE_MONGO_URL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_documented_ones() -> None:
    assets = AssetsConfig.from_env()
    assert assets.base_url == "assets"
    assert assets.storage_directory.name == "datasets_server_assets"
    assert assets.storage_directory.is_absolute()
    assert CommonConfig.from_env() == CommonConfig("https://huggingface.co", None, "INFO")
    assert CacheConfig.from_env() == CacheConfig("mongodb://localhost:27017", "datasets_server_cache")
    assert QueueConfig.from_env() == QueueConfig(1, "mongodb://localhost:27017", "datasets_server_queue")


def test_scoped_names_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSETS_BASE_URL", "http://localhost:8000/assets/")
    monkeypatch.setenv("ASSETS_STORAGE_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("COMMON_HF_ENDPOINT", "http://127.0.0.1:9999")
    monkeypatch.setenv("COMMON_HF_TOKEN", "hf_secret_value")
    monkeypatch.setenv("COMMON_LOG_LEVEL", "debug")
    monkeypatch.setenv("CACHE_MONGO_URL", "sqlite:///tmp/cache.db")
    monkeypatch.setenv("CACHE_MONGO_DATABASE", "c")
    monkeypatch.setenv("QUEUE_MONGO_URL", "mongodb+srv://cluster.example/")
    monkeypatch.setenv("QUEUE_MONGO_DATABASE", "q")
    monkeypatch.setenv("QUEUE_MAX_JOBS_PER_NAMESPACE", "3")
    assert AssetsConfig.from_env() == AssetsConfig("http://localhost:8000/assets", tmp_path)
    assert CommonConfig.from_env() == CommonConfig("http://127.0.0.1:9999", "hf_secret_value", "DEBUG")
    assert CacheConfig.from_env() == CacheConfig("sqlite:///tmp/cache.db", "c")
    assert QueueConfig.from_env() == QueueConfig(3, "mongodb+srv://cluster.example/", "q")


def test_legacy_aliases_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSETS_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.local:1234")
    monkeypatch.setenv("HF_TOKEN", "hf_legacy")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("MONGO_URL", "mongodb://db:27017")
    monkeypatch.setenv("MONGO_CACHE_DATABASE", "legacy_cache")
    monkeypatch.setenv("MONGO_QUEUE_DATABASE", "legacy_queue")
    assert AssetsConfig.from_env().storage_directory == tmp_path
    assert CommonConfig.from_env() == CommonConfig("http://hub.local:1234", "hf_legacy", "WARNING")
    assert CacheConfig.from_env() == CacheConfig("mongodb://db:27017", "legacy_cache")
    assert QueueConfig.from_env() == QueueConfig(1, "mongodb://db:27017", "legacy_queue")


def test_scoped_name_wins_over_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://legacy:1")
    monkeypatch.setenv("COMMON_HF_ENDPOINT", "http://scoped:2")
    monkeypatch.setenv("MONGO_URL", "mongodb://legacy")
    monkeypatch.setenv("CACHE_MONGO_URL", "sqlite:///scoped.db")
    assert CommonConfig.from_env().hf_endpoint == "http://scoped:2"
    assert CacheConfig.from_env().mongo_url == "sqlite:///scoped.db"
    assert QueueConfig.from_env().mongo_url == "mongodb://legacy"


def test_blank_values_take_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMON_HF_ENDPOINT", "   ")
    monkeypatch.setenv("QUEUE_MAX_JOBS_PER_NAMESPACE", "")
    assert CommonConfig.from_env().hf_endpoint == "https://huggingface.co"
    assert QueueConfig.from_env().max_jobs_per_namespace == 1


@pytest.mark.parametrize("endpoint", ["http://hub.local:1234/", "http://hub.local:1234//"])
def test_trailing_slash_in_hub_endpoint_is_removed(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("COMMON_HF_ENDPOINT", endpoint)
    assert CommonConfig.from_env().hf_endpoint == "http://hub.local:1234"


def test_token_is_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMON_HF_TOKEN", "hf_do_not_print_me")
    assert "hf_do_not_print_me" not in repr(CommonConfig.from_env())


@pytest.mark.parametrize(
    ("name", "value", "load"),
    [
        ("QUEUE_MAX_JOBS_PER_NAMESPACE", "two", QueueConfig.from_env),
        ("COMMON_LOG_LEVEL", "LOUD", CommonConfig.from_env),
        ("COMMON_HF_ENDPOINT", "ftp://hub", CommonConfig.from_env),
        ("HF_ENDPOINT", "not a url", CommonConfig.from_env),
        ("CACHE_MONGO_URL", "postgres://x", CacheConfig.from_env),
        ("QUEUE_MONGO_URL", "sqlite://relative.db", QueueConfig.from_env),
        ("MONGO_URL", "sqlite:///", CacheConfig.from_env),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, load: object
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load()  # type: ignore[operator]


def test_exit_on_config_error_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUEUE_MAX_JOBS_PER_NAMESPACE", "many")
    with pytest.raises(SystemExit) as exc_info:
        exit_on_config_error(QueueConfig.from_env)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("configuration error: ")
    assert "QUEUE_MAX_JOBS_PER_NAMESPACE" in err
    assert err.count("\n") == 1
