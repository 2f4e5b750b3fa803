"""Ingest: fetch every source, give each sighting its canonical identity, store it once.

Each source runs on its own: a timeout, an HTTP error or a broken feed in one is recorded with
a readable reason and never stops the others. After the sources, editors' picks are resolved
and citation counts refreshed, each recorded as a run of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial

from bot.domain import (
    IdentifiedSighting,
    ItemKind,
    JsonValue,
    RunOutcome,
    Sighting,
    SourceLabel,
    SourceRun,
    UpsertCounts,
)
from bot.ids import arxiv_id_from_url, canonical_url, parse_arxiv_id
from bot.ports import (
    CitationLookup,
    Clock,
    DatedSource,
    IngestProgress,
    IngestStore,
    LinkResolver,
    Source,
    SourceError,
)

logger = logging.getLogger(__name__)

MANUAL_SOURCE = "manual"
PICK_PATIENCE = timedelta(days=3)
"""How long a pick whose source fails passingly (throttled, down) keeps being retried."""
CITATIONS_SOURCE = "semantic_scholar"


class _SilentProgress:
    def started(self, source: str) -> None:
        """Ignore."""

    def finished(self, run: SourceRun) -> None:
        """Ignore."""


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Every run of one ingest, in the order the sources were given."""

    runs: tuple[SourceRun, ...]

    @property
    def failed(self) -> tuple[SourceRun, ...]:
        """The runs that failed."""
        return tuple(run for run in self.runs if run.outcome is RunOutcome.FAILED)

    @property
    def totals(self) -> UpsertCounts:
        """New, updated and unchanged items over all runs."""
        total = UpsertCounts()
        for run in self.runs:
            total += run.counts
        return total

    @property
    def changed_nothing(self) -> bool:
        """True when no run added or updated an item."""
        return self.totals.new == 0 and self.totals.updated == 0


def identify(sighting: Sighting) -> IdentifiedSighting:
    """Give a sighting its canonical id (DESIGN.md §2) and kind.

    A paper is ``arxiv:<id>`` whichever source brought it, including a feed entry or an
    editor's link that is really an arXiv or HF paper link; anything else is its normalised URL.
    Raises `ValueError` for a sighting whose URL cannot identify anything.
    """
    arxiv = parse_arxiv_id(sighting.arxiv_id) if sighting.arxiv_id else None
    if arxiv is None:
        arxiv = arxiv_id_from_url(sighting.url)
    if arxiv is not None:
        version = sighting.arxiv_version if sighting.arxiv_version is not None else arxiv.version
        paper = replace(sighting, arxiv_id=arxiv.id, arxiv_version=version)
        return IdentifiedSighting(arxiv.canonical, ItemKind.PAPER, paper)
    kind = ItemKind.POST if sighting.source.startswith(SourceLabel.FEED_PREFIX) else ItemKind.PAGE
    return IdentifiedSighting(canonical_url(sighting.url), kind, sighting)


MAX_CANONICAL_ID = 512
"""The longest canonical id the store keeps (its column's size)."""


def _without_nul(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k.replace("\x00", ""): _without_nul(v) for k, v in value.items()}
    return value


def storable(sighting: Sighting) -> Sighting:
    """Return ``sighting`` without NUL characters (raw or ``&#0;``), which PostgreSQL refuses."""
    return replace(
        sighting,
        url=sighting.url.replace("\x00", ""),
        title=sighting.title.replace("\x00", ""),
        summary=sighting.summary.replace("\x00", ""),
        authors=tuple(a.replace("\x00", "") for a in sighting.authors),
        links=tuple(link.replace("\x00", "") for link in sighting.links),
        data={k: _without_nul(v) for k, v in sighting.data.items()},
    )


def identify_all(sightings: Sequence[Sighting]) -> tuple[list[IdentifiedSighting], list[str]]:
    """Identify a batch, keeping the first sighting of each item; return it and any warnings.

    A source that lists one item twice (a feed repeating a link, a paper on two HF days)
    contributes one sighting of it.
    """
    seen: dict[str, IdentifiedSighting] = {}
    unusable: list[str] = []
    for sighting in map(storable, sightings):
        try:
            identified = identify(sighting)
        except ValueError as exc:
            unusable.append(f"{sighting.title[:60] or sighting.url[:60]!r}: {exc}")
            continue
        if len(identified.canonical_id) > MAX_CANONICAL_ID:
            # The store keys items on it; one feed entry's absurd link must not fail the feed.
            unusable.append(f"{sighting.title[:60]!r}: its link is {len(sighting.url)} characters")
            continue
        seen.setdefault(identified.canonical_id, identified)
    warnings = []
    if unusable:
        warnings.append(f"skipped {len(unusable)} entries with unusable links, e.g. {unusable[0]}")
    return list(seen.values()), warnings


@dataclass(slots=True)
class _Result:
    outcome: RunOutcome
    reason: str = ""
    fetched: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    warnings: list[str] = field(default_factory=list)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SourceError):
        return exc.reason
    return f"unexpected {type(exc).__name__}: {exc}"


