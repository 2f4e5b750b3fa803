"""The demo's edition, written offline, has no junk and the shape of the real editions.

This runs the path `digestbot demo` takes (bot/app/cli.py `_demo`): the bundled sample data
(HF daily papers, arXiv, three blogs' feeds, an editor's pick) ingested through the real
adapters and composed by `bot.app.wiring.compose` without a key.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from adapters.sources.sample import sample_transport
from bot.app.cli import SAMPLE_PICK, demo_settings
from bot.app.wiring import compose, ingest, open_app
from bot.config import Settings
from bot.domain import Edition
from bot.edition.compose import edition_covering
from tests.fakes.clock import FakeClock
from tests.writing import junk_count, junk_in, sentences, verbatim_share


async def demo_edition(tmp_path: Path) -> Edition:
    settings = Settings()
    settings = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"api_key": None})}
    )
    settings = demo_settings(settings, f"sqlite:///{tmp_path / 'demo.db'}")
    async with open_app(settings, FakeClock(), transport=sample_transport()) as app:
        await app.store.add_submission(SAMPLE_PICK, "A sample pick.", "demo", app.clock.now())
        await ingest(app, (), None)
        result = await compose(app, edition_covering(app.clock.now()))
    assert result.edition is not None, result.message
    return result.edition


async def test_the_offline_demo_edition_has_no_junk_and_is_seed_shaped(tmp_path: Path) -> None:
    edition = await demo_edition(tmp_path)
    assert edition.offline
    assert len(edition.entries) == 12

    junk: Counter[str] = Counter()
    for entry in edition.entries:
        summary = entry.summary
        junk += junk_count(summary.why, summary.takeaways)
        assert 2 <= len(sentences(summary.why)) <= 4, summary.why
        assert len(summary.takeaways) == 3
        assert all(len(sentences(t)) == 1 for t in summary.takeaways), summary.takeaways
    assert junk == Counter(), junk
    levels = Counter(entry.summary.difficulty for entry in edition.entries)
    assert len(levels) >= 2, levels

    clauses = edition.title.split(", ")
    assert len(clauses) == 2, edition.title
    assert all(len(c.split()) <= 4 for c in clauses), edition.title
    intro = sentences(edition.intro)
    assert 2 <= len(intro) <= 4
    assert not [s for s in intro if junk_in(s)]


async def test_the_offline_demo_recasts_more_than_it_copies(tmp_path: Path) -> None:
    edition = await demo_edition(tmp_path)
    copied = total = 0
    for entry in edition.entries:
        source = f"{entry.item.content.summary}\n{entry.item.content.data.get('hf_summary') or ''}"
        near, written = verbatim_share([entry.summary.why], source)
        copied, total = copied + near, total + written
    # Before the rewrite 29 of 35 summary sentences were near copies of a source sentence.
    assert copied * 2 < total, (copied, total)
