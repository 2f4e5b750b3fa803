"""Notices of a paused subscription: who is told, what they read, and failures swallowed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.delivery.deliver import DeliveryError
from bot.delivery.notices import Noticeboard, pause_notice, platform_user
from tests.builders import paused

T0 = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)


class Sender:
    """Keeps what it is asked to send; refuses the recipients in ``refuse``."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.sent: list[tuple[str, str]] = []
        self.refuse = refuse

    async def send_direct(self, user: str, text: str) -> None:
        if user in self.refuse:
            reason = "Discord: HTTP 403: Cannot send messages to this user"
            raise DeliveryError(reason, permanent=True)
        self.sent.append((f"user:{user}", text))

    async def send_notice(self, channel: str, text: str) -> None:
        if channel in self.refuse:
            raise RuntimeError("a bug in the adapter")
        self.sent.append((f"channel:{channel}", text))


def test_only_people_on_the_platform_can_be_told_directly() -> None:
    assert platform_user("slack", "U0123ABCD") == "U0123ABCD"
    assert platform_user("slack", "W0123ABCD") == "W0123ABCD"
    assert platform_user("discord", "1300000000000000002") == "1300000000000000002"
    not_people = [
        ("slack", "cli"),
        ("slack", "config"),
        ("discord", "U0123ABCD"),
        ("slack", "1300000000000000002"),
        ("telegram", "U0123ABCD"),
    ]
    for platform, creator in not_people:
        assert platform_user(platform, creator) is None


def test_the_notice_says_where_why_and_how_to_resume() -> None:
    text = pause_notice(paused("slack", "C0DIGEST", "U0ADMIN"))
    assert "slack:C0DIGEST" in text
    assert "every Monday 09:00 Europe/Paris, Accessible items" in text
    assert "Why: Slack: is_archived" in text
    assert "/digest-admin resume" in text
    assert "digestbot resume slack:C0DIGEST" in text


async def test_the_subscriber_and_the_admin_channel_are_told() -> None:
    sender = Sender()
    board = Noticeboard({"slack": sender}, {"slack": "C0OPS"})
    told = await board.subscription_paused(paused("slack", "C0DIGEST", "U0ADMIN"))
    assert told == ["user:U0ADMIN", "channel:C0OPS"]
    assert [to for to, _ in sender.sent] == told


async def test_the_paused_channel_is_not_its_own_admin_channel() -> None:
    sender = Sender()
    board = Noticeboard({"slack": sender}, {"slack": "C0DIGEST"})
    assert await board.subscription_paused(paused("slack", "C0DIGEST", "config")) == []
    assert sender.sent == []


async def test_a_refused_notice_is_logged_and_the_others_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    user, ops = "1300000000000000002", "1400000000000000009"
    sender = Sender(refuse=frozenset({user}))
    board = Noticeboard({"discord": sender}, {"discord": ops})
    with caplog.at_level(logging.WARNING):
        told = await board.subscription_paused(paused("discord", "1400000000000000001", user))
    assert told == [f"channel:{ops}"]
    assert "Cannot send messages to this user" in caplog.text

    # Even an unexpected error in an adapter never reaches the delivery worker.
    broken = Noticeboard({"discord": Sender(refuse=frozenset({user, ops}))}, {"discord": ops})
    with caplog.at_level(logging.WARNING):
        assert await broken.subscription_paused(paused("discord", "1", user)) == []
    assert "a bug in the adapter" in caplog.text
    assert "nobody could be told" in caplog.text


async def test_a_platform_without_a_sender_is_skipped() -> None:
    board = Noticeboard({}, {"slack": "C0OPS"})
    assert await board.subscription_paused(paused("slack", "C0DIGEST", "U0ADMIN")) == []
