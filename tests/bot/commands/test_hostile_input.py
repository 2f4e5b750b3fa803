"""Input a hostile run sent: a 50 KB search word, a NUL or an overlong submitter in a pick.

Answered with one line each, on a real store (PostgreSQL too when configured: it is the one
that refuses a NUL in text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.commands.admin import AdminContext, answer_admin
from bot.commands.digest import answer
from bot.commands.reply import Command
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.storage.conftest import DATABASES, database_url  # noqa: F401 -- fixtures

CLOCK = FakeClock(datetime(2026, 4, 15, 12, tzinfo=UTC))
pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:  # noqa: F811
    opened = await Store.open(database_url)
    try:
        await an_edition(opened)
        yield opened
    finally:
        await opened.aclose()


def admin(user: str = "U0ADMIN") -> AdminContext:
    return AdminContext("slack", "T0FAKE", "C0DIGEST", user, is_admin=True)


async def test_a_50_kb_word_in_paper_is_answered_in_one_line(store: Store) -> None:
    reply = await answer(Command("paper", "ledger" + "x" * 50_000), store)
    assert "\n" not in reply.text
    assert len(reply.text) < 300


async def test_many_long_words_in_paper_still_find_the_item(store: Store) -> None:
    reply = await answer(Command("paper", "Ledgerline " + " ".join(["y" * 5000] * 50)), store)
    assert "\n" not in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "submit https://example.com/pick a note with a \x00 NUL",
        "submit https://example.com/\x00pick",
        "submit https://example.com/pick " + "n" * 5000,
    ],
    ids=["nul-in-note", "nul-in-link", "long-note"],
)
async def test_an_unstorable_pick_is_refused_in_one_line(store: Store, text: str) -> None:
    reply = await answer_admin(text, admin(), store, CLOCK)
    assert reply.error
    assert "\n" not in reply.text
    assert await store.pending_submissions() == []


async def test_an_overlong_submitter_is_refused_in_one_line(store: Store) -> None:
    reply = await answer_admin("submit https://example.com/pick", admin("U" * 300), store, CLOCK)
    assert reply.error
    assert "at most 200" in reply.text
    assert await store.pending_submissions() == []
