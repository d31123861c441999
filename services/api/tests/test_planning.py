"""Planning on a cache miss: ancestors, keys listed by a parent, and a three-level graph."""

from __future__ import annotations

import pytest

from api.params import Key, missing_message
from api.planning import ancestors, ensure_planned, listed_keys
from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, ProcessingGraph, ProcessingStep
from libcommon.storage import JobStatus
from libcommon.storage.sqlite_cache import SqliteCacheStore
from libcommon.storage.sqlite_queue import SqliteJobQueue

THREE_LEVELS = ProcessingGraph(
    [
        ProcessingStep("config-names", "dataset", 1, children=("split-names",)),
        ProcessingStep("split-names", "config", 1, children=("rows",)),
        ProcessingStep("rows", "split", 1),
    ]
)


def test_missing_messages() -> None:
    assert missing_message(("dataset",)) == "Parameter 'dataset' is required"
    assert missing_message(("dataset", "config")) == "Parameters 'dataset' and 'config' are required"
    assert missing_message(("dataset", "config", "split")) == "Parameters 'dataset', 'config' and 'split' are required"


def test_ancestors() -> None:
    assert [
        step.name for step in ancestors(DEFAULT_PROCESSING_GRAPH, DEFAULT_PROCESSING_GRAPH.get("/first-rows"))
    ] == ["/splits"]
    assert ancestors(DEFAULT_PROCESSING_GRAPH, DEFAULT_PROCESSING_GRAPH.get("/splits")) == []
    assert [step.name for step in ancestors(THREE_LEVELS, THREE_LEVELS.get("rows"))] == ["split-names", "config-names"]


@pytest.mark.parametrize(
    ("content", "level", "expected"),
    [
        (
            b'{"splits":[{"dataset":"d","config":"c","split":"s"},{"dataset":"d","config":"c","split":"t"}]}',
            "split",
            {Key("d", "c", "s"), Key("d", "c", "t")},
        ),
        (b'{"splits":[{"dataset":"d","config":"c","split":"s"}]}', "config", {Key("d", "c")}),
        (
            b'{"config_names":[{"dataset":"d","config":"a"},{"dataset":"d","config":"b"}]}',
            "config",
            {Key("d", "a"), Key("d", "b")},
        ),
        (b'{"splits":[{"dataset":"d","config":"c","split":1}, "x", {"config":"c","split":"s"}]}', "split", set()),
        (b'{"splits":{"dataset":"d"}}', "split", set()),
        (b"[]", "split", set()),
        (b"not json", "split", set()),
    ],
)
def test_listed_keys(content: bytes, level: str, expected: set[Key]) -> None:
    assert listed_keys(content, level) == expected  # type: ignore[arg-type]


def test_three_levels_miss_plans_the_root_then_the_children(cache: SqliteCacheStore, queue: SqliteJobQueue) -> None:
    rows = THREE_LEVELS.get("rows")
    key = Key("d", "c", "s")
    assert ensure_planned(cache, queue, THREE_LEVELS, rows, key)
    assert queue.is_pending("config-names", "d")
    assert queue.count_by_status("split-names")[JobStatus.WAITING] == 0
    job = queue.claim(None, "w")
    assert job is not None
    queue.finish(job.job_id, job.attempt, JobStatus.SUCCESS)
    cache.upsert("config-names", "d", content=b'{"config_names":[{"dataset":"d","config":"c"}]}', http_status=200)
    assert ensure_planned(cache, queue, THREE_LEVELS, rows, key)
    assert queue.is_pending("split-names", "d", "c")
    assert not ensure_planned(cache, queue, THREE_LEVELS, rows, Key("d", "other", "s"))
    assert queue.count_by_status("split-names")[JobStatus.WAITING] == 1
