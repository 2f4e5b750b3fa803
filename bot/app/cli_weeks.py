"""The commands about past weeks: ``backfill``, ``candidates``, ``import``, and date options.

``ingest --date/--since/--until`` (in bot.app.cli) shares the date checks kept here: a day in
the future or before 2000, or a range that ends before it starts, is bad usage (exit 2).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.app.console import (
    BackfillProgress,
    err,
    fail,
    out,
    print_report,
    run_async,
    settings_or_exit,
    usage_error,
)
from bot.app.wiring import compose, ingest, open_app
from bot.clock import SystemClock
from bot.edition.candidates import Candidate, WeekRanking, week_ranking
from bot.edition.compose import ComposeResult, edition_monday
from bot.edition.history import ImportOutcome, ImportStatus
from bot.edition.imports import import_files
from bot.ingest.ingester import IngestReport

EARLIEST_DAY = date(2000, 1, 1)
"""Older days are refused: HF's daily papers began in 2023, and no source keeps the 1990s."""


def parse_day(option: str, text: str, today: date) -> date:
    """Parse a day given to ``option``; refuse a malformed, future or pre-2000 one (exit 2)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        usage_error(f"{option} must look like 2026-04-13, not {text!r}")
    if day > today:
        usage_error(f"{option} {day} is in the future (today is {today} UTC)")
    if day < EARLIEST_DAY:
        usage_error(f"{option} {day} is before {EARLIEST_DAY}; no source keeps days that old")
    return day


def parse_days(
    when: str | None, since: str | None, until: str | None, today: date
) -> tuple[date, date] | None:
    """Turn ``--date`` or ``--since``/``--until`` into (first, last) days, or ``None`` for now."""
    if when is not None:
        if since is not None or until is not None:
            usage_error("give either --date or --since/--until, not both")
        day = parse_day("--date", when, today)
        return day, day
    if since is None:
        if until is not None:
            usage_error("--until needs --since")
        return None
    first = parse_day("--since", since, today)
    last = parse_day("--until", until, today) if until is not None else today
    if first > last:
        usage_error(f"--since {first} is after --until {last}")
    return first, last


def _today() -> date:
    return datetime.now(UTC).date()


def mondays(first: date, last: date) -> list[date]:
    """Return every Monday from ``first`` to ``last``, both included."""
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    found = []
    while monday <= last:
        found.append(monday)
        monday += timedelta(days=7)
    return found


@dataclass(frozen=True, slots=True)
class Backfilled:
    """What a backfill did: the ingest, then each Monday's compose."""

    report: IngestReport
    composed: tuple[ComposeResult, ...]


def backfill_command(
    since: Annotated[str, typer.Option("--since", help="First day, YYYY-MM-DD.")],
    until: Annotated[
        str | None, typer.Option("--until", help="Last day, YYYY-MM-DD (default: today).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild editions that already exist.")
    ] = False,
) -> None:
    """Ingest past days (HF by day, arXiv by submission date), then compose each Monday."""
    days = parse_days(None, since, until, _today())
    assert days is not None  # --since is required
    settings = settings_or_exit()

    async def work() -> Backfilled:
        weeks = mondays(*days)
        async with open_app(settings, SystemClock()) as app:
            with BackfillProgress(err, len(weeks)) as progress:
                report = await ingest(app, (), progress, days=days)
                composed = []
                for monday in weeks:
                    progress.composing(monday)
                    composed.append(await compose(app, monday, force=force))
                    progress.composed()
        return Backfilled(report, tuple(composed))

    done = run_async(work())
    print_report(done.report)
    if not done.composed:
        out.print(f"No Monday from {days[0]} to {days[1]}: nothing to compose.", markup=False)
    for result in done.composed:
        out.print(
            f"{'Edition' if result.edition else 'No edition'}: {result.message}", markup=False
        )
    if done.report.runs and len(done.report.failed) == len(done.report.runs):
        fail("every source failed; see the reasons above")


def _candidate_json(candidate: Candidate) -> dict[str, object]:
    content = candidate.choice.item.content
    return {
        "rank": candidate.rank,
        "canonical_id": content.canonical_id,
        "arxiv_id": content.arxiv_id,
        "title": content.title,
        "score": candidate.choice.score,
        "reason": candidate.reason,
        "picked": candidate.picked,
        "source_date": candidate.source_date,
        "sources": list(candidate.choice.item.sources),
    }


class CandidatesFormat(StrEnum):
    """How ``candidates`` lists the ranking."""

    TEXT = "text"
    JSON = "json"


def candidates_command(
    when: Annotated[
        str | None,
        typer.Option("--date", help="The edition's Monday, YYYY-MM-DD (default: the next one)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many to list.", min=1)] = 40,
    output: Annotated[
        CandidatesFormat, typer.Option("--format", help="Lines to read, or a JSON list.")
    ] = CandidatesFormat.TEXT,
) -> None:
    """List a week's ranked candidates: score, why, and whether its edition picked them."""
    if when is None:
        monday = edition_monday(_today())
    else:
        try:
            monday = date.fromisoformat(when)
        except ValueError:
            usage_error(f"--date must look like 2026-04-13, not {when!r}")
        if monday.weekday() != 0:
            usage_error(f"--date {monday} is a {monday:%A}; editions are dated on Mondays")
    settings = settings_or_exit()

    async def work() -> WeekRanking:
        async with open_app(settings, SystemClock(), read_only=True) as app:
            return await week_ranking(
                app.store,
                app.profile,
                monday,
                window_days=settings.edition.window_days,
                freshness_days=settings.edition.freshness_days,
            )

    ranking = run_async(work())
    ranked = ranking.candidates[:limit]
    if output is CandidatesFormat.JSON:
        sys.stdout.write(json.dumps([_candidate_json(c) for c in ranked], indent=2) + "\n")
        return
    if not ranked:
        out.print(f"No candidates for the edition of {monday}.", markup=False)
        return
    out.print(f"Candidates for the edition of {monday} (✓ = in its edition):", markup=False)
    out.print(ranking.taste.describe(), markup=False)
    for candidate in ranked:
        content = candidate.choice.item.content
        mark = "✓" if candidate.picked else " "
        out.print(
            f"{candidate.rank:>3} {mark} {candidate.choice.score:.3f}  {content.title[:90]}\n"
            f"        {candidate.reason}  [{content.arxiv_id or content.canonical_id}]",
            markup=False,
        )


def import_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Past editions: the seeds' text shape or preview JSON.")
    ],
) -> None:
    """Store past editions as imported history: learned from, shown, never delivered."""
    settings = settings_or_exit()

    async def work() -> list[ImportOutcome]:
        clock = SystemClock()
        async with open_app(settings, clock) as app:
            return await import_files(app.store, paths, clock.now())

    outcomes = run_async(work())
    for outcome in outcomes:
        stream = out if outcome.status in {ImportStatus.IMPORTED, ImportStatus.ALREADY} else err
        stream.print(outcome.message, markup=False)
    if any(o.status in {ImportStatus.MALFORMED, ImportStatus.REFUSED} for o in outcomes):
        fail("some files were not imported; see the lines above")
