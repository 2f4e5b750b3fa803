"""The ``digestbot`` command line (DESIGN.md §4).

Every command exits 0 on success, 2 on bad usage and 1 on failure, printing one clear line that
says why. Settings are read and validated once per command, before any work starts.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.app.cli_config import config_cli
from bot.app.cli_doctor import doctor_command
from bot.app.cli_json import print_json, status_json
from bot.app.cli_progress import ComposeBars, NoBars, PublishBars, wanted
from bot.app.cli_subscriptions import (
    resume_command,
    subscribe_command,
    subscriptions_command,
    unsubscribe_command,
)
from bot.app.cli_weeks import backfill_command, candidates_command, import_command, parse_days
from bot.app.console import (
    LineProgress,
    err,
    fail,
    out,
    print_compose,
    print_report,
    print_status,
    run_async,
    settings_or_exit,
    usage_error,
    warn,
)
from bot.app.demo import demo_settings, run_demo
from bot.app.export import ExportReport, export_site
from bot.app.rewriting import RewriteReport, describe, rewrite
from bot.app.run import NothingToRunError, PlatformStartError, run_until
from bot.app.version import package_version
from bot.app.wiring import (
    DestinationUnavailableError,
    compose,
    ingest,
    open_app,
    publish,
    publish_due,
    read_status,
    source_names,
)
from bot.clock import SystemClock
from bot.commands.admin import submission_problem
from bot.config import Settings
from bot.delivery.deliver import DeliveryReport, Destination
from bot.delivery.worker import Counters
from bot.domain import Edition
from bot.edition.compose import ComposeResult
from bot.edition.render import render_json, render_markdown, render_text, to_digest
from bot.edition.rewrite import RewriteError
from bot.ids import canonical_url
from bot.ingest.ingester import IngestReport
from storage.db import DatabaseError, upgrade

cli = typer.Typer(
    name="digestbot",
    help="LLM News Digest: a weekly digest of LLM engineering papers and posts.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
QUIET_HELP = "No progress display (there is none when stderr is not a terminal)."


def _print_version(value: bool) -> None:
    if value:
        out.print(f"digestbot {package_version()}", markup=False)
        raise typer.Exit()


@cli.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """LLM News Digest: a weekly digest of LLM engineering papers and posts."""


async def _ingest(
    settings: Settings, only: Sequence[str], days: tuple[date, date] | None
) -> IngestReport:
    async with open_app(settings, SystemClock()) as app:
        return await ingest(app, only, LineProgress(err), days=days)


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
    when: Annotated[
        str | None,
        typer.Option("--date", help="Pull this past day (HF by day, arXiv by submission date)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Pull past days from this one, YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="...up to this one (default: today).")
    ] = None,
) -> None:
    """Pull the sources now and store what is new; print per-source counts.

    With --date or --since/--until, HF and arXiv are asked for those past days; feeds keep no
    past days, so they fetch what they have now.
    """
    days = parse_days(when, since, until, datetime.now(UTC).date())
    settings = settings_or_exit()
    only = source or []
    unknown = [name for name in only if name not in source_names(settings)]
    if unknown:
        usage_error(
            f"unknown source {', '.join(unknown)}; "
            f"configured sources: {', '.join(source_names(settings))}"
        )
    report = run_async(_ingest(settings, only, days))
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
    problem = submission_problem(url, note, by)
    if problem is not None:
        usage_error(problem)
    settings = settings_or_exit()

    async def queue() -> int:
        async with open_app(settings, SystemClock()) as app:
            pick = await app.store.add_submission(url, note.strip(), by, app.clock.now())
            return pick.id

    pick_id = run_async(queue())
    out.print(f"Queued pick #{pick_id}: {url}. It is resolved on the next ingest.", markup=False)


@cli.command("status")
def status_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object (its keys: README).")
    ] = False,
) -> None:
    """Show sources' last runs, last compose, next jobs, subscriptions, deliveries, LLM spend."""
    settings = settings_or_exit()
    report = run_async(read_status(settings))
    if as_json:
        print_json(status_json(report, package_version()))
        return
    out.print(f"digestbot {package_version()}", markup=False)
    print_status(report)


