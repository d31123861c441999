"""`make demo` helper: submit every sample repo to the API, wait for the workers, print the URLs to try.

Runs as one process of the demo Procfile. It stays alive after printing (honcho stops every process
when one exits), and exits on SIGTERM / Ctrl-C like the others.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

import httpx

from localhub.samples import SAMPLE_REPOS, USER_TOKEN

API = f"http://{os.environ.get('API_HOSTNAME', 'localhost')}:{os.environ.get('API_PORT', '8000')}"
HUB = f"http://127.0.0.1:{os.environ.get('DEMO_HUB_PORT', '47651')}"
TIMEOUT_SECONDS = float(os.environ.get("DEMO_TIMEOUT_SECONDS", "600"))


def wait_until_up(client: httpx.Client, url: str) -> None:
    """Poll `url` until it answers (any status)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            client.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.5)
    sys.exit(f"demo: {url} did not come up")


def is_not_ready(response: httpx.Response) -> bool:
    """True while the API says the response is still being computed."""
    code: str = response.headers.get("X-Error-Code", "")
    return code.endswith("NotReady")


def poll(
    client: httpx.Client, path: str, params: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET until the response is ready (or the demo timeout passes)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        response = client.get(API + path, params=params, headers=headers)
        if not is_not_ready(response) or time.monotonic() > deadline:
            return response
        time.sleep(1)


def describe(response: httpx.Response) -> str:
    """`200` or `500 SplitsNamesError`."""
    code = response.headers.get("X-Error-Code")
    return f"{response.status_code} {code}" if code else str(response.status_code)


def main() -> None:
    """Submit, wait, print."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with httpx.Client(timeout=30) as client:
        wait_until_up(client, HUB + "/api/datasets")
        wait_until_up(client, API + "/healthcheck")
        for repo in SAMPLE_REPOS:
            client.post(API + "/webhook", json={"add": f"datasets/{repo.id}"})
        lines = ["", "datasets-server demo: every sample repo of the local hub, as the API serves it", ""]
        for repo in SAMPLE_REPOS:
            # Gated and private repos need the token of a user who has access (alice in the local hub).
            restricted = repo.gated or repo.private
            headers = {"Authorization": f"Bearer {USER_TOKEN}"} if restricted else None
            splits = poll(client, "/splits", {"dataset": repo.id}, headers)
            lines.append(f"{repo.id:<28} /splits {describe(splits)}")
            lines.append(f"    {API}/splits?dataset={repo.id}")
            if restricted:
                anonymous = client.get(API + "/splits", params={"dataset": repo.id})
                lines.append(f"    without a token: {describe(anonymous)}; with one, add:")
                lines.append(f"    -H 'Authorization: Bearer {USER_TOKEN}'")
            body: Any = splits.json() if splits.status_code == 200 else {}
            for item in body.get("splits", []):
                params = {"dataset": repo.id, "config": item["config"], "split": item["split"]}
                first_rows = poll(client, "/first-rows", params, headers)
                query = "&".join(f"{k}={v}" for k, v in params.items())
                lines.append(f"    {API}/first-rows?{query}  -> {describe(first_rows)}")
        lines += ["", f"Hub: {HUB}  API: {API}  admin: http://localhost:{os.environ.get('ADMIN_PORT', '8001')}"]
        lines += ["Press Ctrl-C to stop.", ""]
        print("\n".join(lines), flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
