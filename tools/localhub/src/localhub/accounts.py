"""Users, organisations, tokens and per-repo settings, stored in `<root>/localhub.json`.

File format (every key optional)::

    {
      "orgs": ["samples"],
      "users": {
        "alice": {"fullname": "Alice", "orgs": ["samples"]},
        "datasets-server": {"read_all": true}
      },
      "tokens": {"hf_xxx": {"user": "alice", "role": "read", "name": "alice-read"}},
      "repos": {
        "samples/gated": {"gated": "auto", "granted": ["carol"]},
        "samples/private": {"private": true}
      }
    }

A user may read a private repo, or download from a gated one, when the user has `read_all`, owns the
namespace, is a member of the namespace organisation, or is listed (directly or through one of their
organisations) in the repo's `granted`. Repos absent from `repos` are public and not gated.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CONFIG_FILENAME = "localhub.json"

Gated = Literal[False, "auto", "manual"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    """A Hub user; `read_all` gives read access to every repo (the service's app identity)."""

    name: str
    fullname: str = ""
    orgs: tuple[str, ...] = ()
    read_all: bool = False


@dataclass(frozen=True)
class Token:
    """An access token, owned by `user`."""

    user: str
    role: str = "read"
    name: str = ""


@dataclass(frozen=True)
class RepoSettings:
    """Visibility of one repo and the users or organisations granted access to it."""

    private: bool = False
    gated: Gated = False
    granted: tuple[str, ...] = ()


@dataclass(frozen=True)
class HubConfig:
    """The parsed content of `localhub.json`."""

    users: Mapping[str, User] = field(default_factory=dict)
    tokens: Mapping[str, Token] = field(default_factory=dict)
    orgs: tuple[str, ...] = ()
    repos: Mapping[str, RepoSettings] = field(default_factory=dict)

    def user_for_token(self, token: str) -> User | None:
        """Return the owner of `token`, or None when the token (or its user) is unknown."""
        entry = self.tokens.get(token)
        return None if entry is None else self.users.get(entry.user)

    def repo_settings(self, repo_id: str) -> RepoSettings:
        """Return the settings of `repo_id` (public and not gated when not configured)."""
        return self.repos.get(repo_id, RepoSettings())

    def has_access(self, user: User | None, repo_id: str) -> bool:
        """Tell whether `user` is entitled to the content of `repo_id` whatever its visibility."""
        if user is None:
            return False
        namespace = repo_id.split("/", 1)[0]
        granted = self.repo_settings(repo_id).granted
        return (
            user.read_all
            or namespace == user.name
            or namespace in user.orgs
            or user.name in granted
            or any(org in granted for org in user.orgs)
        )

    def can_see(self, user: User | None, repo_id: str) -> bool:
        """Tell whether `user` (None: anonymous) may see the repo metadata: not private, or entitled."""
        return not self.repo_settings(repo_id).private or self.has_access(user, repo_id)

    def can_download(self, user: User | None, repo_id: str) -> bool:
        """Tell whether `user` (None: anonymous) may read the repo files: visible, and not gated or entitled."""
        settings = self.repo_settings(repo_id)
        return self.can_see(user, repo_id) and (not settings.gated or self.has_access(user, repo_id))

    def all_orgs(self) -> list[str]:
        """Every organisation named in the file, declared or referenced by a user."""
        names = set(self.orgs)
        for user in self.users.values():
            names.update(user.orgs)
        return sorted(names)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HubConfig:
        """Parse the JSON document; raise ValueError when it is malformed."""
        try:
            users = {
                name: User(
                    name=name,
                    fullname=str(spec.get("fullname", "")),
                    orgs=tuple(str(org) for org in spec.get("orgs", [])),
                    read_all=bool(spec.get("read_all", False)),
                )
                for name, spec in dict(data.get("users", {})).items()
            }
            tokens = {
                str(token): Token(
                    user=str(spec["user"]), role=str(spec.get("role", "read")), name=str(spec.get("name", ""))
                )
                for token, spec in dict(data.get("tokens", {})).items()
            }
            repos = {repo_id: _parse_repo_settings(spec) for repo_id, spec in dict(data.get("repos", {})).items()}
            orgs = tuple(str(org) for org in data.get("orgs", []))
        except (AttributeError, KeyError, TypeError) as err:
            raise ValueError(f"invalid {CONFIG_FILENAME}: {err!r}") from err
        return cls(users=users, tokens=tokens, orgs=orgs, repos=repos)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to the JSON document format (the inverse of `from_dict`)."""
        return {
            "orgs": list(self.orgs),
            "users": {
                user.name: {"fullname": user.fullname, "orgs": list(user.orgs), "read_all": user.read_all}
                for user in self.users.values()
            },
            "tokens": {
                token: {"user": entry.user, "role": entry.role, "name": entry.name}
                for token, entry in self.tokens.items()
            },
            "repos": {
                repo_id: {"private": settings.private, "gated": settings.gated, "granted": list(settings.granted)}
                for repo_id, settings in self.repos.items()
            },
        }


def _parse_repo_settings(spec: Mapping[str, Any]) -> RepoSettings:
    gated = spec.get("gated", False)
    if gated is True:
        gated = "auto"
    if gated not in (False, "auto", "manual"):
        raise ValueError(f"invalid gated value {gated!r}: use false, 'auto' or 'manual'")
    return RepoSettings(
        private=bool(spec.get("private", False)),
        gated=gated,
        granted=tuple(str(name) for name in spec.get("granted", [])),
    )


def config_path(root: Path) -> Path:
    """Location of the configuration file for a hub root."""
    return root / CONFIG_FILENAME


def load_config(root: Path) -> HubConfig:
    """Read `<root>/localhub.json`; an absent file means no users and only public repos."""
    path = config_path(root)
    if not path.exists():
        return HubConfig()
    return HubConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))


def save_config(root: Path, config: HubConfig) -> bool:
    """Write the configuration file (only when its content changes); return True if it was written."""
    path = config_path(root)
    text = json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


class ConfigLoader:
    """Serve the current configuration, re-reading the file only when its stat signature changes.

    Editing the file while the server runs takes effect on the next request. A malformed edit keeps
    the last good configuration (and logs why) so a typo does not turn every request into a 500.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._signature: tuple[int, int] | None = None
        self._config = HubConfig()

    def get(self) -> HubConfig:
        """Return the configuration, reloading it when the file changed."""
        try:
            stat = config_path(self._root).stat()
            signature: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            signature = None
        with self._lock:
            if signature != self._signature:
                try:
                    self._config = load_config(self._root) if signature is not None else HubConfig()
                except (ValueError, OSError) as err:
                    logger.error("keeping the previous configuration: %s", err)
                self._signature = signature
            return self._config