FIRST_MONDAY = date(1970, 1, 5)
LAST_MONDAY = date(9999, 12, 20)
MAX_ID = 2**31 - 1  # PostgreSQL's integer


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
    if not FIRST_MONDAY <= day <= LAST_MONDAY:
        # A week's window is computed around the date: near year 1 or 9999 it overflows.
        usage_error(f"--date must be between {FIRST_MONDAY} and {LAST_MONDAY}, not {day}")
    return day


@cli.command("compose")
def compose_command(
    when: Annotated[
        str | None,
        typer.Option("--date", help="The edition's Monday, YYYY-MM-DD (default: the next one)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild the edition if it exists.")
    ] = False,
    require_model: Annotated[
        bool,
        typer.Option("--require-model", help="Fail unless the model (OPENAI_API_KEY) answered."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
) -> None:
    """Build (or rebuild) the edition for the week before a Monday."""
    monday = parse_monday(when)
    settings = settings_or_exit()
    if require_model and settings.llm.api_key is None:
        fail("--require-model: OPENAI_API_KEY is not set")

    async def work() -> tuple[ComposeResult, str | None]:
        async with open_app(settings, SystemClock()) as app:
            with ComposeBars(err) if wanted(err, quiet) else NoBars() as bars:
                result = await compose(app, monday, force=force, progress=bars)
            return result, app.model_problem

    result, model_problem = run_async(work())
    print_compose(result)
    if model_problem is not None:
        # A refused or unreachable key must not pass for a week of offline summaries.
        if require_model:
            fail(f"the model was not used: {model_problem}")
        warn(f"the model was not used: {model_problem}")


def parse_edition(text: str) -> tuple[int | None, date | None]:
    """Parse ``--edition``: latest, an id, or an edition's date."""
    if text == "latest":
        return None, None
    if text.isdigit():
        if int(text) > MAX_ID:  # past any database's integer column: no such edition
            usage_error(f"--edition {text[:30]} is not an edition id (at most {MAX_ID})")
        return int(text), None
    try:
        return None, date.fromisoformat(text)
    except ValueError:
        usage_error(f"--edition must be latest, an id or a date like 2026-04-13, not {text!r}")


class PreviewFormat(StrEnum):
    """How ``preview`` renders an edition."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


@cli.command("preview")
def preview_command(
    edition: Annotated[
        str, typer.Option("--edition", help="latest, an edition id, or its date.")
    ] = "latest",
    output: Annotated[
        PreviewFormat, typer.Option("--format", help="The seeds' text shape, Markdown or JSON.")
    ] = PreviewFormat.TEXT,
) -> None:
    """Render an edition without posting it."""
    renderers = {
        PreviewFormat.TEXT: render_text,
        PreviewFormat.MARKDOWN: render_markdown,
        PreviewFormat.JSON: render_json,
    }
    edition_id, edition_date = parse_edition(edition)
    settings = settings_or_exit()

    async def read() -> Edition | None:
        async with open_app(settings, SystemClock(), read_only=True) as app:
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
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
            with PublishBars(err) if wanted(err, quiet) else NoBars() as bars:
                return await publish(
                    app, found, destinations, on_done=print_delivery, on_part=bars.part
                )

    try:
        reports = run_async(work())
    except DestinationUnavailableError as exc:
        fail(str(exc))
    if any(not report.complete for report in reports):
        fail("some destinations did not get the whole edition; run publish again to resume")


def print_delivery(report: DeliveryReport) -> None:
    """Print one destination's delivery as soon as it is over."""
    state = (
        "complete" if report.complete else f"stopped: {report.error.reason if report.error else ''}"
    )
    out.print(
        f"{report.destination}: {report.sent} sent, {report.already} already there, "
        f"{report.recovered} recovered; {state}",
        markup=False,
    )


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
    if done.deliveries_failed or done.deliveries_retried or done.errors:
        fail("some subscriptions did not get their edition; see: digestbot status")


@cli.command("rewrite")
def rewrite_command(
    item: Annotated[
        str,
        typer.Argument(help="A featured item: arXiv id (2604.31415), its link, or canonical id."),
    ],
    note: Annotated[
        str, typer.Option("--note", help="What the new summary should do (guides the model).")
    ] = "",
    by: Annotated[str, typer.Option("--by", help="Who asked (kept in the history).")] = "cli",
) -> None:
    """Regenerate one item's summary in the latest edition featuring it.

    The old summary is kept in the history; replies already delivered are edited in place
    (on platforms without a token here, by the next digestbot run).
    """
    settings = settings_or_exit()

    async def work() -> RewriteReport:
        async with open_app(settings, SystemClock()) as app:
            return await rewrite(app, item, note, by)

    try:
        report = run_async(work())
    except RewriteError as exc:
        fail(str(exc))
    out.print(describe(report), markup=False)
    if report.edits.failed:
        fail("some delivered copies could not be edited; see: digestbot status")


@cli.command("run")
def run_command() -> None:
    """Run the bot: answer commands on the configured platforms until SIGTERM or SIGINT."""
    settings = settings_or_exit(log_level="INFO")

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


@cli.command("export")
def export_command(
    site: Annotated[
        Path, typer.Option("--site", help="Folder to write the web archive into as static files.")
    ],
) -> None:
    """Write the web archive and its feed as static files (GitHub Pages, S3)."""
    if site.exists() and not site.is_dir():
        usage_error(f"--site {site} is a file; give a folder")
    settings = settings_or_exit()

    async def work() -> ExportReport:
        async with open_app(settings, SystemClock()) as app:
            return await export_site(
                app.store,
                site,
                page_size=settings.web.page_size,
                public_url=settings.public_url,
            )

    try:
        report = run_async(work())
    except OSError as exc:
        fail(f"cannot write {site}: {exc.strerror or exc}")
    out.print(
        f"Wrote {report.files} files to {site}: {report.editions} editions, "
        f"{report.items} items, feed.atom and feed.json.",
        markup=False,
    )


@db_cli.command("upgrade")
def db_upgrade_command() -> None:
    """Apply database migrations up to the latest schema."""
    settings = settings_or_exit()
    try:
        upgrade(settings.database_url)
    except DatabaseError as exc:
        fail(str(exc))
    out.print("Database is at the latest schema.")


@cli.command("demo")
def demo_command(
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="SQLAlchemy URL to use instead of a temporary SQLite file."
        ),
    ] = None,
) -> None:
    """Replay the week of 2026-04-13 offline: ingest it, compose its edition, answer commands."""
    settings = settings_or_exit()
    with tempfile.TemporaryDirectory(prefix="digestbot-demo-") as folder:
        url = database or f"sqlite:///{Path(folder) / 'demo.db'}"
        run_async(run_demo(demo_settings(settings, url)))


# Registered after the everyday commands above, so `digestbot --help` lists those first.
cli.command("backfill")(backfill_command)
cli.command("candidates")(candidates_command)
cli.command("import")(import_command)
cli.command("subscribe")(subscribe_command)
cli.command("unsubscribe")(unsubscribe_command)
cli.command("subscriptions")(subscriptions_command)
cli.command("resume")(resume_command)
cli.command("doctor")(doctor_command)
cli.add_typer(config_cli, name="config")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``digestbot`` console script.

    Bad usage that click catches (an unknown option, a value outside its choices) is one
    line and exit 2, as our own usage errors are, instead of click's boxed message.
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = cli(args=args, prog_name="digestbot", standalone_mode=False)
    except typer.TyperException as exc:  # click's errors (typer vendors click)
        if type(exc).__name__ == "NoArgsIsHelpError":  # as typer tells it (typer#1278)
            if exc.format_message().strip():  # rich printed the help already otherwise
                exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        message = " ".join(exc.format_message().replace("Value error, ", "").split())
        err.print(f"digestbot: {message}{hint}", markup=False)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("digestbot: interrupted", markup=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
