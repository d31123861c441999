"""The errors a job can end with: stable codes, HTTP statuses, public messages; the cause goes to details.

Statuses: 404 when the dataset, config, split or revision does not exist (not stored in the cache, see
`WorkerError.stored`); 400 when the dataset's own content cannot be read (retrying will not help until the
dataset changes); 403 for a gated dataset this server cannot read; 501 for loading scripts; 502 when the
Hub fails (retried); 500 for failures of this server (crash, time or memory limit, post-processing bug).

The public body is the message only, never the cause: a cause may hold local paths, URLs with tokens or
a traceback. It goes to the entry's `details` and to the log (`cause_summary`). `public_message` is the
last guard: a message that looks like it holds a path or a traceback is replaced by the class's default.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any, ClassVar, Final

from libcommon.errors import DatasetsServerError, UnexpectedError
from libcommon.log import redact
from libcommon.serialization import loads

__all__ = [
    "ConfigNotFoundError",
    "DatasetNotFoundError",
    "DatasetWithScriptNotSupportedError",
    "EmptyDatasetError",
    "FeaturesError",
    "GatedDatasetError",
    "HubUnavailableError",
    "InfoError",
    "JobCrashedError",
    "JobMemoryExceededError",
    "JobTimeoutError",
    "RevisionNotFoundError",
    "RowsPostProcessingError",
    "SplitNotFoundError",
    "SplitsNamesError",
    "StreamingRowsError",
    "TooBigContentError",
    "UnexpectedError",
    "UnsupportedFeatureTypeError",
    "WorkerError",
]

#: Longest cause summary written to a log line.
MAX_CAUSE_CHARS: Final = 300
#: What a public message must not contain: a traceback, or a local path (`/x/y`, `~/x`, `C:\\x`) that does
#: not belong to a URL.
_UNSAFE_MESSAGE: Final = re.compile(r"Traceback|File \"|(?:^|[\s'\"(=\[])(?:/|~/|[A-Za-z]:\\)[^\s/]+[/\\]")


def public_message(error: DatasetsServerError) -> str:
    """The message of `error` if it is safe to publish, else the default message of its class."""
    if _UNSAFE_MESSAGE.search(error.message):
        return type(error).default_message
    return error.message


class WorkerError(DatasetsServerError):
    """Base of the errors raised by job runners and by the process that supervises them."""

    #: Whether the error is written to the cache. 404-class errors are not, so that jobs for names that do
    #: not exist cannot fill the cache; the loop deletes the entries of the key instead.
    stored: ClassVar[bool] = True

    def as_content(self) -> dict[str, Any]:
        """The public body: the message only (see `public_message`)."""
        return {"error": public_message(self)}


def cause_summary(cause: BaseException) -> str:
    """`Type: first line of the message`, shortened and with credentials masked (for log lines)."""
    return _summary(type(cause).__name__, str(cause))


def details_summary(details: bytes | None) -> str | None:
    """The `cause_summary` of the cause recorded in serialised `details`, or None if there is none."""
    if not details:
        return None
    try:
        recorded = loads(details)
    except ValueError:
        return None
    if not isinstance(recorded, dict) or not recorded.get("cause_exception"):
        return None
    return _summary(str(recorded["cause_exception"]), str(recorded.get("cause_message", "")))


def _summary(exception_type: str, message: str) -> str:
    text = message.strip().splitlines()[0] if message.strip() else ""
    summary = f"{exception_type}: {text}" if text else exception_type
    if len(summary) > MAX_CAUSE_CHARS:
        summary = summary[: MAX_CAUSE_CHARS - 3] + "..."
    return redact(summary)


class DatasetNotFoundError(WorkerError):
    """The dataset does not exist on the Hub, or this server's token cannot see it (private)."""

    code = "DatasetNotFoundError"
    status = HTTPStatus.NOT_FOUND
    default_message = "The dataset does not exist, or is not accessible without authentication."
    stored = False


class ConfigNotFoundError(WorkerError):
    """The config is not one of the dataset's configs."""

    code = "ConfigNotFoundError"
    status = HTTPStatus.NOT_FOUND
    default_message = "The config does not exist for this dataset."
    stored = False


