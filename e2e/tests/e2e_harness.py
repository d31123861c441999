"""Start the real processes (local hub, api, workers) on free ports, as `make demo` does, for e2e tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from localhub.samples import APP_TOKEN, generate_samples


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """The running processes and where they listen."""

    root: Path
    hub_url: str
    api_url: str
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> str:
        """The output of one process so far."""
        return (self.root / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        """The last lines of every process's output (for failure messages)."""
        parts = []
        for name in self.processes:
            lines = self.log(name).splitlines()[-40:]
            parts.append(f"----- {name} -----\n" + "\n".join(lines))
        return "\n".join(parts)

    def start(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> None:
        """Start `python <args>` with the stack's environment, output to <root>/<name>.log."""
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, *args],
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        """SIGTERM every process, then SIGKILL what is still alive after 10 s."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(url: str, stack: Stack, timeout: float = 60) -> None:
    """Poll `url` until it answers, failing with the processes' logs if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in stack.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}\n{stack.logs()}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s\n{stack.logs()}")


@contextmanager
def running_stack(root: Path) -> Iterator[Stack]:
    """Generate the samples, start hub + api + one worker per step on one SQLite store, stop them on exit."""
    hub_root = root / "hub"
    generate_samples(hub_root)
    hub_port, api_port = free_port(), free_port()
    db_url = f"sqlite:///{root / 'datasets-server.db'}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMMON_", "CACHE_", "QUEUE_", "API_", "WORKER_", "ASSETS_", "FIRST_ROWS_", "HF_"))
        and key not in ("MONGO_URL", "LOG_LEVEL", "ASSETS_DIRECTORY")
    }
    env.update(
        {
            "COMMON_HF_ENDPOINT": f"http://127.0.0.1:{hub_port}",
            "COMMON_HF_TOKEN": APP_TOKEN,
            "CACHE_MONGO_URL": db_url,
            "QUEUE_MONGO_URL": db_url,
            "ASSETS_STORAGE_DIRECTORY": str(root / "assets"),
            "ASSETS_BASE_URL": f"http://127.0.0.1:{api_port}/assets",
            "API_HOSTNAME": "127.0.0.1",
            "API_PORT": str(api_port),
            "API_NUM_WORKERS": "1",
            "API_MAX_AGE_LONG_SECONDS": "1",
            "API_MAX_AGE_SHORT_SECONDS": "1",
            "WORKER_SLEEP_SECONDS": "0.2",
            "WORKER_MAX_LOAD_PCT": "0",  # the test machine may be busy: never wait for it to calm down
            "HF_HOME": str(root / "hf-home"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
    )
    stack = Stack(root=root, hub_url=f"http://127.0.0.1:{hub_port}", api_url=f"http://127.0.0.1:{api_port}", env=env)
    try:
        stack.start("hub", ["-m", "localhub", "serve", "--root", str(hub_root), "--port", str(hub_port)])
        stack.start("api", ["-m", "api"])
        stack.start("worker-splits", ["-m", "worker"], {"WORKER_JOB_TYPES": "/splits"})
        stack.start("worker-first-rows", ["-m", "worker"], {"WORKER_JOB_TYPES": "/first-rows"})
        wait_for(stack.hub_url + "/api/datasets", stack)
        wait_for(stack.api_url + "/healthcheck", stack)
        yield stack
    finally:
        stack.stop()


#: How long a test waits for the workers (the first /first-rows job pays for importing `datasets`).
POLL_TIMEOUT_SECONDS = 180.0


def poll_until_ready(
    stack: Stack, path: str, params: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET the API until the answer is no longer "not ready", then return it."""
    deadline = time.monotonic() + POLL_TIMEOUT_SECONDS
    while True:
        response = httpx.get(stack.api_url + path, params=params, headers=headers, timeout=30)
        if not response.headers.get("X-Error-Code", "").endswith("NotReady"):
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} {params} still not ready after {POLL_TIMEOUT_SECONDS} s\n{stack.logs()}")
        time.sleep(0.3)
