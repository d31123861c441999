"""`python -m admin`: serve the admin API with uvicorn."""

from __future__ import annotations

import uvicorn

from admin.config import AppConfig
from libcommon.config import exit_on_config_error
from libcommon.log import configure_logging


def main() -> None:
    """Validate the configuration, then run uvicorn (each uvicorn worker builds the app from the env)."""
    config = exit_on_config_error(AppConfig.from_env)
    configure_logging(config.common.log_level)
    uvicorn.run(
        "admin.app:create_app_from_env",
        factory=True,
        host=config.admin.hostname,
        port=config.admin.port,
        workers=config.admin.num_workers,
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
