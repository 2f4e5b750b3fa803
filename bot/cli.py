"""The ``digestbot`` command line (DESIGN.md §4).

Every command exits 0 on success, 2 on bad usage and 1 on failure, printing one clear line that
says why. Settings are read and validated once per command, before any work starts.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.chat.console_chat import render_reply
from adapters.sources.sample import SAMPLE_FEEDS, sample_transport
from bot.admin import build_subscription, describe, local_time
from bot.app import (
    App,
    DestinationUnavailableError,
    NothingToRunError,
    PlatformStartError,
    compose,
    ingest,
    open_app,
    publish,
    publish_due,
    run_until,
    source_names,
)
from bot.clock import SystemClock
from bot.commands import Command, answer
from bot.compose import ComposeResult, edition_covering
from bot.config import ID_PATTERN, ConfigError, FeedSettings, Settings, load_settings
from bot.deliver import DeliveryReport, Destination
from bot.domain import Edition, RunOutcome, SourceRun, Subscription, SubscriptionRecord
from bot.ids import canonical_url
from bot.ingest import IngestReport
from bot.render import render_json, render_markdown, render_text, to_digest
from bot.scheduler import Counters, next_slot
from bot.status import StatusReport, collect_status
from storage.db import DatabaseError, upgrade
from storage.store import Store

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


async def _status(settings: Settings) -> StatusReport:
    async with open_app(settings, SystemClock()) as app:
        return await collect_status(app.store, settings.schedule, app.clock)


@cli.command("status")
def status_command() -> None:
    """Show sources' last runs, last compose, next jobs, subscriptions, deliveries, LLM spend."""
    settings = settings_or_exit()
    print_status(run_async(_status(settings)))


def _cells(*texts: str) -> list[Text]:
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
                *_cells(
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


def parse_destination(text: str) -> Destination:
    """Parse a subscription's DEST (``slack:C0123`` or ``discord:123``), or exit 2."""
    try:
        destination = Destination.parse(text)
    except ValueError as exc:
        usage_error(str(exc))
    if destination.platform not in ("slack", "discord"):
        usage_error(f"{text[:60]!r}: subscriptions are for slack:CHANNEL_ID or discord:CHANNEL_ID")
    return destination


async def _find(store: Store, destination: Destination) -> SubscriptionRecord | None:
    """Return the subscription of ``destination`` (channel ids are unique per platform)."""
    for record in await store.subscription_records():
        s = record.subscription
        if (s.platform, s.channel) == (destination.platform, destination.channel):
            return record
    return None


def _note_if_in_file(settings: Settings, destination: Destination, consequence: str) -> None:
    # The settings file wins at the next `digestbot run` start (bot.subscriptions).
    if any(entry.destination == str(destination) for entry in settings.subscriptions):
        out.print(
            f"Note: the settings file subscribes {destination} too; {consequence}", markup=False
        )


@cli.command("subscribe")
def subscribe_command(
    dest: Annotated[str, typer.Argument(help="slack:CHANNEL_ID or discord:CHANNEL_ID.")],
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            help="Slack team id (T0...) or Discord server id; needed for a new subscription.",
        ),
    ] = None,
    day: Annotated[str, typer.Option("--day", help="mon, tue, ... sun.")] = "mon",
    at_time: Annotated[str, typer.Option("--time", help="HH:MM, 24-hour.")] = "09:00",
    tz: Annotated[
        str | None, typer.Option("--tz", help="IANA timezone (default: DIGEST_TIMEZONE).")
    ] = None,
    difficulty: Annotated[
        str | None,
        typer.Option("--difficulty", help="accessible, intermediate or advanced (default: all)."),
    ] = None,
) -> None:
    """Subscribe a channel, or change its schedule (a paused one is resumed)."""
    destination = parse_destination(dest)
    if workspace is not None and not ID_PATTERN.fullmatch(workspace):
        usage_error(f"--workspace {workspace[:60]!r} must be an id: letters, digits, '-' or '_'")
    settings = settings_or_exit()
    checked = build_subscription(
        destination.platform,
        workspace or "",
        destination.channel,
        day=day,
        at_time=at_time,
        tz=tz or settings.timezone,
        difficulty=difficulty,
    )
    if isinstance(checked, str):
        usage_error(f"--{checked}")  # "time must look like 09:00" -> "--time must ..."

    async def work() -> tuple[SubscriptionRecord | None, Subscription, datetime]:
        async with open_app(settings, SystemClock()) as app:
            now = app.clock.now()
            previous = await _find(app.store, destination)
            if previous is None and workspace is None:
                # A guessed workspace would make /digest-admin in that channel a second row.
                usage_error(
                    f"{destination} has no subscription yet: give --workspace "
                    "(the Slack team id T0... or the Discord server id)"
                )
            wanted = checked
            if workspace is None and previous is not None:
                wanted = replace(checked, workspace=previous.subscription.workspace)
            if previous is not None and previous.subscription.workspace != wanted.workspace:
                await app.store.update_subscription(wanted, now)  # moves it to that workspace
            await app.store.subscribe(wanted, "cli", now)
            slot = next_slot(wanted.weekday, wanted.at_time, wanted.timezone, now)
            return previous, wanted, slot

    previous, wanted, slot = run_async(work())
    if previous is None:
        out.print(
            f"Subscribed {destination}: {describe(wanted)}. First delivery: "
            f"{local_time(slot, wanted.timezone)} (the latest edition composed by then).",
            markup=False,
        )
    else:
        was = previous.subscription
        resumed = "" if was.active else f" Resumed; it was paused: {was.paused_reason[:200]}."
        out.print(
            f"Updated {destination}: {describe(wanted)}. Next slot: "
            f"{local_time(slot, wanted.timezone)}.{resumed}",
            markup=False,
        )
    _note_if_in_file(settings, destination, "its entry wins when digestbot run starts.")


