"""Rewrite wiring: the summarizer a rewrite uses, and the edits applied right after it.

Shared by ``digestbot rewrite`` and ``/digest-admin rewrite`` (through `item_rewriter`). With
OPENAI_API_KEY the model rewrites (a fresh token budget, its spend recorded like compose's);
without, the offline writer. The edits of delivered replies are applied at once on the
platforms this process can post to; the others wait in the outbox for an instance that can
(``digestbot run`` applies them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.app.wiring import App, DestinationUnavailableError, chat_adapters, language_model
from bot.commands.reply import Reply
from bot.delivery.edits import EditCounters, EditWorker
from bot.edition.llm_summarize import LlmSummarizer
from bot.edition.model import TokenBudget
from bot.edition.ports import Summarizer
from bot.edition.rewrite import RewriteError, RewriteOutcome, rewrite_item
from bot.edition.summarize import OfflineSummarizer


@dataclass(frozen=True, slots=True)
class RewriteReport:
    """A rewrite and its edits: done now, and the destinations whose edit waits (with why)."""

    outcome: RewriteOutcome
    edits: EditCounters
    waiting: tuple[str, ...] = ()
    why_waiting: str = ""
    spend: tuple[int, int] = field(default=(0, 0))  # model calls, tokens


@asynccontextmanager
async def rewriting_summarizer(app: App) -> AsyncIterator[tuple[Summarizer, TokenBudget | None]]:
    """Yield the summarizer a rewrite uses, and the model's budget when there is a model."""
    offline = OfflineSummarizer(app.profile)
    llm = app.settings.llm
    if llm.api_key is None:
        yield offline, None
        return
    async with language_model(llm) as (model, budget):
        yield LlmSummarizer(model, offline, budget), budget


def _can_post(app: App, platform: str) -> bool:
    tokens = {"slack": app.settings.slack.bot_token, "discord": app.settings.discord.bot_token}
    oauth = platform == "slack" and app.settings.slack.oauth  # a token per workspace, stored
    return platform in app.live_chats or tokens.get(platform) is not None or oauth


async def rewrite(app: App, item: str, note: str, by: str) -> RewriteReport:
    """Rewrite ``item``'s summary, then edit its delivered replies where this process can.

    Raises `RewriteError` (one line) for an item that is unknown or in no edition.
    """
    async with rewriting_summarizer(app) as (summarizer, budget):
        outcome = await rewrite_item(item, note, by, app.store, summarizer, app.clock)
    spend = (0, 0)
    if budget is not None:
        for purpose, completion in budget.records:
            await app.store.record_llm_call(
                purpose,
                completion.model,
                completion.input_tokens,
                completion.output_tokens,
                budget.cost(completion),
                app.clock.now(),
            )
        spend = (budget.calls, budget.used)
    platforms = sorted({d.partition(":")[0] for d in outcome.destinations})
    here = [p for p in platforms if _can_post(app, p)]
    waiting = tuple(d for d in outcome.destinations if d.partition(":")[0] not in here)
    why = "no token for their platform here" if waiting else ""
    edits = EditCounters()
    if here:
        try:
            async with chat_adapters(app, here) as chats:
                worker = EditWorker(app.store, app.clock, app.settings.schedule, chats)
                edits = await worker.run(until_idle=True)
        except DestinationUnavailableError as exc:
            waiting, why = outcome.destinations, exc.args[0]
    return RewriteReport(outcome, edits, waiting, why, spend)


def describe(report: RewriteReport) -> str:
    """Return what a rewrite did, in one or two lines (the CLI and the admin command)."""
    outcome = report.outcome
    featured = outcome.featured
    title = featured.entry.item.content.title
    text = (
        f"Rewrote “{title}” (item {featured.entry.position} of the edition of "
        f"{featured.edition_date}), version {outcome.version}"
    )
    text += ", offline." if outcome.summary.offline else f" by {outcome.summary.model}."
    if outcome.summary.note:
        text += f" {outcome.summary.note}"
    if not outcome.destinations:
        return text + " Not delivered anywhere yet: nothing to edit."
    edits = report.edits
    text += f"\nDelivered copies: {edits.edited} edited in place, {edits.already} already current"
    if edits.retried:
        text += f", {edits.retried} to retry"
    if edits.failed:
        text += f", {edits.failed} failed (see: digestbot status)"
    if report.waiting:
        text += f"; waiting for digestbot run: {', '.join(report.waiting)} ({report.why_waiting})"
    return text + "."


def item_rewriter(app: App) -> Callable[[str, str, str], Awaitable[Reply]]:
    """Return ``/digest-admin rewrite``'s work: rewrite, edit, and say what was done."""

    async def run(item: str, note: str, by: str) -> Reply:
        try:
            report = await rewrite(app, item, note, by)
        except RewriteError as exc:
            return Reply(text=str(exc), error=True)
        return Reply(text=describe(report), error=bool(report.edits.failed))

    return run
