"""Helpers shared by the MongoDB engines of the cache and the queue (plain pymongo, no ODM)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from libcommon.clock import as_utc, utc_now

#: A raw BSON document as pymongo returns it.
Document: TypeAlias = dict[str, Any]


@dataclass(frozen=True)
class IndexSpec:
    """An index to create at start-up: its name, its keys (all ascending) and its options."""

    name: str
    keys: Sequence[str]
    unique: bool = False
    partial_filter: Document | None = field(default=None)


def create_indexes(collection: Collection[Document], specs: Sequence[IndexSpec]) -> None:
    """Create every index (a no-op for the ones that already exist with the same definition)."""
    for spec in specs:
        options: Document = {"name": spec.name}
        if spec.unique:
            options["unique"] = True
        if spec.partial_filter is not None:
            options["partialFilterExpression"] = spec.partial_filter
        collection.create_index([(key, ASCENDING) for key in spec.keys], **options)


def parse_object_id(value: str) -> ObjectId | None:
    """The ObjectId written as `value` (24 hex digits), or None if it is not one."""
    # ObjectId() also accepts 12-byte strings; ids we hand out are always the 24-hex form.
    if len(value) != 24:
        return None
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def to_ms(value: datetime) -> datetime:
    """`value` as UTC, truncated to the millisecond: the precision of a BSON datetime."""
    value = as_utc(value)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def now_ms() -> datetime:
    """The current UTC time at BSON precision: the record we return equals the one read back later."""
    return to_ms(utc_now())


def optional_utc(value: datetime | None) -> datetime | None:
    """`as_utc` for an optional field (a client without `tz_aware` reads naive datetimes)."""
    return None if value is None else as_utc(value)


def optional_bytes(value: bytes | None) -> bytes | None:
    """Plain `bytes` for an optional binary field (pymongo may hand back `bson.Binary`)."""
    return None if value is None else bytes(value)


def ping(client: MongoClient[Any]) -> bool:
    """True if the server answers a `ping` now."""
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    return True
