"""`/pending-jobs`: the waiting and started jobs of every processing step."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from libcommon.clock import utc_now
from libcommon.processing_graph import ProcessingGraph
from libcommon.responses import json_response
from libcommon.storage import Job, JobQueue


def job_to_dict(job: Job) -> dict[str, Any]:
    """The public view of a job (every field; datetimes as ISO strings)."""
    return {
        "job_id": job.job_id,
        "type": job.type,
        "dataset": job.dataset,
        "config": job.config,
        "split": job.split,
        "namespace": job.namespace,
        "status": str(job.status),
        "priority": job.priority.name.lower(),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "last_heartbeat": job.last_heartbeat,
        "worker_id": job.worker_id,
        "attempt": job.attempt,
    }


def pending_jobs_endpoint(queue: JobQueue, graph: ProcessingGraph, max_age: int) -> Any:
    """Build the endpoint: `{"/splits": {"waiting": [...], "started": [...]}, ..., "created_at": ...}`."""

    async def endpoint(_: Request) -> Response:
        content: dict[str, Any] = {}
        for step in graph:
            pending = queue.get_pending(step.job_type)
            content[step.job_type] = {
                str(status): [job_to_dict(job) for job in jobs] for status, jobs in pending.items()
            }
        content["created_at"] = utc_now().replace(microsecond=0)
        return json_response(content, max_age)

    return endpoint
