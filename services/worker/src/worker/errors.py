"""The errors a job can end with: stable codes, HTTP statuses, public messages; the cause goes to details.

Statuses: 404 when the dataset, config or split does not exist (not stored in the cache, see
`WorkerError.stored`); 400 when the dataset's own content cannot be read (retrying will not help until the
dataset changes); 403 for a gated dataset this server cannot read; 501 for loading scripts; 502 when the
Hub fails (retried); 500 for failures of this server (crash, time or memory limit, post-processing bug).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from libcommon.errors import DatasetsServerError, UnexpectedError
from libcommon.log import redact

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
    "RowsPostProcessingError",
    "SplitNotFoundError",
    "SplitsNamesError",
    "StreamingRowsError",
    "UnexpectedError",
    "WorkerError",
]

#: Longest cause summary appended to a public message.
MAX_CAUSE_CHARS = 300


class WorkerError(DatasetsServerError):
    """Base of the errors raised by job runners and by the process that supervises them."""

    #: Whether the error is written to the cache. 404-class errors are not, so that jobs for names that do
    #: not exist cannot fill the cache; the loop deletes the entries of the key instead.
    stored: ClassVar[bool] = True
    #: Whether a one-line summary of the cause is appended to the public message (never a traceback):
    #: only for errors caused by the dataset's content, where it tells the owner what to fix.
    disclose_cause: ClassVar[bool] = False

    def as_content(self) -> dict[str, Any]:
        """The public body: the message, plus a short cause summary when the class discloses it."""
        message = self.message
        if self.disclose_cause and self.cause is not None:
            message = f"{message} Cause: {cause_summary(self.cause)}"
        return {"error": message}


def cause_summary(cause: BaseException) -> str:
    """`Type: first line of the message`, shortened and with credentials masked."""
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    summary = f"{type(cause).__name__}: {text}" if text else type(cause).__name__
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
    disclose_cause = True


class InfoError(WorkerError):
    """The metadata (splits, features) of a config could not be read."""

    code = "InfoError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot get the info (splits and features) of the dataset config."
    disclose_cause = True


class FeaturesError(WorkerError):
    """The features (columns) of a split could not be determined."""

    code = "FeaturesError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot get the features (columns) of the split."
    disclose_cause = True


class StreamingRowsError(WorkerError):
    """The first rows of a split could not be read in streaming mode."""

    code = "StreamingRowsError"
    status = HTTPStatus.BAD_REQUEST
    default_message = "Cannot read the first rows of the split (in streaming mode)."
    disclose_cause = True


class RowsPostProcessingError(WorkerError):
    """The rows were read but could not be converted to JSON cells or asset files (a server-side bug)."""

    code = "RowsPostProcessingError"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message = "Server error while post-processing the split rows. Please report the issue."


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
    """The job used more memory than WORKER_MAX_JOB_MEMORY_BYTES and was killed. Not retried."""

    code = "JobMemoryExceededError"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message = "The job processing this dataset used too much memory and was stopped."
