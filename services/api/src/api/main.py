"""Entry point: `python -m api` or the `api` console script runs the app with uvicorn."""

from __future__ import annotations

import uvicorn

from api.config import AppConfig
from libcommon.config import exit_on_config_error
from libcommon.log import configure_logging


def main() -> None:
    """Check the configuration (a bad value: one line naming it, exit code 2), then serve.

    uvicorn needs an import string and a factory to start several worker processes; each one reads the
    environment again. The access log is ours (structured), not uvicorn's.
    """
    config = exit_on_config_error(AppConfig.from_env)
    configure_logging(config.common.log_level)
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=config.api.hostname,
        port=config.api.port,
        workers=config.api.num_workers,
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
