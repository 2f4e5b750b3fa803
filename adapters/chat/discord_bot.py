"""Discord commands: /digest, /paper and /digest-admin as app commands on discord.py.

The client is built by a factory (nothing is reached at import time) and started inside our event
loop with `DiscordBot.start`, closed with `DiscordBot.aclose`. Typed options are turned into the
same text the platform-free `bot.commands` parse for Slack, so both platforms answer alike. Answers
come from the store in milliseconds, well inside Discord's 3-second rule; an unknown arXiv id is
deferred ("thinking…") and answered by a follow-up.

Command definitions are synced only when they changed (Discord allows 200 creations a day per
guild): a hash of the definitions is kept in the store and compared at start.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import available_timezones

import discord
from discord import app_commands

from adapters.chat.discord_chat import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    DiscordChat,
    clean,
    client_options,
    clip,
    item_embeds,
    pack,
    safe_url,
)
from adapters.chat.discord_pace import RequestPacer
from adapters.chat.discord_reactions import listen_for_reactions
from bot.commands.admin import AdminContext, answer_admin
from bot.commands.digest import answer
from bot.commands.ports import AdminStore, CommandStore
from bot.commands.reply import Command, Reply, error
from bot.delivery.slots import WEEKDAYS
from bot.domain import Difficulty
from bot.edition.profile import load_profile
from bot.edition.render import DigestItem, split_text
from bot.feedback.ports import FeedbackStore
from bot.ports import Clock, CredentialRefusedError
from bot.web.links import Links, safe_href, with_item_links

logger = logging.getLogger(__name__)
MAX_CARDS = 3
MAX_SUGGESTIONS = 25
CHOICE_LIMIT = 100
READY_TIMEOUT_S = 60.0
DIFFICULTY_CHOICES = [app_commands.Choice(name=d.label, value=d.value) for d in Difficulty]
DAY_CHOICES = [
    app_commands.Choice(name=name, value=value)
    for name, value in zip(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        WEEKDAYS,
        strict=True,
    )
]
_SPACES = re.compile(r"\s+")
TIMES = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in (0, 30)]
"""The times ``/digest-admin subscribe time:`` suggests (any HH:MM is still accepted)."""
INVITE_PERMISSIONS = 309237730304
"""View Channel, Send Messages, Embed Links, Read Message History, Create Public Threads,
Send Messages in Threads (README, Discord section)."""


def invite_url(application_id: int) -> str:
    """Return the URL that adds the bot to a server, with its scopes and permissions."""
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope=bot+applications.commands&permissions={INVITE_PERMISSIONS}"
        "&integration_type=0"  # Guild Install: the bot joins a server (not a user's apps)
    )


def suggested_times(current: str) -> list[app_commands.Choice[str]]:
    """Return the half-hour times starting with what was typed (``9`` -> 09:00, 09:30)."""
    typed = current.strip().replace("h", ":")
    padded = typed.zfill(2) if typed.isdigit() and len(typed) == 1 else typed
    found = [t for t in TIMES if t.startswith(padded) or t.startswith(typed)]
    return [app_commands.Choice(name=t, value=t) for t in (found or TIMES)[:MAX_SUGGESTIONS]]


PaperFetcher = Callable[[str], Awaitable[Reply]]
"""Fetches and summarizes an unknown arXiv paper, answering with its card."""
ChannelPublisher = Callable[[str], Awaitable[Reply]]
ItemRewriter = Callable[[str, str, str], Awaitable[Reply]]
"""Rewrites a featured item's summary, (item, note, who), and says what it edited."""
ChannelCheck = Callable[[str], Awaitable[str | None]]
"""Tells why the bot could not post in a channel (one line), or None if it can."""


class SyncState(Protocol):
    """Where the hash of the last synced command definitions is kept (the store)."""

    async def source_state(self, source: str) -> dict[str, str]:
        """Return the kept state under ``source``."""
        ...

    async def save_source_state(self, source: str, state: Mapping[str, str], at: datetime) -> None:
        """Keep ``state`` under ``source``."""
        ...


