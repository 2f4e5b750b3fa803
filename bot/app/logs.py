"""Logging set-up, once per process, from the settings (``DIGEST_LOG_LEVEL``, ``_FORMAT``).

Lines go to stderr with a UTC timestamp, the level, the logger and the message; ``json`` makes
each line one JSON object (python-json-logger) with ``timestamp``, ``level``, ``logger``,
``message`` and whatever the call gave as ``extra`` (a job's ``task``, ``outcome`` and
``duration_s``). Every secret the settings hold is masked in every line, whatever logged it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr
from pythonjsonlogger.json import JsonFormatter

from bot.config import Settings

TEXT_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
MASK = "***"
HANDLER_NAME = "digestbot"
# Libraries whose INFO lines are each request's or each heartbeat's: WARNING and up only,
# unless the operator asks for DEBUG.
CHATTY = (
    "httpx",
    "httpcore",
    "discord",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "aiohttp",
    "alembic",
)


def secrets_of(settings: BaseModel) -> list[str]:
    """Return every secret value held in ``settings`` (tokens, keys), longest first."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, tuple):
            for part in value:
                walk(part)

    walk(settings)
    database_url = getattr(settings, "database_url", None)
    if isinstance(database_url, str):
        # postgresql://user:password@host/db: the password is a secret too.
        found.append(urlsplit(database_url).password or "")
    # Short values would mask ordinary words; no real token is under 8 characters.
    return sorted({s for s in found if len(s) >= 8}, key=len, reverse=True)


class _Masking(logging.Formatter):
    """Formats with ``inner``, then masks every secret in the finished line."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        """Return the line ``inner`` makes, with the secrets replaced by ``***``."""
        line = self._inner.format(record)
        for secret in self._secrets:
            line = line.replace(secret, MASK)
        return line


def _utc(formatter: logging.Formatter) -> logging.Formatter:
    formatter.converter = time.gmtime
    return formatter


def formatter_for(log_format: str) -> logging.Formatter:
    """Return the formatter of ``text`` or ``json`` lines, timestamps in UTC (ISO 8601)."""
    if log_format == "json":
        # timestamp=True: the record's time in UTC, ISO 8601 with microseconds.
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            json_ensure_ascii=False,
        )
    return _utc(logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S"))


def configure_logging(
    settings: Settings, *, default_level: str = "WARNING", stream: TextIO | None = None
) -> None:
    """Send every log line to ``stream`` (stderr) as the settings say; replaces our earlier one.

    ``default_level`` applies when ``DIGEST_LOG_LEVEL`` is not set: ``run`` passes INFO, the
    one-shot commands keep WARNING (their own output says what they did).
    """
    level = settings.log_level or default_level
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(_Masking(formatter_for(settings.log_format), secrets_of(settings)))
    root = logging.getLogger()
    for old in list(root.handlers):
        # Only ours: a host's own handlers (pytest's capture, an embedding app) stay.
        if old.get_name() == HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(level)))
    logging.captureWarnings(True)
