"""Benchmark: 500 app commands over the gateway against the fake Discord, 100k items stored.

Run from the repository root: ``.venv/bin/python -m bench.discord_commands``. The store
(SQLite, temporary) holds 100,000 items and 20 composed editions (seeded as in
``bench.slack_commands``); the real discord.py client of ``DiscordBot`` connects to the fake
Discord's gateway (zlib-stream) and REST API. 500 commands are sent one after another, mixed
like the Slack bench: ``/digest`` (no option, a difficulty, an edition date, or both),
``/paper <stored arXiv id>`` and ``/paper <words>``; then 200 autocomplete interactions for
``/paper query`` and ``/digest edition``.

Two latencies are measured per interaction, from the INTERACTION_CREATE dispatch leaving the
fake: to the interaction callback POST (what Discord's 3-second rule is about), and to the
final message the user sees. Answers from the store travel in the callback, so both are the
same there; a deferred answer would end with its follow-up.
Goal: final-message p99 <= 25 ms for stored items, <= 50 ms for word search.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adapters.chat.discord_bot import DiscordBot
from adapters.chat.discord_chat import configure_endpoints
from bench.slack_commands import EDITIONS, WORDS, percentile, seed
from bot.domain import Difficulty
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import BOT_TOKEN, FakeDiscord

COMMANDS = 500
AUTOCOMPLETES = 200
ANSWER_TIMEOUT_S = 5.0
STORED_GOAL_MS = 25.0
WORDS_GOAL_MS = 50.0
EDITION_DATES = [(date(2026, 1, 5) + timedelta(weeks=w)).isoformat() for w in range(EDITIONS)]
STORED = ("/digest", "/paper <id>")
KINDS = ("/digest", "/paper <id>", "/paper <words>")


@dataclass
class Timings:
    """Latencies (ms) of one kind of interaction, and how many answers listed something."""

    callback: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)
    with_embeds: int = 0
    choices: int = 0


def string(name: str, value: str, *, focused: bool = False) -> dict[str, Any]:
    """Return a string option as Discord sends it (``focused`` for autocomplete)."""
    entry: dict[str, Any] = {"name": name, "type": 3, "value": value}
    if focused:
        entry["focused"] = True
    return entry


def digest_options(rng: random.Random) -> list[dict[str, Any]]:
    """Return the options of a /digest: none, a difficulty, an edition date, or both."""
    level = string("difficulty", rng.choice(list(Difficulty)).value)
    edition = string("edition", rng.choice(EDITION_DATES))
    return rng.choice([[], [level], [edition], [level, edition]])


async def measure(
    fake: FakeDiscord,
    timings: Timings,
    name: str,
    options: list[dict[str, Any]],
    *,
    autocomplete: bool = False,
) -> None:
    """Send one interaction, wait for its final message and record both latencies."""
    interaction = await fake.interact(name, options, autocomplete=autocomplete)
    await asyncio.wait_for(interaction.done.wait(), timeout=ANSWER_TIMEOUT_S)
    assert interaction.final_at is not None
    timings.callback.append(interaction.callback_latency * 1000)
    timings.final.append((interaction.final_at - interaction.sent_at) * 1000)
    data = interaction.answer.get("data") or {}
    timings.with_embeds += bool(data.get("embeds"))
    timings.choices += len(data.get("choices") or [])


async def run_commands(
    fake: FakeDiscord, featured: list[str], rng: random.Random
) -> dict[str, Timings]:
    """Send the slash commands, then the autocomplete interactions; return their timings."""
    timings = {kind: Timings() for kind in (*KINDS, "autocomplete query", "autocomplete edition")}
    for n in range(COMMANDS):
        kind = KINDS[n % 3]
        if kind == "/digest":
            await measure(fake, timings[kind], "digest", digest_options(rng))
        elif kind == "/paper <id>":
            query = string("query", rng.choice(featured))
            await measure(fake, timings[kind], "paper", [query])
        else:
            query = string("query", f"{rng.choice(WORDS)} paper")
            await measure(fake, timings[kind], "paper", [query])
    for n in range(AUTOCOMPLETES):
        if n % 2 == 0:
            word = rng.choice(WORDS)
            typed = word[: rng.randint(2, len(word))]  # a word being typed
            option, name, kind = string("query", typed, focused=True), "paper", "query"
        else:
            typed = rng.choice(["", "2026", "2026-0", "2026-03", rng.choice(EDITION_DATES)])
            option, name, kind = string("edition", typed, focused=True), "digest", "edition"
        await measure(fake, timings[f"autocomplete {kind}"], name, [option], autocomplete=True)
    return timings


def line(label: str, values: Timings, goal: str) -> str:
    """Return one line of figures: count, callback and final-message p50/p99 in ms."""
    callback, final = values.callback, values.final
    return (
        f"{label:21}: n={len(final):3}  callback p50 {statistics.median(callback):6.1f} "
        f"p99 {percentile(callback, 0.99):6.1f}  final p50 {statistics.median(final):6.1f} "
        f"p99 {percentile(final, 0.99):6.1f}  max {max(final):6.1f} ms  {goal}"
    ).rstrip()


def merged(parts: list[Timings]) -> Timings:
    """Return the timings of several kinds together."""
    total = Timings()
    for part in parts:
        total.callback += part.callback
        total.final += part.final
    return total


def report(items: int, timings: dict[str, Timings]) -> None:
    """Print the figures per kind, overall, and whether the goal was met."""
    print(
        f"store: {items} items, {EDITIONS} editions; {COMMANDS} commands and "
        f"{AUTOCOMPLETES} autocompletes over the Discord gateway (ms from dispatch)"
    )
    for kind, values in timings.items():
        goal = f"(goal p99 <= {WORDS_GOAL_MS:.0f} ms)" if "words" in kind else ""
        if kind in STORED:
            goal = f"(goal p99 <= {STORED_GOAL_MS:.0f} ms)"
        if kind.startswith("autocomplete"):
            goal = f"[{values.choices / len(values.final):.1f} choices/answer]"
        else:
            goal += f" [{values.with_embeds} with embeds]"
        print(line(kind, values, goal))
    print(line("all commands", merged([timings[k] for k in KINDS]), ""))
    print(line("all interactions", merged(list(timings.values())), ""))
    stored = merged([timings[k] for k in STORED])
    worst = percentile(stored.final, 0.99)
    verdict = "met" if worst <= STORED_GOAL_MS else "NOT met"
    print(
        f"goal: p99 <= {STORED_GOAL_MS:.0f} ms for stored items (/digest, /paper <id>, "
        f"final message): {verdict} (p99 {worst:.1f} ms)"
    )
    words = percentile(timings["/paper <words>"].final, 0.99)
    verdict = "met" if words <= WORDS_GOAL_MS else "NOT met"
    print(f"goal: p99 <= {WORDS_GOAL_MS:.0f} ms for word search: {verdict} (p99 {words:.1f} ms)")


async def main() -> None:
    """Seed the store, start the bot against the fake Discord and print the figures."""
    rng = random.Random(7)  # a benchmark's fixed mix, not a secret
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/bench.db")
        try:
            featured = await seed(store)
            async with FakeDiscord() as fake:
                configure_endpoints(fake.api_url, fake.gateway_url)
                bot = DiscordBot(BOT_TOKEN, store, FakeClock(), guild_ready_timeout=0.05)
                await bot.start()
                try:
                    timings = await run_commands(fake, featured, rng)
                finally:
                    await bot.aclose()
            items = await store.count_items()
        finally:
            await store.aclose()
    report(items, timings)


if __name__ == "__main__":
    asyncio.run(main())
