"""The ingest stage: identity, isolation of failing sources, run records, picks, citations.

Sources here are small in-test implementations of the `Source` port (our own interface, not
an outside system); the store is the real one on SQLite. The real adapters against a local
HTTP server are exercised in tests/test_ingest_e2e.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import ItemKind, RunOutcome, Sighting, SourceBatch, SourceLabel
from bot.ingest.ingester import Ingester, identify, identify_all
from bot.ports import SourceError
from storage.store import Store
from tests.fakes.clock import FakeClock

PAPER = Sighting(
    source=SourceLabel.HF,
    url="https://huggingface.co/papers/2604.31415",
    title="Ledgerline: Toward Auditable Evaluation of Autonomous Agents",
    summary="Current agent benchmarks only check final outputs.",
    authors=("Ada Moreau", "Tomas Okafor"),
    arxiv_id="2604.31415",
    data={"upvotes": 42},
)
POST = Sighting(
    source=SourceLabel.feed("willison"),
    url="https://simonwillison.net/2026/Aug/22/llm/?utm_source=rss#atom-everything",
    title="llm 0.33",
    summary="Release notes.",
)


@dataclass
class ListSource:
    """A source that returns fixed batches in turn and records the state it was given."""

    name: str
    batches: list[SourceBatch | Exception]
    seen_states: list[Mapping[str, str]] = field(default_factory=list)

    async def fetch(self, state: Mapping[str, str]) -> SourceBatch:
        self.seen_states.append(dict(state))
        batch = self.batches[min(len(self.seen_states), len(self.batches)) - 1]
        if isinstance(batch, Exception):
            raise batch
        return batch


@dataclass
class PickResolver:
    """Resolves editors' links from a table; anything else is refused."""

    pages: dict[str, Sighting]

    async def resolve(self, url: str) -> Sighting:
        if url not in self.pages:
            raise SourceError(f"refused: {url} is not reachable")
        return self.pages[url]


