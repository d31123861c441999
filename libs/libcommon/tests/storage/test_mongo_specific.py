"""What the contract suite cannot see of the MongoDB engine: indexes, stored types, the pending flag, the
claim's optimistic limit check, the factory. On mongomock (no server is reachable here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import mongomock
import pytest
from pymongo.errors import DuplicateKeyError

from libcommon.clock import utc_now
from libcommon.storage.cache import InvalidCursor, InvalidLimit
from libcommon.storage.factory import open_cache, open_queue
from libcommon.storage.mongo_cache import CACHE_COLLECTION, MongoCacheStore
from libcommon.storage.mongo_queue import JOBS_COLLECTION, MongoJobQueue
from libcommon.storage.records import JobStatus, Priority

CACHE_DB = "test_cache"
QUEUE_DB = "test_queue"


@pytest.fixture(params=[True, False], ids=["mongomock-tz_aware", "mongomock-naive"])
def mm_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    client = mongomock.MongoClient(tz_aware=request.param)
    yield client
    client.close()


@pytest.fixture
def mm_cache(mm_client: Any) -> MongoCacheStore:
    return MongoCacheStore(mm_client, CACHE_DB)


@pytest.fixture
def mm_queue(mm_client: Any) -> MongoJobQueue:
    return MongoJobQueue(mm_client, QUEUE_DB, max_jobs_per_namespace=1)


def _index_keys(info: dict[str, Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(key for key, _ in spec["key"]): spec for spec in info.values()}


# --- indexes ----------------------------------------------------------------------------------------------


def test_cache_indexes(mm_client: Any, mm_cache: MongoCacheStore) -> None:
    indexes = _index_keys(mm_client[CACHE_DB][CACHE_COLLECTION].index_information())
    key = indexes[("kind", "dataset", "config", "split")]
    assert key.get("unique") is True
    assert "partialFilterExpression" not in key
    for keys in [("dataset", "kind", "http_status"), ("kind", "http_status", "dataset"), ("kind", "_id")]:
        assert keys in indexes
        assert not indexes[keys].get("unique")


def test_queue_indexes(mm_client: Any, mm_queue: MongoJobQueue) -> None:
    indexes = _index_keys(mm_client[QUEUE_DB][JOBS_COLLECTION].index_information())
    key = indexes[("type", "dataset", "config", "split")]
    assert key.get("unique") is True
    assert key["partialFilterExpression"] == {"pending": True}
    assert ("type", "dataset", "config", "split", "status") in indexes
    assert ("status", "type", "namespace", "claimed_at") in indexes
    assert ("status", "priority", "created_at", "_id", "type", "namespace") in indexes
    assert ("status", "type", "priority", "created_at", "_id", "namespace") in indexes
    assert ("status", "last_heartbeat") in indexes


def test_indexes_are_created_idempotently(mm_client: Any) -> None:
    for _ in range(2):
        MongoCacheStore(mm_client, CACHE_DB)
        MongoJobQueue(mm_client, QUEUE_DB)
    assert len(mm_client[CACHE_DB][CACHE_COLLECTION].index_information()) == 5
    assert len(mm_client[QUEUE_DB][JOBS_COLLECTION].index_information()) == 9


# --- cache documents --------------------------------------------------------------------------------------


def test_content_and_details_are_stored_as_bytes(mm_client: Any, mm_cache: MongoCacheStore) -> None:
    mm_cache.upsert("/splits", "user/ds", content=b'{"splits":[]}', http_status=200)
    mm_cache.upsert("/first-rows", "user/ds", "c", "s", content=b"{}", http_status=500, details=b'{"cause":"x"}')
    docs = {doc["kind"]: doc for doc in mm_client[CACHE_DB][CACHE_COLLECTION].find()}
    assert isinstance(docs["/splits"]["content"], bytes)
    assert docs["/splits"]["content"] == b'{"splits":[]}'
    assert docs["/splits"]["details"] is None
    assert isinstance(docs["/first-rows"]["details"], bytes)
    entry = mm_cache.get("/first-rows", "user/ds", "c", "s")
    assert entry is not None
    assert type(entry.content) is bytes
    assert entry.details == b'{"cause":"x"}'


def test_null_config_and_split_are_part_of_the_unique_key(mm_client: Any, mm_cache: MongoCacheStore) -> None:
    mm_cache.upsert("/kind", "ds", content=b"1", http_status=200)
    mm_cache.upsert("/kind", "ds", "c", content=b"2", http_status=200)
    mm_cache.upsert("/kind", "ds", "c", "s", content=b"3", http_status=200)
    mm_cache.upsert("/kind", "ds", content=b"4", http_status=200)
    collection = mm_client[CACHE_DB][CACHE_COLLECTION]
    assert collection.count_documents({}) == 3
    assert collection.find_one({"kind": "/kind", "config": None})["config"] is None  # stored, not missing
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"kind": "/kind", "dataset": "ds", "config": None, "split": None})


def test_report_cursor_is_an_object_id(mm_cache: MongoCacheStore) -> None:
    for split in ["a", "b", "c"]:
        mm_cache.upsert("/first-rows", "ds", "c", split, content=b"{}", http_status=200)
    page = mm_cache.get_reports("/first-rows", limit=2)
    assert [r.split for r in page.cache_reports] == ["a", "b"]
    assert len(page.next_cursor) == 24
    assert [r.split for r in mm_cache.get_reports("/first-rows", page.next_cursor, 2).cache_reports] == ["c"]
    for bad in ["nope", "0123456789ab", "z" * 24, page.next_cursor + "0"]:
        with pytest.raises(InvalidCursor):
            mm_cache.get_reports("/first-rows", bad, 2)
    with pytest.raises(InvalidLimit):
        mm_cache.get_reports("/first-rows", page.next_cursor, 0)


def test_datetimes_are_utc_at_millisecond_precision(mm_cache: MongoCacheStore, mm_queue: MongoJobQueue) -> None:
    mm_cache.upsert("/splits", "ds", content=b"{}", http_status=200)
    entry = mm_cache.get("/splits", "ds")
    assert entry is not None
    assert entry.updated_at.utcoffset() == timedelta(0)
    assert entry.updated_at.microsecond % 1000 == 0
    added = mm_queue.add("/splits", "ds")
    assert mm_queue.get(added.job_id) == added  # what add returns is what is stored
    claimed = mm_queue.claim(None, "w")
    assert claimed is not None
    assert claimed.started_at is not None
    assert claimed.started_at.utcoffset() == timedelta(0)
    assert mm_queue.get(claimed.job_id) == claimed


# --- the pending flag -------------------------------------------------------------------------------------


def _pending_flag(mm_client: Any, job_id: str) -> Any:
    from bson import ObjectId

    doc = mm_client[QUEUE_DB][JOBS_COLLECTION].find_one({"_id": ObjectId(job_id)})
    return doc.get("pending", "absent")


def test_pending_flag_through_the_lifecycle(mm_client: Any, mm_queue: MongoJobQueue) -> None:
    job = mm_queue.add("/splits", "user/a")
    assert _pending_flag(mm_client, job.job_id) is True
    started = mm_queue.claim(None, "w1")
    assert started is not None
    assert _pending_flag(mm_client, job.job_id) is True
    assert mm_queue.release(started.job_id, started.attempt)
    assert _pending_flag(mm_client, job.job_id) is True
    again = mm_queue.claim(None, "w1")
    assert again is not None
    assert again.attempt == 2
    assert mm_queue.finish(again.job_id, again.attempt, JobStatus.SUCCESS)
    assert _pending_flag(mm_client, job.job_id) == "absent"

    # the partial unique index lets a finished key be added again
    second = mm_queue.add("/splits", "user/a")
    assert second.job_id != job.job_id
    assert _pending_flag(mm_client, second.job_id) is True
    [cancelled] = mm_queue.cancel(dataset="user/a")
    assert cancelled.job_id == second.job_id
    assert _pending_flag(mm_client, second.job_id) == "absent"


def test_pending_flag_of_zombies(mm_client: Any, mm_queue: MongoJobQueue) -> None:
    mm_queue.add("/splits", "user/a")
    mm_queue.add("/splits", "other/b")
    first = mm_queue.claim(None, "w1")
    assert first is not None
    later = utc_now() + timedelta(seconds=1)
    [requeued] = mm_queue.requeue_zombies(later, max_attempts=3)
    assert requeued.status == JobStatus.WAITING
    assert requeued.worker_id is None
    assert _pending_flag(mm_client, first.job_id) is True
    for _ in range(2):
        assert mm_queue.claim(None, "w1") is not None
    errored = {job.job_id: job for job in mm_queue.requeue_zombies(utc_now() + timedelta(seconds=1), max_attempts=1)}
    assert errored[first.job_id].status == JobStatus.ERROR
    assert errored[first.job_id].finished_at is not None
    assert _pending_flag(mm_client, first.job_id) == "absent"


def test_unique_pending_index_rejects_a_second_pending_job(mm_client: Any, mm_queue: MongoJobQueue) -> None:
    job = mm_queue.add("/first-rows", "user/a", "c", "s")
    collection = mm_client[QUEUE_DB][JOBS_COLLECTION]
    raw = collection.find_one({"type": "/first-rows"}, {"_id": False})
    with pytest.raises(DuplicateKeyError):
        collection.insert_one(dict(raw))
    collection.insert_one({**raw, "pending": None, "status": "success"})  # not pending: allowed
    assert mm_queue.add("/first-rows", "user/a", "c", "s").job_id == job.job_id


def test_add_returns_the_job_of_a_concurrent_add(mm_client: Any, mm_queue: MongoJobQueue, monkeypatch: Any) -> None:
    # Another process inserts the key between our read and our insert: the unique index refuses our insert
    # and add returns (and re-prioritises) the other job.
    other = mm_queue.add("/splits", "user/a", priority=Priority.LOW)
    collection = mm_queue._jobs
    real_find_one = collection.find_one
    real_find_one_and_update = collection.find_one_and_update
    misses = {"find_one": 1, "find_one_and_update": 1}

    def find_one(*args: Any, **kwargs: Any) -> Any:
        if misses["find_one"]:
            misses["find_one"] -= 1
            return None
        return real_find_one(*args, **kwargs)

    def find_one_and_update(*args: Any, **kwargs: Any) -> Any:
        if misses["find_one_and_update"]:
            misses["find_one_and_update"] -= 1
            return None
        return real_find_one_and_update(*args, **kwargs)

    monkeypatch.setattr(collection, "find_one", find_one)
    monkeypatch.setattr(collection, "find_one_and_update", find_one_and_update)
    job = mm_queue.add("/splits", "user/a", priority=Priority.NORMAL)
    assert job.job_id == other.job_id
    assert job.priority == Priority.NORMAL
    assert collection.count_documents({}) == 1


# --- claim --------------------------------------------------------------------------------------------------


def test_claim_gives_back_a_job_over_the_namespace_limit(mm_queue: MongoJobQueue, monkeypatch: Any) -> None:
    # Simulate two workers racing past the limit check: our worker reads stale started counts (none), so it
    # claims in a namespace already at its limit; the post-claim check must give that job back and take
    # the next candidate.
    mm_queue.add("/splits", "user/a")
    mm_queue.add("/splits", "user/b")
    mm_queue.add("/splits", "other/c")
    running = mm_queue.claim(["/splits"], "w1")
    assert running is not None
    assert running.dataset == "user/a"
    monkeypatch.setattr(mm_queue, "_started_counts", lambda job_types: {})
    claimed = mm_queue.claim(["/splits"], "w2")
    assert claimed is not None
    assert claimed.dataset == "other/c"
    waiting = mm_queue.get_pending("/splits")[JobStatus.WAITING]
    [given_back] = [job for job in waiting if job.dataset == "user/b"]
    assert given_back.attempt == 0
    assert given_back.worker_id is None
    assert given_back.started_at is None
    raw = mm_queue._jobs.find_one({"dataset": "user/b"})
    assert "claimed_at" not in raw
    assert raw["pending"] is True


def test_limit_check_counts_equal_claim_times_as_earlier(mm_queue: MongoJobQueue) -> None:
    mm_queue.add("/splits", "user/a")
    mm_queue.add("/splits", "user/b")
    collection = mm_queue._jobs
    now = utc_now().replace(microsecond=0)
    collection.update_many({}, {"$set": {"status": "started", "attempt": 1, "claimed_at": now}})
    docs = list(collection.find())
    # neither may keep its job: both give back, the limit holds
    assert [mm_queue._within_limit(doc) for doc in docs] == [False, False]
    collection.update_one({"_id": docs[1]["_id"]}, {"$set": {"claimed_at": now + timedelta(milliseconds=1)}})
    assert mm_queue._within_limit(collection.find_one({"_id": docs[0]["_id"]}))
    assert not mm_queue._within_limit(collection.find_one({"_id": docs[1]["_id"]}))


def test_no_limit_skips_the_check(mm_client: Any) -> None:
    queue = MongoJobQueue(mm_client, QUEUE_DB, max_jobs_per_namespace=0)
    for name in ["a", "b", "c"]:
        queue.add("/splits", f"user/{name}")
    claimed = [queue.claim(None, "w") for _ in range(3)]
    assert [job.dataset for job in claimed if job is not None] == ["user/a", "user/b", "user/c"]


def test_invalid_job_ids(mm_queue: MongoJobQueue) -> None:
    for bad in ["", "42", "z" * 24]:
        assert mm_queue.get(bad) is None
        assert not mm_queue.heartbeat(bad, 1)
        assert not mm_queue.is_current(bad, 1)
        assert not mm_queue.finish(bad, 1, JobStatus.SUCCESS)
        assert not mm_queue.release(bad, 1)


# --- factory ----------------------------------------------------------------------------------------------


def test_factory_opens_the_mongo_engines_on_mongomock() -> None:
    with mongomock.patch(servers=(("localhost", 27017),)):
        cache = open_cache("mongodb://localhost:27017", CACHE_DB)
        queue = open_queue("mongodb://localhost:27017", QUEUE_DB, max_jobs_per_namespace=3)
        try:
            assert isinstance(cache, MongoCacheStore)
            assert isinstance(queue, MongoJobQueue)
            assert queue.max_jobs_per_namespace == 3
            assert cache.is_available()
            assert queue.is_available()
        finally:
            cache.close()
            queue.close()


@pytest.mark.parametrize("url", ["mongodb://user:pw@db-0,db-1/?replicaSet=rs0", "mongodb+srv://cluster.example.org"])
def test_factory_passes_the_url_and_tz_aware_to_the_client_mongomock(url: str, monkeypatch: Any) -> None:
    # mongomock.patch resolves SRV records itself: stand in for pymongo.MongoClient to check what is passed.
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def fake_client(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return mongomock.MongoClient()

    monkeypatch.setattr("pymongo.MongoClient", fake_client)
    assert isinstance(open_cache(url, CACHE_DB), MongoCacheStore)
    assert isinstance(open_queue(url, QUEUE_DB, max_jobs_per_namespace=0), MongoJobQueue)
    assert [args for args, _ in calls] == [(url,), (url,)]
    assert all(kwargs["tz_aware"] is True for _, kwargs in calls)
