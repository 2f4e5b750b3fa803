"""What the CLI prints, and how it fails.

Per-source ingest lines and tables, status, compose results; one-line failures with their exit
codes (1 for a failure, 2 for bad usage).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import date
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from bot.app.logs import configure_logging
from bot.commands.status import StatusReport
from bot.config import ConfigError, Settings, load_settings
from bot.domain import RunOutcome, SourceRun
from bot.edition.compose import ComposeResult
from bot.ingest.ingester import IngestReport
from storage.db import DatabaseError

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit 1."""
    err.print(f"digestbot: {message}", markup=False)
    raise typer.Exit(1)


def warn(message: str) -> None:
    """Print one line to stderr and go on."""
    err.print(f"digestbot: {message}", markup=False)


def usage_error(message: str) -> NoReturn:
    """Print one line to stderr and exit 2 (bad usage)."""
    err.print(f"digestbot: {message}", markup=False)
    raise typer.Exit(2)


def settings_or_exit(*, log_level: str = "WARNING") -> Settings:
    """Load the settings and set up logging from them, or exit 1 with the one-line reason.

    ``log_level`` applies unless DIGEST_LOG_LEVEL is set: the one-shot commands log only
    problems (their output says what they did); ``run`` passes INFO.
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc))
    configure_logging(settings, default_level=log_level)
    return settings


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on a fresh event loop, turning expected failures into one line."""
    try:
        return asyncio.run(work)
    except DatabaseError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted")


class LineProgress:
    """Prints one line per finished source, so long ingests show where they are."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def started(self, source: str) -> None:
        """Show that ``source`` started."""
        self._console.print(f"  … {source}", style="dim", markup=False)

    def finished(self, run: SourceRun) -> None:
        """Show how ``run`` ended."""
        self._console.print(f"  {_symbol(run)} {run.source}: {_summary(run)}", markup=False)


class BackfillProgress:
    """A progress display for ``digestbot backfill``: the sources, then each Monday composed."""

    def __init__(self, console: Console, mondays: int) -> None:
        self._console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._sources = self._progress.add_task("Ingesting", total=None)
        self._started = 0
        self._weeks = self._progress.add_task("Composing", total=max(mondays, 1))
        if not mondays:
            self._progress.update(self._weeks, description="No Monday in the range", completed=1)

    def __enter__(self) -> BackfillProgress:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def started(self, source: str) -> None:
        """Count a source that began fetching."""
        self._started += 1
        self._progress.update(
            self._sources, total=self._started, description=f"Ingesting: {source}"
        )

    def finished(self, run: SourceRun) -> None:
        """Advance past a source, and say how it ended above the bars."""
        self._progress.advance(self._sources)
        self._progress.console.print(
            f"  {_symbol(run)} {run.source}: {_summary(run)}", markup=False
        )

    def composing(self, monday: date) -> None:
        """Show which Monday's edition is being composed."""
        self._progress.update(self._sources, description="Ingested")
        self._progress.update(self._weeks, description=f"Composing {monday}")

    def composed(self) -> None:
        """Advance past one Monday."""
        self._progress.advance(self._weeks)


def _symbol(run: SourceRun) -> str:
    return {"ok": "✓", "not_modified": "=", "failed": "✗"}[run.outcome.value]


def _summary(run: SourceRun) -> str:
    if run.outcome is RunOutcome.FAILED:
        return f"failed: {run.reason}"
    if run.outcome is RunOutcome.NOT_MODIFIED:
        return "unchanged since the last fetch (HTTP 304)"
    counts = run.counts
    return f"{counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged"


def print_report(report: IngestReport) -> None:
    """Print the per-source table and a one-line verdict."""
    table = Table(title="Ingest", title_justify="left")
    for column in ("source", "result", "fetched", "new", "updated", "unchanged", "note"):
        table.add_column(column, justify="right" if column in {"fetched", "new"} else "left")
    for run in report.runs:
        note = run.reason or "; ".join(run.warnings)
        table.add_row(
            run.source,
            {"ok": "ok", "not_modified": "not modified", "failed": "FAILED"}[run.outcome.value],
            str(run.fetched),
            str(run.counts.new),
            str(run.counts.updated),
            str(run.counts.unchanged),
            note[:120],
        )
    out.print(table)
    totals = report.totals
    if report.changed_nothing and not report.failed:
        out.print("Nothing changed: every item was already stored and up to date.")
    else:
        failed = f", {len(report.failed)} sources failed" if report.failed else ""
        out.print(
            f"{totals.new} new, {totals.updated} updated, {totals.unchanged} unchanged{failed}."
        )


