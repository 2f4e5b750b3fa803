"""The neutral request and response of every command.

Adapters turn a platform's payload into a `Command` and render the `Reply` the core returns
(bolt-python's idea), so the commands themselves never see a platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.edition.render import DigestItem


@dataclass(frozen=True, slots=True)
class Command:
    """A command as any platform delivers it: its name and the text after it."""

    name: str
    text: str = ""
    user: str = ""
    channel: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """A neutral answer: a headline and the items it lists; adapters render it."""

    text: str
    items: tuple[DigestItem, ...] = ()
    full_cards: bool = False
    ephemeral: bool = True
    error: bool = False
    fetch_arxiv_id: str | None = None
    deferred: Callable[[], Awaitable[Reply]] | None = None


def error(message: str) -> Reply:
    """Return a one-line ephemeral error."""
    return Reply(text=message, error=True)


def parse_options(
    text: str, allowed: Sequence[str], bare: Callable[[str], str | None] | None = None
) -> dict[str, str] | str:
    """Parse ``key:value`` options in any order and case; return them or an error line.

    ``bare`` names the option a value typed without its key belongs to (``accessible`` is
    ``difficulty:accessible``), or None when it belongs to none: a convenience on top of the
    ``key:value`` contract of DESIGN.md §6, which keeps working as before.
    """
    options: dict[str, str] = {}
    for token in text.split():
        implied = bare(token.lower()) if bare is not None else None
        if implied is not None:
            options[implied] = token.strip().lower()
            continue
        key, sep, value = token.partition(":")
        key = key.strip().lower()
        if not sep or not value.strip():
            return f"“{token[:40]}” is not an option; use {' '.join(f'{k}:…' for k in allowed)}"
        if key not in allowed:
            return f"unknown option “{key[:20]}”; valid options: {', '.join(allowed)}"
        options[key] = value.strip().lower()
    return options


def is_help(text: str) -> bool:
    """Tell whether a command's text asks for its usage (``help``, ``-h``, ``--help``, ``?``)."""
    return text.strip().lower() in ("help", "-h", "--help", "?", "usage")
