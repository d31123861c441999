"""The processes are up and answer."""

from __future__ import annotations

import httpx
from e2e_harness import Stack


def test_api_healthcheck(stack: Stack) -> None:
    response = httpx.get(stack.api_url + "/healthcheck")
    assert response.status_code == 200
    assert response.text == "ok"


def test_hub_lists_the_samples(stack: Stack) -> None:
    response = httpx.get(stack.hub_url + "/api/datasets")
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()}
    assert "samples/csv" in ids
    assert "samples/private" not in ids
