"""The processing graph: steps are data, not if-chains.

A step's name is also its job type and its cache kind. Its input level says which key identifies a job
(dataset; dataset+config; dataset+config+split). When a job of a step succeeds, the worker enqueues each
child step once per key the result lists at the child's level.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

InputType = Literal["dataset", "config", "split"]


@dataclass(frozen=True)
class ProcessingStep:
    """One node of the graph."""

    name: str
    input_type: InputType
    #: Bumped when the runner's output changes, so that entries computed by an older runner can be found.
    job_runner_version: int
    children: tuple[str, ...] = ()

    @property
    def job_type(self) -> str:
        """The job type of the step (same as its name)."""
        return self.name

    @property
    def cache_kind(self) -> str:
        """The cache kind of the step (same as its name)."""
        return self.name


class ProcessingGraph:
    """A validated set of steps: unique names, known children, no cycle."""

    def __init__(self, steps: Iterable[ProcessingStep]) -> None:
        self._steps: dict[str, ProcessingStep] = {}
        for step in steps:
            if step.name in self._steps:
                raise ValueError(f"duplicate processing step {step.name!r}")
            self._steps[step.name] = step
        for step in self._steps.values():
            for child in step.children:
                if child not in self._steps:
                    raise ValueError(f"step {step.name!r} has unknown child {child!r}")
        self._check_acyclic()

    def _check_acyclic(self) -> None:
        state: dict[str, int] = {}  # 1 = visiting, 2 = done

        def visit(name: str) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ValueError(f"cycle in the processing graph at {name!r}")
            state[name] = 1
            for child in self._steps[name].children:
                visit(child)
            state[name] = 2

        for name in self._steps:
            visit(name)

    def __iter__(self) -> Iterator[ProcessingStep]:
        return iter(self._steps.values())

    def __contains__(self, name: object) -> bool:
        return name in self._steps

    def get(self, name: str) -> ProcessingStep:
        """The step called `name`; KeyError if there is none."""
        return self._steps[name]

    @property
    def names(self) -> list[str]:
        """All step names, in declaration order."""
        return list(self._steps)

    @property
    def roots(self) -> list[ProcessingStep]:
        """Steps that no other step lists as a child (they are enqueued when a dataset changes)."""
        children = {child for step in self._steps.values() for child in step.children}
        return [step for step in self._steps.values() if step.name not in children]

    def children(self, name: str) -> list[ProcessingStep]:
        """The child steps of `name`."""
        return [self._steps[child] for child in self._steps[name].children]


SPLITS: str = "/splits"
FIRST_ROWS: str = "/first-rows"

#: The graph of today's service: the list of splits of a dataset, then the first rows of every split.
DEFAULT_PROCESSING_GRAPH = ProcessingGraph(
    [
        ProcessingStep(name=SPLITS, input_type="dataset", job_runner_version=1, children=(FIRST_ROWS,)),
        ProcessingStep(name=FIRST_ROWS, input_type="split", job_runner_version=1),
    ]
)
