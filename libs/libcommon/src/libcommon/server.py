"""Serving a Starlette app with uvicorn, the same way for every service."""

from __future__ import annotations

import uvicorn


def serve(factory: str, *, hostname: str, port: int, num_workers: int) -> None:
    """Run uvicorn on the app built by `factory` ("package.module:function").

    uvicorn needs an import string and a factory to start several worker processes; each one reads the
    environment again. The access log is ours (structured), not uvicorn's, and so is the logging setup.
    """
    uvicorn.run(
        factory,
        factory=True,
        host=hostname,
        port=port,
        workers=num_workers,
        access_log=False,
        log_config=None,
    )
