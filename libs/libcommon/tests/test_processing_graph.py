"""The processing graph: steps as data, validation, roots and children."""

from __future__ import annotations

import pytest

from libcommon.processing_graph import DEFAULT_PROCESSING_GRAPH, ProcessingGraph, ProcessingStep


def test_default_graph_is_splits_then_first_rows() -> None:
    graph = DEFAULT_PROCESSING_GRAPH
    assert graph.names == ["/splits", "/first-rows"]
    assert [step.name for step in graph.roots] == ["/splits"]
    assert [step.name for step in graph.children("/splits")] == ["/first-rows"]
    assert graph.get("/splits").input_type == "dataset"
    assert graph.get("/first-rows").input_type == "split"
    assert graph.get("/first-rows").job_type == graph.get("/first-rows").cache_kind == "/first-rows"
    assert "/splits" in graph
    assert "/rows" not in graph


def test_duplicate_step_is_rejected() -> None:
    step = ProcessingStep("/a", "dataset", 1)
    with pytest.raises(ValueError, match="duplicate"):
        ProcessingGraph([step, step])


def test_unknown_child_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown child"):
        ProcessingGraph([ProcessingStep("/a", "dataset", 1, ("/b",))])


def test_cycle_is_rejected() -> None:
    with pytest.raises(ValueError, match="cycle"):
        ProcessingGraph([ProcessingStep("/a", "dataset", 1, ("/b",)), ProcessingStep("/b", "config", 1, ("/a",))])


def test_get_unknown_step_raises() -> None:
    with pytest.raises(KeyError):
        DEFAULT_PROCESSING_GRAPH.get("/nope")