class DiscordStore(CommandStore, AdminStore, SyncState, FeedbackStore, Protocol):
    """What the Discord bot reads and writes (votes from reactions included)."""


def option(value: str | None) -> str:
    """Return a typed option's value as one token for the text parsers (spaces become _)."""
    return _SPACES.sub("_", value.strip()) if value else ""


def options_text(**values: str | None) -> str:
    """Return typed options as ``key:value`` text, leaving out the unset ones."""
    return " ".join(f"{key}:{option(value)}" for key, value in values.items() if value)


def _line(item: DigestItem) -> str:
    url = safe_url(item.url)
    title = clean(item.title)
    linked = f"[{title}](<{url}>)" if url else title
    why = clean(item.summary.split(". ")[0].rstrip(".") + ".")
    web = safe_href(item.web_url or "")
    page = f" · [On the web](<{web}>)" if web else ""
    return f"• **{linked}** · {item.difficulty.label}{page}\n{why}"


def reply_message(reply: Reply) -> dict[str, Any]:
    """Return a reply as ``send_message`` keyword arguments: one line, then embeds."""
    content = clip(clean(reply.text), CONTENT_LIMIT)
    embeds: list[discord.Embed] = []
    if reply.full_cards:
        for item in reply.items[:MAX_CARDS]:
            embeds += item_embeds(item, None)
    elif reply.items:
        listing = "\n".join(_line(item) for item in reply.items)
        embeds = [discord.Embed(description=p) for p in split_text(listing, DESCRIPTION_LIMIT)]
    return {
        "content": content,
        "embeds": pack(embeds)[0] if embeds else [],
        "ephemeral": reply.ephemeral,
        "allowed_mentions": discord.AllowedMentions.none(),
    }


