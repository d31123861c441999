"""ApiConfig / AppConfig: defaults, seed aliases, the empty HF_AUTH_PATH, errors naming the variable."""

from __future__ import annotations

import pytest

from api.config import ApiConfig, AppConfig
from libcommon.config import CommonConfig
from libcommon.env import ConfigError

VARIABLES = [
    "API_HOSTNAME",
    "APP_HOSTNAME",
    "API_PORT",
    "APP_PORT",
    "API_NUM_WORKERS",
    "APP_NUM_WORKERS",
    "WEB_CONCURRENCY",
    "API_MAX_AGE_LONG_SECONDS",
    "MAX_AGE_LONG_SECONDS",
    "API_MAX_AGE_SHORT_SECONDS",
    "MAX_AGE_SHORT_SECONDS",
    "API_HF_AUTH_PATH",
    "HF_AUTH_PATH",
    "API_HF_TIMEOUT_SECONDS",
    "COMMON_HF_ENDPOINT",
    "HF_ENDPOINT",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    assert ApiConfig.from_env() == ApiConfig(
        hostname="localhost",
        port=8000,
        num_workers=2,
        max_age_long_seconds=120,
        max_age_short_seconds=10,
        hf_auth_path="/api/datasets/%s/auth-check",
        hf_timeout_seconds=10.0,
    )
    config = AppConfig.from_env()
    assert config.api == ApiConfig()
    assert config.hf_auth_url_template == "https://huggingface.co/api/datasets/%s/auth-check"


def test_seed_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "APP_HOSTNAME": "0.0.0.0",
        "APP_PORT": "80",
        "APP_NUM_WORKERS": "9",
        "MAX_AGE_LONG_SECONDS": "2",
        "MAX_AGE_SHORT_SECONDS": "1",
        "HF_AUTH_PATH": "/auth/%s",
        "HF_ENDPOINT": "http://localhost:9000/",
    }.items():
        monkeypatch.setenv(name, value)
    assert ApiConfig.from_env() == ApiConfig("0.0.0.0", 80, 9, 2, 1, "/auth/%s", 10.0)
    assert AppConfig.from_env().hf_auth_url_template == "http://localhost:9000/auth/%s"


def test_scoped_names_win(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "API_HOSTNAME": "127.0.0.1",
        "APP_HOSTNAME": "0.0.0.0",
        "API_PORT": "8080",
        "APP_PORT": "80",
        "API_NUM_WORKERS": "3",
        "APP_NUM_WORKERS": "9",
        "WEB_CONCURRENCY": "4",
        "API_MAX_AGE_LONG_SECONDS": "0",
        "MAX_AGE_LONG_SECONDS": "2",
        "API_MAX_AGE_SHORT_SECONDS": "5",
        "MAX_AGE_SHORT_SECONDS": "1",
        "API_HF_AUTH_PATH": "/a/%s",
        "HF_AUTH_PATH": "/b/%s",
        "API_HF_TIMEOUT_SECONDS": "1.5",
    }.items():
        monkeypatch.setenv(name, value)
    assert ApiConfig.from_env() == ApiConfig("127.0.0.1", 8080, 3, 0, 5, "/a/%s", 1.5)


def test_web_concurrency_is_the_last_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert ApiConfig.from_env().num_workers == 4


@pytest.mark.parametrize(
    "env",
    [
        {"HF_AUTH_PATH": ""},
        {"HF_AUTH_PATH": "   "},
        {"API_HF_AUTH_PATH": ""},
        {"API_HF_AUTH_PATH": "", "HF_AUTH_PATH": "/b/%s"},
    ],
)
def test_empty_auth_path_disables_auth(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert ApiConfig.from_env().hf_auth_path is None
    assert AppConfig(common=CommonConfig(), api=ApiConfig.from_env()).hf_auth_url_template is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_PORT", "eighty"),
        ("APP_PORT", "0"),
        ("API_PORT", "70000"),
        ("API_NUM_WORKERS", "0"),
        ("API_MAX_AGE_LONG_SECONDS", "-1"),
        ("MAX_AGE_SHORT_SECONDS", "ten"),
        ("API_HF_TIMEOUT_SECONDS", "0"),
        ("API_HF_TIMEOUT_SECONDS", "fast"),
        ("HF_AUTH_PATH", "/api/datasets/auth-check"),
        ("HF_AUTH_PATH", "api/datasets/%s/auth-check"),
        ("API_HF_AUTH_PATH", "/%s/%s"),
        ("API_HF_AUTH_PATH", "/%s/%d"),
        ("API_HF_AUTH_PATH", "/%s/100%"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        AppConfig.from_env()
    assert str(info.value).startswith(f'Environment variable "{name}" invalid:')
