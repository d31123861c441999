"""One error hierarchy: every error has a stable code, an HTTP status, a public message and a private cause.

The public body is `{"error": message}` and the code travels in the `X-Error-Code` header. The cause
(exception type, message, traceback) goes to logs and to the cache entry's `details`, never to a public
body.
"""

from __future__ import annotations

import traceback
from http import HTTPStatus
from typing import Any, ClassVar


class DatasetsServerError(Exception):
    """Base of every error with a code. Subclasses set `code`, `status` and a default `message`."""

    code: ClassVar[str] = "UnexpectedError"
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    default_message: ClassVar[str] = "Unexpected error."
    #: Whether a worker may retry the job that raised this error.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str | None = None, cause: BaseException | None = None) -> None:
        self.message = message or self.default_message
        self.cause = cause
        super().__init__(self.message)

    def as_content(self) -> dict[str, Any]:
        """The public body: the message only."""
        return {"error": self.message}

    def as_details(self) -> dict[str, Any]:
        """The private details: message, code and the cause with its traceback (for logs and operators)."""
        details: dict[str, Any] = {"error": self.message, "error_code": self.code}
        if self.cause is not None:
            details["cause_exception"] = type(self.cause).__name__
            details["cause_message"] = str(self.cause)
            details["cause_traceback"] = traceback.format_exception(self.cause)
        return details


class UnexpectedError(DatasetsServerError):
    """Anything that was not classified. Its public message never includes the cause."""

    retryable = True
