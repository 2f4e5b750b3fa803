"""Past editions imported from files (``digestbot import``), on invented editions only.

tests/data/history/invented_edition.txt is shaped like the real editions, but every title,
name and number in it is made up; the builders' week (tests/builders.py) is what the store
already holds when it is imported.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.chat.console_chat import ConsoleChat
from bot.config import ScheduleSettings
from bot.delivery.schedule import Scheduler
from bot.domain import Difficulty, ItemKind, JobState, Subscription
from bot.edition.compose import compose_edition
from bot.edition.history import (
    HistoryFormatError,
    ImportStatus,
    normalised_title,
    parse_history,
    read_history,
)
from bot.edition.imports import import_files
from bot.edition.profile import load_profile
from bot.edition.render import render_json, to_digest
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import IN_WEEK, MONDAY, PAPER_ID, an_edition, seed_week
from tests.conftest import DATA
from tests.fakes.clock import FakeClock

INVENTED = DATA / "history" / "invented_edition.txt"
IMPORTED_DAY = date(2026, 3, 30)
AT = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def test_the_text_shape_is_read_item_by_item() -> None:
    edition = read_history(INVENTED)
    assert (edition.date, edition.title) == (
        IMPORTED_DAY,
        "Ledgers for Agents, Injection Still Bites",
    )
    first, second, third, fourth, fifth = edition.items
    assert first.arxiv_id == "2604.31415"
    assert first.authors == ("Ada Moreau", "Tomas Okafor")
    assert first.citations == 0
    assert first.source == "api-hf"
    assert second.url == "https://a.example/posts/1"
    assert second.kind is ItemKind.POST
    assert second.difficulty is Difficulty.ACCESSIBLE
    assert len(second.takeaways) == 3
    assert third.url is None
    assert third.arxiv_id is None
    assert fourth.kind is ItemKind.PAPER  # authors but no arXiv id: still a paper
    assert fifth.kind is ItemKind.POST
    assert fifth.source == "manual"
    assert normalised_title("Prompt Injection in Coding Agents, #2") == normalised_title(
        "prompt injection  in coding agents #2"
    )


async def test_import_matches_by_arxiv_id_url_and_title_and_creates_the_rest(
    store: Store,
) -> None:
    await seed_week(store, IN_WEEK)  # the paper, and posts https://{a,b,c}.example/posts/n
    before = await store.count_items()

    (outcome,) = await import_files(store, [INVENTED], AT)

    assert outcome.status is ImportStatus.IMPORTED
    assert outcome.matched == {"arxiv": 1, "url": 1, "title": 1, "created": 2}
    assert await store.count_items() == before + 2
    edition = await store.edition(edition_date=IMPORTED_DAY)
    assert edition is not None
    assert edition.imported
    ids = [entry.item.content.canonical_id for entry in edition.entries]
    assert ids[:3] == [PAPER_ID, "https://a.example/posts/1", "https://b.example/posts/2"]
    quillmark, gateway = edition.entries[3].item, edition.entries[4].item
    assert quillmark.content.kind is ItemKind.PAPER
    assert quillmark.content.authors == ("Ines Valdoria", "Bram Kettleworth")
    assert "passages a question needs" in quillmark.content.summary  # from the file's text
    assert gateway.content.kind is ItemKind.POST
    assert gateway.content.canonical_id == "https://gateway.example/notes"
    assert edition.entries[1].summary.difficulty is Difficulty.ACCESSIBLE
    # Featured now: an imported item is no candidate of any later week.
    assert quillmark.id in await store.featured_item_ids()


async def test_importing_the_same_file_again_changes_nothing(store: Store) -> None:
    await import_files(store, [INVENTED], AT)
    items = await store.count_items()

    (again,) = await import_files(store, [INVENTED], AT + timedelta(days=1))

    assert again.status is ImportStatus.ALREADY
    assert "already imported" in again.message
    assert await store.count_items() == items
    assert await store.edition_dates() == [IMPORTED_DAY]


async def test_the_preview_json_of_an_edition_imports_too(store: Store, tmp_path: Path) -> None:
    await import_files(store, [INVENTED], AT)
    edition = await store.edition(edition_date=IMPORTED_DAY)
    assert edition is not None
    data = json.loads(render_json(to_digest(edition)))
    data["date"] = "2026-03-23"
    exported = tmp_path / "exported.json"
    exported.write_text(json.dumps(data), encoding="utf-8")

    (outcome,) = await import_files(store, [exported], AT)

    assert outcome.status is ImportStatus.IMPORTED
    # All five are stored now; the two the invented file gave no link are found by title.
    assert outcome.matched == {"arxiv": 1, "url": 2, "title": 2}


@pytest.mark.parametrize(
    ("broken", "line", "problem"),
    [
        (lambda t: t.replace("  • Narrow permissions contain the damage.\n", "")
         .replace("  • Untrusted files can steer an agent.\n", "")
         .replace("  • Logging every action makes review possible.\n", ""), 32, "takeaways"),
        (lambda t: t.replace("via rss-b\n", "seen somewhere\n"), 49, "via <source>"),
        (lambda t: t.replace("March 30, 2026", "March 31, 2026"), 5, "Tuesday"),
        (lambda t: t.replace("· 5 papers", "· 6 papers"), 5, "says 6 but 5 items"),
        (lambda t: t.replace("LLM News Digest", "Weekly Notes", 1), 1, "header"),
    ],
)  # fmt: skip
async def test_a_malformed_file_names_its_line_and_imports_nothing(
    store: Store, tmp_path: Path, broken: object, line: int, problem: str
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(broken(INVENTED.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]

    with pytest.raises(HistoryFormatError) as raised:
        read_history(bad)
    assert raised.value.line == line
    assert problem in raised.value.problem
    assert str(raised.value).startswith(f"{bad}:{line}: ")

    (outcome,) = await import_files(store, [bad], AT)
    assert outcome.status is ImportStatus.MALFORMED
    assert f"bad.txt:{line}:" in outcome.message
    assert await store.count_items() == 0
    assert await store.edition_dates() == []


def test_broken_json_names_its_line() -> None:
    with pytest.raises(HistoryFormatError) as raised:
        parse_history('{\n  "date": "2026-03-30",\n  "items": [\n    {"title": }\n  ]\n}', "e.json")
    assert raised.value.line == 4


async def test_an_edition_composed_here_is_never_replaced_by_an_import(
    store: Store, tmp_path: Path
) -> None:
    composed = await an_edition(store)
    text = INVENTED.read_text(encoding="utf-8").replace("March 30, 2026", "April 13, 2026")
    clash = tmp_path / "clash.txt"
    clash.write_text(text, encoding="utf-8")
    (outcome,) = await import_files(store, [clash], AT)
    assert outcome.status is ImportStatus.REFUSED
    assert outcome.message.endswith("the edition of 2026-04-13 was composed here; not replaced")
    kept = await store.edition(edition_date=MONDAY)
    assert kept is not None
    assert not kept.imported
    assert kept.entries == composed.entries


async def test_an_imported_edition_is_never_delivered_nor_rebuilt(store: Store) -> None:
    await store.subscribe(
        Subscription("slack", "T1", "C1", 0, "08:00", "UTC", None), "U1", AT - timedelta(days=60)
    )
    await import_files(store, [INVENTED], AT - timedelta(days=30))
    imported = await store.edition(edition_date=IMPORTED_DAY)
    assert imported is not None

    # The schedule's "latest edition" is never an imported one, and the outbox refuses it.
    assert await store.edition() is None
    clock = FakeClock(AT)
    scheduler = Scheduler(
        store, clock, ScheduleSettings(), {"slack": ConsoleChat(io.StringIO())},
        ingest=_nothing, compose=_nothing_on, worker="test",
    )  # fmt: skip
    await scheduler.plan(compose_missed=False)
    assert not await scheduler.deliver_next()
    assert not await store.enqueue_delivery("slack:C1", imported.id, None, AT, AT)
    assert await store.count_delivery_jobs(list(JobState)) == 0

    profile = load_profile()
    result = await compose_edition(
        store, clock, OfflineSummarizer(profile), profile, edition_date=IMPORTED_DAY, force=True
    )
    assert "was imported" in result.message
    assert await store.edition(edition_date=IMPORTED_DAY) == imported


async def _nothing() -> None:
    return None


async def _nothing_on(_: date) -> None:
    return None
