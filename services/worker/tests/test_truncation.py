"""Rows budget and truncation (anchor-2022 §5.5, exactly), and the hard cap on the response size."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from libcommon.serialization import dumps
from worker.config import FirstRowsConfig
from worker.errors import TooBigContentError
from worker.truncation import (
    create_truncated_row_items,
    fit_response,
    row_item,
    size_in_bytes,
    truncate_cell,
    truncate_row_item,
)

HEAD = {"dataset": "d", "config": "c", "split": "s", "features": []}


def limits(**changes: Any) -> FirstRowsConfig:
    """The default limits (100 rows, 10 kept, 1 MB, 100-byte cells, 10 MB response), with `changes`."""
    return FirstRowsConfig(**changes)


class Counted:
    """An iterable of rows that counts how many were taken (the rows are converted lazily)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.taken = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            self.taken += 1
            yield row


def items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row_item(index, row) for index, row in enumerate(rows)]


def test_size_is_the_serialised_length_plus_the_bytes_object_header() -> None:
    for value in ["a", 1, None, [1.5, "é"], {"row_idx": 0, "row": {"a": "b" * 1000}, "truncated_cells": []}]:
        assert size_in_bytes(value) == len(dumps(value)) + 33 == sys.getsizeof(dumps(value))


@pytest.mark.parametrize(
    ("length", "size", "truncated"),
    [(64, 99, False), (65, 100, False), (66, 101, True)],
)
def test_cells_just_under_at_and_over_min_cell_bytes(length: int, size: int, truncated: bool) -> None:
    cell = "x" * length  # serialised in length + 2 bytes: 66, 67, 68
    assert size_in_bytes(cell) == size
    item = truncate_row_item(row_item(0, {"small": 1, "cell": cell}), min_cell_bytes=100)
    if truncated:
        # The whole serialisation fits in 100 bytes: the cell becomes its JSON text, quotes included.
        assert item == {"row_idx": 0, "row": {"small": 1, "cell": f'"{cell}"'}, "truncated_cells": ["cell"]}
    else:
        assert item == {"row_idx": 0, "row": {"small": 1, "cell": cell}, "truncated_cells": []}


def test_truncated_values() -> None:
    assert truncate_cell("a" * 500, 100) == '"' + "a" * 99
    assert truncate_cell([38.66] * 50, 100) == "[" + "38.66," * 16 + "38."
    assert truncate_cell({"k": "v" * 200}, 10) == '{"k":"vvvv'
    # 'é' takes two bytes: byte 100 is the first half of the 50th one, dropped
    assert truncate_cell("é" * 100, 100) == '"' + "é" * 49
    assert truncate_cell("€" * 100, 100) == '"' + "€" * 33
    assert truncate_cell(b"\x00" * 300, 20) == '"' + "A" * 19


def test_truncated_cells_are_listed_in_column_order_and_never_truncated_twice() -> None:
    big = "z" * 300
    item = truncate_row_item(row_item(3, {"b": big, "a": 1, "c": [big], "d": None}), 100)
    assert item["truncated_cells"] == ["b", "c"]
    assert item["row"] == {"b": '"' + "z" * 99, "a": 1, "c": '["' + "z" * 98, "d": None}
    assert truncate_row_item(item, 100) == item


def test_max_number() -> None:
    rows = Counted([{"i": i} for i in range(300)])
    assert create_truncated_row_items(rows, limits()) == items([{"i": i} for i in range(100)])
    assert rows.taken == 100
    assert len(create_truncated_row_items([{"i": i} for i in range(5)], limits())) == 5
    assert create_truncated_row_items([], limits()) == []


def test_max_number_below_min_number() -> None:
    assert len(create_truncated_row_items([{"i": i} for i in range(20)], limits(max_number=4, min_number=10))) == 4


def test_exact_byte_budget_boundary() -> None:
    rows = [{"text": f"row {i:04d}"} for i in range(50)]
    with_20_rows = sum(size_in_bytes(row_item(i, row)) for i, row in enumerate(rows[:20]))
    for budget, kept in [(with_20_rows, 19), (with_20_rows + 1, 20), (with_20_rows - 1, 19)]:
        counted = Counted(rows)
        result = create_truncated_row_items(counted, limits(min_number=2, max_bytes=budget))
        assert result == items(rows[:kept])  # the row that brings the total to the budget is refused
        assert counted.taken == kept + 1  # ... after being converted; nothing after it


