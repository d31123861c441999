"""Worker error codes: status, storage and retry policy of each; public bodies never show a cause."""

from __future__ import annotations

import os
from http import HTTPStatus

import pytest

from libcommon.errors import DatasetsServerError
from libcommon.serialization import loads
from worker import errors
from worker.errors import (
    ConfigNotFoundError,
    DatasetNotFoundError,
    DatasetWithScriptNotSupportedError,
    EmptyDatasetError,
    FeaturesError,
    GatedDatasetError,
    HubUnavailableError,
    InfoError,
    JobCrashedError,
    JobMemoryExceededError,
    JobTimeoutError,
    RevisionNotFoundError,
    RowsPostProcessingError,
    SplitNotFoundError,
    SplitsNamesError,
    StreamingRowsError,
    UnexpectedError,
    WorkerError,
    details_summary,
    public_message,
)
from worker.executor import outcome_from_error

#: (error class, status, stored in the cache, retried)
POLICY: list[tuple[type[DatasetsServerError], HTTPStatus, bool, bool]] = [
    (DatasetNotFoundError, HTTPStatus.NOT_FOUND, False, False),
    (ConfigNotFoundError, HTTPStatus.NOT_FOUND, False, False),
    (SplitNotFoundError, HTTPStatus.NOT_FOUND, False, False),
    (RevisionNotFoundError, HTTPStatus.NOT_FOUND, False, True),
    (GatedDatasetError, HTTPStatus.FORBIDDEN, True, False),
    (DatasetWithScriptNotSupportedError, HTTPStatus.NOT_IMPLEMENTED, True, False),
    (EmptyDatasetError, HTTPStatus.BAD_REQUEST, True, False),
    (SplitsNamesError, HTTPStatus.BAD_REQUEST, True, False),
    (InfoError, HTTPStatus.BAD_REQUEST, True, False),
    (FeaturesError, HTTPStatus.BAD_REQUEST, True, False),
    (StreamingRowsError, HTTPStatus.BAD_REQUEST, True, False),
    (RowsPostProcessingError, HTTPStatus.INTERNAL_SERVER_ERROR, True, False),
    (HubUnavailableError, HTTPStatus.BAD_GATEWAY, True, True),
    (JobCrashedError, HTTPStatus.INTERNAL_SERVER_ERROR, True, True),
    (JobTimeoutError, HTTPStatus.INTERNAL_SERVER_ERROR, True, True),
    (JobMemoryExceededError, HTTPStatus.INTERNAL_SERVER_ERROR, True, True),
    (UnexpectedError, HTTPStatus.INTERNAL_SERVER_ERROR, True, True),
]
#: A cause as a dataset library could raise it: local paths, a URL with a token, a traceback.
LEAKY = "/home/worker/.cache/huggingface/modules/x.py line 3 (token=hf_abcdefghijklmnop), see C:\\Users\\me\\f.py"


def raised_cause() -> BaseException:
    try:
        raise OSError(f'Traceback (most recent call last):\n  File "{LEAKY}"')
    except OSError as err:
        return err


def test_codes_are_stable_and_unique() -> None:
    defined = {
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, DatasetsServerError)
        and value not in (DatasetsServerError, WorkerError)
    }
    assert {error for error, *_ in POLICY} <= defined
    assert len({error.code for error in defined}) == len(defined)
    assert all(error.code == error.__name__ for error in defined)


@pytest.mark.parametrize(("error", "status", "stored", "retryable"), POLICY)
def test_status_storage_and_retry_policy(
    error: type[DatasetsServerError], status: HTTPStatus, stored: bool, retryable: bool
) -> None:
    outcome = outcome_from_error(error(cause=raised_cause()))
    assert (outcome.error_code, outcome.http_status, outcome.stored, outcome.retryable) == (
        error.code,
        int(status),
        stored,
        retryable,
    )


@pytest.mark.parametrize("error", [error for error, *_ in POLICY])
def test_public_body_is_the_message_only(error: type[DatasetsServerError]) -> None:
    outcome = outcome_from_error(error(cause=raised_cause()))
    body = loads(outcome.content)
    assert body == {"error": error.default_message}
    assert outcome.details is not None
    details = loads(outcome.details)
    assert details["cause_exception"] == "OSError" and LEAKY in details["cause_message"]
    assert any("raise OSError" in line for line in details["cause_traceback"])


@pytest.mark.parametrize(
    "message",
    [
        f"Cannot read {os.getcwd()}/data/train.csv",
        "Cannot read '/tmp/x/y.parquet'",
        "failed: ~/.cache/huggingface/hub/x",
        "see C:\\Users\\me\\file.py",
        'Traceback (most recent call last):\n  File "x.py", line 1',
        '  File "x.py", line 1, in <module>',
    ],
)
def test_a_message_with_a_path_or_a_traceback_is_never_public(message: str) -> None:
    for error in (StreamingRowsError(message), UnexpectedError(message), HubUnavailableError(message)):
        assert public_message(error) == type(error).default_message
        assert loads(outcome_from_error(error).content) == {"error": type(error).default_message}
        # the message is still there for operators
        assert loads(outcome_from_error(error).details or b"{}")["error"] == message


@pytest.mark.parametrize(
    "message",
    [
        "The Hub did not return the revision of the dataset.",
        "See https://huggingface.co/docs/hub/datasets-cards for the card format.",
        "Column a/b is not supported.",
    ],
)
def test_a_safe_message_is_kept(message: str) -> None:
    assert loads(outcome_from_error(SplitsNamesError(message)).content) == {"error": message}


def test_unclassified_exceptions_become_unexpected_errors_without_their_text() -> None:
    outcome = outcome_from_error(RuntimeError(LEAKY))
    assert (outcome.error_code, outcome.http_status, outcome.retryable) == ("UnexpectedError", 500, True)
    assert loads(outcome.content) == {"error": "Unexpected error."}
    assert loads(outcome.details or b"{}")["cause_message"] == LEAKY


def test_details_summary_is_one_redacted_line() -> None:
    outcome = outcome_from_error(StreamingRowsError(cause=raised_cause()))
    summary = details_summary(outcome.details)
    assert summary == "OSError: Traceback (most recent call last):"
    token_cause = outcome_from_error(InfoError(cause=ValueError("bad token=hf_abcdefghijklmnop\nmore")))
    assert details_summary(token_cause.details) == "ValueError: bad token=***"
    assert details_summary(None) is None
    assert details_summary(b"not json") is None
    assert details_summary(outcome_from_error(InfoError()).details) is None
