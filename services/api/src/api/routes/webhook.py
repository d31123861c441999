"""POST /webhook: the Hub tells which dataset was added, updated or removed.

Body: `{"add"|"update"|"remove": "datasets/<repo id>"}` (any of the three keys; other keys are ignored).
Ids of other repo types and invalid repo ids are ignored (and logged). Actions run in the order add,
update, remove. Responses are `{"status": ...}` bodies, never cached, without `X-Error-Code` (seeds).
"""

from __future__ import annotations

import logging
from typing import Any, Final, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from api.context import ApiContext
from api.routes.base import Endpoint
from libcommon.dataset_names import is_valid_dataset_name
from libcommon.operations import delete_dataset, update_dataset
from libcommon.responses import json_response
from libcommon.serialization import loads

logger = logging.getLogger(__name__)

Action = Literal["add", "update", "remove"]
ACTIONS: Final[tuple[Action, ...]] = ("add", "update", "remove")
DATASET_PREFIX: Final = "datasets/"
#: A webhook payload is a few dozen bytes; anything much larger is not from the Hub.
WEBHOOK_MAX_BODY_BYTES: Final = 64 * 1024

PARSE_ERROR: Final = "the body could not be parsed as a JSON"
PAYLOAD_ERROR: Final = "the JSON payload is invalid"
TOO_LARGE_ERROR: Final = f"the body is larger than {WEBHOOK_MAX_BODY_BYTES} bytes"
UNEXPECTED_ERROR: Final = "unexpected error"


class BodyTooLargeError(Exception):
    """The request body is over the limit."""


class InvalidPayloadError(Exception):
    """The JSON body is not a webhook payload."""


async def read_limited_body(request: Request, max_bytes: int) -> bytes:
    """The request body, or BodyTooLargeError as soon as it is known to exceed `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLargeError()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError()
        chunks.append(chunk)
    return b"".join(chunks)


def parse_payload(payload: Any) -> list[tuple[Action, str]]:
    """The (action, repo id) pairs of a payload, in processing order. A key with null is absent.

    Raises InvalidPayloadError if the payload is not an object or a value is neither a string nor null.
    """
    if not isinstance(payload, dict):
        raise InvalidPayloadError()
    pairs: list[tuple[Action, str]] = []
    for action in ACTIONS:
        value = payload.get(action)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidPayloadError()
        pairs.append((action, value))
    return pairs


def dataset_of(repo_id: str) -> str | None:
    """The dataset name of a `datasets/<name>` id, or None (other repo types, invalid names)."""
    if not repo_id.startswith(DATASET_PREFIX):
        return None
    dataset = repo_id[len(DATASET_PREFIX) :]
    return dataset if is_valid_dataset_name(dataset) else None


def _status(status: str, status_code: int, error: str | None = None) -> Response:
    content = {"status": status} if error is None else {"status": status, "error": error}
    return json_response(content, max_age=0, status_code=status_code)


def create_webhook_endpoint(context: ApiContext) -> Endpoint:
    """The webhook receiver: add/update → `update_dataset`, remove → `delete_dataset` (jobs cancelled)."""

    def apply(actions: list[tuple[Action, str]]) -> None:
        for action, dataset in actions:
            if action == "remove":
                delete_dataset(dataset, context.cache, context.queue, context.config.assets.storage_directory)
            else:
                update_dataset(dataset, context.cache, context.queue, context.graph)

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_limited_body(request, WEBHOOK_MAX_BODY_BYTES)
        except BodyTooLargeError:
            return _status("error", 413, TOO_LARGE_ERROR)
        except ClientDisconnect:
            return _status("error", 400, PARSE_ERROR)
        try:
            payload = loads(body)
        except ValueError:
            return _status("error", 400, PARSE_ERROR)
        try:
            pairs = parse_payload(payload)
        except InvalidPayloadError:
            return _status("error", 400, PAYLOAD_ERROR)
        actions: list[tuple[Action, str]] = []
        for action, repo_id in pairs:
            dataset = dataset_of(repo_id)
            if dataset is None:
                logger.info("webhook: ignored repo id", extra={"action": action, "repo_id": repo_id[:200]})
            else:
                actions.append((action, dataset))
        try:
            await run_in_threadpool(apply, actions)
        except Exception:
            logger.exception("webhook: could not apply the actions", extra={"actions": len(actions)})
            return _status("error", 500, UNEXPECTED_ERROR)
        logger.info("webhook: applied", extra={"actions": " ".join(f"{a}:{d}" for a, d in actions) or "-"})
        return _status("ok", 200)

    return endpoint
