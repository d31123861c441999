"""Who is calling (bearer token or `token` cookie) and what they may read, with the Hub's status codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from localhub.accounts import HubConfig, Token, User
from localhub.errors import gated_repo, invalid_credentials, repo_not_found


@dataclass(frozen=True)
class Caller:
    """The identity behind a request: anonymous when `user` is None."""

    user: User | None = None
    token: Token | None = None

    @property
    def authenticated(self) -> bool:
        """Tell whether a valid token came with the request."""
        return self.user is not None

    @property
    def log_name(self) -> str:
        """A name safe to log (never the token itself)."""
        return self.user.name if self.user is not None else "-"


ANONYMOUS = Caller()


def identify(headers: Mapping[str, str], config: HubConfig) -> Caller:
    """Find the caller of a request.

    An `Authorization` header must hold a known `Bearer` token: anything else is answered with 401
    "Invalid credentials in Authorization header", like the Hub does even on public repos. Without the
    header, a `token` cookie is used when it is valid; an unknown cookie is ignored (anonymous).
    """
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        token = value.strip()
        if scheme.lower() != "bearer" or not token:
            raise invalid_credentials()
        caller = _caller_for(token, config)
        if caller is None:
            raise invalid_credentials()
        return caller
    cookie_token = _cookie_token(headers.get("cookie"))
    if cookie_token:
        return _caller_for(cookie_token, config) or ANONYMOUS
    return ANONYMOUS


def _caller_for(token: str, config: HubConfig) -> Caller | None:
    user = config.user_for_token(token)
    return None if user is None else Caller(user=user, token=config.tokens[token])


def _cookie_token(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get("token")
    return morsel.value if morsel is not None else None


def check_metadata_access(config: HubConfig, caller: Caller, repo_id: str, exists: bool) -> None:
    """Allow reading the repo metadata and tree: missing or hidden private repos are RepoNotFound.

    Gated repos stay readable here, as on the Hub: only file downloads are gated.
    """
    if not exists or not config.can_see(caller.user, repo_id):
        raise repo_not_found(caller.authenticated)


def check_content_access(config: HubConfig, caller: Caller, repo_id: str, exists: bool) -> None:
    """Allow downloading files (and pass `/auth-check`): adds the gate on top of the metadata rules."""
    check_metadata_access(config, caller, repo_id, exists)
    if not config.can_download(caller.user, repo_id):
        raise gated_repo(repo_id, caller.authenticated)


def can_list(config: HubConfig, caller: Caller, repo_id: str) -> bool:
    """Tell whether `repo_id` appears in the caller's `/api/datasets` listing (private ones only if readable)."""
    return config.can_see(caller.user, repo_id)
