"""A real worker process serving the test steps: `python worker_test_entry.py` (crash-recovery tests).

Same as `python -m worker` (`worker.main.run_worker`) with a graph of test-only steps and the test runners.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from worker_test_helpers import TEST_RUNNER_MODULES
from worker_test_runners import CRASH, SLEEP

from libcommon.processing_graph import ProcessingGraph, ProcessingStep
from worker.main import run_worker

GRAPH = ProcessingGraph([ProcessingStep(SLEEP, "dataset", 1), ProcessingStep(CRASH, "dataset", 1)])

if __name__ == "__main__":
    run_worker(GRAPH, TEST_RUNNER_MODULES)
