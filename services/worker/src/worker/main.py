"""Entry point of the worker process (`worker` console script, `python -m worker`)."""

from __future__ import annotations

import logging

from libcommon.config import exit_on_config_error
from libcommon.log import configure_logging
from libcommon.storage import open_cache, open_queue
from worker.config import AppConfig
from worker.environment import configure_hub_environment
from worker.loop import Loop

logger = logging.getLogger(__name__)


def main() -> None:
    """Read the configuration, open the stores and run the loop until SIGTERM/SIGINT."""
    config = exit_on_config_error(AppConfig.from_env)
    configure_logging(config.common.log_level)
    # Before anything imports huggingface_hub or datasets (the forkserver does, at the first job).
    configure_hub_environment(config.common)
    cache = open_cache(config.cache.mongo_url, config.cache.mongo_database)
    queue = open_queue(config.queue.mongo_url, config.queue.mongo_database, config.queue.max_jobs_per_namespace)
    try:
        Loop(config, cache, queue).run()
    finally:
        cache.close()
        queue.close()


if __name__ == "__main__":
    main()
