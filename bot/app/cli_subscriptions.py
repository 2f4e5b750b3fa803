"""Channel subscriptions from the command line.

``digestbot subscribe``, ``unsubscribe``, ``subscriptions`` and ``resume``, registered on the
typer app in `bot.app.cli`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from bot.app.cli_json import print_json, subscriptions_json
from bot.app.console import cells, fail, out, run_async, settings_or_exit, usage_error
from bot.app.wiring import open_app, read_status
from bot.clock import SystemClock
from bot.config import ID_PATTERN, Settings
from bot.delivery.deliver import Destination
from bot.delivery.slots import local_time, next_slot
from bot.delivery.subscriptions import build_subscription, describe
from bot.domain import Subscription, SubscriptionRecord
from storage.store import Store


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
    # The settings file wins at the next `digestbot run` start (bot.delivery.subscriptions).
    if any(entry.destination == str(destination) for entry in settings.subscriptions):
        out.print(
            f"Note: the settings file subscribes {destination} too; {consequence}", markup=False
        )


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
    topics: Annotated[
        str,
        typer.Option(
            "--topics",
            help="Only items on these profile topics or keywords, comma-separated "
            "(e.g. agents,security; default: every item).",
        ),
    ] = "",
    exclude: Annotated[
        str,
        typer.Option("--exclude", help="Never items on these topics or keywords (wins)."),
    ] = "",
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
        topics=topics,
        exclude=exclude,
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


def subscriptions_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object (its keys: README).")
    ] = False,
) -> None:
    """List subscriptions: schedule, active or paused (and why), who created them, next slot."""
    settings = settings_or_exit()
    report = run_async(read_status(settings))
    if as_json:
        print_json(subscriptions_json(report))
        return
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
            *cells(
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
