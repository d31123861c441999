"""Access check on the Hub: may the caller see this dataset?

The caller's `cookie` and `authorization` headers (and nothing else) are forwarded to the Hub's
auth-check endpoint. The check fails closed: anything but a 200 means no data. The forwarded headers are
never logged.
"""

from __future__ import annotations

import logging
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Final

import httpx
from starlette.datastructures import Headers

from api.errors import (
    ExternalAuthCheckError,
    ExternalAuthCheckUnavailableError,
    ExternalAuthenticatedError,
    ExternalUnauthenticatedError,
)

logger = logging.getLogger(__name__)

#: The only incoming headers sent on to the Hub.
FORWARDED_HEADERS: Final = ("cookie", "authorization")


def create_hub_client(timeout_seconds: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An HTTP client for the Hub, shared by all requests of the app.

    Its cookie jar accepts nothing: a `Set-Cookie` from the Hub in answer to one caller must never be
    sent along with the request of another caller. Redirects are not followed.
    """
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False, cookies=jar, transport=transport)


class HubAuthChecker:
    """Checks access to a dataset with the Hub, or lets everything through when `url_template` is None."""

    def __init__(self, url_template: str | None, timeout_seconds: float) -> None:
        """`url_template` is the full auth-check URL with `%s` where the dataset name goes."""
        if url_template is not None and "%s" not in url_template:
            raise ValueError("the auth-check URL template must contain %s")
        self.url_template = url_template
        self.timeout_seconds = timeout_seconds

    @property
    def enabled(self) -> bool:
        """True if requests are checked with the Hub."""
        return self.url_template is not None

    async def check(self, dataset: str, headers: Headers, client: httpx.AsyncClient | None) -> None:
        """Return if the caller may access `dataset`; raise an ApiError otherwise.

        `dataset` must already be a valid Hub repo id (it is put in the URL as is).
        200 → allowed; 401 → ExternalUnauthenticatedError (401); 403 or 404 → ExternalAuthenticatedError
        (404); any other status → ExternalAuthCheckError (502); timeout or network error →
        ExternalAuthCheckUnavailableError (503).
        """
        if self.url_template is None:
            return
        if client is None:
            raise RuntimeError("the Hub client is not started (the app must run with its lifespan)")
        forwarded = {name: value for name in FORWARDED_HEADERS if (value := headers.get(name))}
        url = self.url_template % dataset
        try:
            response = await client.get(url, headers=forwarded, timeout=self.timeout_seconds)
        except httpx.HTTPError as err:
            logger.warning(
                "hub auth check failed", extra={"dataset": dataset, "error": type(err).__name__, "url": url}
            )
            raise ExternalAuthCheckUnavailableError(cause=err) from err
        status = response.status_code
        if status == 200:
            return
        if status == 401:
            raise ExternalUnauthenticatedError()
        if status in (403, 404):
            raise ExternalAuthenticatedError()
        logger.warning("hub auth check: unexpected status", extra={"dataset": dataset, "status": status, "url": url})
        raise ExternalAuthCheckError()
