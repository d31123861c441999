"""Hub-style error responses: JSON `{"error": ...}` plus `X-Error-Code` / `X-Error-Message` headers."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

REPO_NOT_FOUND = "RepoNotFound"
GATED_REPO = "GatedRepo"
ENTRY_NOT_FOUND = "EntryNotFound"
REVISION_NOT_FOUND = "RevisionNotFound"

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


def header_safe(value: str) -> str:
    """Return `value` reduced to printable ASCII so it can travel in an HTTP header."""
    return "".join(c if " " <= c <= "~" else "?" for c in value)


def json_response(content: object, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Serialise `content` as compact JSON (non-ASCII kept) with the given status and headers."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status_code, headers=dict(headers or {}), media_type="application/json")


class HubError(Exception):
    """An error answered the way the Hub does: a status, an optional `X-Error-Code`, a message."""

    def __init__(
        self, status_code: int, message: str, code: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    def to_response(self) -> Response:
        """Build the HTTP response for this error."""
        headers = dict(self.headers)
        headers["X-Error-Message"] = header_safe(self.message)
        if self.code is not None:
            headers["X-Error-Code"] = self.code
        return json_response({"error": self.message}, self.status_code, headers)


def repo_not_found(authenticated: bool) -> HubError:
    """Missing or hidden repo: 401 for anonymous callers, 404 for authenticated ones."""
    message = "Repository not found"
    return HubError(404 if authenticated else 401, message, REPO_NOT_FOUND)


def gated_repo(repo_id: str, authenticated: bool) -> HubError:
    """Gated repo the caller may not download: 401 anonymous, 403 authenticated without access."""
    if authenticated:
        message = (
            f"Access to dataset {repo_id} is restricted and you are not in the authorized list. "
            f"Visit the dataset page to ask for access."
        )
        return HubError(403, message, GATED_REPO)
    message = (
        f"Access to dataset {repo_id} is restricted. You must have access to it and be authenticated to access it. "
        "Please log in."
    )
    return HubError(401, message, GATED_REPO)


def entry_not_found(commit: str | None = None) -> HubError:
    """Missing file or folder; carries `X-Repo-Commit` when the commit is known (clients cache the miss)."""
    headers = {"X-Repo-Commit": commit} if commit else None
    return HubError(404, "Entry not found", ENTRY_NOT_FOUND, headers)


def revision_not_found(revision: str) -> HubError:
    """Unknown branch, tag or commit."""
    return HubError(404, f"Invalid rev id: {revision}", REVISION_NOT_FOUND)


def invalid_credentials() -> HubError:
    """A token was sent but it is not known: the Hub rejects the request even on public repos."""
    return HubError(401, INVALID_CREDENTIALS)


def not_found() -> HubError:
    """Unknown route."""
    return HubError(404, "Not Found")
