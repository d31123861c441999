"""The queue contract (libcommon.storage.queue.JobQueue), run against every engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from libcommon.clock import utc_now
from libcommon.storage.queue import JobQueue
from libcommon.storage.records import Job, JobStatus, Priority

MakeJobQueue = Callable[..., JobQueue]

A = "/splits"
B = "/first-rows"
# MongoDB keeps milliseconds only.
PRECISION = timedelta(milliseconds=1)
FUTURE = timedelta(hours=1)


def assert_utc_between(value: datetime | None, before: datetime, after: datetime) -> None:
    assert value is not None
    assert value.utcoffset() == timedelta(0)
    assert before - PRECISION <= value <= after + PRECISION


def claim_key(queue: JobQueue, job_types: list[str] | None = None) -> tuple[str, str | None, str | None] | None:
    job = queue.claim(job_types, "worker")
    return None if job is None else (job.dataset, job.config, job.split)


def claim_all(queue: JobQueue, job_types: list[str] | None = None) -> list[tuple[str, str | None, str | None]]:
    claimed = []
    while (key := claim_key(queue, job_types)) is not None:
        claimed.append(key)
    return claimed


def test_add_returns_a_waiting_job(job_queue: JobQueue) -> None:
    before = utc_now()
    job = job_queue.add(B, "user/ds", "config", "train")
    after = utc_now()
    assert (job.type, job.dataset, job.config, job.split) == (B, "user/ds", "config", "train")
    assert job.namespace == "user"
    assert job.status is JobStatus.WAITING
    assert job.priority is Priority.NORMAL
    assert job.attempt == 0
    assert (job.started_at, job.finished_at, job.last_heartbeat, job.worker_id) == (None, None, None, None)
    assert_utc_between(job.created_at, before, after)
    assert isinstance(job.job_id, str) and job.job_id != ""
    assert job_queue.get(job.job_id) == job


def test_namespace_of_a_dataset_without_slash(job_queue: JobQueue) -> None:
    assert job_queue.add(A, "squad").namespace == "squad"
    assert job_queue.add(A, "org/name").namespace == "org"


def test_get_unknown_job(job_queue: JobQueue) -> None:
    job_queue.add(A, "ds")
    assert job_queue.get("not-a-job-id") is None
    assert job_queue.get("") is None


def test_add_is_a_no_op_while_waiting(job_queue: JobQueue) -> None:
    first = job_queue.add(A, "ds")
    second = job_queue.add(A, "ds")
    assert second == first
    assert job_queue.count_by_status(A)[JobStatus.WAITING] == 1


def test_add_is_a_no_op_while_started(job_queue: JobQueue) -> None:
    first = job_queue.add(A, "ds")
    started = job_queue.claim([A], "w1")
    assert started is not None and started.job_id == first.job_id
    again = job_queue.add(A, "ds")
    assert again == started
    assert again.status is JobStatus.STARTED
    counts = job_queue.count_by_status(A)
    assert (counts[JobStatus.WAITING], counts[JobStatus.STARTED]) == (0, 1)


def test_add_distinguishes_keys(job_queue: JobQueue) -> None:
    ids = {
        job_queue.add(B, "ds").job_id,
        job_queue.add(B, "ds", "c").job_id,
        job_queue.add(B, "ds", "c", "s").job_id,
        job_queue.add(B, "ds", "c", "t").job_id,
        job_queue.add(B, "ds", "d", "s").job_id,
        job_queue.add(A, "ds", "c", "s").job_id,
        job_queue.add(B, "ds2", "c", "s").job_id,
    }
    assert len(ids) == 7
    assert job_queue.add(B, "ds", None, None).job_id in ids
    assert job_queue.count_by_status(B)[JobStatus.WAITING] == 6


def test_add_raises_the_priority_of_a_waiting_job(job_queue: JobQueue) -> None:
    low = job_queue.add(A, "ds", priority=Priority.LOW)
    assert low.priority is Priority.LOW
    raised = job_queue.add(A, "ds", priority=Priority.NORMAL)
    assert raised.job_id == low.job_id
    assert raised.priority is Priority.NORMAL
    again = job_queue.add(A, "ds", priority=Priority.LOW)
    assert again.priority is Priority.NORMAL
    stored = job_queue.get(low.job_id)
    assert stored is not None and stored.priority is Priority.NORMAL


def test_add_does_not_change_a_started_job(job_queue: JobQueue) -> None:
    job_queue.add(A, "ds", priority=Priority.LOW)
    started = job_queue.claim([A], "w1")
    assert started is not None
    again = job_queue.add(A, "ds", priority=Priority.NORMAL)
    assert again.job_id == started.job_id
    assert (again.status, again.priority) == (JobStatus.STARTED, Priority.LOW)


@pytest.mark.parametrize("end", ["success", "error", "cancel"])
def test_add_after_the_end_creates_a_new_job(job_queue: JobQueue, end: str) -> None:
    old = job_queue.add(A, "ds")
    if end == "cancel":
        assert [job.job_id for job in job_queue.cancel(job_type=A)] == [old.job_id]
    else:
        started = job_queue.claim([A], "w1")
        assert started is not None
        assert job_queue.finish(started.job_id, started.attempt, JobStatus(end)) is True
    new = job_queue.add(A, "ds")
    assert new.job_id != old.job_id
    assert (new.status, new.attempt) == (JobStatus.WAITING, 0)
    old_now = job_queue.get(old.job_id)
    assert old_now is not None
    assert old_now.status is {"success": JobStatus.SUCCESS, "error": JobStatus.ERROR}.get(end, JobStatus.CANCELLED)


def test_claim_on_empty_queue(job_queue: JobQueue) -> None:
    assert job_queue.claim(None, "w1") is None
    assert job_queue.claim([A, B], "w1") is None


def test_claim_starts_the_job(job_queue: JobQueue) -> None:
    added = job_queue.add(B, "ns/ds", "c", "s")
    before = utc_now()
    job = job_queue.claim([B], "worker-1")
    after = utc_now()
    assert job is not None
    assert job.job_id == added.job_id
    assert (job.status, job.attempt, job.worker_id) == (JobStatus.STARTED, 1, "worker-1")
    assert_utc_between(job.started_at, before, after)
    assert job.last_heartbeat == job.started_at
    assert job.finished_at is None
    assert (job.type, job.dataset, job.config, job.split, job.created_at) == (
        B,
        "ns/ds",
        "c",
        "s",
        added.created_at,
    )
    assert job_queue.get(job.job_id) == job
    assert job_queue.claim(None, "worker-2") is None


def test_claim_filtered_by_job_types(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    a = queue.add(A, "ds1")
    b = queue.add(B, "ds2")
    assert queue.claim(["/other"], "w") is None
    assert queue.claim([], "w") is None
    claimed_b = queue.claim([B], "w")
    assert claimed_b is not None and claimed_b.job_id == b.job_id
    assert queue.claim([B], "w") is None
    claimed_a = queue.claim([B, A], "w")
    assert claimed_a is not None and claimed_a.job_id == a.job_id


def test_claim_by_priority_then_oldest(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    queue.add(A, "n1/low-old", priority=Priority.LOW)
    queue.add(A, "n2/normal-old")
    queue.add(A, "n3/low-new", priority=Priority.LOW)
    queue.add(A, "n4/normal-new")
    queue.add(A, "n5/raised", priority=Priority.LOW)
    queue.add(A, "n5/raised", priority=Priority.NORMAL)
    assert [key[0] for key in claim_all(queue)] == [
        "n2/normal-old",
        "n4/normal-new",
        "n5/raised",
        "n1/low-old",
        "n3/low-new",
    ]


@pytest.mark.parametrize("limit", [0, 1, 2])
def test_claim_is_fair_across_namespaces(make_job_queue: MakeJobQueue, limit: int) -> None:
    queue = make_job_queue(limit)
    queue.add(B, "d1", "c", "s1")
    queue.add(B, "d1", "c", "s2")
    queue.add(B, "d2", "c", "s1")
    queue.add(B, "d3", "c", "s1")
    assert claim_all(queue) == (
        [("d1", "c", "s1"), ("d2", "c", "s1"), ("d3", "c", "s1")] + ([("d1", "c", "s2")] if limit != 1 else [])
    )


def test_fairness_counts_started_jobs_only(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    queue.add(B, "d1", "c", "s1")
    queue.add(B, "d1", "c", "s2")
    queue.add(B, "d2", "c", "s1")
    first = queue.claim([B], "w")
    assert first is not None
    assert queue.finish(first.job_id, first.attempt, JobStatus.SUCCESS) is True
    # d1 has no started job any more: its older job goes first.
    assert claim_all(queue) == [("d1", "c", "s2"), ("d2", "c", "s1")]


def test_fairness_is_per_namespace_not_per_dataset(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    queue.add(A, "org/ds1")
    queue.add(A, "org/ds2")
    queue.add(A, "other/ds")
    assert [key[0] for key in claim_all(queue)] == ["org/ds1", "other/ds", "org/ds2"]


def test_limit_one_per_namespace(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(1)
    queue.add(A, "ns/a")
    queue.add(A, "ns/b")
    queue.add(A, "other/x")
    first = queue.claim(None, "w1")
    assert first is not None and first.dataset == "ns/a"
    assert claim_key(queue) == ("other/x", None, None)
    assert queue.claim(None, "w3") is None
    assert queue.finish(first.job_id, first.attempt, JobStatus.ERROR) is True
    assert claim_key(queue) == ("ns/b", None, None)


def test_limit_two_per_namespace(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(2)
    for split in ["s1", "s2", "s3", "s4"]:
        queue.add(B, "ns/ds", "c", split)
    first = queue.claim([B], "w1")
    assert first is not None and first.split == "s1"
    assert claim_key(queue) == ("ns/ds", "c", "s2")
    assert queue.claim([B], "w3") is None
    assert queue.finish(first.job_id, first.attempt, JobStatus.SUCCESS) is True
    assert claim_key(queue) == ("ns/ds", "c", "s3")
    assert queue.claim([B], "w4") is None
    assert queue.count_by_status(B)[JobStatus.STARTED] == 2


@pytest.mark.parametrize("limit", [0, -1])
def test_no_limit_below_one(make_job_queue: MakeJobQueue, limit: int) -> None:
    queue = make_job_queue(limit)
    for split in ["s1", "s2", "s3", "s4", "s5"]:
        queue.add(B, "ns/ds", "c", split)
    assert claim_all(queue) == [("ns/ds", "c", f"s{index}") for index in range(1, 6)]
    assert queue.count_by_status(B)[JobStatus.STARTED] == 5


def test_limit_is_per_job_type(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(1)
    queue.add(A, "ns/a")
    queue.add(A, "ns/b")
    queue.add(B, "ns/a", "c", "s")
    first = queue.claim(None, "w1")
    assert first is not None and (first.type, first.dataset) == (A, "ns/a")
    second = queue.claim(None, "w2")
    assert second is not None and (second.type, second.dataset) == (B, "ns/a")
    assert queue.claim(None, "w3") is None
    assert queue.claim([A], "w3") is None


def test_limit_is_read_from_each_queue(make_job_queue: MakeJobQueue) -> None:
    strict = make_job_queue(1)
    loose = make_job_queue(0)
    strict.add(A, "ns/a")
    strict.add(A, "ns/b")
    assert claim_key(strict) == ("ns/a", None, None)
    assert strict.claim(None, "w") is None
    assert claim_key(loose) == ("ns/b", None, None)


def test_heartbeat_finish_and_is_current_are_fenced_by_attempt(job_queue: JobQueue) -> None:
    job_queue.add(A, "ds")
    first = job_queue.claim([A], "w1")
    assert first is not None and first.attempt == 1
    assert job_queue.is_current(first.job_id, 1) is True
    time.sleep(0.005)
    assert job_queue.heartbeat(first.job_id, 1) is True
    beaten = job_queue.get(first.job_id)
    assert beaten is not None and beaten.last_heartbeat is not None and first.last_heartbeat is not None
    assert beaten.last_heartbeat > first.last_heartbeat

    assert [job.job_id for job in job_queue.requeue_zombies(utc_now() + FUTURE, max_attempts=5)] == [first.job_id]
    second = job_queue.claim([A], "w2")
    assert second is not None and second.job_id == first.job_id
    assert (second.attempt, second.worker_id) == (2, "w2")

    snapshot = job_queue.get(first.job_id)
    time.sleep(0.005)
    assert job_queue.is_current(first.job_id, 1) is False
    assert job_queue.heartbeat(first.job_id, 1) is False
    assert job_queue.finish(first.job_id, 1, JobStatus.SUCCESS) is False
    assert job_queue.release(first.job_id, 1) is False
    assert job_queue.get(first.job_id) == snapshot

    assert job_queue.is_current(first.job_id, 2) is True
    assert job_queue.finish(first.job_id, 2, JobStatus.SUCCESS) is True
    assert job_queue.is_current(first.job_id, 2) is False
    assert job_queue.heartbeat(first.job_id, 2) is False
    assert job_queue.finish(first.job_id, 2, JobStatus.ERROR) is False
    done = job_queue.get(first.job_id)
    assert done is not None and done.status is JobStatus.SUCCESS


def test_fenced_calls_on_unknown_or_waiting_jobs(job_queue: JobQueue) -> None:
    waiting = job_queue.add(A, "ds")
    assert job_queue.heartbeat(waiting.job_id, 0) is False
    assert job_queue.is_current(waiting.job_id, 0) is False
    assert job_queue.finish(waiting.job_id, 0, JobStatus.SUCCESS) is False
    assert job_queue.release(waiting.job_id, 0) is False
    assert job_queue.get(waiting.job_id) == waiting
    for unknown in ["not-a-job-id", ""]:
        assert job_queue.heartbeat(unknown, 1) is False
        assert job_queue.is_current(unknown, 1) is False
        assert job_queue.finish(unknown, 1, JobStatus.SUCCESS) is False
        assert job_queue.release(unknown, 1) is False


@pytest.mark.parametrize("status", [JobStatus.SUCCESS, JobStatus.ERROR])
def test_finish(job_queue: JobQueue, status: JobStatus) -> None:
    job_queue.add(A, "ds")
    job = job_queue.claim([A], "w1")
    assert job is not None
    before = utc_now()
    assert job_queue.finish(job.job_id, job.attempt, status) is True
    after = utc_now()
    done = job_queue.get(job.job_id)
    assert done is not None
    assert (done.status, done.attempt, done.started_at) == (status, 1, job.started_at)
    assert_utc_between(done.finished_at, before, after)
    assert job_queue.is_pending(A, "ds") is False


def test_release_puts_the_job_back_for_another_attempt(job_queue: JobQueue) -> None:
    job_queue.add(A, "ds")
    first = job_queue.claim([A], "w1")
    assert first is not None
    assert job_queue.release(first.job_id, 1) is True
    released = job_queue.get(first.job_id)
    assert released is not None
    assert (released.status, released.attempt, released.worker_id) == (JobStatus.WAITING, 1, None)
    assert job_queue.release(first.job_id, 1) is False
    assert job_queue.add(A, "ds").job_id == first.job_id
    second = job_queue.claim([A], "w2")
    assert second is not None and (second.job_id, second.attempt) == (first.job_id, 2)


def test_attempt_increments_across_requeues(job_queue: JobQueue) -> None:
    added = job_queue.add(A, "ds")
    for attempt in range(1, 4):
        job = job_queue.claim([A], f"w{attempt}")
        assert job is not None
        assert (job.job_id, job.attempt, job.worker_id) == (added.job_id, attempt, f"w{attempt}")
        requeued = job_queue.requeue_zombies(utc_now() + FUTURE, max_attempts=10)
        assert [(j.job_id, j.status, j.attempt, j.worker_id) for j in requeued] == [
            (added.job_id, JobStatus.WAITING, attempt, None)
        ]


def test_cancel_by_type(job_queue: JobQueue) -> None:
    waiting = job_queue.add(A, "ds1")
    job_queue.add(A, "ds2")
    started = job_queue.claim([A], "w1")
    assert started is not None and started.job_id == waiting.job_id
    other_type = job_queue.add(B, "ds1", "c", "s")
    before = utc_now()
    cancelled = job_queue.cancel(job_type=A)
    after = utc_now()
    assert sorted((job.dataset, job.status) for job in cancelled) == [
        ("ds1", JobStatus.CANCELLED),
        ("ds2", JobStatus.CANCELLED),
    ]
    for job in cancelled:
        assert_utc_between(job.finished_at, before, after)
        assert job_queue.get(job.job_id) == job
    assert job_queue.heartbeat(started.job_id, started.attempt) is False
    assert job_queue.finish(started.job_id, started.attempt, JobStatus.SUCCESS) is False
    assert job_queue.get(other_type.job_id) == other_type
    assert job_queue.cancel(job_type=A) == []


def test_cancel_by_dataset_and_statuses(job_queue: JobQueue) -> None:
    job_queue.add(A, "ds")
    started = job_queue.claim([A], "w")
    assert started is not None
    assert job_queue.finish(started.job_id, started.attempt, JobStatus.SUCCESS) is True
    job_queue.add(A, "ds")
    started_again = job_queue.claim([A], "w")
    assert started_again is not None
    waiting_b = job_queue.add(B, "ds", "c", "s")
    other = job_queue.add(B, "other", "c", "s")

    assert job_queue.cancel(dataset="ds", statuses=[JobStatus.SUCCESS, JobStatus.ERROR]) == []
    only_waiting = job_queue.cancel(dataset="ds", statuses=[JobStatus.WAITING])
    assert [(job.job_id, job.status) for job in only_waiting] == [(waiting_b.job_id, JobStatus.CANCELLED)]
    assert job_queue.is_current(started_again.job_id, started_again.attempt) is True

    both = job_queue.cancel(job_type=B, dataset="other")
    assert [job.job_id for job in both] == [other.job_id]
    rest = job_queue.cancel(dataset="ds")
    assert [job.job_id for job in rest] == [started_again.job_id]
    done = job_queue.get(started.job_id)
    assert done is not None and done.status is JobStatus.SUCCESS
    assert job_queue.count_by_status(A) == {
        JobStatus.WAITING: 0,
        JobStatus.STARTED: 0,
        JobStatus.SUCCESS: 1,
        JobStatus.ERROR: 0,
        JobStatus.CANCELLED: 1,
    }


def test_cancel_without_filters_cancels_every_pending_job(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    ids = {queue.add(A, f"ds{index}").job_id for index in range(3)} | {queue.add(B, "ds0", "c", "s").job_id}
    assert queue.claim(None, "w") is not None
    assert {job.job_id for job in queue.cancel()} == ids
    assert queue.has_pending_jobs("ds0") is False


def test_requeue_zombies(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    first = queue.add(A, "ds1")
    queue.add(A, "ds2")
    waiting = queue.add(A, "ds3")
    assert claim_key(queue) == ("ds1", None, None)
    time.sleep(0.01)
    between = utc_now()
    time.sleep(0.01)
    assert claim_key(queue) == ("ds2", None, None)

    assert queue.requeue_zombies(utc_now() - FUTURE, max_attempts=5) == []
    assert queue.count_by_status(A)[JobStatus.STARTED] == 2

    only_first = queue.requeue_zombies(between, max_attempts=5)
    assert [(job.job_id, job.status, job.worker_id, job.attempt) for job in only_first] == [
        (first.job_id, JobStatus.WAITING, None, 1)
    ]
    everything = queue.requeue_zombies(utc_now() + FUTURE, max_attempts=5)
    assert [(job.dataset, job.status) for job in everything] == [("ds2", JobStatus.WAITING)]
    assert queue.get(waiting.job_id) == waiting
    assert queue.count_by_status(A)[JobStatus.WAITING] == 3
    assert queue.count_by_status(A)[JobStatus.STARTED] == 0


def test_requeue_zombies_errors_after_the_last_attempt(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    queue.add(A, "twice")
    job = queue.claim([A], "w")
    assert job is not None
    queue.requeue_zombies(utc_now() + FUTURE, max_attempts=5)
    assert claim_key(queue) == ("twice", None, None)  # attempt 2
    queue.add(A, "once")
    assert claim_key(queue) == ("once", None, None)  # attempt 1
    before = utc_now()
    affected = queue.requeue_zombies(utc_now() + FUTURE, max_attempts=2)
    after = utc_now()
    by_dataset = {job.dataset: job for job in affected}
    assert sorted(by_dataset) == ["once", "twice"]
    assert (by_dataset["twice"].status, by_dataset["twice"].attempt) == (JobStatus.ERROR, 2)
    assert_utc_between(by_dataset["twice"].finished_at, before, after)
    assert (by_dataset["once"].status, by_dataset["once"].attempt) == (JobStatus.WAITING, 1)
    assert by_dataset["once"].finished_at is None
    assert queue.is_pending(A, "twice") is False
    assert queue.get(job.job_id) == by_dataset["twice"]


def test_is_pending_and_has_pending_jobs(job_queue: JobQueue) -> None:
    assert job_queue.is_pending(B, "ds", "c", "s") is False
    assert job_queue.has_pending_jobs("ds") is False
    job_queue.add(B, "ds", "c", "s")
    assert job_queue.is_pending(B, "ds", "c", "s") is True
    assert job_queue.is_pending(B, "ds", "c") is False
    assert job_queue.is_pending(B, "ds") is False
    assert job_queue.is_pending(A, "ds", "c", "s") is False
    assert job_queue.has_pending_jobs("ds") is True
    assert job_queue.has_pending_jobs("ds", [B]) is True
    assert job_queue.has_pending_jobs("ds", [A]) is False
    assert job_queue.has_pending_jobs("ds", []) is False
    assert job_queue.has_pending_jobs("d") is False
    job = job_queue.claim([B], "w")
    assert job is not None
    assert job_queue.is_pending(B, "ds", "c", "s") is True
    assert job_queue.has_pending_jobs("ds", [A, B]) is True
    assert job_queue.finish(job.job_id, job.attempt, JobStatus.SUCCESS) is True
    assert job_queue.is_pending(B, "ds", "c", "s") is False
    assert job_queue.has_pending_jobs("ds") is False


def test_count_by_status(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    for dataset in ["success", "error", "started", "cancelled", "waiting"]:
        queue.add(A, dataset)
    for status in [JobStatus.SUCCESS, JobStatus.ERROR]:
        job = queue.claim([A], "w")
        assert job is not None
        assert queue.finish(job.job_id, job.attempt, status) is True
    assert queue.claim([A], "w") is not None
    assert len(queue.cancel(dataset="cancelled")) == 1
    assert queue.count_by_status(A) == {
        JobStatus.WAITING: 1,
        JobStatus.STARTED: 1,
        JobStatus.SUCCESS: 1,
        JobStatus.ERROR: 1,
        JobStatus.CANCELLED: 1,
    }
    assert queue.count_by_status(B) == dict.fromkeys(JobStatus, 0)


def test_get_pending(make_job_queue: MakeJobQueue) -> None:
    queue = make_job_queue(0)
    for dataset in ["a", "b", "c", "d", "e"]:
        queue.add(B, dataset, "c", "s")
    queue.add(A, "a")
    assert claim_key(queue, [B]) == ("a", "c", "s")
    assert claim_key(queue, [B]) == ("b", "c", "s")
    finished = queue.claim([B], "w")
    assert finished is not None and finished.dataset == "c"
    assert queue.finish(finished.job_id, finished.attempt, JobStatus.SUCCESS) is True
    queue.add(B, "f", "c", "s", priority=Priority.LOW)
    pending = queue.get_pending(B)

    def datasets(jobs: list[Job]) -> list[str]:
        return [job.dataset for job in jobs]

    assert set(pending) == {JobStatus.WAITING, JobStatus.STARTED}
    assert datasets(pending[JobStatus.WAITING]) == ["d", "e", "f"]
    assert datasets(pending[JobStatus.STARTED]) == ["a", "b"]
    assert all(job.status is JobStatus.STARTED for job in pending[JobStatus.STARTED])
    assert queue.get_pending("/none") == {JobStatus.WAITING: [], JobStatus.STARTED: []}


def test_unicode_and_slashes_in_names(job_queue: JobQueue) -> None:
    key = ("ünï/çødé-数据", "conf/with/slash", "spl it/é")
    added = job_queue.add(B, *key)
    assert added.namespace == "ünï"
    assert job_queue.is_pending(B, *key) is True
    assert job_queue.is_pending(B, "ünï", "conf/with/slash", "spl it/é") is False
    assert job_queue.has_pending_jobs("ünï/çødé-数据", [B]) is True
    job = job_queue.claim([B], "wörker/1")
    assert job is not None
    assert (job.dataset, job.config, job.split, job.worker_id) == (*key, "wörker/1")
    assert job_queue.get(job.job_id) == job


def test_is_available(job_queue: JobQueue) -> None:
    assert job_queue.is_available() is True
    assert job_queue.max_jobs_per_namespace == 1
