"""Discord's global limit: every REST request of a bot waits for its slot before it leaves.

Discord allows a bot 50 requests per second in all (interaction responses aside), and every
429 it serves counts towards its ban on invalid requests (10,000 per 10 minutes). discord.py
follows the per-route buckets (it waits when a bucket's X-RateLimit-Remaining reaches 0,
until its Reset-After) but meets the global limit only by its 429s. So each
client of ours is built with a `RequestPacer` hooked into its HTTP session, an aiohttp trace
that runs as each request starts: every request passes the pacer, discord.py's own included.
Pacing the adapter's calls instead (as before) left out what discord.py sends by itself: its
retry after a 429, and the requests it holds during a global 429 and then releases together,
a burst the pacer never saw; and the reads of forum posts and channel history.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from datetime import datetime, timedelta
from types import SimpleNamespace

import aiohttp

from bot.ports import Clock

ONE_SECOND = timedelta(seconds=1)
EXEMPT_PATHS = ("/interactions/", "/webhooks/")
"""Interaction responses and follow-ups: not bound to the global limit, and due in 3 s."""


class RequestPacer:
    """Spaces requests evenly so that a bot stays under a per-second limit.

    Requests pass one at a time on a schedule of slots ``1 / per_s`` apart; a request never
    goes before its slot, nor while ``floor(per_s)`` others went within the last second.

    Why slots and not "one gap after the last send": a busy event loop wakes a sleeper a
    millisecond or two late, and measuring each gap from the late send stretched every gap
    (44 requests per second where 48 were asked, in ``bench/fanout.py``). A request up to
    half a gap late keeps the schedule, so the next one may catch that lateness up. A later
    one (the loop stalled) starts a new schedule from now: the requests that waited through
    a stall do not leave in a burst, which is what drew 429s from a meter that let them
    catch up. Slots alone let ``per_s + 1`` requests into a second when one catches up; the
    count of the last second keeps it to ``per_s`` (at 48, two under Discord's 50), so that
    a request that reaches Discord a little late (a loaded machine: ``bench/fanout.py``) is
    not counted in a full second.
    """

    def __init__(self, clock: Clock, per_s: float) -> None:
        self._clock = clock
        self._gap = timedelta(seconds=1 / per_s)
        self._catch_up = self._gap / 2
        self._next_slot: datetime | None = None
        self._sent: deque[datetime] = deque(maxlen=max(1, math.floor(per_s)))
        self._turn = asyncio.Lock()

    async def wait(self) -> None:
        """Return when this request may go."""
        async with self._turn:
            now = self._clock.now()
            slot = self._next_slot
            if slot is None or now - slot > self._catch_up:
                slot = now  # first request, or after a stall: a fresh schedule, no burst
            self._next_slot = slot + self._gap
            if len(self._sent) == self._sent.maxlen:
                slot = max(slot, self._sent[0] + ONE_SECOND)
            if slot > now:
                await self._clock.sleep((slot - now).total_seconds())
            self._sent.append(self._clock.now())


def paced_trace(pacer: RequestPacer) -> aiohttp.TraceConfig:
    """Return an aiohttp trace under which each REST request first waits on ``pacer``.

    The gateway's websocket and interaction responses (exempt from the global limit, and
    answered within Discord's 3 seconds) do not wait.
    """

    async def on_request_start(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        url = params.url
        if url.scheme in ("ws", "wss") or any(part in url.path for part in EXEMPT_PATHS):
            return
        await pacer.wait()

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    return trace