def _channel_of(interaction: discord.Interaction[Any]) -> str:
    """Return the channel a command speaks for: a thread's parent, else the channel."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return str(channel.parent_id)
    return str(interaction.channel_id or "")


async def respond(
    interaction: discord.Interaction[Any], reply: Reply, fetch_paper: PaperFetcher | None
) -> None:
    """Answer at once from the store, or defer and follow up for slow work."""
    slow: Callable[[], Awaitable[Reply]] | None = reply.deferred
    paper_id = reply.fetch_arxiv_id
    if paper_id is not None:
        if fetch_paper is None:
            reply = error(f"arXiv:{paper_id} is not in the digest yet")
        else:
            fetcher = fetch_paper

            async def fetch() -> Reply:
                return await fetcher(paper_id)

            slow = fetch
    if slow is None:
        await interaction.response.send_message(**reply_message(reply))
        return
    await interaction.response.defer(ephemeral=reply.ephemeral, thinking=True)
    await interaction.followup.send(**reply_message(await slow()))


def build_command_tree(
    client: discord.Client,
    store: DiscordStore,
    clock: Clock,
    *,
    fetch_paper: PaperFetcher | None = None,
    publish_to: ChannelPublisher | None = None,
    rewrite: ItemRewriter | None = None,
    default_tz: str = "UTC",
    links: Links | None = None,
    check_channel: ChannelCheck | None = None,
    topic_names: Sequence[str] = (),
) -> app_commands.CommandTree[discord.Client]:
    """Return the command tree answering the commands of DESIGN.md §6 from ``store``.

    With ``links`` (DIGEST_PUBLIC_URL), every item an answer lists links its archive page.
    """
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    async def ask(interaction: discord.Interaction[Any], name: str, text: str) -> None:
        command = Command(name, text, str(interaction.user.id), _channel_of(interaction))
        reply = await answer(command, store)
        await respond(interaction, with_item_links(reply, links) if links else reply, fetch_paper)

    @tree.command(name="digest", description="The latest edition (or an earlier one), by level")
    @app_commands.describe(
        difficulty="Only the items at this level", edition="Edition date; the latest by default"
    )
    @app_commands.choices(difficulty=DIFFICULTY_CHOICES)
    async def digest(
        interaction: discord.Interaction[Any],
        difficulty: app_commands.Choice[str] | None = None,
        edition: str | None = None,
    ) -> None:
        level = difficulty.value if difficulty else None
        await ask(interaction, "digest", options_text(difficulty=level, edition=edition))

    @digest.autocomplete("edition")
    async def edition_dates(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        dates = [d.isoformat() for d in await store.edition_dates()]
        matching = [d for d in dates if current.strip() in d][: MAX_SUGGESTIONS - 1]
        choices = [app_commands.Choice(name=d, value=d) for d in matching]
        if "help".startswith(current.strip().lower()):  # edition:help explains /digest
            choices.append(app_commands.Choice(name="help: how to use /digest", value="help"))
        return choices

    @tree.command(name="paper", description="A paper's card: arXiv id, link, or words")
    @app_commands.describe(query="An arXiv id (2604.31415), an arXiv or HF link, or words")
    async def paper(interaction: discord.Interaction[Any], query: str) -> None:
        await ask(interaction, "paper", query)

    @paper.autocomplete("query")
    async def stored_titles(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        words = [w.lower() for w in re.findall(r"[\w-]{2,}", current)][:8]
        found = await store.search_featured(words, MAX_SUGGESTIONS)
        choices = []
        for _, entry in found:
            content = entry.item.content
            value = f"arXiv:{content.arxiv_id}" if content.arxiv_id else content.url
            if len(value) > CHOICE_LIMIT:
                value = clip(content.title, CHOICE_LIMIT)
            choices.append(app_commands.Choice(name=clip(content.title, CHOICE_LIMIT), value=value))
        return choices

    admin = app_commands.Group(
        name="digest-admin",
        description="Manage this server's digest",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    async def administer(interaction: discord.Interaction[Any], text: str) -> None:
        # default_member_permissions only hides the command; server admins can override
        # it per channel or role, so the permission is checked again here.
        permissions = interaction.permissions
        allowed = permissions.manage_guild or permissions.administrator
        if not allowed:
            await respond(
                interaction, error("/digest-admin needs the Manage Server permission"), None
            )
            return
        channel = _channel_of(interaction)
        context = AdminContext(
            "discord", str(interaction.guild_id or ""), channel, str(interaction.user.id), allowed
        )

        async def publish_here() -> Reply:
            assert publish_to is not None
            return await publish_to(channel)

        async def can_post() -> str | None:
            assert check_channel is not None
            problem = await check_channel(channel)
            return f"{problem} (then subscribe again)" if problem else None

        reply = await answer_admin(
            text,
            context,
            store,
            clock,
            default_tz=default_tz,
            publish_here=publish_here if publish_to is not None else None,
            rewrite=rewrite,
            check_channel=can_post if check_channel is not None else None,
        )
        await respond(interaction, reply, fetch_paper)

    @admin.command(name="subscribe", description="Post each edition in this channel")
    @app_commands.describe(
        day="Day of the week (Monday by default)",
        time="Time of day, 24-hour, e.g. 09:00",
        tz="Timezone, e.g. Europe/Paris",
        difficulty="Only items at this level",
        topics="Only items on these topics or keywords, comma-separated (agents,security)",
        exclude="Never items on these topics or keywords, comma-separated",
    )
    @app_commands.choices(day=DAY_CHOICES, difficulty=DIFFICULTY_CHOICES)
    async def subscribe(
        interaction: discord.Interaction[Any],
        day: app_commands.Choice[str] | None = None,
        time: str | None = None,
        tz: str | None = None,
        difficulty: app_commands.Choice[str] | None = None,
        topics: str | None = None,
        exclude: str | None = None,
    ) -> None:
        text = options_text(
            day=day.value if day else None,
            time=time,
            tz=tz,
            difficulty=difficulty.value if difficulty else None,
            topics=topics,  # "tool use, agents" -> tool_use,_agents: read back as typed
            exclude=exclude,
        )
        await administer(interaction, f"subscribe {text}")

    @subscribe.autocomplete("time")
    async def times(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return suggested_times(current)

    @subscribe.autocomplete("topics")
    @subscribe.autocomplete("exclude")
    async def topic_choices(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        # Completes the last of a comma-separated list with the profile's topics.
        done, _, last = current.rpartition(",")
        head = f"{done}," if done else ""
        names = [n for n in topic_names if n.startswith(last.strip().lower())]
        values = [clip(head + n, CHOICE_LIMIT) for n in names][:MAX_SUGGESTIONS]
        return [app_commands.Choice(name=v, value=v) for v in values]

    @subscribe.autocomplete("tz")
    async def timezones(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.strip().lower()
        names = sorted(n for n in available_timezones() if wanted in n.lower())
        return [app_commands.Choice(name=n, value=n) for n in names[:MAX_SUGGESTIONS]]

    @admin.command(name="unsubscribe", description="Stop posting editions in this channel")
    async def unsubscribe(interaction: discord.Interaction[Any]) -> None:
        await administer(interaction, "unsubscribe")

    @admin.command(name="resume", description="Post editions here again after a pause")
    async def resume(interaction: discord.Interaction[Any]) -> None:
        await administer(interaction, "resume")

    @admin.command(name="status", description="Sources, last edition and this channel")
    async def status(interaction: discord.Interaction[Any]) -> None:
        await administer(interaction, "status")

    @admin.command(name="submit", description="Queue a link for the next edition")
    @app_commands.describe(url="The link", note="Why it matters (optional)")
    async def submit(interaction: discord.Interaction[Any], url: str, note: str = "") -> None:
        await administer(interaction, f"submit {option(url)} {note}".strip())

    @admin.command(name="publish", description="Post the latest edition in this channel now")
    async def publish(interaction: discord.Interaction[Any]) -> None:
        await administer(interaction, "publish")

    @admin.command(name="rewrite", description="Rewrite one item's summary, edited where posted")
    @app_commands.describe(
        item="A featured item: arXiv id, link or canonical id",
        note="What the new summary should do (optional)",
    )
    async def rewrite_item(
        interaction: discord.Interaction[Any], item: str, note: str = ""
    ) -> None:
        await administer(interaction, f"rewrite {option(item)} {note}".strip())

    tree.add_command(admin)

    @tree.error
    async def on_error(
        interaction: discord.Interaction[Any], exc: app_commands.AppCommandError
    ) -> None:
        logger.error("Discord command failed: %s", exc, exc_info=exc)
        message = reply_message(error("something went wrong on our side; it has been logged"))
        if interaction.response.is_done():
            await interaction.followup.send(**message)
        else:
            await interaction.response.send_message(**message)

    return tree


def commands_hash(payload: Sequence[Mapping[str, Any]]) -> str:
    """Return a stable hash of command definitions as Discord receives them."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync_if_changed(
    tree: app_commands.CommandTree[discord.Client],
    state: SyncState,
    clock: Clock,
    *,
    application_id: int,
    guild_id: int | None,
) -> bool:
    """Sync the commands (globally, or to one guild) unless Discord has these already."""
    guild = discord.Object(guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    key = f"discord-commands:{application_id}:{guild_id or 'global'}"
    wanted = commands_hash(payload)
    if (await state.source_state(key)).get("hash") == wanted:
        logger.info("Discord commands unchanged; not synced")
        return False
    await tree.sync(guild=guild)
    await state.save_source_state(key, {"hash": wanted}, clock.now())
    logger.info("Discord commands synced (%s)", f"guild {guild_id}" if guild_id else "global")
    return True


class _SyncOnSetup:
    """Mixed into a client: its setup hook (after login, before the gateway) runs ``hook``."""

    def __init__(self, hook: Callable[[], Awaitable[None]], **options: Any) -> None:
        super().__init__(**options)
        self._hook = hook

    async def setup_hook(self) -> None:
        """Sync the commands once logged in, before connecting to the gateway."""
        await self._hook()


class _Client(_SyncOnSetup, discord.Client):
    """One gateway connection."""


class _ShardedClient(_SyncOnSetup, discord.AutoShardedClient):
    """One process, many shards (required past 2,500 guilds)."""


class DiscordBot:
    """The Discord client with its commands and reaction votes: ``start()`` returns once ready."""

    def __init__(
        self,
        token: str,
        store: DiscordStore,
        clock: Clock,
        *,
        fetch_paper: PaperFetcher | None = None,
        publish_to: ChannelPublisher | None = None,
        rewrite: ItemRewriter | None = None,
        default_tz: str = "UTC",
        sync_guild_id: int | None = None,
        sharded: bool = False,
        shard_ids: Sequence[int] | None = None,
        shard_count: int | None = None,
        guild_ready_timeout: float = 2.0,
        requests_per_s: float = 48.0,
        links: Links | None = None,
        topic_names: Sequence[str] | None = None,
    ) -> None:
        self._token = token
        self._store = store
        self._clock = clock
        self._sync_guild_id = sync_guild_id
        options: dict[str, Any] = dict(
            # One pace for every request of the bot: deliveries, commands' reads, retries.
            client_options(RequestPacer(clock, requests_per_s)),
            guild_ready_timeout=guild_ready_timeout,
        )
        if sharded:
            options.update(
                shard_ids=list(shard_ids) if shard_ids else None, shard_count=shard_count
            )
            self.client: discord.Client = _ShardedClient(self._sync, **options)
        else:
            self.client = _Client(self._sync, **options)
        self.tree = build_command_tree(
            self.client,
            store,
            clock,
            fetch_paper=fetch_paper,
            publish_to=publish_to,
            rewrite=rewrite,
            default_tz=default_tz,
            links=links,
            check_channel=self._problem,
            # Suggested for topics:/exclude: (DIGEST_PROFILE_PATH's; the bundled profile's).
            topic_names=[t.name for t in load_profile().topics]
            if topic_names is None
            else topic_names,
        )
        listen_for_reactions(self.client, store, clock)
        self._task: asyncio.Task[None] | None = None

    async def _sync(self) -> None:
        application_id = self.client.application_id
        assert application_id is not None  # set by login()
        await sync_if_changed(
            self.tree,
            self._store,
            self._clock,
            application_id=application_id,
            guild_id=self._sync_guild_id,
        )

    async def _problem(self, channel: str) -> str | None:
        # A new poster each time: one that met a missing permission remembers it for good.
        return await self.chat().problem(channel)

    def chat(self) -> DiscordChat:
        """Return a poster sharing this client's connection and caches."""
        return DiscordChat(self.client, self._clock)

    def connected(self) -> bool:
        """Tell whether the gateway connection is up and ready."""
        return self.client.is_ready() and not self.client.is_closed()

    async def start(self) -> None:
        """Log in, sync commands if they changed, connect; return once the bot is ready.

        Raises `CredentialRefusedError` when Discord refuses DISCORD_BOT_TOKEN. On any other
        failure (Discord unreachable, not ready in time) the client is closed and cleared, so
        that ``start`` can be tried again.
        """
        try:
            await self._connect()
        except discord.LoginFailure:
            await self._reset()
            raise CredentialRefusedError(
                "Discord refused DISCORD_BOT_TOKEN (reset it in the Developer Portal, Bot page)"
            ) from None
        except BaseException:
            await self._reset()
            raise

    async def _reset(self) -> None:
        task, self._task = self._task, None
        await self.client.close()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.client.clear()  # discord.py's way to make a closed client usable again

    async def _connect(self) -> None:
        await self.client.login(self._token)
        self._task = asyncio.create_task(self.client.connect(reconnect=True))
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises why the connection ended
            raise ConnectionError("the Discord gateway closed before the bot was ready")
        if ready not in done:
            ready.cancel()
            raise TimeoutError(f"Discord was not ready within {READY_TIMEOUT_S:.0f} s")
        if self.client.application_id is not None:
            logger.info(
                "Discord bot ready. To add it to a server open %s and choose Guild Install "
                '("Add to server"), not User Install',
                invite_url(self.client.application_id),
            )

    async def aclose(self) -> None:
        """Disconnect from the gateway and close the HTTP session."""
        await self.client.close()
        if self._task is not None:
            try:
                await self._task
            except (discord.DiscordException, OSError) as exc:
                logger.info("Discord connection ended: %s", exc)
