"""Entry point of the worker process (`worker` console script, `python -m worker`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from libcommon.config import exit_on_config_error
from libcommon.log import configure_logging
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, ProcessingGraph
from libcommon.storage import open_cache, open_queue
from worker.config import AppConfig
from worker.environment import configure_hub_environment
from worker.executor import Executor
from worker.job_runners import BUILTIN_RUNNER_MODULES
from worker.loop import Loop

logger = logging.getLogger(__name__)


def run_worker(
    graph: ProcessingGraph = DEFAULT_PROCESSING_GRAPH, runner_modules: Sequence[str] = BUILTIN_RUNNER_MODULES
) -> None:
    """Read the configuration, open the stores and run the loop on `graph` until SIGTERM/SIGINT.

    `graph` and `runner_modules` (the modules that register the runners of its steps) are parameters so
    that a test can start a real worker process with extra steps; `main` uses the service's.
    """
    config = exit_on_config_error(lambda: AppConfig.from_env(graph))
    configure_logging(config.common.log_level)
    # Before anything imports huggingface_hub or datasets (the forkserver does, at the first job).
    configure_hub_environment(config.common)
    cache = open_cache(config.cache.mongo_url, config.cache.mongo_database)
    queue = open_queue(config.queue.mongo_url, config.queue.mongo_database, config.queue.max_jobs_per_namespace)
    try:
        Loop(config, cache, queue, graph=graph, executor=Executor(config, runner_modules)).run()
    finally:
        cache.close()
        queue.close()


def main() -> None:
    """Run the worker of the service's processing graph."""
    run_worker()


if __name__ == "__main__":
    main()