def cells(*texts: str) -> list[Text]:
    """Return table cells that print their text as is (no markup)."""
    # Text cells are never read as rich markup: a "[bold]" in a reason stays as typed.
    return [Text(text) for text in texts]


def print_status(report: StatusReport) -> None:
    """Print the whole status report (the same one ``/digest-admin status`` summarizes)."""

    def line(text: str) -> None:
        out.print(text, markup=False)

    if not report.sources:
        line("No source has run yet. Run: digestbot ingest")
    else:
        table = Table(title="Sources: last run", title_justify="left")
        for column in ("source", "when (UTC)", "result", "new", "updated", "reason"):
            table.add_column(column)
        for run in report.sources:
            table.add_row(
                *cells(
                    run.source,
                    run.finished_at.strftime("%Y-%m-%d %H:%M"),
                    run.outcome.value,
                    str(run.counts.new),
                    str(run.counts.updated),
                    run.reason[:100],
                )
            )
        out.print(table)
    line(f"Editors' picks waiting for the next ingest: {report.pending_picks}")
    compose = report.last_compose
    line(
        f"Last compose ({compose.at:%Y-%m-%d %H:%M} UTC): {compose.outcome}: {compose.reason}"
        if compose
        else "No edition composed yet. Run: digestbot compose"
    )
    if imported := report.imported_editions:
        span = f"{imported[-1]} to {imported[0]}" if len(imported) > 1 else f"{imported[0]}"
        line(
            f"Imported editions (history the ranker learns from): {len(imported)}, {span} "
            "(digestbot preview --edition DATE)"
        )
    if report.schedule_enabled:
        line("Next jobs of digestbot run:")
        for job in report.next_jobs:
            line(f"  {job.at:%Y-%m-%d %H:%M} UTC  {job.name}")
    else:
        line("The schedule is off (DIGEST_SCHEDULE__ENABLED=false): digestbot run only answers.")
    paused = report.paused
    line(
        f"Subscriptions: {len(report.subscriptions) - len(paused)} active, {len(paused)} paused "
        "(details: digestbot subscriptions)"
    )
    for status in paused:
        record = status.record
        since = f" since {record.paused_at:%Y-%m-%d %H:%M} UTC" if record.paused_at else ""
        line(
            f"  Paused {status.destination}{since}: {record.subscription.paused_reason[:200]}. "
            f"Once fixed: digestbot resume {status.destination}"
        )
    for delivered in report.deliveries:
        line(
            f"Delivered to {delivered.destination}: edition of {delivered.edition_date}, "
            f"{delivered.parts} messages, last at {delivered.at:%Y-%m-%d %H:%M} UTC"
        )
    line(
        f"Delivery jobs: {report.pending_deliveries} waiting, {report.failed_deliveries} failed, "
        f"{report.skipped_deliveries} skipped"
    )
    for failure in report.recent_failures:
        line(
            f"  {failure.state} {failure.destination} (edition #{failure.edition_id}, due "
            f"{failure.due_at:%Y-%m-%d %H:%M} UTC): {failure.reason[:200]}"
        )
    llm = report.llm
    line(
        f"LLM this week: {llm.calls} calls, {llm.tokens} tokens, ${llm.cost_usd:.2f} "
        f"(since {llm.since:%Y-%m-%d} 00:00 UTC)"
    )
    if report.model_problem:
        line(report.model_problem)
    feedback = report.feedback
    liked = f"; most liked: {feedback.most_liked}" if feedback.most_liked else ""
    line(f"Feedback: {feedback.up} 👍, {feedback.down} 👎 this week{liked}")


def print_compose(result: ComposeResult) -> None:
    """Say what composing did in one or two lines."""
    if result.edition is None:
        out.print(f"No edition: {result.message}", markup=False)
        return
    verb = "Rebuilt" if result.rebuilt else "Composed"
    if result.summaries_written or result.summaries_reused or result.rebuilt:
        out.print(f"{verb} the {result.message}.", markup=False)
    else:
        out.print(f"Nothing to do: {result.message}.", markup=False)
    offline = " (offline summaries)" if result.edition.offline else ""
    out.print(f"“{result.edition.title}”{offline}", markup=False)
    out.print(
        f"Summaries: {result.summaries_written} written, "
        f"{result.summaries_reused} reused from the cache.",
        markup=False,
    )
    if result.llm_calls:
        out.print(
            f"LLM: {result.llm_calls} calls, {result.llm_tokens} tokens; "
            f"{result.offline_fallbacks} items summarized offline.",
            markup=False,
        )
