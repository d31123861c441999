"""The app as a whole: healthcheck, CORS, unknown routes, lifespan, the `python -m api` entry point."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_fakes import make_config
from starlette.testclient import TestClient

from api.app import create_app
from api.config import AppConfig
from api.context import ApiContext
from libcommon.config import CacheConfig, QueueConfig
from libcommon.storage.sqlite_cache import SqliteCacheStore


def test_healthcheck(client: TestClient) -> None:
    response = client.get("/healthcheck")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "x-error-code" not in response.headers


def test_cors_preflight(client: TestClient) -> None:
    response = client.options(
        "/splits?dataset=glue",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-custom",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-headers"] == "authorization, x-custom"
    assert "GET" in response.headers["access-control-allow-methods"].split(", ")
    assert "access-control-allow-credentials" not in response.headers


def test_cors_on_errors_exposes_the_error_code(client: TestClient) -> None:
    response = client.get("/splits", headers={"Origin": "https://example.org", "Cookie": "a=b"})
    assert response.status_code == 422
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "X-Error-Code, Retry-After"
    assert "access-control-allow-credentials" not in response.headers


def test_unknown_route_is_404(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404


def test_create_app_opens_sqlite_stores_and_the_hub_client(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    config = AppConfig(
        common=make_config().common,
        assets=make_config().assets,
        cache=CacheConfig(mongo_url=url),
        queue=QueueConfig(mongo_url=url),
        api=make_config().api,
    )
    app = create_app(config)
    context: ApiContext = app.state.context
    assert context.hub_client is None
    with TestClient(app) as client:
        assert isinstance(context.hub_client, httpx.AsyncClient)
        assert client.get("/healthcheck").text == "ok"
        assert client.get("/valid").json() == {"valid": []}
    assert context.hub_client is None
    SqliteCacheStore(tmp_path / "store.db").close()


def test_bad_environment_exits_with_2_and_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "API_PORT": "eighty"}
    done = subprocess.run([sys.executable, "-m", "api"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == 'configuration error: Environment variable "API_PORT" invalid: Not a valid integer.\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_python_m_api_serves_with_two_workers(tmp_path: Path) -> None:
    port = _free_port()
    url = f"sqlite:///{tmp_path}/store.db"
    env = {
        **os.environ,
        "API_HOSTNAME": "127.0.0.1",
        "API_PORT": str(port),
        "API_NUM_WORKERS": "2",
        "CACHE_MONGO_URL": url,
        "QUEUE_MONGO_URL": url,
        "API_HF_AUTH_PATH": "",
    }
    process = subprocess.Popen([sys.executable, "-m", "api"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert response.text == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/splits?dataset=glue", timeout=5).status_code == 500
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "api.access request method=GET path=/healthcheck" in stderr.decode()
