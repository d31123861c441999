"""Entry point: `python -m admin` or the `admin` console script runs the admin app with uvicorn."""

from __future__ import annotations

from admin.config import AppConfig
from libcommon.config import exit_on_config_error
from libcommon.log import configure_logging
from libcommon.server import serve


def main() -> None:
    """Check the configuration (a bad value: one line naming it, exit code 2), then serve."""
    config = exit_on_config_error(AppConfig.from_env)
    configure_logging(config.common.log_level)
    serve(
        "admin.app:create_app_from_env",
        hostname=config.admin.hostname,
        port=config.admin.port,
        num_workers=config.admin.num_workers,
    )


if __name__ == "__main__":
    main()
