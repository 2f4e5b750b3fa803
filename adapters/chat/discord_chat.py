"""Discord: editions posted as a parent message and a thread with one embed per item.

In a text channel the parent message starts a public thread; in a forum channel the edition
is one forum post. Text from feeds, papers and the LLM has its Markdown and mentions escaped,
and every message goes out with ``AllowedMentions.none()``: nothing we post pings anyone.
Messages stay within Discord's limits (2,000 characters of content; an embed's title 256,
description 4,096, a field 1,024, 6,000 in all): long text is split at paragraphs, sentences
or spaces, never inside a word or a link.

Rate limits: discord.py follows the bucket headers, and every request of a client built
with a `RequestPacer` waits for its turn under the bot's global limit (see
`adapters.chat.discord_pace`). A request that cannot succeed
(channel deleted, permission missing) is never repeated: the channel is remembered as dead
and the delivery fails as permanent. Before the first post to a channel the bot's own
permissions there are computed and a missing one is named.

Exactly once: each part carries a nonce derived from (channel, part key) with
``enforce_nonce``, so a send retried after a lost response lands once; and its embed footer
names the part, which `DiscordChat.find_sent` looks for in the thread after a crash.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

import aiohttp
import discord
import yarl

from adapters.chat.discord_edit import edit_failure, edit_message, single_message
from adapters.chat.discord_pace import RequestPacer, paced_trace
from bot.delivery.deliver import DeliveryError, parse_part_key
from bot.domain import Difficulty
from bot.edition.render import DIGEST_NAME, Digest, DigestItem, split_text
from bot.ports import Clock
from bot.web.links import safe_href

T = TypeVar("T")
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
MESSAGE_EMBEDS_LIMIT = 6000
THREAD_NAME_LIMIT = 100
AUTHORS_LIMIT = 300
NONCE_LENGTH = 25
ARCHIVE_AFTER_MINUTES: Literal[10080] = (
    10080  # a week: the thread stays open until the next edition
)
COLOURS = {
    Difficulty.ACCESSIBLE: discord.Colour(0x2ECC71),
    Difficulty.INTERMEDIATE: discord.Colour(0xF1C40F),
    Difficulty.ADVANCED: discord.Colour(0xE74C3C),
}
MISSING_ACCESS = 50001
"""Discord's answer to reading a channel the bot cannot view."""
REQUIRED_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("read_message_history", "Read Message History"),
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
)


