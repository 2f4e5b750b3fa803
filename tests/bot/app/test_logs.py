"""Logging set-up: levels from the settings, text or JSON lines, secrets masked everywhere."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.app.logs import HANDLER_NAME, configure_logging
from bot.config import load_settings

TOKEN = "xoxb-1234-secret-token"
KEY = "sk-also-very-secret"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    root.setLevel(level)


def configured(stream: io.StringIO, default: str = "WARNING", **env: str) -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_APP_TOKEN": "xapp-1-abcdefgh",
            "OPENAI_API_KEY": KEY,
            "DIGEST_DATABASE_URL": "postgresql+psycopg://digest:db-password-42@db/digest",
        }
        | env
    )
    configure_logging(settings, default_level=default, stream=stream)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_timestamp_level_logger_message_and_job_fields() -> None:
    stream = io.StringIO()
    configured(stream, "INFO", DIGEST_LOG_FORMAT="json")
    job = {"task": "ingest", "outcome": "ok", "duration_s": 1.25}
    logging.getLogger("bot.delivery.jobs").info("ingest ok in 1.25 s", extra=job)
    logging.getLogger("bot.x").debug("not shown at INFO")
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "INFO"
    assert record["logger"] == "bot.delivery.jobs"
    assert record["message"] == "ingest ok in 1.25 s"
    assert record["timestamp"].endswith("+00:00")
    assert {k: record[k] for k in job} == job


@pytest.mark.usefixtures("restore_logging")
def test_secrets_are_masked_in_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    configured(stream, "INFO")
    logger = logging.getLogger("adapters.x")
    logger.warning("calling with %s", TOKEN)
    logger.warning("database postgresql+psycopg://digest:db-password-42@db/digest is down")
    try:
        raise RuntimeError(f"refused key {KEY}")
    except RuntimeError:
        logger.exception("failed")
    text = stream.getvalue()
    assert TOKEN not in text
    assert KEY not in text
    assert "db-password-42" not in text
    assert text.count("***") == 3
    assert "RuntimeError: refused key ***" in text


@pytest.mark.usefixtures("restore_logging")
def test_one_shot_commands_log_warnings_only_unless_told_and_config_replaces_itself() -> None:
    first, second = io.StringIO(), io.StringIO()
    configured(first)
    logging.getLogger("bot.x").info("routine")
    logging.getLogger("bot.x").warning("a problem")
    configured(second, DIGEST_LOG_LEVEL="info")
    logging.getLogger("bot.x").info("now shown")
    assert first.getvalue().count("\n") == 1
    assert " WARNING bot.x: a problem" in first.getvalue()
    assert " INFO bot.x: now shown" in second.getvalue()
    assert "now shown" not in first.getvalue()  # the earlier handler was replaced