@cli.command("unsubscribe")
def unsubscribe_command(
    dest: Annotated[str, typer.Argument(help="slack:CHANNEL_ID or discord:CHANNEL_ID.")],
) -> None:
    """Stop posting editions to a channel."""
    destination = parse_destination(dest)
    settings = settings_or_exit()

    async def work() -> bool:
        async with open_app(settings, SystemClock()) as app:
            found = await _find(app.store, destination)
            if found is None:
                return False
            s = found.subscription
            return await app.store.unsubscribe(s.platform, s.workspace, s.channel)

    if not run_async(work()):
        fail(f"{destination} has no subscription (see: digestbot subscriptions)")
    out.print(f"Unsubscribed {destination}.", markup=False)
    _note_if_in_file(
        settings,
        destination,
        "remove its [[subscriptions]] entry, or it comes back when digestbot run starts.",
    )


@cli.command("subscriptions")
def subscriptions_command() -> None:
    """List subscriptions: schedule, active or paused (and why), who created them, next slot."""
    settings = settings_or_exit()
    report = run_async(_status(settings))
    if not report.subscriptions:
        out.print(
            "No subscriptions yet. Add one: digestbot subscribe slack:C0123456789 "
            "--workspace T0123456789 --day mon --time 09:00"
        )
        return
    table = Table(title="Subscriptions", title_justify="left")
    for column in ("destination", "schedule", "state", "created by", "next slot"):
        table.add_column(column)
    for status in report.subscriptions:
        record = status.record
        s = record.subscription
        table.add_row(
            *_cells(
                status.destination,
                describe(s),
                "active" if s.active else f"paused: {s.paused_reason[:120]}",
                record.created_by,
                local_time(status.next_delivery, s.timezone) if status.next_delivery else "-",
            )
        )
    out.print(table)
    if report.paused:
        out.print("Resume a paused one once fixed: digestbot resume DEST", markup=False)


@cli.command("resume")
def resume_command(
    dest: Annotated[str, typer.Argument(help="slack:CHANNEL_ID or discord:CHANNEL_ID.")],
) -> None:
    """Resume a paused subscription, once what paused it (channel, bot, permission) is fixed."""
    destination = parse_destination(dest)
    settings = settings_or_exit()

    async def work() -> tuple[SubscriptionRecord | None, bool]:
        async with open_app(settings, SystemClock()) as app:
            found = await _find(app.store, destination)
            if found is None:
                return None, False
            now = app.clock.now()
            return found, await app.store.resume_subscription(
                destination.platform, destination.channel, now
            )

    found, resumed = run_async(work())
    if found is None:
        fail(f"{destination} has no subscription (see: digestbot subscriptions)")
    s = found.subscription
    if not resumed:
        out.print(f"{destination} is not paused: {describe(s)}.", markup=False)
        return
    out.print(
        f"Resumed {destination}: {describe(s)}. It was paused: {s.paused_reason[:200]}",
        markup=False,
    )


def parse_monday(text: str | None) -> date | None:
    """Parse ``--date``; it must be a Monday (editions are dated on Mondays)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        usage_error(f"--date must look like 2026-04-13, not {text!r}")
    if day.weekday() != 0:
        usage_error(f"--date {day} is a {day:%A}; editions are dated on Mondays")
    return day


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


@cli.command("compose")
def compose_command(
    when: Annotated[
        str | None,
        typer.Option("--date", help="The edition's Monday, YYYY-MM-DD (default: the next one)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild the edition if it exists.")
    ] = False,
) -> None:
    """Build (or rebuild) the edition for the week before a Monday."""
    monday = parse_monday(when)
    settings = settings_or_exit()

    async def work() -> ComposeResult:
        async with open_app(settings, SystemClock()) as app:
            return await compose(app, monday, force=force)

    print_compose(run_async(work()))


def parse_edition(text: str) -> tuple[int | None, date | None]:
    """Parse ``--edition``: latest, an id, or an edition's date."""
    if text == "latest":
        return None, None
    if text.isdigit():
        return int(text), None
    try:
        return None, date.fromisoformat(text)
    except ValueError:
        usage_error(f"--edition must be latest, an id or a date like 2026-04-13, not {text!r}")


