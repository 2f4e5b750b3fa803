"""Fuzzing /digest, /paper and /digest-admin: any text gets a Reply, errors in one line.

The commands' parsers take what anyone in a channel types. Hypothesis sends arbitrary text
and text shaped like the commands' own options (2,100 examples in all) to the real answers,
on a real SQLite store holding an edition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands.admin import SUBCOMMANDS, SUBSCRIBE_KEYS, AdminContext, answer_admin
from bot.commands.digest import DIGEST_KEYS, answer
from bot.commands.reply import Command, Reply
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock

CLOCK = FakeClock(datetime(2026, 4, 15, 12, tzinfo=UTC))
FUZZ = settings(
    max_examples=700,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Characters that break naive parsers: separators, quotes, NUL, line and paragraph breaks,
# right-to-left marks, surrogates are excluded by Hypothesis' text() already.
TRICKY = st.sampled_from(
    [":", " ", "\t", "\n", "\r", "\x00", "\u2028", "\u200f", "“", "”", "<", ">", "&", "*",
     "%", "_", "\\", "'", '"', "/", "@", "-", "é", "ß", "İ", "🙂", "ﬁ"]
)  # fmt: skip
WORD = st.text(st.one_of(st.characters(), TRICKY), max_size=30)


def options(keys: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Text shaped like ``key:value`` options, with a known or made-up key."""
    key = st.one_of(st.sampled_from(keys), WORD)
    value = st.one_of(
        WORD,
        st.sampled_from(["latest", "2026-04-13", "0001-01-01", "9999-12-31", "mon", "sun",
                         "09:00", "24:00", "Europe/Paris", "../../etc/passwd", "UTC", "accessible",
                         "ADVANCED", "99999999999999999999"]),
    )  # fmt: skip
    option = st.builds(
        lambda k, sep, v: f"{k}{sep}{v}", key, st.sampled_from([":", "", "::"]), value
    )
    return st.lists(option, max_size=6).map(" ".join)


LINKS = st.sampled_from(
    ["https://arxiv.org/abs/2604.31415", "https://arxiv.org/abs/2604.99999v3",
     "https://huggingface.co/papers/2604.31415", "2604.31415", "arXiv:2604.31415v2",
     "hep-th/9901001", "https://example.com/post?x=1#y", "http://127.0.0.1/", "ftp://x",
     "https://", "javascript:alert(1)", "https://exa mple.com/"]
)  # fmt: skip
# One enormous word: SQLite refuses a LIKE pattern past 50,000 bytes ("too complex").
LONG = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "é", "x-", "ab1"]), st.integers(1, 60_000)
)
FREE = st.one_of(st.text(max_size=300), WORD, st.lists(WORD, max_size=12).map(" ".join))


def assert_a_proper_reply(reply: object) -> None:
    assert isinstance(reply, Reply)
    assert isinstance(reply.text, str)
    assert reply.text.strip()
    if reply.error:
        assert "\n" not in reply.text
        assert "\r" not in reply.text
        assert len(reply.text) <= 400


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    opened = asyncio.run(Store.open(f"sqlite:///{path}"))
    asyncio.run(an_edition(opened))
    yield opened
    asyncio.run(opened.aclose())


@FUZZ
@given(text=st.one_of(FREE, options(DIGEST_KEYS)))
def test_digest_answers_any_text(store: Store, text: str) -> None:
    assert_a_proper_reply(asyncio.run(answer(Command("digest", text, "U1", "C1"), store)))


@FUZZ
@given(text=st.one_of(FREE, LONG, LINKS, st.builds(lambda a, b: a + b, LINKS, WORD)))
def test_paper_answers_any_text(store: Store, text: str) -> None:
    assert_a_proper_reply(asyncio.run(answer(Command("paper", text, "U1", "C1"), store)))


ADMIN_TEXT = st.one_of(
    FREE,
    st.builds(
        lambda sub, rest: f"{sub} {rest}",
        st.one_of(st.sampled_from(SUBCOMMANDS), WORD),
        st.one_of(FREE, options(SUBSCRIBE_KEYS), st.builds(lambda a, b: f"{a} {b}", LINKS, FREE)),
    ),
)


@FUZZ
@given(
    text=ADMIN_TEXT,
    is_admin=st.booleans(),
    user=st.one_of(st.just("U0ADMIN"), WORD),
    channel=st.sampled_from(["C0DIGEST", "C1", "1400000000000000000"]),
)
def test_digest_admin_answers_any_text(
    store: Store, text: str, is_admin: bool, user: str, channel: str
) -> None:
    context = AdminContext("slack", "T0FAKE", channel, user, is_admin)
    reply = asyncio.run(answer_admin(text, context, store, CLOCK, default_tz="Europe/Paris"))
    assert_a_proper_reply(reply)
