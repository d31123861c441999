"""Run the local hub in a background thread, for tests."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from localhub.faults import Faults
from localhub.server import DEFAULT_LIST_PAGE_SIZE, DEFAULT_TREE_PAGE_SIZE, create_app

# Something on the development machines polls this port; never hand it out.
AVOIDED_PORTS = frozenset({8765})
STARTUP_TIMEOUT = 20.0


def bind_free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket bound to a free port (never one of AVOIDED_PORTS)."""
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        if sock.getsockname()[1] not in AVOIDED_PORTS:
            return sock
        sock.close()


@contextmanager
def running_hub(
    root: Path,
    faults: Faults | None = None,
    *,
    tree_page_size: int = DEFAULT_TREE_PAGE_SIZE,
    list_page_size: int = DEFAULT_LIST_PAGE_SIZE,
) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 and a free port; yield the endpoint URL (no trailing slash).

    The server runs with uvicorn in a daemon thread, is reachable when the URL is yielded, and is
    stopped (and the thread joined) on exit. The socket is bound before uvicorn starts, so there is no
    window in which another process could take the port.
    """
    app = create_app(root, faults, tree_page_size=tree_page_size, list_page_size=list_page_size)
    sock = bind_free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"localhub-{port}", daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, thread)
        yield endpoint
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_up(endpoint: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the local hub server thread stopped during start-up")
        try:
            with urllib.request.urlopen(f"{endpoint}/_localhub/health", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.02)
    raise RuntimeError(f"the local hub did not answer at {endpoint} within {STARTUP_TIMEOUT}s")
