"""The ``digestbot`` command line (DESIGN.md §4).

Every command exits 0 on success, 2 on bad usage and 1 on failure, printing one clear line that
says why. Settings are read and validated once per command, before any work starts.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from adapters.sources.sample import SAMPLE_FEEDS, sample_transport
from bot.app import App, ingest, open_app, source_names
from bot.clock import SystemClock
from bot.config import ConfigError, FeedSettings, Settings, load_settings
from bot.domain import Item, RunOutcome, SourceRun
from bot.ids import canonical_url
from bot.ingest import IngestReport
from storage.db import DatabaseError, upgrade

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

cli = typer.Typer(
    name="digestbot",
    help="LLM News Digest: a weekly digest of LLM engineering papers and posts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit 1."""
    err.print(f"digestbot: {message}", markup=False)
    raise typer.Exit(1)


def usage_error(message: str) -> NoReturn:
    """Print one line to stderr and exit 2 (bad usage)."""
    err.print(f"digestbot: {message}", markup=False)
    raise typer.Exit(2)


def settings_or_exit() -> Settings:
    """Load the settings, or exit 1 with the one-line reason."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on a fresh event loop, turning expected failures into one line."""
    try:
        return asyncio.run(work)
    except DatabaseError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted")


class _LineProgress:
    """Prints one line per finished source, so long ingests show where they are."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def started(self, source: str) -> None:
        """Show that ``source`` started."""
        self._console.print(f"  … {source}", style="dim", markup=False)

    def finished(self, run: SourceRun) -> None:
        """Show how ``run`` ended."""
        self._console.print(f"  {_symbol(run)} {run.source}: {_summary(run)}", markup=False)


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


async def _ingest(settings: Settings, only: Sequence[str]) -> IngestReport:
    async with open_app(settings, SystemClock()) as app:
        return await ingest(app, only, _LineProgress(err))


@cli.command("ingest")
def ingest_command(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="Only this source (repeatable): hf, arxiv, a feed name, manual, semantic_scholar.",
        ),
    ] = None,
) -> None:
    """Pull the sources now and store what is new; print per-source counts."""
    settings = settings_or_exit()
    only = source or []
    unknown = [name for name in only if name not in source_names(settings)]
    if unknown:
        usage_error(
            f"unknown source {', '.join(unknown)}; "
            f"configured sources: {', '.join(source_names(settings))}"
        )
    report = run_async(_ingest(settings, only))
    print_report(report)
    if report.runs and len(report.failed) == len(report.runs):
        fail("every source failed; see the reasons above")


@cli.command("submit")
def submit_command(
    url: Annotated[
        str, typer.Argument(help="The link to feature: an arXiv/HF paper or any web page.")
    ],
    note: Annotated[
        str, typer.Option("--note", help="Why this pick matters (shown to editors).")
    ] = "",
    by: Annotated[str, typer.Option("--by", help="Who picked it.")] = "cli",
) -> None:
    """Queue an editor's pick; the next ingest resolves it (try: digestbot ingest -s manual)."""
    try:
        canonical_url(url)
    except ValueError as exc:
        usage_error(f"not a usable link: {exc}")
    settings = settings_or_exit()

    async def queue() -> int:
        async with open_app(settings, SystemClock()) as app:
            pick = await app.store.add_submission(url, note.strip(), by, app.clock.now())
            return pick.id

    pick_id = run_async(queue())
    out.print(f"Queued pick #{pick_id}: {url}. It is resolved on the next ingest.", markup=False)


@cli.command("status")
def status_command() -> None:
    """Show each source's last run and the editors' picks still waiting."""
    settings = settings_or_exit()

    async def read() -> tuple[list[SourceRun], int]:
        async with open_app(settings, SystemClock()) as app:
            runs = await app.store.last_source_runs()
            return runs, len(await app.store.pending_submissions())

    runs, pending = run_async(read())
    if not runs:
        out.print("No source has run yet. Run: digestbot ingest")
    table = Table(title="Sources: last run", title_justify="left")
    for column in ("source", "when (UTC)", "result", "new", "updated", "reason"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run.source,
            run.finished_at.strftime("%Y-%m-%d %H:%M"),
            run.outcome.value,
            str(run.counts.new),
            str(run.counts.updated),
            run.reason[:100],
        )
    if runs:
        out.print(table)
    out.print(f"Editors' picks waiting for the next ingest: {pending}")


@db_cli.command("upgrade")
def db_upgrade_command() -> None:
    """Apply database migrations up to the latest schema."""
    settings = settings_or_exit()
    try:
        upgrade(settings.database_url)
    except DatabaseError as exc:
        fail(str(exc))
    out.print("Database is at the latest schema.")


def demo_settings(settings: Settings, database_url: str) -> Settings:
    """Return ``settings`` pointed at the bundled sample data and the demo database."""
    feeds = tuple(FeedSettings(name=name, url=url) for name, url in SAMPLE_FEEDS.items())
    # Recorded responses served in-process need no politeness pause (the real arXiv does).
    arxiv = settings.sources.arxiv.model_copy(update={"min_interval_s": 0.0})
    sources = settings.sources.model_copy(update={"feeds": feeds, "arxiv": arxiv})
    return settings.model_copy(update={"database_url": database_url, "sources": sources})


def _print_items(items: Sequence[Item]) -> None:
    table = Table(title="Stored items (newest first)", title_justify="left")
    for column in ("kind", "title", "seen by", "id"):
        table.add_column(column, overflow="fold")
    for item in items:
        content = item.content
        table.add_row(
            content.kind.value,
            content.title[:90],
            ", ".join(item.sources),
            content.canonical_id[:60],
        )
    out.print(table)


SAMPLE_PICK = "https://arxiv.org/abs/2104.12255v1"


async def _demo(settings: Settings) -> None:
    async with open_app(settings, SystemClock(), transport=sample_transport()) as app:
        await app.store.add_submission(
            SAMPLE_PICK,
            "A sample editor's pick, resolved through the arXiv API.",
            "demo",
            app.clock.now(),
        )
        out.print("Ingesting the bundled sample data (recorded HF, arXiv, feed responses)…")
        report = await ingest(app, (), _LineProgress(err))
        print_report(report)
        out.print("Ingesting again: unchanged data must change nothing…")
        print_report(await ingest(app, (), None))
        await _show_store(app)


async def _show_store(app: App) -> None:
    total = await app.store.count_items()
    items = await app.store.recent_items(12)
    out.print(f"The store holds {total} items; the 12 most recent:")
    _print_items(items)


@cli.command("demo")
def demo_command(
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="SQLAlchemy URL to use instead of a temporary SQLite file."
        ),
    ] = None,
) -> None:
    """Run offline on bundled sample data: ingest, then show what was stored. No keys needed."""
    settings = settings_or_exit()
    with tempfile.TemporaryDirectory(prefix="digestbot-demo-") as folder:
        url = database or f"sqlite:///{Path(folder) / 'demo.db'}"
        run_async(_demo(demo_settings(settings, url)))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``digestbot`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cli(args=list(argv) if argv is not None else sys.argv[1:], prog_name="digestbot")
