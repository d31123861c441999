"""e2e fixtures: the whole system, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_harness import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole system, started once for the e2e session."""
    with running_stack(tmp_path_factory.mktemp("e2e")) as running:
        yield running
