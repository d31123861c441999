"""What to do when a response is missing from the cache: wait for a pending job, create one, or give up.

The worker creates the jobs of the child steps when a parent step succeeds; this module repairs what is
missing when a client asks (a dataset never seen, a job lost, an entry deleted). It only creates a job
when the Hub said the dataset is accessible (root steps) or when the parent's cached result lists the
requested key, so a stranger cannot fill the queue with jobs for configs and splits that do not exist.
"""

from __future__ import annotations

import logging

from api.params import Key
from libcommon.operations import update_dataset
from libcommon.processing_graph import InputType, ProcessingGraph, ProcessingStep
from libcommon.serialization import loads
from libcommon.storage import CacheStore, JobQueue

logger = logging.getLogger(__name__)


def parents(graph: ProcessingGraph, step: ProcessingStep) -> list[ProcessingStep]:
    """The steps that list `step` as a child."""
    return [candidate for candidate in graph if step.name in candidate.children]


def ancestors(graph: ProcessingGraph, step: ProcessingStep) -> list[ProcessingStep]:
    """Parents, grand-parents, ... of `step` (each once, nearest first)."""
    found: dict[str, ProcessingStep] = {}
    frontier = parents(graph, step)
    while frontier:
        next_frontier: list[ProcessingStep] = []
        for parent in frontier:
            if parent.name not in found:
                found[parent.name] = parent
                next_frontier.extend(parents(graph, parent))
        frontier = next_frontier
    return list(found.values())


def key_at(key: Key, input_type: InputType) -> Key:
    """The key of the same response at a coarser level (a split's dataset, ...)."""
    if input_type == "dataset":
        return Key(key.dataset)
    if input_type == "config":
        return Key(key.dataset, key.config)
    return key


def listed_keys(content: bytes, input_type: InputType) -> set[Key]:
    """The keys at level `input_type` that a parent's successful content lists.

    Understands the `splits` list of the /splits response (`[{"dataset", "config", "split", ...}]`) and a
    `config_names` list of `{"dataset", "config"}` items. Anything else lists nothing.
    """
    try:
        body = loads(content)
    except ValueError:
        return set()
    if not isinstance(body, dict):
        return set()
    keys: set[Key] = set()
    items = [item for name in ("splits", "config_names") if isinstance(body.get(name), list) for item in body[name]]
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("dataset"), str):
            continue
        config, split = item.get("config"), item.get("split")
        if input_type == "split" and isinstance(config, str) and isinstance(split, str):
            keys.add(Key(item["dataset"], config, split))
        elif input_type == "config" and isinstance(config, str):
            keys.add(Key(item["dataset"], config))
    return keys


def ensure_planned(cache: CacheStore, queue: JobQueue, graph: ProcessingGraph, step: ProcessingStep, key: Key) -> bool:
    """The response of `step` for `key` is missing: return True if it will be computed, False if not.

    True when a job is pending for the key, or for the key of an ancestor step at its own level (the
    dataset for /splits). Otherwise a job is created when the step is a root (`update_dataset`: the caller
    has checked that the Hub knows the dataset), or when every parent's cached result is a success that
    lists the key; a missing parent result is planned the same way, recursively.
    """
    if queue.is_pending(step.job_type, key.dataset, key.config, key.split):
        return True
    for ancestor in ancestors(graph, step):
        ancestor_key = key_at(key, ancestor.input_type)
        if queue.is_pending(ancestor.job_type, ancestor_key.dataset, ancestor_key.config, ancestor_key.split):
            return True
    step_parents = parents(graph, step)
    if not step_parents:
        if step.input_type != "dataset":
            return False
        update_dataset(key.dataset, cache, queue, graph)
        logger.info("planned the dataset on a cache miss", extra={"dataset": key.dataset, "step": step.name})
        return True
    for parent in step_parents:
        parent_key = key_at(key, parent.input_type)
        entry = cache.get(parent.cache_kind, parent_key.dataset, parent_key.config, parent_key.split)
        if entry is None:
            return ensure_planned(cache, queue, graph, parent, parent_key)
        if entry.http_status != 200 or key not in listed_keys(entry.content, step.input_type):
            return False
    queue.add(step.job_type, key.dataset, key.config, key.split)
    logger.info(
        "planned a job on a cache miss",
        extra={"dataset": key.dataset, "config": key.config, "split": key.split, "step": step.name},
    )
    return True
