"""The cache contract (libcommon.storage.cache.CacheStore), run against every engine."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from libcommon.clock import utc_now
from libcommon.storage.cache import CacheStore, InvalidCursor, InvalidLimit
from libcommon.storage.records import CacheCount, CacheReport

SPLITS = "/splits"
FIRST_ROWS = "/first-rows"
KINDS = [SPLITS, FIRST_ROWS]
# MongoDB keeps milliseconds only.
PRECISION = timedelta(milliseconds=1)


def assert_utc_between(value: datetime, before: datetime, after: datetime) -> None:
    assert value.utcoffset() == timedelta(0)
    assert before - PRECISION <= value <= after + PRECISION


def put(
    store: CacheStore,
    kind: str,
    dataset: str,
    config: str | None = None,
    split: str | None = None,
    http_status: int = 200,
    error_code: str | None = None,
) -> None:
    store.upsert(
        kind,
        dataset,
        config,
        split,
        content=f'{{"key":"{kind} {dataset} {config} {split}"}}'.encode(),
        http_status=http_status,
        error_code=error_code,
    )


def test_get_missing_key_returns_none(cache_store: CacheStore) -> None:
    assert cache_store.get(SPLITS, "missing") is None
    put(cache_store, FIRST_ROWS, "ds", "c", "s")
    assert cache_store.get(FIRST_ROWS, "ds", "c", "other") is None
    assert cache_store.get(FIRST_ROWS, "ds", "c") is None
    assert cache_store.get(SPLITS, "ds", "c", "s") is None


def test_upsert_sets_every_field(cache_store: CacheStore) -> None:
    before = utc_now()
    cache_store.upsert(
        FIRST_ROWS,
        "org/ds",
        "config",
        "train",
        content=b'{"rows":[1,2,3]}',
        http_status=500,
        error_code="RowsError",
        details=b'{"cause":"boom"}',
        job_runner_version=3,
        dataset_git_revision="abc123",
    )
    after = utc_now()
    entry = cache_store.get(FIRST_ROWS, "org/ds", "config", "train")
    assert entry is not None
    assert (entry.kind, entry.dataset, entry.config, entry.split) == (FIRST_ROWS, "org/ds", "config", "train")
    assert entry.content == b'{"rows":[1,2,3]}'
    assert type(entry.content) is bytes
    assert entry.http_status == 500
    assert entry.error_code == "RowsError"
    assert entry.details == b'{"cause":"boom"}'
    assert entry.job_runner_version == 3
    assert entry.dataset_git_revision == "abc123"
    assert entry.stale is False
    assert_utc_between(entry.updated_at, before, after)


def test_upsert_replaces_every_field(cache_store: CacheStore) -> None:
    cache_store.upsert(
        SPLITS,
        "ds",
        content=b'{"old":true}',
        http_status=500,
        error_code="SplitsError",
        details=b'{"cause":"old"}',
        job_runner_version=1,
        dataset_git_revision="old",
    )
    first = cache_store.get(SPLITS, "ds")
    assert first is not None
    cache_store.upsert(SPLITS, "ds", content=b'{"new":true}', http_status=200)
    second = cache_store.get(SPLITS, "ds")
    assert second is not None
    assert second.content == b'{"new":true}'
    assert second.http_status == 200
    assert second.error_code is None
    assert second.details is None
    assert second.job_runner_version is None
    assert second.dataset_git_revision is None
    assert second.updated_at >= first.updated_at


def test_upsert_is_idempotent(cache_store: CacheStore) -> None:
    for _ in range(3):
        cache_store.upsert(FIRST_ROWS, "ds", "c", "s", content=b"{}", http_status=200, job_runner_version=2)
    assert cache_store.list_keys(FIRST_ROWS, "ds") == [("c", "s")]
    assert cache_store.count_by_status_and_error_code() == [CacheCount(FIRST_ROWS, 200, None, 1)]
    entry = cache_store.get(FIRST_ROWS, "ds", "c", "s")
    assert entry is not None
    assert (entry.content, entry.job_runner_version, entry.stale) == (b"{}", 2, False)


def test_upsert_resets_stale(cache_store: CacheStore) -> None:
    put(cache_store, SPLITS, "ds")
    assert cache_store.mark_dataset_stale("ds") == 1
    stale = cache_store.get(SPLITS, "ds")
    assert stale is not None and stale.stale is True
    put(cache_store, SPLITS, "ds")
    fresh = cache_store.get(SPLITS, "ds")
    assert fresh is not None and fresh.stale is False


def test_none_config_and_split_are_part_of_the_key(cache_store: CacheStore) -> None:
    cache_store.upsert("/kind", "ds", content=b"1", http_status=200)
    cache_store.upsert("/kind", "ds", "c", content=b"2", http_status=200)
    cache_store.upsert("/kind", "ds", "c", "s", content=b"3", http_status=200)
    cache_store.upsert("/kind", "ds", "", content=b"4", http_status=200)
    cache_store.upsert("/kind", "ds", None, content=b"5", http_status=200)  # replaces the first one
    contents = {
        key: entry.content
        for key in [(None, None), ("c", None), ("c", "s"), ("", None)]
        if (entry := cache_store.get("/kind", "ds", *key)) is not None
    }
    assert contents == {(None, None): b"5", ("c", None): b"2", ("c", "s"): b"3", ("", None): b"4"}
    dataset_level = cache_store.get("/kind", "ds")
    assert dataset_level is not None and (dataset_level.config, dataset_level.split) == (None, None)
    assert cache_store.list_keys("/kind", "ds") == [(None, None), ("", None), ("c", None), ("c", "s")]


def test_unicode_and_slashes_in_names(cache_store: CacheStore) -> None:
    key = ("ünï/çødé-数据", "conf/with/slash", "spl it/é")
    cache_store.upsert(FIRST_ROWS, *key, content='{"é":"数据"}'.encode(), http_status=200)
    entry = cache_store.get(FIRST_ROWS, *key)
    assert entry is not None
    assert (entry.dataset, entry.config, entry.split) == key
    assert entry.content.decode() == '{"é":"数据"}'
    assert cache_store.list_keys(FIRST_ROWS, key[0]) == [(key[1], key[2])]
    assert cache_store.get(FIRST_ROWS, "ünï", "conf/with/slash", "spl it/é") is None
    assert cache_store.delete(FIRST_ROWS, *key) is True


def test_delete_by_key(cache_store: CacheStore) -> None:
    put(cache_store, FIRST_ROWS, "ds", "c", "s1")
    put(cache_store, FIRST_ROWS, "ds", "c", "s2")
    put(cache_store, SPLITS, "ds")
    assert cache_store.delete(FIRST_ROWS, "ds", "c", "s1") is True
    assert cache_store.delete(FIRST_ROWS, "ds", "c", "s1") is False
    assert cache_store.delete(FIRST_ROWS, "ds", "c") is False
    assert cache_store.delete(SPLITS, "other") is False
    assert cache_store.get(FIRST_ROWS, "ds", "c", "s1") is None
    assert cache_store.list_keys(FIRST_ROWS, "ds") == [("c", "s2")]
    assert cache_store.get(SPLITS, "ds") is not None


def test_delete_dataset(cache_store: CacheStore) -> None:
    put(cache_store, SPLITS, "ds")
    put(cache_store, FIRST_ROWS, "ds", "c", "s1")
    put(cache_store, FIRST_ROWS, "ds", "c", "s2", http_status=500, error_code="E")
    put(cache_store, SPLITS, "ds2")
    put(cache_store, SPLITS, "user/ds")
    assert cache_store.delete_dataset("ds") == 3
    assert cache_store.delete_dataset("ds") == 0
    assert cache_store.get(SPLITS, "ds") is None
    assert cache_store.list_keys(FIRST_ROWS, "ds") == []
    assert cache_store.get(SPLITS, "ds2") is not None
    assert cache_store.get(SPLITS, "user/ds") is not None


def test_mark_dataset_stale(cache_store: CacheStore) -> None:
    put(cache_store, SPLITS, "ds")
    put(cache_store, FIRST_ROWS, "ds", "c", "s1")
    put(cache_store, FIRST_ROWS, "ds", "c", "s2")
    put(cache_store, SPLITS, "other")
    assert cache_store.mark_dataset_stale("ds", FIRST_ROWS) == 2
    splits = cache_store.get(SPLITS, "ds")
    first_rows = cache_store.get(FIRST_ROWS, "ds", "c", "s1")
    assert splits is not None and splits.stale is False
    assert first_rows is not None and first_rows.stale is True
    assert first_rows.content == b'{"key":"/first-rows ds c s1"}'
    assert cache_store.mark_dataset_stale("ds") == 3  # entries already stale count too
    splits = cache_store.get(SPLITS, "ds")
    other = cache_store.get(SPLITS, "other")
    assert splits is not None and splits.stale is True
    assert other is not None and other.stale is False
    assert cache_store.mark_dataset_stale("missing") == 0
    assert cache_store.mark_dataset_stale("other", FIRST_ROWS) == 0


def test_list_keys_is_sorted(cache_store: CacheStore) -> None:
    for config, split in [("c1", "s2"), ("c1", "s1"), ("c0", "s9"), ("b", "z")]:
        put(cache_store, FIRST_ROWS, "ds", config, split)
    put(cache_store, FIRST_ROWS, "other", "a", "a")
    put(cache_store, "/config-level", "ds", "y")
    put(cache_store, "/config-level", "ds", "x")
    assert cache_store.list_keys(FIRST_ROWS, "ds") == [("b", "z"), ("c0", "s9"), ("c1", "s1"), ("c1", "s2")]
    assert cache_store.list_keys("/config-level", "ds") == [("x", None), ("y", None)]
    assert cache_store.list_keys(SPLITS, "ds") == []
    assert cache_store.list_keys(FIRST_ROWS, "missing") == []


@pytest.fixture
def validity_cache(cache_store: CacheStore) -> CacheStore:
    put(cache_store, SPLITS, "ok")
    put(cache_store, FIRST_ROWS, "ok", "c", "s1")
    put(cache_store, FIRST_ROWS, "ok", "c", "s2", http_status=500, error_code="RowsError")
    put(cache_store, SPLITS, "all_first_rows_errors")
    put(cache_store, FIRST_ROWS, "all_first_rows_errors", "c", "s1", http_status=500, error_code="RowsError")
    put(cache_store, FIRST_ROWS, "all_first_rows_errors", "c", "s2", http_status=501, error_code="Other")
    put(cache_store, SPLITS, "splits_only")
    put(cache_store, SPLITS, "splits_error", http_status=500, error_code="SplitsError")
    put(cache_store, FIRST_ROWS, "splits_error", "c", "s1")
    put(cache_store, SPLITS, "stale")
    put(cache_store, FIRST_ROWS, "stale", "c", "s1")
    assert cache_store.mark_dataset_stale("stale") == 2
    put(cache_store, SPLITS, "user/ok")
    put(cache_store, FIRST_ROWS, "user/ok", "c/d", "s")
    put(cache_store, "/other-kind", "other_kind_error", http_status=404, error_code="NotFound")
    put(cache_store, FIRST_ROWS, "first_rows_only", "c", "s")
    return cache_store


def test_list_valid_datasets(validity_cache: CacheStore) -> None:
    assert validity_cache.list_valid_datasets(KINDS) == ["ok", "stale", "user/ok"]
    assert validity_cache.list_valid_datasets([FIRST_ROWS, SPLITS, SPLITS]) == ["ok", "stale", "user/ok"]
    assert validity_cache.list_valid_datasets([SPLITS]) == [
        "all_first_rows_errors",
        "ok",
        "splits_only",
        "stale",
        "user/ok",
    ]
    assert validity_cache.list_valid_datasets(["/missing-kind"]) == []
    assert validity_cache.list_valid_datasets([]) == []


def test_is_dataset_valid(validity_cache: CacheStore) -> None:
    expected = {
        "ok": True,
        "stale": True,
        "user/ok": True,
        "all_first_rows_errors": False,
        "splits_only": False,
        "splits_error": False,
        "first_rows_only": False,
        "other_kind_error": False,
        "missing": False,
        "user": False,
    }
    assert {dataset: validity_cache.is_dataset_valid(dataset, KINDS) for dataset in expected} == expected
    assert validity_cache.is_dataset_valid("splits_only", [SPLITS]) is True
    assert validity_cache.is_dataset_valid("ok", []) is False


def test_list_datasets_with_errors(validity_cache: CacheStore) -> None:
    assert validity_cache.list_datasets_with_errors(KINDS) == ["all_first_rows_errors", "ok", "splits_error"]
    assert validity_cache.list_datasets_with_errors([SPLITS]) == ["splits_error"]
    assert validity_cache.list_datasets_with_errors(["/other-kind"]) == ["other_kind_error"]
    assert validity_cache.list_datasets_with_errors([]) == []


def test_count_by_status_and_error_code(validity_cache: CacheStore) -> None:
    assert validity_cache.count_by_status_and_error_code() == [
        CacheCount("/first-rows", 200, None, 5),
        CacheCount("/first-rows", 500, "RowsError", 2),
        CacheCount("/first-rows", 501, "Other", 1),
        CacheCount("/other-kind", 404, "NotFound", 1),
        CacheCount("/splits", 200, None, 5),
        CacheCount("/splits", 500, "SplitsError", 1),
    ]


def test_count_by_status_and_error_code_empty(cache_store: CacheStore) -> None:
    assert cache_store.count_by_status_and_error_code() == []


def test_count_sorts_none_error_code_first(cache_store: CacheStore) -> None:
    put(cache_store, SPLITS, "a", http_status=500, error_code="Z")
    put(cache_store, SPLITS, "b", http_status=500)
    put(cache_store, SPLITS, "c", http_status=500, error_code="A")
    put(cache_store, SPLITS, "d", http_status=500, error_code="A")
    assert cache_store.count_by_status_and_error_code() == [
        CacheCount(SPLITS, 500, None, 1),
        CacheCount(SPLITS, 500, "A", 2),
        CacheCount(SPLITS, 500, "Z", 1),
    ]


def _datasets(reports: list[CacheReport]) -> list[str]:
    return [report.dataset for report in reports]


def test_reports_pagination(cache_store: CacheStore) -> None:
    for index in range(5):
        put(cache_store, FIRST_ROWS, f"ds{index}", "c", "s")
        put(cache_store, SPLITS, f"splits{index}")
    # Replacing an entry does not move it: the order is the order of first insertion.
    put(cache_store, FIRST_ROWS, "ds0", "c", "s", http_status=500, error_code="RowsError")

    page1 = cache_store.get_reports(FIRST_ROWS, "", 2)
    assert _datasets(page1.cache_reports) == ["ds0", "ds1"]
    assert page1.next_cursor != ""
    page2 = cache_store.get_reports(FIRST_ROWS, page1.next_cursor, 2)
    assert _datasets(page2.cache_reports) == ["ds2", "ds3"]
    assert page2.next_cursor not in ("", page1.next_cursor)
    page3 = cache_store.get_reports(FIRST_ROWS, page2.next_cursor, 2)
    assert _datasets(page3.cache_reports) == ["ds4"]
    assert page3.next_cursor == ""

    first = page1.cache_reports[0]
    entry = cache_store.get(FIRST_ROWS, "ds0", "c", "s")
    assert entry is not None
    assert first == CacheReport(
        kind=FIRST_ROWS,
        dataset="ds0",
        config="c",
        split="s",
        http_status=500,
        error_code="RowsError",
        job_runner_version=None,
        dataset_git_revision=None,
        updated_at=entry.updated_at,
        stale=False,
    )


def test_reports_final_empty_page(cache_store: CacheStore) -> None:
    for index in range(4):
        put(cache_store, SPLITS, f"ds{index}")
    page1 = cache_store.get_reports(SPLITS, "", 2)
    page2 = cache_store.get_reports(SPLITS, page1.next_cursor, 2)
    assert _datasets(page2.cache_reports) == ["ds2", "ds3"]
    assert page2.next_cursor != ""
    page3 = cache_store.get_reports(SPLITS, page2.next_cursor, 2)
    assert page3.cache_reports == []
    assert page3.next_cursor == ""


def test_reports_one_page_and_empty_kind(cache_store: CacheStore) -> None:
    for index in range(3):
        put(cache_store, SPLITS, f"ds{index}")
    page = cache_store.get_reports(SPLITS)
    assert _datasets(page.cache_reports) == ["ds0", "ds1", "ds2"]
    assert page.next_cursor == ""
    empty = cache_store.get_reports(FIRST_ROWS, "", 10)
    assert (empty.cache_reports, empty.next_cursor) == ([], "")


@pytest.mark.parametrize("cursor", ["not-a-cursor", "-1", "1.5", " ", "0x10", "zzzzzzzzzzzzzzzzzzzzzzzz"])
def test_reports_invalid_cursor(cache_store: CacheStore, cursor: str) -> None:
    put(cache_store, SPLITS, "ds")
    with pytest.raises(InvalidCursor):
        cache_store.get_reports(SPLITS, cursor, 10)


@pytest.mark.parametrize("limit", [0, -1])
def test_reports_invalid_limit(cache_store: CacheStore, limit: int) -> None:
    put(cache_store, SPLITS, "ds")
    with pytest.raises(InvalidLimit):
        cache_store.get_reports(SPLITS, "", limit)
    next_cursor = cache_store.get_reports(SPLITS, "", 1).next_cursor
    with pytest.raises(InvalidLimit):
        cache_store.get_reports(SPLITS, next_cursor, limit)


def test_is_available(cache_store: CacheStore) -> None:
    assert cache_store.is_available() is True
