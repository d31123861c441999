"""Structured logging: key=value fields, secrets never printed."""

from __future__ import annotations

import logging

import pytest

from libcommon.log import KeyValueFormatter, configure_logging, redact


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer hf_abcdefghijklmnop",
        "token=hf_abcdefghijklmnop",
        "calling with hf_abcdefghijklmnop now",
        'cookie="session=abc123"',
    ],
)
def test_redact_masks_secrets(text: str) -> None:
    redacted = redact(text)
    assert "hf_abcdefghijklmnop" not in redacted
    assert "abc123" not in redacted
    assert "***" in redacted


def test_formatter_renders_extra_fields_and_redacts() -> None:
    record = logging.LogRecord("worker", logging.INFO, __file__, 1, "job finished", None, None)
    record.dataset = "user/ds"
    record.token = "hf_abcdefghijklmnop"
    record.note = "two words"
    line = KeyValueFormatter().format(record)
    assert " INFO worker job finished " in line
    assert "dataset=user/ds" in line
    assert 'note="two words"' in line
    assert "hf_abcdefghijklmnop" not in line


def test_configure_logging_sets_level() -> None:
    configure_logging("WARNING")
    assert logging.getLogger().level == logging.WARNING
    configure_logging("INFO")
    assert logging.getLogger().level == logging.INFO
