"""The demo's edition, written offline, has no junk and the shape of the real editions.

This runs `digestbot demo` itself (bot/app/demo.py) without a key: the recorded week of
2026-04-13 and the bundled sample data ingested through the real adapters, then composed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.domain import Edition
from storage.store import Store
from tests.cli_process import clean_env, run_digestbot
from tests.writing import junk_count, junk_in, sentences, verbatim_share


async def demo_edition(tmp_path: Path) -> Edition:
    # The real `digestbot demo`, offline, on a database this test then reads.
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, err = await run_digestbot("demo", "--database", url, env=clean_env(), cwd=tmp_path)
    assert code == 0, err
    async with await Store.open(url) as store:
        edition = await store.edition()
    assert edition is not None, out
    return edition


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