def test_min_rows_over_budget_are_truncated_from_the_last() -> None:
    rows = [{"id": i, "text": "t" * 1000, "short": "s"} for i in range(15)]
    full = size_in_bytes(row_item(0, rows[0]))
    cut = size_in_bytes(truncate_row_item(row_item(0, rows[0]), 100))
    # 10 rows over the budget; truncating 3 rows brings the total under it, truncating 2 does not
    budget = 10 * full - 3 * (full - cut) + 1
    counted = Counted(rows)
    result = create_truncated_row_items(counted, limits(max_bytes=budget))
    assert counted.taken == 10
    assert [item["truncated_cells"] for item in result] == [[]] * 7 + [["text"]] * 3
    assert result[9] == {
        "row_idx": 9,
        "row": {"id": 9, "text": '"' + "t" * 99, "short": "s"},
        "truncated_cells": ["text"],
    }
    assert result[:7] == items(rows[:7])
    assert sum(size_in_bytes(item) for item in result) < budget
    # one byte less: exactly at the budget after 3 rows, so a 4th row is truncated
    result = create_truncated_row_items(rows, limits(max_bytes=budget - 1))
    assert [item["truncated_cells"] for item in result] == [[]] * 6 + [["text"]] * 4


def test_min_rows_are_returned_even_if_still_over_budget() -> None:
    rows = [{"id": i, "text": "t" * 1000} for i in range(12)]
    result = create_truncated_row_items(rows, limits(max_bytes=100))
    assert len(result) == 10
    assert all(item["truncated_cells"] == ["text"] for item in result)
    assert sum(size_in_bytes(item) for item in result) >= 100


def test_rows_after_the_min_rows_are_never_truncated() -> None:
    rows = [{"text": "t" * 1000} for _ in range(20)]
    budget = 12 * size_in_bytes(row_item(10, rows[0])) + 1
    result = create_truncated_row_items(rows, limits(max_bytes=budget))
    assert result == items(rows[:12])


def test_env_variable_of_the_response_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FirstRowsConfig.from_env().max_response_bytes == 10_000_000
    monkeypatch.setenv("FIRST_ROWS_MAX_RESPONSE_BYTES", "2000")
    assert FirstRowsConfig.from_env().max_response_bytes == 2000


# -- hard cap on the response --------------------------------------------------------------------------


def test_response_under_the_cap_is_unchanged() -> None:
    row_items = items([{"text": "t" * 1000} for _ in range(20)])
    response = {**HEAD, "rows": row_items}
    exact = len(dumps(response))
    assert fit_response(HEAD, list(row_items), limits(max_response_bytes=exact)) == response
    assert len(fit_response(HEAD, list(row_items), limits(max_response_bytes=exact - 1))["rows"]) == 19


def test_cap_drops_the_rows_beyond_the_min_rows_first() -> None:
    row_items = items([{"text": "t" * 1000} for _ in range(20)])
    cap = len(dumps({**HEAD, "rows": row_items[:12]}))
    assert fit_response(HEAD, list(row_items), limits(max_response_bytes=cap)) == {**HEAD, "rows": row_items[:12]}


def test_cap_then_truncates_the_cells_of_the_min_rows() -> None:
    row_items = items([{"id": i, "text": "t" * 1000} for i in range(20)])
    truncated_three = row_items[:7] + [truncate_row_item(item, 100) for item in row_items[7:10]]
    cap = len(dumps({**HEAD, "rows": truncated_three}))
    response = fit_response(HEAD, list(row_items), limits(max_response_bytes=cap))
    assert response == {**HEAD, "rows": truncated_three}
    assert len(dumps(response)) <= cap


def test_cap_then_drops_min_rows() -> None:
    # 300 columns of cells too small to be truncated: 10 rows cannot fit in 50 kB
    row = {f"column_{c:03d}": "v" * 60 for c in range(300)}
    row_items = items([row] * 10)
    response = fit_response(HEAD, list(row_items), limits(max_response_bytes=50_000))
    assert len(dumps(response)) <= 50_000
    assert response["rows"] == row_items[: len(response["rows"])]
    assert 0 < len(response["rows"]) < 10
    assert len(dumps({**HEAD, "rows": row_items[: len(response["rows"]) + 1]})) > 50_000


def test_cap_keeps_the_features_or_fails() -> None:
    head = {**HEAD, "features": [{"feature_idx": i, "name": f"c{i}", "type": {"_type": "Value"}} for i in range(100)]}
    response = fit_response(head, items([{"a": 1}] * 10), limits(max_response_bytes=len(dumps({**head, "rows": []}))))
    assert response == {**head, "rows": []}
    with pytest.raises(TooBigContentError) as info:
        fit_response(head, items([{"a": 1}]), limits(max_response_bytes=1000))
    assert (info.value.code, int(info.value.status)) == ("TooBigContentError", 501)
