"""Test doubles and helpers of the API tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette

from api.config import ApiConfig, AppConfig
from libcommon.config import AssetsConfig, CommonConfig

HUB = "https://hub.test"
AUTH_PREFIX = f"{HUB}/api/datasets/"
AUTH_SUFFIX = "/auth-check"

AppFactory = Callable[..., Starlette]


@dataclass
class FakeHub:
    """The Hub's auth-check endpoint: answers `status` (or `by_dataset[dataset]`), or raises `error`."""

    status: int = 200
    by_dataset: dict[str, int] = field(default_factory=dict)
    error: Exception | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        url = str(request.url)
        assert url.startswith(AUTH_PREFIX) and url.endswith(AUTH_SUFFIX), url
        dataset = url[len(AUTH_PREFIX) : -len(AUTH_SUFFIX)]
        return httpx.Response(self.by_dataset.get(dataset, self.status), headers=self.response_headers)


#: Assets directory of the tests that do not look at assets (never the user's real cache directory).
DEFAULT_TEST_ASSETS = Path(tempfile.gettempdir()) / "datasets-server-api-tests" / "assets"


def make_config(
    hf_auth_path: str | None = "/api/datasets/%s/auth-check", assets_directory: Path = DEFAULT_TEST_ASSETS
) -> AppConfig:
    """The test configuration: Hub at https://hub.test, max-ages 120 / 10."""
    return AppConfig(
        common=CommonConfig(hf_endpoint=HUB),
        assets=AssetsConfig(base_url="http://api.test/assets", storage_directory=assets_directory),
        api=ApiConfig(max_age_long_seconds=120, max_age_short_seconds=10, hf_auth_path=hf_auth_path),
    )
