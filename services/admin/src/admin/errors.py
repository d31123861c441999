"""Errors the admin service raises. Each has a stable code (sent as `X-Error-Code`), a status and a message."""

from __future__ import annotations

from http import HTTPStatus

from libcommon.errors import DatasetsServerError


class InvalidParameterError(DatasetsServerError):
    """A query parameter has a value the service refuses."""

    code = "InvalidParameter"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