class SplitNotFoundError(WorkerError):
    """The split is not one of the config's splits."""

    code = "SplitNotFoundError"
    status = HTTPStatus.NOT_FOUND
    default_message = "The split does not exist for this dataset config."
    stored = False


class RevisionNotFoundError(WorkerError):
    """The revision the job reads vanished (the branch moved during the job, or has no commit). Retried."""

    code = "RevisionNotFoundError"
    status = HTTPStatus.NOT_FOUND
    default_message = "The revision of the dataset does not exist: it may have changed. It will be processed again."
    stored = False
    retryable = True


class GatedDatasetError(WorkerError):
    """The dataset is gated and this server's token was not granted access (or no token is configured)."""

    code = "GatedDatasetError"
    status = HTTPStatus.FORBIDDEN
    default_message = (
        "The dataset is gated and this server has not been granted access to it: the viewer is not available."
    )


class DatasetWithScriptNotSupportedError(WorkerError):
    """The dataset relies on a loading script, which the `datasets` library no longer runs."""

    code = "DatasetWithScriptNotSupportedError"
    status = HTTPStatus.NOT_IMPLEMENTED
    default_message = (
        "The dataset uses a loading script, which is not supported anymore. Remove the script and store the"
        " data as files (Parquet, CSV, JSON Lines, images, audio...) to enable the viewer."
    )


class EmptyDatasetError(WorkerError):
    """The repository contains no data file."""

    code = "EmptyDatasetError"
    status = HTTPStatus.BAD_REQUEST
    default_message = (
        "The dataset has no data files. Add data files (Parquet, CSV, JSON Lines, images, audio...) to the"
        " repository to enable the viewer."
    )


class SplitsNamesError(WorkerError):
    """The configs or splits of the dataset could not be listed."""

    code = "SplitsNamesError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot get the config and split names of the dataset."


class InfoError(WorkerError):
    """The metadata (splits, features) of a config could not be read."""

    code = "InfoError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot get the info (splits and features) of the dataset config."


class FeaturesError(WorkerError):
    """The features (columns) of a split could not be determined."""

    code = "FeaturesError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot get the features (columns) of the split."


class StreamingRowsError(WorkerError):
    """The first rows of a split could not be read in streaming mode."""

    code = "StreamingRowsError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot read the first rows of the split (in streaming mode)."


class RowsPostProcessingError(WorkerError):
    """The rows were read but could not be converted to JSON cells or asset files (a server-side bug)."""

    code = "RowsPostProcessingError"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message = "Server error while post-processing the split rows. Please report the issue."


class UnsupportedFeatureTypeError(WorkerError):
    """A column has a feature type that the cell conversion does not know (a new or custom `datasets` type).

    Not retried: only a new version of this server can show it.
    """

    code = "UnsupportedFeatureTypeError"
    status = HTTPStatus.NOT_IMPLEMENTED
    default_message = "The split has a column whose feature type is not supported by this server."


class TooBigContentError(WorkerError):
    """The response exceeds FIRST_ROWS_MAX_RESPONSE_BYTES even without any row (the features alone)."""

    code = "TooBigContentError"
    status = HTTPStatus.NOT_IMPLEMENTED
    default_message = "The split's features (columns) are too big to be shown, even without any row."


class HubUnavailableError(WorkerError):
    """The Hub answered 5xx or 429, or could not be reached. Retried."""

    code = "HubUnavailableError"
    status = HTTPStatus.BAD_GATEWAY
    default_message = "The Hub is temporarily unavailable. The dataset will be processed again later."
    retryable = True


class JobCrashedError(WorkerError):
    """The process running the job died (segfault, abort, killed). Retried."""

    code = "JobCrashedError"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message = "The job processing this dataset crashed."
    retryable = True


class JobTimeoutError(WorkerError):
    """The job ran longer than WORKER_MAX_JOB_DURATION_SECONDS and was killed. Retried."""

    code = "JobTimeoutError"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message = "The job processing this dataset took too long and was stopped."
    retryable = True


class JobMemoryExceededError(WorkerError):
    """The job used more memory than WORKER_MAX_JOB_MEMORY_BYTES and was killed. Retried, like a kill by the
    kernel's OOM killer (JobCrashedError): the memory left to a job depends on what else runs on the host.
    """

    code = "JobMemoryExceededError"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message = "The job processing this dataset used too much memory and was stopped."
    retryable = True
