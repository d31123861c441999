"""Reading environment variables with environs: scoped names first, legacy aliases second.

Every service parses its configuration once at start-up through `read`. A variable that is unset or blank
takes its default (as in the original services, an empty value means "use the default"); `${VAR}` is
expanded; a `.env` file in the working directory is loaded. A value that cannot be parsed raises
`ConfigError` naming the variable, so the process stops at once instead of failing later.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from environs import Env, EnvError
from marshmallow import ValidationError

T = TypeVar("T")

_env = Env(expand_vars=True)
_env.read_env(path=os.path.join(os.getcwd(), ".env"), recurse=False)


class ConfigError(ValueError):
    """An environment variable has a value the service cannot use. The message names the variable."""


def _first_set(names: Sequence[str]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return name
    return None


def read(names: str | Sequence[str], default: T, kind: str = "str", **options: Any) -> T:
    """Read the first non-blank variable among `names` (scoped name first, then aliases).

    `kind` is an environs parser (`str`, `int`, `float`, `bool`, `list`, `path`, ...); `options` are
    passed to it (`validate=`, ...). Returns `default` when none of the names is set.
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    name = _first_set(names)
    if name is None:
        return default
    parser: Callable[..., T] = getattr(_env, kind)
    try:
        value = parser(name, **options)
    except EnvError as err:
        raise ConfigError(str(err)) from None
    if isinstance(value, str):
        return cast(T, value.strip())
    return value


def at_least(minimum: float) -> Callable[[float], None]:
    """Validator: the value must be >= minimum."""

    def validate(value: float) -> None:
        if value < minimum:
            raise ValidationError(f"must be >= {minimum}, got {value}")

    return validate


def one_of(choices: Sequence[str]) -> Callable[[str], None]:
    """Validator: the value must be one of `choices`."""

    def validate(value: str) -> None:
        if value not in choices:
            raise ValidationError(f"must be one of {', '.join(choices)}, got {value!r}")

    return validate


def http_url(value: str) -> None:
    """Validator: an http(s) URL with a host."""
    scheme, sep, rest = value.partition("://")
    if scheme not in ("http", "https") or not sep or not rest.strip("/"):
        raise ValidationError(f"must be an http:// or https:// URL, got {value!r}")


def store_url(value: str) -> None:
    """Validator: mongodb://, mongodb+srv:// or sqlite:///absolute/path."""
    if value.startswith(("mongodb://", "mongodb+srv://")):
        return
    if value.startswith("sqlite:///"):
        path = value[len("sqlite://") :]
        if os.path.isabs(path) and path.strip("/"):
            return
    raise ValidationError(f"must be mongodb://..., mongodb+srv://... or sqlite:///absolute/path.db, got {value!r}")