@cli.command("preview")
def preview_command(
    edition: Annotated[
        str, typer.Option("--edition", help="latest, an edition id, or its date.")
    ] = "latest",
    output: Annotated[str, typer.Option("--format", help="text, markdown or json.")] = "text",
) -> None:
    """Render an edition without posting it."""
    renderers = {"text": render_text, "markdown": render_markdown, "json": render_json}
    if output not in renderers:
        usage_error(f"--format must be one of text, markdown, json, not {output!r}")
    edition_id, edition_date = parse_edition(edition)
    settings = settings_or_exit()

    async def read() -> Edition | None:
        async with open_app(settings, SystemClock()) as app:
            return await app.store.edition(edition_id=edition_id, edition_date=edition_date)

    found = run_async(read())
    if found is None:
        fail(f"no edition {edition}; run: digestbot compose")
    sys.stdout.write(renderers[output](to_digest(found)).rstrip("\n") + "\n")


@cli.command("publish")
def publish_command(
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="slack:CHANNEL_ID (repeatable)."),
    ] = None,
    edition: Annotated[
        str, typer.Option("--edition", help="latest, an edition id, or its date.")
    ] = "latest",
) -> None:
    """Post an edition now: a parent message, then one threaded reply per item.

    Without --to, every subscription whose slot has passed gets the edition due to it, as
    the schedule would post it (resuming, never twice).
    """
    if not to:
        if edition != "latest":
            usage_error("--edition needs --to: subscriptions get the edition due to them")
        _publish_due(settings_or_exit())
        return
    try:
        destinations = [Destination.parse(text) for text in to]
    except ValueError as exc:
        usage_error(str(exc))
    edition_id, edition_date = parse_edition(edition)
    settings = settings_or_exit()

    async def work() -> list[DeliveryReport]:
        async with open_app(settings, SystemClock()) as app:
            found = await app.store.edition(edition_id=edition_id, edition_date=edition_date)
            if found is None:
                fail(f"no edition {edition}; run: digestbot compose")
            return await publish(app, found, destinations)

    try:
        reports = run_async(work())
    except DestinationUnavailableError as exc:
        fail(str(exc))
    for report in reports:
        state = (
            "complete"
            if report.complete
            else f"stopped: {report.error.reason if report.error else ''}"
        )
        out.print(
            f"{report.destination}: {report.sent} sent, {report.already} already there, "
            f"{report.recovered} recovered; {state}",
            markup=False,
        )
    if any(not report.complete for report in reports):
        fail("some destinations did not get the whole edition; run publish again to resume")


def _publish_due(settings: Settings) -> None:
    async def work() -> Counters:
        async with open_app(settings, SystemClock()) as app:
            return await publish_due(app)

    try:
        done = run_async(work())
    except DestinationUnavailableError as exc:
        fail(str(exc))
    out.print(
        f"Subscriptions: {done.deliveries_done} delivered ({done.messages_sent} messages), "
        f"{done.deliveries_skipped} skipped as stale, {done.deliveries_retried} to retry, "
        f"{done.deliveries_failed} failed and paused",
        markup=False,
    )
    if done.deliveries_failed or done.deliveries_retried:
        fail("some subscriptions did not get their edition; see: digestbot status")


@cli.command("run")
def run_command() -> None:
    """Run the bot: answer commands on the configured platforms until SIGTERM or SIGINT."""
    settings = settings_or_exit()

    async def work() -> list[str]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with open_app(settings, SystemClock()) as app:
            return await run_until(app, stop)

    try:
        ran = run_async(work())
    except (NothingToRunError, PlatformStartError) as exc:
        fail(str(exc))
    out.print(f"Stopped cleanly ({', '.join(ran)}).", markup=False)


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
        # The sample was just ingested: compose the edition whose week includes now.
        result = await compose(app, edition_covering(app.clock.now()))
        print_compose(result)
        if result.edition is None:
            fail(result.message)
        out.rule()
        sys.stdout.write(render_text(to_digest(result.edition)))
        sys.stdout.flush()
        out.rule()
        await _sample_commands(app, result.edition)


async def _sample_commands(app: App, edition: Edition) -> None:
    # Prefer a paper the sources found over an editor's pick: it shows the richer card.
    papers = [
        e.item.content.arxiv_id
        for e in sorted(edition.entries, key=lambda e: "manual" in e.item.sources)
        if e.item.content.arxiv_id
    ]
    samples = [Command("digest", "difficulty:accessible")]
    if papers:
        samples.append(Command("paper", papers[0]))
    for command in samples:
        out.print(f"> /{command.name} {command.text}", markup=False)
        out.print(render_reply(await answer(command, app.store)), markup=False)
        out.print()


@cli.command("demo")
def demo_command(
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="SQLAlchemy URL to use instead of a temporary SQLite file."
        ),
    ] = None,
) -> None:
    """Run offline on bundled sample data: ingest, compose, print the edition, answer commands."""
    settings = settings_or_exit()
    with tempfile.TemporaryDirectory(prefix="digestbot-demo-") as folder:
        url = database or f"sqlite:///{Path(folder) / 'demo.db'}"
        run_async(_demo(demo_settings(settings, url)))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``digestbot`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cli(args=list(argv) if argv is not None else sys.argv[1:], prog_name="digestbot")
