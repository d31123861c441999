"""The errors the API raises itself. Each has a stable code (sent as `X-Error-Code`), a status and a message.

Errors computed by the workers are not here: they are stored in the cache and replayed as they are.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar, Final

from libcommon.errors import DatasetsServerError, UnexpectedError

#: Seconds a client is told to wait (`Retry-After`) before asking again for a response being computed.
NOT_READY_RETRY_AFTER_SECONDS: Final = 10
#: Seconds a client is told to wait when the Hub access check could not be reached.
HUB_UNAVAILABLE_RETRY_AFTER_SECONDS: Final = 5

__all__ = [
    "ApiError",
    "ExternalAuthCheckError",
    "ExternalAuthCheckUnavailableError",
    "ExternalAuthenticatedError",
    "ExternalUnauthenticatedError",
    "InvalidParameterError",
    "MissingRequiredParameterError",
    "ResponseNotFoundError",
    "ResponseNotReadyError",
    "UnexpectedError",
]


class ApiError(DatasetsServerError):
    """An error raised by the API. `retry_after` (seconds) is sent as `Retry-After` when set."""

    retry_after: ClassVar[int | None] = None


class MissingRequiredParameterError(ApiError):
    """A required query parameter is missing, empty or blank."""

    code = "MissingRequiredParameter"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class InvalidParameterError(ApiError):
    """A query parameter has a value the API refuses (e.g. not a valid Hub dataset id)."""

    code = "InvalidParameter"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class ExternalUnauthenticatedError(ApiError):
    """The Hub answered 401: the dataset may exist, but not for anonymous users."""

    code = "ExternalUnauthenticatedError"
    status = HTTPStatus.UNAUTHORIZED
    default_message = (
        "The dataset does not exist, or is not accessible without authentication (private or gated). "
        "Please retry with authentication."
    )


class ExternalAuthenticatedError(ApiError):
    """The Hub answered 403 or 404. Sent as 404 so that the existence of a private dataset is not disclosed."""

    code = "ExternalAuthenticatedError"
    status = HTTPStatus.NOT_FOUND
    default_message = (
        "The dataset does not exist, or is not accessible with the current credentials (private or gated)."
    )


class ExternalAuthCheckError(ApiError):
    """The Hub access check answered something unexpected: fail closed."""

    code = "ExternalAuthCheckError"
    status = HTTPStatus.BAD_GATEWAY
    default_message = "The access check on the Hub returned an unexpected response. Please retry later."


class ExternalAuthCheckUnavailableError(ExternalAuthCheckError):
    """The Hub access check timed out or could not be reached: fail closed, ask to retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    default_message = "The access check on the Hub could not be completed. Please retry later."
    retry_after = HUB_UNAVAILABLE_RETRY_AFTER_SECONDS


class ResponseNotReadyError(ApiError):
    """No cached response yet, but a job that will produce it is pending.

    A 500, as in the seeds' contract, with `Retry-After` so that clients can tell "busy" from "broken".
    """

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    retry_after = NOT_READY_RETRY_AFTER_SECONDS


class ResponseNotFoundError(ApiError):
    """No cached response, and none will be computed."""

    status = HTTPStatus.NOT_FOUND
    default_message = "Not found."


class SplitsResponseNotReadyError(ResponseNotReadyError):
    """The /splits response of the dataset is being computed."""

    code = "SplitsResponseNotReady"
    default_message = "The list of splits is not ready yet. Please retry later."


class FirstRowsResponseNotReadyError(ResponseNotReadyError):
    """The /first-rows response of the split is being computed."""

    code = "FirstRowsResponseNotReady"
    default_message = "The list of the first rows is not ready yet. Please retry later."


class SplitsResponseNotFoundError(ResponseNotFoundError):
    """There is no /splits response for the dataset."""

    code = "SplitsResponseNotFound"


class FirstRowsResponseNotFoundError(ResponseNotFoundError):
    """There is no /first-rows response for the split."""

    code = "FirstRowsResponseNotFound"
