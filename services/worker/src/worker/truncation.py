"""Choosing and truncating the rows of a `/first-rows` response (anchor-2022 §5.5, then a hard cap).

1. Rows budget (§5.5, exactly). `size(x)` is the length of x's JSON serialisation plus 33 (the original
   measured `sys.getsizeof` of the serialised bytes), computed on row items
   `{"row_idx", "row", "truncated_cells"}`, not on the whole response. At most `max_number` rows. The first
   `min_number` rows are always kept: if their sizes sum to `max_bytes` or more, the rows are visited from
   the last to the first, stopping as soon as the total is below `max_bytes`, and in each visited row every
   cell with `size(cell) > min_cell_bytes` is replaced by the string of the first `min_cell_bytes` bytes of
   its serialisation (decoded as UTF-8, broken sequences dropped), its column being listed in
   `truncated_cells` (column order); only these rows are returned, even if still over the budget.
   Otherwise the next rows are added one at a time, stopping without the row that brings the total to
   `max_bytes` or more. Rows are consumed lazily: rows after the first refused one are never converted.

2. Hard cap (`fit_response`). The serialised response (features included) must not exceed
   `max_response_bytes`, so that it fits in a cache entry: while it does, rows beyond `min_number` are
   dropped (last first); then the cells of the kept rows are truncated as in step 1, from the last row to
   the first, until it fits; then rows are dropped (last first), down to none. A response that does not fit
   even without rows (the features alone are too big) raises TooBigContentError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any, Final

from libcommon.serialization import dumps
from worker.config import FirstRowsConfig
from worker.errors import TooBigContentError

#: `sys.getsizeof(b"")` on 64-bit CPython: the original sizes include the bytes object's header.
BYTES_OBJECT_OVERHEAD: Final = 33

RowItem = dict[str, Any]


def size_in_bytes(value: Any) -> int:
    """The size of `value` as the original measured it: serialised length + 33."""
    return len(dumps(value)) + BYTES_OBJECT_OVERHEAD


def truncate_cell(cell: Any, min_cell_bytes: int) -> str:
    """The first `min_cell_bytes` bytes of the cell's serialisation, as text (broken UTF-8 dropped)."""
    return dumps(cell)[:min_cell_bytes].decode("utf-8", "ignore")


def row_item(row_idx: int, row: Mapping[str, Any]) -> RowItem:
    """A row of the response: `{"row_idx", "row", "truncated_cells": []}`."""
    return {"row_idx": row_idx, "row": dict(row), "truncated_cells": []}


def truncate_row_item(item: RowItem, min_cell_bytes: int) -> RowItem:
    """The row item with every cell bigger than `min_cell_bytes` truncated (cells truncated already stay)."""
    already = set(item["truncated_cells"])
    row: dict[str, Any] = {}
    truncated: list[str] = []
    for column, cell in item["row"].items():
        if column in already:
            row[column] = cell
            truncated.append(column)
        elif size_in_bytes(cell) > min_cell_bytes:
            row[column] = truncate_cell(cell, min_cell_bytes)
            truncated.append(column)
        else:
            row[column] = cell
    return {**item, "row": row, "truncated_cells": truncated}


def truncate_row_items(items: list[RowItem], max_bytes: int, min_cell_bytes: int) -> list[RowItem]:
    """Truncate the cells of the rows, last row first, until the rows' total size is below `max_bytes`."""
    total = sum(size_in_bytes(item) for item in items)
    for index in reversed(range(len(items))):
        if total < max_bytes:
            break
        previous = size_in_bytes(items[index])
        items[index] = truncate_row_item(items[index], min_cell_bytes)
        total += size_in_bytes(items[index]) - previous
    return items


def create_truncated_row_items(rows: Iterable[Mapping[str, Any]], limits: FirstRowsConfig) -> list[RowItem]:
    """The row items of the response, by the rows budget of the module docstring (step 1)."""
    iterator = iter(rows)
    items: list[RowItem] = []
    total = 0
    for row_idx, row in enumerate(islice(iterator, min(limits.min_number, limits.max_number))):
        items.append(row_item(row_idx, row))
        total += size_in_bytes(items[-1])
    if total >= limits.max_bytes:
        return truncate_row_items(items, limits.max_bytes, limits.min_cell_bytes)
    for row_idx, row in enumerate(islice(iterator, limits.max_number - len(items)), start=len(items)):
        item = row_item(row_idx, row)
        total += size_in_bytes(item)
        if total >= limits.max_bytes:
            break
        items.append(item)
    return items


def fit_response(head: Mapping[str, Any], items: list[RowItem], limits: FirstRowsConfig) -> dict[str, Any]:
    """`{**head, "rows": items}`, reduced to at most `limits.max_response_bytes` serialised bytes (step 2).

    `items` is modified in place. Raises TooBigContentError if `head` alone is too big.
    """
    cap = limits.max_response_bytes
    # The compact serialisation of `{..., "rows": [a, b]}` is that of `{..., "rows": []}` plus each item
    # plus the commas between them.
    empty = len(dumps({**head, "rows": []}))
    lengths = [len(dumps(item)) for item in items]

    def total() -> int:
        return empty + sum(lengths) + max(len(lengths) - 1, 0)

    while total() > cap and len(items) > limits.min_number:
        items.pop()
        lengths.pop()
    for index in reversed(range(len(items))):
        if total() <= cap:
            break
        items[index] = truncate_row_item(items[index], limits.min_cell_bytes)
        lengths[index] = len(dumps(items[index]))
    while total() > cap and items:
        items.pop()
        lengths.pop()
    if total() > cap:
        raise TooBigContentError(
            f"The features of the split take {empty} bytes, more than the {cap} bytes a response may take."
        )
    return {**head, "rows": items}
