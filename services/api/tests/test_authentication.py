"""HubAuthChecker and the Hub client, without the app."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.datastructures import Headers

from api.authentication import HubAuthChecker, create_hub_client
from api.errors import ExternalAuthenticatedError


def test_template_must_contain_the_placeholder() -> None:
    with pytest.raises(ValueError, match="must contain %s"):
        HubAuthChecker("https://hub.test/auth", 1.0)


def test_disabled_checker_lets_everything_through() -> None:
    checker = HubAuthChecker(None, 1.0)
    assert not checker.enabled
    anyio.run(checker.check, "any", Headers(), None)


def test_enabled_checker_needs_a_started_client() -> None:
    checker = HubAuthChecker("https://hub.test/%s", 1.0)
    with pytest.raises(RuntimeError, match="not started"):
        anyio.run(checker.check, "glue", Headers(), None)


def test_empty_credentials_are_not_forwarded() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403)

    async def run() -> None:
        async with create_hub_client(1.0, httpx.MockTransport(handle)) as client:
            with pytest.raises(ExternalAuthenticatedError):
                await HubAuthChecker("https://hub.test/%s/check", 1.0).check(
                    "user/ds", Headers({"cookie": "", "authorization": "", "x-api-key": "k"}), client
                )

    anyio.run(run)
    assert str(seen[0].url) == "https://hub.test/user/ds/check"
    assert "cookie" not in seen[0].headers
    assert "authorization" not in seen[0].headers
    assert "x-api-key" not in seen[0].headers


def test_client_does_not_follow_redirects_nor_store_cookies() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": "https://hub.test/x", "Set-Cookie": "s=1; Path=/"})

    async def run() -> None:
        async with create_hub_client(1.0, httpx.MockTransport(handle)) as client:
            response = await client.get("https://hub.test/a")
            assert response.status_code == 307
            assert list(client.cookies.jar) == []

    anyio.run(run)