class Ingester:
    """Runs sources into the store; one instance per ingest job, reusable across runs."""

    def __init__(
        self,
        store: IngestStore,
        clock: Clock,
        *,
        concurrency: int = 4,
        progress: IngestProgress | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._concurrency = asyncio.Semaphore(concurrency)
        self._progress = progress or _SilentProgress()

    async def run(
        self,
        sources: Sequence[Source],
        *,
        links: LinkResolver | None = None,
        citations: CitationLookup | None = None,
        citation_max_age: timedelta = timedelta(hours=24),
        citation_batch: int = 500,
        days: tuple[date, date] | None = None,
    ) -> IngestReport:
        """Fetch every source concurrently, then resolve editors' picks, then citations.

        With ``days`` (first, last), sources that keep past days (`DatedSource`) are asked for
        those days instead of what is new; the others have no dated archive and fetch as usual.
        """
        runs = list(
            await asyncio.gather(
                *(
                    self._guarded(source.name, partial(self._fetch, source, days))
                    for source in sources
                )
            )
        )
        if links is not None:
            runs.append(await self._guarded(MANUAL_SOURCE, partial(self._resolve_picks, links)))
        if citations is not None:
            refresh = partial(self._refresh_citations, citations, citation_max_age, citation_batch)
            runs.append(await self._guarded(CITATIONS_SOURCE, refresh))
        return IngestReport(tuple(runs))

    async def _guarded(self, name: str, work: Callable[[], Awaitable[_Result]]) -> SourceRun:
        """Run one source's work and record it as a run, whatever it raises."""
        async with self._concurrency:
            started = self._clock.now()
            self._progress.started(name)
            try:
                result = await work()
            except Exception as exc:  # one source must never stop the others
                if not isinstance(exc, SourceError):
                    logger.exception("source %s failed unexpectedly", name)
                result = _Result(RunOutcome.FAILED, reason=_describe(exc))
            run = SourceRun(
                source=name,
                started_at=started,
                finished_at=self._clock.now(),
                outcome=result.outcome,
                reason=result.reason,
                fetched=result.fetched,
                counts=result.counts,
                warnings=tuple(result.warnings),
            )
            try:
                await self._store.record_source_run(run)
            except Exception:
                # The ingest itself is done; losing the log line must not make it a failure.
                logger.exception("could not record the run of %s", name)
            self._progress.finished(run)
            return run

    async def _fetch(self, source: Source, days: tuple[date, date] | None = None) -> _Result:
        """Fetch one source (the given days of it, if it keeps them) and store what it brought."""
        started = self._clock.now()
        if days is not None and isinstance(source, DatedSource):
            # A past range says nothing about what is new now: the conditional state stays.
            batch = await source.fetch_days(*days)
            identified, warnings = identify_all(batch.sightings)
            counts = await self._store.upsert_sightings(identified, started)
            return _Result(
                RunOutcome.OK,
                fetched=len(batch.sightings),
                counts=counts,
                warnings=[*batch.warnings, *warnings],
            )
        state = await self._store.source_state(source.name)
        batch = await source.fetch(state)
        if days is not None:
            batch = replace(
                batch,
                warnings=(*batch.warnings, "no past days kept: fetched now"),
            )
        if batch.not_modified:
            return _Result(RunOutcome.NOT_MODIFIED, reason="not modified since the last fetch")
        identified, warnings = identify_all(batch.sightings)
        counts = await self._store.upsert_sightings(identified, started)
        # Only once the items are stored: after a failed upsert the next run must refetch.
        if batch.state is not None:
            await self._store.save_source_state(source.name, batch.state, self._clock.now())
        return _Result(
            RunOutcome.OK,
            fetched=len(batch.sightings),
            counts=counts,
            warnings=[*batch.warnings, *warnings],
        )

    async def _resolve_picks(self, links: LinkResolver) -> _Result:
        """Resolve every pending editor's pick; a pick that fails is kept with its reason."""
        pending = await self._store.pending_submissions()
        counts = UpsertCounts()
        warnings: list[str] = []
        for pick in pending:
            now = self._clock.now()
            try:
                sighting = await links.resolve(pick.url)
                note = {"note": pick.note} if pick.note else {}
                sighting = replace(
                    sighting,
                    source=SourceLabel.MANUAL,
                    data={**sighting.data, **note, "submitted_by": pick.submitted_by},
                )
                identified = identify(sighting)
                counts += await self._store.upsert_sightings([identified], now)
            except SourceError as exc:
                if exc.transient and now - pick.submitted_at < PICK_PATIENCE:
                    # arXiv throttling or a site down for a while: the next ingest tries again.
                    await self._store.note_submission_problem(pick.id, exc.reason)
                    warnings.append(f"{pick.url}: {exc.reason}; trying again at the next ingest")
                    continue
                warnings.append(f"{pick.url}: {exc.reason}")
                await self._store.resolve_submission(pick.id, None, exc.reason, now)
                continue
            except Exception as exc:
                # Whatever one link does (a URL httpx refuses, a library's surprise), the
                # picks queued after it must still be resolved.
                if not isinstance(exc, ValueError):
                    logger.exception("resolving the pick %s failed unexpectedly", pick.url[:200])
                reason = (
                    f"refused: {exc}"[:300]
                    if isinstance(exc, ValueError)
                    else (f"could not be resolved ({type(exc).__name__})")
                )
                warnings.append(f"{pick.url[:200]}: {reason}")
                await self._store.resolve_submission(pick.id, None, reason, now)
                continue
            await self._store.resolve_submission(pick.id, identified.canonical_id, "", now)
        return _Result(RunOutcome.OK, fetched=len(pending), counts=counts, warnings=warnings)

    async def _refresh_citations(
        self, citations: CitationLookup, max_age: timedelta, batch: int
    ) -> _Result:
        """Fetch citation counts for papers not checked within ``max_age``."""
        now = self._clock.now()
        ids = await self._store.arxiv_ids_needing_citations(now - max_age, batch)
        if not ids:
            return _Result(RunOutcome.OK)
        counts = await citations.citations(ids)
        await self._store.save_citations(counts, ids, self._clock.now())
        unknown = len(ids) - len(counts)
        warnings = [f"{unknown} papers not known to Semantic Scholar yet"] if unknown else []
        counted = UpsertCounts(updated=len(counts), unchanged=unknown)
        return _Result(RunOutcome.OK, fetched=len(ids), counts=counted, warnings=warnings)