def configure_endpoints(api_url: str, gateway_url: str | None) -> None:
    """Point discord.py at DISCORD_API_URL and DISCORD_GATEWAY_URL (a REST proxy, or tests).

    discord.py keeps both as class attributes, so this is process-wide; it is called once by
    the composition root before any client starts.
    """
    discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def client_options(pacer: RequestPacer | None = None) -> dict[str, object]:
    """Return the options every client of ours is built with: no mentions, few intents.

    With ``pacer``, each HTTP request the client makes (discord.py's own retries included)
    first waits for its turn under the bot's global limit. The bot has no voice: discord.py's
    start-up warnings that the voice libraries (PyNaCl, davey) are missing are switched off
    before any client is built.
    """
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    intents = discord.Intents(guilds=True, guild_reactions=True)  # neither is privileged
    options: dict[str, object] = {
        "intents": intents,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if pacer is not None:
        options["http_trace"] = paced_trace(pacer)
    return options


@asynccontextmanager
async def rest_client(
    token: str, pacer: RequestPacer | None = None
) -> AsyncIterator[discord.Client]:
    """Yield a client logged in over REST only (no gateway): enough to post an edition.

    With ``pacer``, every request waits for its turn under the bot's global limit. Raises
    `DeliveryError` when Discord refuses the token (permanent) or cannot be reached.
    """
    client = discord.Client(**client_options(pacer))  # type: ignore[arg-type]
    try:
        try:
            await client.login(token)
        except discord.LoginFailure:
            raise DeliveryError(
                "Discord refused DISCORD_BOT_TOKEN (reset it in the Developer Portal, Bot page)",
                permanent=True,
            ) from None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise _failure(exc, "(login)") from None
        yield client
    finally:
        await client.close()


def clean(text: str) -> str:
    """Escape Markdown and mentions in untrusted text (links stay clickable)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def clip(text: str, limit: int) -> str:
    """Return ``text`` within ``limit`` characters, cut at a space and marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return (cut or text[: limit - 1]).rstrip() + "…"


def notice_content(text: str) -> str:
    """Return a notice as message content: escaped, within Discord's 2,000 characters."""
    return clip(clean(text), CONTENT_LIMIT)


def safe_url(url: str) -> str | None:
    """Return an http(s) link Discord will accept as an embed URL, or ``None``."""
    try:
        parsed = yarl.URL(url)
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host or len(url) > 2048:
        return None
    return url


def authors_line(authors: Sequence[str]) -> str:
    """Return the authors, shortened to "A, B, C and N others" when the list is long."""
    shown: list[str] = []
    for index, name in enumerate(authors):
        rest = len(authors) - index
        if len(", ".join([*shown, name])) + 20 > AUTHORS_LIMIT and rest > 0:
            return ", ".join(shown) + f" and {rest} others"
        shown.append(name)
    return ", ".join(shown)


def part_marker(key: str) -> str:
    """Return the footer line that names one part of one edition (found after a crash)."""
    edition_id, part = parse_part_key(key)
    if part == 0:
        return f"{DIGEST_NAME} · edition {edition_id}"
    return f"{DIGEST_NAME} · edition {edition_id} · item {part}"


def nonce_for(channel: str, key: str, index: int = 0) -> str:
    """Return the message nonce of a part: unique per channel (Discord dedupes per author)."""
    digest = hashlib.sha256(f"{channel}|{key}|{index}".encode()).hexdigest()
    return digest[:NONCE_LENGTH]


def pack(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages: at most 10 each and 6,000 characters in all."""
    messages: list[list[discord.Embed]] = [[]]
    total = 0
    for embed in embeds:
        size = len(embed)  # discord.py counts as Discord does
        if messages[-1] and (total + size > MESSAGE_EMBEDS_LIMIT or len(messages[-1]) == 10):
            messages.append([])
            total = 0
        messages[-1].append(embed)
        total += size
    return messages


def _continuation(text: str, colour: discord.Colour | None) -> list[discord.Embed]:
    return [
        discord.Embed(description=piece, colour=colour)
        for piece in split_text(text, DESCRIPTION_LIMIT)
    ]


def item_embeds(item: DigestItem, marker: str | None) -> list[discord.Embed]:
    """Return one item as embeds, the last one's footer carrying ``marker``.

    Linked title, level colour and label, authors, summary, three takeaways, source line.
    """
    colour = COLOURS[item.difficulty]
    body = [f"**{item.difficulty.label}**"]
    if item.authors:
        body.append(f"*{clean(authors_line(item.authors))}*")
    body.append(clean(item.summary))
    if item.note:
        body.append(f"*{clean(item.note)}*")
    if item.updated_line:
        body.append(f"*{item.updated_line}*")
    pieces = split_text("\n\n".join(body), DESCRIPTION_LIMIT)
    first = discord.Embed(
        title=clip(clean(item.title), TITLE_LIMIT),
        url=safe_url(item.url),
        description=pieces[0],
        colour=colour,
    )
    embeds = [first] + [discord.Embed(description=p, colour=colour) for p in pieces[1:]]
    takeaways = "\n".join(f"• {clean(t)}" for t in item.takeaways)
    for index, piece in enumerate(split_text(takeaways, FIELD_LIMIT)):
        name = "Takeaways" if index == 0 else "Takeaways (continued)"
        embeds[-1].add_field(name=name, value=piece, inline=False)
    web = safe_href(item.web_url or "")
    page = f" · [On the web](<{web}>)" if web else ""
    source = clip(clean(item.source_line), FIELD_LIMIT - len(page))
    embeds[-1].add_field(name="Source", value=source + page)
    if marker:
        embeds[-1].set_footer(text=marker)
    return embeds


def parent_message(digest: Digest, marker: str) -> tuple[str, list[discord.Embed]]:
    """Return the parent message: a header line, then the date, count and intro in embeds."""
    header = clip(f"**{DIGEST_NAME}: {clean(digest.title)}**", CONTENT_LIMIT)
    intro = f"*{digest.date_label} · {digest.count_label}*\n\n{clean(digest.intro)}"
    web = safe_href(digest.web_url or "")
    if web:  # our own archive's page (DIGEST_PUBLIC_URL): base URL + escaped path
        intro += f"\n\n[Read on the web](<{web}>)"
    embeds = _continuation(intro, discord.Colour.blurple())
    embeds[-1].set_footer(text=marker)
    return header, embeds


def thread_name(digest: Digest) -> str:
    """Return the thread's (or forum post's) name: the digest and its date."""
    return clip(f"{DIGEST_NAME} · {digest.date_label} · {digest.title}", THREAD_NAME_LIMIT)


def _failure(exc: Exception, channel: str) -> DeliveryError:
    """Map a discord.py error to a delivery error; 403 and 404 are permanent."""
    if isinstance(exc, discord.NotFound):
        return DeliveryError(
            f"Discord: channel {channel} was not found (deleted, or the bot was removed): "
            f"{exc.text}",
            permanent=True,
        )
    if isinstance(exc, discord.Forbidden) and exc.code == MISSING_ACCESS:
        return DeliveryError(
            f"Discord: the bot cannot see channel {channel}: it needs the View Channel "
            "permission there",
            permanent=True,
        )
    if isinstance(exc, discord.Forbidden):
        return DeliveryError(
            f"Discord: the bot may not post in channel {channel}: {exc.text}", permanent=True
        )
    if isinstance(exc, discord.HTTPException):
        permanent = 400 <= exc.status < 500 and exc.status != 429
        return DeliveryError(f"Discord: HTTP {exc.status}: {exc.text}", permanent=permanent)
    return DeliveryError(f"Discord: {exc.__class__.__name__}: {exc}", permanent=False)


@dataclass(frozen=True, slots=True)
class _Target:
    channel: discord.TextChannel | discord.ForumChannel
    guild_id: int


class DiscordChat:
    """Posts editions to Discord channels and forums (implements `ChatAdapter`)."""

    def __init__(
        self,
        client: discord.Client,
        clock: Clock,
        *,
        attempts: int = 4,
    ) -> None:
        self._client = client
        self._clock = clock
        self._attempts = attempts
        self._targets: dict[str, _Target] = {}
        self._dead: dict[str, DeliveryError] = {}
        self._guilds: dict[int, tuple[discord.Guild, discord.Member]] = {}
        self._guild_reads = asyncio.Lock()

    async def _target(self, channel: str) -> _Target:
        """Check the channel once: its kind, and the bot's permissions in it."""
        if channel in self._dead:
            raise self._dead[channel]  # never repeat a request that is certain to fail
        known = self._targets.get(channel)
        if known is not None:
            return known
        try:
            channel_obj, me = await self._channel_and_me(channel)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise self._remember(channel, _failure(exc, channel)) from None
        if not isinstance(channel_obj, discord.TextChannel | discord.ForumChannel):
            raise self._remember(
                channel,
                DeliveryError(
                    f"Discord: channel {channel} is neither a text channel nor a forum",
                    permanent=True,
                ),
            )
        allowed = channel_obj.permissions_for(me)
        for flag, label in REQUIRED_PERMISSIONS:
            if not getattr(allowed, flag):
                raise self._remember(
                    channel,
                    DeliveryError(
                        f"Discord: the bot lacks the {label} permission in #{channel_obj.name} "
                        f"({channel}); grant it to the bot's role and publish again",
                        permanent=True,
                    ),
                )
        target = _Target(channel_obj, channel_obj.guild.id)
        self._targets[channel] = target
        return target

    async def _channel_and_me(
        self, channel: str
    ) -> tuple[discord.abc.GuildChannel | discord.Thread, discord.Member]:
        """Return the channel and the bot as a member of its server.

        Cached when connected to the gateway, else read over REST (the server and the member
        once per server).
        """
        cached = self._client.get_channel(int(channel))
        if isinstance(cached, discord.abc.GuildChannel) and cached.guild.me is not None:
            return cached, cached.guild.me
        found = await self._client.fetch_channel(int(channel))
        if not isinstance(found, discord.abc.GuildChannel):
            raise DeliveryError(f"Discord: {channel} is not a server channel", permanent=True)
        async with self._guild_reads:  # deliveries starting together read the server once
            known = self._guilds.get(found.guild.id)
            if known is None:
                guild = await self._client.fetch_guild(found.guild.id)
                assert self._client.user is not None
                known = (guild, await guild.fetch_member(self._client.user.id))
                self._guilds[guild.id] = known
        guild, me = known
        # Bind the channel to the fetched server so that its roles count in permissions_for.
        return await guild.fetch_channel(found.id), me

    def _remember(self, channel: str, error: DeliveryError) -> DeliveryError:
        if error.permanent:
            self._dead[channel] = error
        return error

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call``, again after a pause when it failed for a passing reason.

        discord.py already waits out 429s (up to five tries) and retries 5xx; this covers a
        run of them longer than that. A send cannot land twice: its nonce is the same.
        """
        for attempt in range(1, self._attempts + 1):
            try:
                return await call()
            except discord.HTTPException as exc:
                if attempt == self._attempts or not (exc.status == 429 or exc.status >= 500):
                    raise
            except (aiohttp.ClientError, TimeoutError):
                if attempt == self._attempts:
                    raise
            await self._clock.sleep(2.0**attempt)
        raise AssertionError("unreachable")

    async def _send_all(
        self,
        channel: str,
        where: discord.abc.Messageable,
        messages: list[list[discord.Embed]],
        key: str,
        content: str | None = None,
    ) -> str:
        last = ""
        for index, embeds in enumerate(messages):
            sent = await self._retrying(
                functools.partial(
                    where.send,
                    content=content if index == 0 else None,
                    embeds=embeds,
                    nonce=nonce_for(channel, key, index),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            )
            last = str(sent.id)
        return last

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        """Post the parent (and start its thread), or the forum post; return the thread id."""
        target = await self._target(channel)
        header, embeds = parent_message(digest, part_marker(key))
        messages = pack(embeds)
        try:
            if isinstance(target.channel, discord.ForumChannel):
                return await self._forum_post(target.channel, digest, header, messages)
            parent = await self._send_all(channel, target.channel, messages, key, header)
            await self._start_thread(target.channel, int(parent), thread_name(digest))
            return parent
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise self._remember(channel, _failure(exc, channel)) from None

    async def _forum_post(
        self,
        forum: discord.ForumChannel,
        digest: Digest,
        header: str,
        messages: list[list[discord.Embed]],
    ) -> str:
        created = await self._retrying(
            functools.partial(
                forum.create_thread,
                name=thread_name(digest),
                content=header,
                embeds=messages[0],
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        )
        for embeds in messages[1:]:
            await created.thread.send(
                embeds=embeds, allowed_mentions=discord.AllowedMentions.none()
            )
        return str(created.thread.id)

    async def _start_thread(self, channel: discord.TextChannel, message: int, name: str) -> None:
        partial = channel.get_partial_message(message)
        try:
            await self._retrying(
                functools.partial(
                    partial.create_thread, name=name, auto_archive_duration=ARCHIVE_AFTER_MINUTES
                )
            )
        except discord.HTTPException as exc:
            if exc.code != 160004:  # the thread exists already: a resumed delivery
                raise

    async def send_item(self, channel: str, thread: str, item: DigestItem, key: str) -> str:
        """Post one item in the edition's thread; return the id of its (last) message."""
        await self._target(channel)
        where = self._client.get_partial_messageable(
            int(thread), type=discord.ChannelType.public_thread
        )
        messages = pack(item_embeds(item, part_marker(key)))
        try:
            return await self._send_all(channel, where, messages, key)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise self._remember(channel, _failure(exc, channel)) from None

    async def edit_item(
        self, channel: str, thread: str, message_id: str, item: DigestItem, key: str
    ) -> None:
        """Replace the item reply ``message_id`` in place (see `adapters.chat.discord_edit`)."""
        await self._target(channel)
        embeds = single_message(pack(item_embeds(item, part_marker(key))))
        edit = functools.partial(edit_message, self._client, thread, message_id, embeds)
        try:
            await self._retrying(edit)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise edit_failure(exc, message_id) from None

    async def find_sent(self, channel: str, thread: str | None, key: str) -> str | None:
        """Find a part already posted with ``key`` (after a crash lost its record).

        Items are looked for in the thread; a parent among the channel's latest messages (its
        thread is started if the crash came before that), or among a forum's active posts.
        """
        target = await self._target(channel)
        marker = part_marker(key)
        try:
            if thread is not None:
                where = self._client.get_partial_messageable(int(thread))
                return await self._find_in(where, marker, limit=100)
            if isinstance(target.channel, discord.ForumChannel):
                return await self._find_forum_post(target, marker)
            found = await self._find_in(target.channel, marker, limit=50)
            if found is not None:
                await self._start_thread(target.channel, int(found), marker)
            return found
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise self._remember(channel, _failure(exc, channel)) from None

    async def _find_in(
        self, where: discord.abc.Messageable, marker: str, *, limit: int
    ) -> str | None:
        me = self._client.user
        async for message in where.history(limit=limit):
            if me is not None and message.author.id != me.id:
                continue
            if any(embed.footer.text == marker for embed in message.embeds):
                return str(message.id)
        return None

    async def _find_forum_post(self, target: _Target, marker: str) -> str | None:
        for post in await target.channel.guild.active_threads():
            if post.parent_id != target.channel.id:
                continue
            starter = await post.fetch_message(post.id)
            if any(embed.footer.text == marker for embed in starter.embeds):
                return str(post.id)
        return None

    async def send_direct(self, user: str, text: str) -> None:
        """Send ``text`` to ``user`` by direct message (implements `NoticeSender`).

        A member who closed DMs from server members answers 50007; that is reported.
        """
        try:
            dm = await self._client.create_dm(discord.Object(id=int(user)))
            await self._retrying(
                functools.partial(
                    dm.send,
                    content=notice_content(text),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            )
        except discord.HTTPException as exc:
            raise DeliveryError(
                f"Discord: cannot message user {user}: HTTP {exc.status}: {exc.text}",
                permanent=exc.status != 429 and exc.status < 500,
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _failure(exc, user) from None

    async def problem(self, channel: str) -> str | None:
        """Tell why an edition could not be posted in ``channel`` (one line), or None.

        The same checks as before a first post: the channel is visible, a text channel or a
        forum, and the bot holds every permission it needs there.
        """
        try:
            await self._target(channel)
        except DeliveryError as exc:
            return exc.reason
        return None

    async def send_notice(self, channel: str, text: str) -> None:
        """Post ``text``, escaped and without pings, in the text channel ``channel``."""
        where = self._client.get_partial_messageable(int(channel), type=discord.ChannelType.text)
        try:
            await self._retrying(
                functools.partial(
                    where.send,
                    content=notice_content(text),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise _failure(exc, channel) from None