@dataclass
class CountingCitations:
    counts: dict[str, int]
    asked: list[list[str]] = field(default_factory=list)

    async def citations(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        self.asked.append(list(arxiv_ids))
        return {i: self.counts[i] for i in arxiv_ids if i in self.counts}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'ingest.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def test_identify_gives_papers_their_arxiv_identity_from_any_link() -> None:
    blog_about_paper = Sighting(
        source=SourceLabel.feed("willison"), url="https://arxiv.org/pdf/2604.31415v2", title="x"
    )
    identified = identify(blog_about_paper)
    assert identified.canonical_id == "arxiv:2604.31415"
    assert identified.kind is ItemKind.PAPER
    assert identified.sighting.arxiv_version == 2

    assert identify(PAPER).canonical_id == "arxiv:2604.31415"
    post = identify(POST)
    assert post.kind is ItemKind.POST
    assert post.canonical_id == "https://simonwillison.net/2026/Aug/22/llm/"
    page = identify(Sighting(source=SourceLabel.MANUAL, url="HTTPS://Example.ORG/a", title="A"))
    assert (page.kind, page.canonical_id) == (ItemKind.PAGE, "https://example.org/a")


def test_a_batch_keeps_one_sighting_per_item_and_explains_what_it_skipped() -> None:
    bad = Sighting(source=SourceLabel.feed("x"), url="javascript:alert(1)", title="Bad")
    identified, warnings = identify_all([PAPER, PAPER, POST, bad])
    assert [i.canonical_id for i in identified] == [
        "arxiv:2604.31415",
        "https://simonwillison.net/2026/Aug/22/llm/",
    ]
    assert len(warnings) == 1
    assert "skipped 1 entries" in warnings[0]


async def test_one_failing_source_never_stops_the_others(store: Store, clock: FakeClock) -> None:
    sources = [
        ListSource("hf", [SourceBatch(sightings=(PAPER,))]),
        ListSource("broken", [SourceError("HTTP 503 from feeds.example")]),
        ListSource("buggy", [RuntimeError("boom")]),
        ListSource("willison", [SourceBatch(sightings=(POST,))]),
    ]
    report = await Ingester(store, clock).run(sources)

    outcomes = {run.source: (run.outcome, run.reason) for run in report.runs}
    assert outcomes["hf"] == (RunOutcome.OK, "")
    assert outcomes["willison"] == (RunOutcome.OK, "")
    assert outcomes["broken"] == (RunOutcome.FAILED, "HTTP 503 from feeds.example")
    assert outcomes["buggy"] == (RunOutcome.FAILED, "unexpected RuntimeError: boom")
    assert await store.count_items() == 2

    recorded = {run.source: run for run in await store.last_source_runs()}
    assert recorded["broken"].reason == "HTTP 503 from feeds.example"
    assert recorded["hf"].counts.new == 1


async def test_reingesting_the_same_data_changes_nothing_and_says_so(
    store: Store, clock: FakeClock
) -> None:
    source = ListSource("hf", [SourceBatch(sightings=(PAPER, POST))])
    first = await Ingester(store, clock).run([source])
    assert first.totals.new == 2
    clock.advance(hours=6)
    again = await Ingester(store, clock).run([source])
    assert again.changed_nothing
    assert again.totals.unchanged == 2
    item = await store.get_item("arxiv:2604.31415")
    assert item is not None
    assert item.first_seen == datetime(2026, 4, 13, 6, 0, tzinfo=UTC)
    assert item.last_seen == datetime(2026, 4, 13, 12, 0, tzinfo=UTC)


async def test_conditional_state_is_kept_and_a_304_changes_nothing(
    store: Store, clock: FakeClock
) -> None:
    source = ListSource(
        "willison",
        [
            SourceBatch(sightings=(POST,), state={"etag": '"v1"'}),
            SourceBatch(not_modified=True),
        ],
    )
    await Ingester(store, clock).run([source])
    report = await Ingester(store, clock).run([source])
    assert source.seen_states == [{}, {"etag": '"v1"'}]
    assert report.runs[0].outcome is RunOutcome.NOT_MODIFIED
    assert await store.source_state("willison") == {"etag": '"v1"'}


async def test_state_is_not_saved_when_the_fetch_fails(store: Store, clock: FakeClock) -> None:
    source = ListSource("willison", [SourceError("timed out")])
    await Ingester(store, clock).run([source])
    assert await store.source_state("willison") == {}


async def test_editors_picks_are_resolved_or_kept_with_a_reason(
    store: Store, clock: FakeClock
) -> None:
    good = await store.add_submission(
        "https://huggingface.co/papers/2604.31415", "Read this", "U1", clock.now()
    )
    bad = await store.add_submission("http://10.0.0.1/admin", "", "U2", clock.now())
    resolver = PickResolver({good.url: PAPER})

    report = await Ingester(store, clock).run([], links=resolver)

    run = report.runs[0]
    assert (run.source, run.outcome, run.counts.new) == ("manual", RunOutcome.OK, 1)
    assert any("10.0.0.1" in warning for warning in run.warnings)
    item = await store.get_item("arxiv:2604.31415")
    assert item is not None
    assert item.sources == ("manual",)
    assert item.content.data["note"] == "Read this"
    assert await store.pending_submissions() == []
    assert bad.id != good.id


async def test_citations_are_fetched_once_per_refresh_period(
    store: Store, clock: FakeClock
) -> None:
    await Ingester(store, clock).run([ListSource("hf", [SourceBatch(sightings=(PAPER,))])])
    lookup = CountingCitations({"2604.31415": 17})

    first = await Ingester(store, clock).run([], citations=lookup, citation_max_age=timedelta(1))
    item = await store.get_item("arxiv:2604.31415")
    assert item is not None
    assert item.citations == 17
    assert first.runs[0].source == "semantic_scholar"

    clock.advance(hours=2)
    await Ingester(store, clock).run([], citations=lookup, citation_max_age=timedelta(1))
    assert lookup.asked == [["2604.31415"]]

    clock.advance(days=2)
    await Ingester(store, clock).run([], citations=lookup, citation_max_age=timedelta(1))
    assert len(lookup.asked) == 2


async def test_a_citation_service_failure_is_recorded_not_raised(
    store: Store, clock: FakeClock
) -> None:
    @dataclass
    class RateLimited:
        async def citations(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
            raise SourceError("Semantic Scholar is rate limiting (HTTP 429)")

    await Ingester(store, clock).run([ListSource("hf", [SourceBatch(sightings=(PAPER,))])])
    report = await Ingester(store, clock).run([], citations=RateLimited())
    assert report.runs[0].outcome is RunOutcome.FAILED
    assert "429" in report.runs[0].reason


@dataclass
class FlakyResolver:
    """Answers the way a throttled arXiv, or a link httpx cannot even parse, would."""

    pages: dict[str, Sighting]
    throttled: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)

    async def resolve(self, url: str) -> Sighting:
        if url in self.throttled:
            raise SourceError("arXiv is throttling requests (Rate exceeded.)", transient=True)
        if url in self.broken:
            raise RuntimeError("a library's surprise")  # e.g. httpx.InvalidURL
        return self.pages[url]


async def test_a_passing_failure_keeps_the_pick_waiting_until_its_patience_runs_out(
    store: Store, clock: FakeClock
) -> None:
    pick = await store.add_submission("https://arxiv.org/abs/2604.31415", "", "U1", clock.now())
    resolver = FlakyResolver({}, throttled={pick.url})

    report = await Ingester(store, clock).run([], links=resolver)
    assert any("trying again at the next ingest" in w for w in report.runs[0].warnings)
    assert [p.id for p in await store.pending_submissions()] == [pick.id]

    clock.advance(seconds=4 * 24 * 3600)  # past PICK_PATIENCE: it fails, with the reason
    await Ingester(store, clock).run([], links=resolver)
    assert await store.pending_submissions() == []


async def test_one_pick_that_raises_never_blocks_the_picks_after_it(
    store: Store, clock: FakeClock
) -> None:
    broken = await store.add_submission("https://example.com/" + "a" * 1900, "", "U1", clock.now())
    good = await store.add_submission(
        "https://huggingface.co/papers/2604.31415", "", "U2", clock.now()
    )
    resolver = FlakyResolver({good.url: PAPER}, broken={broken.url})

    report = await Ingester(store, clock).run([], links=resolver)

    assert await store.get_item("arxiv:2604.31415") is not None
    assert await store.pending_submissions() == []
    assert any("could not be resolved (RuntimeError)" in w for w in report.runs[0].warnings)


def test_an_entry_with_an_absurd_link_or_nul_characters_does_not_spoil_its_batch() -> None:
    absurd = Sighting(SourceLabel.feed("blog"), "https://blog.example/" + "x" * 600, "Long")
    nul = Sighting(SourceLabel.feed("blog"), "https://blog.example/ok", "Fine\x00 title",
                   summary="Text with a NUL\x00 inside.")  # fmt: skip
    identified, warnings = identify_all([absurd, nul])
    assert [i.canonical_id for i in identified] == ["https://blog.example/ok"]
    assert identified[0].sighting.title == "Fine title"
    assert "\x00" not in identified[0].sighting.summary
    assert any("characters" in w for w in warnings)
