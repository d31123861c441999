"""The MongoDB engine of the queue contract: one `jobs` collection, plain pymongo.

A job document carries `pending: true` while it is waiting or started; the field is removed when the job
ends. A unique index on the job key, partial on `pending: true`, makes "one pending job per key" hold on
the server itself (partial indexes accept no `$in`, hence the flag rather than a filter on `status`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from libcommon.clock import as_utc
from libcommon.dataset_names import get_namespace
from libcommon.storage.mongo_common import (
    Document,
    IndexSpec,
    create_indexes,
    now_ms,
    optional_utc,
    parse_object_id,
    ping,
    to_ms,
)
from libcommon.storage.queue import JobQueue
from libcommon.storage.records import PENDING_STATUSES, Job, JobStatus, Priority

JOBS_COLLECTION: Final = "jobs"

JOB_INDEXES: Final = (
    IndexSpec("job_key_pending_unique", ("type", "dataset", "config", "split"), True, {"pending": True}),
    IndexSpec("job_key_status", ("type", "dataset", "config", "split", "status")),
    # started counts per (type, namespace), and the post-claim limit check
    IndexSpec("job_status_type_namespace", ("status", "type", "namespace", "claimed_at")),
    # claim: walk waiting jobs in claim order (the sort's every key, _id included, or the server sorts them
    # all in memory); type and namespace are then filtered on the index keys, without fetching documents
    IndexSpec("job_claim_order", ("status", "priority", "created_at", "_id", "type", "namespace")),
    IndexSpec("job_claim_order_by_type", ("status", "type", "priority", "created_at", "_id", "namespace")),
    IndexSpec("job_type_status_created", ("type", "status", "created_at", "_id")),
    IndexSpec("job_dataset_status", ("dataset", "status", "type")),
    IndexSpec("job_status_heartbeat", ("status", "last_heartbeat")),
)

_CLAIM_SORT: Final = [("priority", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]
_AGE_SORT: Final = [("created_at", ASCENDING), ("_id", ASCENDING)]
#: Claim rounds before giving up: each lost race or limit overflow costs one round.
_MAX_CLAIM_ROUNDS: Final = 16
_FINAL_STATUSES: Final = frozenset({JobStatus.SUCCESS, JobStatus.ERROR})


def _key(job_type: str, dataset: str, config: str | None, split: str | None) -> Document:
    return {"type": job_type, "dataset": dataset, "config": config, "split": split}


def _to_job(doc: Document) -> Job:
    return Job(
        job_id=str(doc["_id"]),
        type=doc["type"],
        dataset=doc["dataset"],
        config=doc["config"],
        split=doc["split"],
        namespace=doc["namespace"],
        status=JobStatus(doc["status"]),
        priority=Priority(doc["priority"]),
        created_at=as_utc(doc["created_at"]),
        started_at=optional_utc(doc.get("started_at")),
        finished_at=optional_utc(doc.get("finished_at")),
        last_heartbeat=optional_utc(doc.get("last_heartbeat")),
        worker_id=doc.get("worker_id"),
        attempt=int(doc.get("attempt", 0)),
    )


def _types_filter(job_types: Sequence[str] | None) -> Document:
    return {} if job_types is None else {"type": {"$in": list(dict.fromkeys(job_types))}}


class MongoJobQueue(JobQueue):
    """Jobs in MongoDB: atomic claims with `find_one_and_update`, writes fenced by (job id, attempt)."""

    def __init__(self, client: MongoClient[Any], database: str, max_jobs_per_namespace: int = 1) -> None:
        self._client = client
        self._jobs: Collection[Document] = client[database][JOBS_COLLECTION]
        self.max_jobs_per_namespace = max_jobs_per_namespace
        create_indexes(self._jobs, JOB_INDEXES)

    def add(
        self,
        job_type: str,
        dataset: str,
        config: str | None = None,
        split: str | None = None,
        *,
        priority: Priority = Priority.NORMAL,
    ) -> Job:
        """Add a waiting job for the key, or return the pending job that already exists for it.

        If the existing job is waiting with a lower priority (higher value), its priority is raised.
        """
        key = _key(job_type, dataset, config, split)
        while True:
            existing = self._jobs.find_one({**key, "pending": True})
            if existing is not None:
                if existing["status"] == JobStatus.WAITING and existing["priority"] > priority:
                    existing = self._jobs.find_one_and_update(
                        {
                            "_id": existing["_id"],
                            "status": JobStatus.WAITING.value,
                            "priority": {"$gt": int(priority)},
                        },
                        {"$set": {"priority": int(priority)}},
                        return_document=ReturnDocument.AFTER,
                    )
                    if existing is None:
                        continue  # claimed, cancelled or re-prioritised since our read: look again
                return _to_job(existing)
            doc: Document = {
                **key,
                "namespace": get_namespace(dataset),
                "status": JobStatus.WAITING.value,
                "pending": True,
                "priority": int(priority),
                "created_at": now_ms(),
                "started_at": None,
                "finished_at": None,
                "last_heartbeat": None,
                "worker_id": None,
                "attempt": 0,
            }
            try:
                self._jobs.insert_one(doc)
            except DuplicateKeyError:
                # Another process added the same key since our read: return (or re-prioritise) its job.
                continue
            return _to_job(doc)

    def claim(self, job_types: Sequence[str] | None, worker_id: str) -> Job | None:
        """Atomically start the next job of one of `job_types` (all types if None), or return None.

        Order: priority, then the fewest started jobs of the job's type in its namespace, then age.
        """
        if job_types is not None and not job_types:
            return None
        limit = self.max_jobs_per_namespace
        overflowed: set[tuple[str, str]] = set()
        for _ in range(_MAX_CLAIM_ROUNDS):
            started = self._started_counts(job_types)
            for type_namespace in overflowed:
                started[type_namespace] = max(started.get(type_namespace, 0), limit)
            query = self._pick_candidates(job_types, started)
            if query is None:
                return None
            now = now_ms()
            doc = self._jobs.find_one_and_update(
                query,
                {
                    "$set": {
                        "status": JobStatus.STARTED.value,
                        "worker_id": worker_id,
                        "started_at": now,
                        "last_heartbeat": now,
                    },
                    "$inc": {"attempt": 1},
                    "$currentDate": {"claimed_at": True},
                },
                sort=_CLAIM_SORT,
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                continue  # another worker took the candidate between our read and our claim
            if self._within_limit(doc):
                return _to_job(doc)
            self._unclaim(doc)
            overflowed.add((doc["type"], doc["namespace"]))
        return None

    def _started_counts(self, job_types: Sequence[str] | None) -> dict[tuple[str, str], int]:
        """Number of started jobs per (type, namespace): a small aggregation on an index."""
        pipeline: list[Document] = [
            {"$match": {"status": JobStatus.STARTED.value, **_types_filter(job_types)}},
            {"$group": {"_id": {"type": "$type", "namespace": "$namespace"}, "n": {"$sum": 1}}},
        ]
        return {(doc["_id"]["type"], doc["_id"]["namespace"]): int(doc["n"]) for doc in self._jobs.aggregate(pipeline)}

    def _pick_candidates(
        self, job_types: Sequence[str] | None, started: dict[tuple[str, str], int]
    ) -> Document | None:
        """The filter of the waiting jobs to claim from: the best fairness level, at the best priority.

        Level n holds the jobs whose namespace has n started jobs of their type; levels at the limit are
        skipped. With the default limit of 1 only level 0 exists and this costs no query.
        """
        limit = self.max_jobs_per_namespace
        base: Document = {"status": JobStatus.WAITING.value, **_types_filter(job_types)}
        by_level: defaultdict[int, defaultdict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        busy: defaultdict[str, list[str]] = defaultdict(list)
        for (job_type, namespace), count in sorted(started.items()):
            busy[job_type].append(namespace)
            if limit < 1 or count < limit:
                by_level[count][job_type].append(namespace)
        level_zero = dict(base)
        if busy:
            level_zero["$nor"] = [{"type": t, "namespace": {"$in": namespaces}} for t, namespaces in busy.items()]
        levels = [level_zero] + [
            {**base, "$or": [{"type": t, "namespace": {"$in": namespaces}} for t, namespaces in by_level[n].items()]}
            for n in sorted(by_level)
        ]
        if len(levels) == 1:
            return level_zero
        best: tuple[int, Document] | None = None
        for level in levels:
            doc = self._jobs.find_one(level, {"priority": True}, sort=_CLAIM_SORT)
            if doc is not None and (best is None or doc["priority"] < best[0]):
                best = (int(doc["priority"]), level)
                if best[0] == min(Priority):
                    break  # a lower level can only win on priority, and none is better than this one
        return None if best is None else {**best[1], "priority": best[0]}

    def _within_limit(self, doc: Document) -> bool:
        """The optimistic half of the per-namespace limit, checked after the claim.

        Two workers can both read "namespace below its limit" and both claim in it. So each claimer then
        counts the other started jobs of the (type, namespace) claimed no later than its own, and gives its
        job back if they are `limit` or more. `claimed_at` comes from the server clock ($currentDate): with
        one clock a later claim never sorts earlier, so of any jobs over the limit the last one claimed sees
        all the others and gives back. Equal times count as earlier: a tie may make both give back, never
        neither. The few started jobs of one (type, namespace) are compared here, at BSON's millisecond
        precision, rather than with a `$lte` query.
        """
        limit = self.max_jobs_per_namespace
        if limit < 1:
            return True
        others = self._jobs.find(
            {"status": JobStatus.STARTED.value, "type": doc["type"], "namespace": doc["namespace"]},
            {"claimed_at": True},
        )
        mine = to_ms(doc["claimed_at"])
        earlier = sum(
            1
            for other in others
            if other["_id"] != doc["_id"] and (other.get("claimed_at") is None or to_ms(other["claimed_at"]) <= mine)
        )
        return earlier < limit

    def _unclaim(self, doc: Document) -> None:
        """Put a job we just claimed back to waiting and take back its attempt (fenced by that attempt)."""
        self._jobs.update_one(
            {"_id": doc["_id"], "status": JobStatus.STARTED.value, "attempt": doc["attempt"]},
            {
                "$set": {
                    "status": JobStatus.WAITING.value,
                    "worker_id": None,
                    "started_at": None,
                    "last_heartbeat": None,
                },
                "$unset": {"claimed_at": ""},
                "$inc": {"attempt": -1},
            },
        )

    def _fence(self, job_id: str, attempt: int) -> Document | None:
        object_id = parse_object_id(job_id)
        if object_id is None:
            return None
        return {"_id": object_id, "status": JobStatus.STARTED.value, "attempt": attempt}

    def heartbeat(self, job_id: str, attempt: int) -> bool:
        """Set `last_heartbeat` = now if the job is still started at this attempt. False otherwise."""
        fence = self._fence(job_id, attempt)
        if fence is None:
            return False
        return self._jobs.update_one(fence, {"$set": {"last_heartbeat": now_ms()}}).matched_count == 1

    def is_current(self, job_id: str, attempt: int) -> bool:
        """True if the job is started at this attempt (the worker may still write its result)."""
        fence = self._fence(job_id, attempt)
        return fence is not None and self._jobs.find_one(fence, {"_id": True}) is not None

    def finish(self, job_id: str, attempt: int, status: JobStatus) -> bool:
        """Mark a started job SUCCESS or ERROR, fenced by attempt. False (no change) if not current."""
        if status not in _FINAL_STATUSES:
            raise ValueError(f"a job finishes with success or error, not {status!r}")
        fence = self._fence(job_id, attempt)
        if fence is None:
            return False
        update = {"$set": {"status": JobStatus(status).value, "finished_at": now_ms()}, "$unset": {"pending": ""}}
        return self._jobs.update_one(fence, update).matched_count == 1

    def release(self, job_id: str, attempt: int) -> bool:
        """Put a started job back to waiting for a retry, fenced by attempt (`attempt` kept, worker_id cleared).

        False (no change) if not current.
        """
        fence = self._fence(job_id, attempt)
        if fence is None:
            return False
        update = {"$set": {"status": JobStatus.WAITING.value, "worker_id": None}, "$unset": {"claimed_at": ""}}
        return self._jobs.update_one(fence, update).matched_count == 1

    def cancel(
        self,
        *,
        job_type: str | None = None,
        dataset: str | None = None,
        statuses: Sequence[JobStatus] = PENDING_STATUSES,
    ) -> list[Job]:
        """Cancel the jobs matching the filters (only waiting/started ones can be cancelled).

        Returns the cancelled jobs as they are after cancellation.
        """
        cancellable = [JobStatus(s).value for s in dict.fromkeys(statuses) if s in PENDING_STATUSES]
        if not cancellable:
            return []
        query: Document = {"status": {"$in": cancellable}}
        if job_type is not None:
            query["type"] = job_type
        if dataset is not None:
            query["dataset"] = dataset
        ids = [doc["_id"] for doc in self._jobs.find(query, {"_id": True})]
        if not ids:
            return []
        # Fenced on the status: a job claimed or finished since our read is left alone.
        self._jobs.update_many(
            {"_id": {"$in": ids}, "status": {"$in": cancellable}},
            {
                "$set": {"status": JobStatus.CANCELLED.value, "finished_at": now_ms()},
                "$unset": {"pending": ""},
            },
        )
        cancelled = self._jobs.find({"_id": {"$in": ids}, "status": JobStatus.CANCELLED.value}, sort=_AGE_SORT)
        return [_to_job(doc) for doc in cancelled]

    def requeue_zombies(self, heartbeat_before: datetime, max_attempts: int) -> list[Job]:
        """Started jobs whose `last_heartbeat` is older than `heartbeat_before` go back to waiting (or to ERROR).

        Each job is updated on its own, fenced by its attempt and its heartbeat, so a job that heartbeats or
        is finished meanwhile is left alone.
        """
        query = {"status": JobStatus.STARTED.value, "last_heartbeat": {"$lt": heartbeat_before}}
        requeued: list[Job] = []
        for zombie in self._jobs.find(query, {"attempt": True}, sort=_AGE_SORT):
            fence = {**query, "_id": zombie["_id"], "attempt": zombie["attempt"]}
            if zombie["attempt"] >= max_attempts:
                update: Document = {
                    "$set": {"status": JobStatus.ERROR.value, "finished_at": now_ms()},
                    "$unset": {"pending": "", "claimed_at": ""},
                }
            else:
                update = {"$set": {"status": JobStatus.WAITING.value, "worker_id": None}, "$unset": {"claimed_at": ""}}
            doc = self._jobs.find_one_and_update(fence, update, return_document=ReturnDocument.AFTER)
            if doc is not None:
                requeued.append(_to_job(doc))
        return requeued

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        object_id = parse_object_id(job_id)
        doc = None if object_id is None else self._jobs.find_one({"_id": object_id})
        return None if doc is None else _to_job(doc)

    def is_pending(self, job_type: str, dataset: str, config: str | None = None, split: str | None = None) -> bool:
        """True if a waiting or started job exists for the exact key."""
        return (
            self._jobs.find_one({**_key(job_type, dataset, config, split), "pending": True}, {"_id": True}) is not None
        )

    def has_pending_jobs(self, dataset: str, job_types: Sequence[str] | None = None) -> bool:
        """True if the dataset has any waiting or started job (of one of `job_types` if given)."""
        if job_types is not None and not job_types:
            return False
        query = {
            "dataset": dataset,
            "status": {"$in": [s.value for s in PENDING_STATUSES]},
            **_types_filter(job_types),
        }
        return self._jobs.find_one(query, {"_id": True}) is not None

    def count_by_status(self, job_type: str) -> dict[JobStatus, int]:
        """Number of jobs of the type per status; all five statuses are keys."""
        counts = dict.fromkeys(JobStatus, 0)
        pipeline: list[Document] = [{"$match": {"type": job_type}}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        for doc in self._jobs.aggregate(pipeline):
            counts[JobStatus(doc["_id"])] = int(doc["n"])
        return counts

    def get_pending(self, job_type: str) -> dict[JobStatus, list[Job]]:
        """Pending jobs of a type: {WAITING: [...], STARTED: [...]}, each oldest first."""
        pending: dict[JobStatus, list[Job]] = {status: [] for status in PENDING_STATUSES}
        query = {"type": job_type, "status": {"$in": [s.value for s in PENDING_STATUSES]}}
        for doc in self._jobs.find(query, sort=_AGE_SORT):
            pending[JobStatus(doc["status"])].append(_to_job(doc))
        return pending

    def is_available(self) -> bool:
        """True if the server answers a ping now."""
        return ping(self._client)

    def close(self) -> None:
        """Close the client (this queue owns it)."""
        self._client.close()
