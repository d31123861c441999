"""Job runners: one module per processing step, registered by step name.

A runner is a function `(job, config) -> JobResult` decorated with `@register(step_name)`. The modules
listed in BUILTIN_RUNNER_MODULES are imported on first lookup (in the process that runs the job, never in
the loop, because they import the heavy `datasets` stack); extra modules can be given to `get_runner`
(tests register runners that crash or hang that way).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Final

from worker.config import AppConfig
from worker.dtos import JobInfo, JobResult

JobRunner = Callable[[JobInfo, AppConfig], JobResult]

#: Modules that register the runners of the default processing graph.
BUILTIN_RUNNER_MODULES: Final = ("worker.job_runners.splits", "worker.job_runners.first_rows")

_REGISTRY: dict[str, JobRunner] = {}


def register(step: str) -> Callable[[JobRunner], JobRunner]:
    """Decorator: register `runner` as the runner of the processing step `step`."""

    def decorate(runner: JobRunner) -> JobRunner:
        existing = _REGISTRY.get(step)
        if existing is not None and existing is not runner:
            raise ValueError(f"a runner is already registered for {step!r}")
        _REGISTRY[step] = runner
        return runner

    return decorate


def get_runner(step: str, modules: Iterable[str] = BUILTIN_RUNNER_MODULES) -> JobRunner:
    """The runner registered for `step`, after importing `modules`. KeyError if there is none."""
    for module in modules:
        importlib.import_module(module)
    try:
        return _REGISTRY[step]
    except KeyError:
        raise KeyError(f"no job runner is registered for {step!r}") from None


def registered_steps() -> list[str]:
    """Names of the steps that have a runner (after the imports done so far)."""
    return sorted(_REGISTRY)
